/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <endian.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "unixsock.h"

size_t cmsg_collect_fds(struct msghdr *m, int *fds, size_t *n, size_t max) {
        size_t got = 0;

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++, got++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        if (*n < max)
                                fds[(*n)++] = fd;
                        else
                                close(fd);
                }
        }
        return got;
}

void unix_sndbuf_fit(int fd, size_t bytes) {
        int size = 0, want = (int) bytes + 32;
        socklen_t len = sizeof(size);

        /* net/unix/af_unix.c unix_dgram_sendmsg(): len > sk_sndbuf - 32 is EMSGSIZE. The buffer starts at
         * net.core.wmem_default (usually 208 KiB); SO_SNDBUF doubles what it is given, up to net.core.wmem_max. */
        if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) == 0 && size >= want)
                return;
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
}

int unix_listen(const char *path, int type, mode_t mode, gid_t gid, int *ret_fd) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -1;
        mode_t old;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* A socket file left by a dead commitd is replaced; one that still answers belongs to a live one. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                return -EADDRINUSE;
        close(fd);
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        /* The mode from the start: no window where another user could connect. */
        old = umask(~mode & 0777);
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return -errno;
        if (gid != (gid_t) -1 && chown(path, 0, gid) < 0)
                return -errno;
        if (listen(fd, 64) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The kernel's POSIX ACL xattr (include/uapi/linux/posix_acl_xattr.h): a version, then entries sorted by tag. */
#define ACL_XATTR_VERSION 2
enum {
        ACL_TAG_USER_OBJ = 0x01,
        ACL_TAG_GROUP_OBJ = 0x04,
        ACL_TAG_GROUP = 0x08,
        ACL_TAG_MASK = 0x10,
        ACL_TAG_OTHER = 0x20
};
struct acl_entry {
        uint16_t tag, perm;
        uint32_t id;
};

int unix_grant_group(const char *path, gid_t gid) {
        struct {
                uint32_t version;
                struct acl_entry e[5];
        } acl;
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        /* The owner's, the owning group's and the others' bits as the mode has them; the group's rw (connect
         * needs write); the mask rw, so that the owning group keeps what it had. */
        acl.version = htole32(ACL_XATTR_VERSION);
        acl.e[0] = (struct acl_entry){htole16(ACL_TAG_USER_OBJ), htole16((st.st_mode >> 6) & 7), htole32(UINT32_MAX)};
        acl.e[1] = (struct acl_entry){htole16(ACL_TAG_GROUP_OBJ), htole16((st.st_mode >> 3) & 7), htole32(UINT32_MAX)};
        acl.e[2] = (struct acl_entry){htole16(ACL_TAG_GROUP), htole16(6), htole32((uint32_t) gid)};
        acl.e[3] = (struct acl_entry){htole16(ACL_TAG_MASK), htole16(6 | ((st.st_mode >> 3) & 7)), htole32(UINT32_MAX)};
        acl.e[4] = (struct acl_entry){htole16(ACL_TAG_OTHER), htole16(st.st_mode & 7), htole32(UINT32_MAX)};
        return setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0) < 0 ? -errno : 0;
}

ssize_t unix_send_with_fd(int sock, struct iovec *iov, size_t n_iov, int fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {0};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = n_iov};

        if (fd >= 0) {
                m.msg_control = &control;
                m.msg_controllen = sizeof(control);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        }
        return sendmsg(sock, &m, MSG_NOSIGNAL);
}
