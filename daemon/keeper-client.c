/* SPDX-License-Identifier: MIT */
/* commitd's side of the keeper protocol (keeper.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keeper.h"
#include "log.h"
#include "macro.h"
#include "oci.h"
#include "policy.h"
#include "unixsock.h"

#define CONNECT_TRIES 250 /* x 20 ms: how long a killed commitd's connection may take to close */

/* The worst tag (notify.c listener_tag()) fits: jansson writes a byte as at most 6 ("\u001f"); a cgroup path is
 * shorter than PATH_MAX (cgroupfs_path_normalize(), and the kernel's /proc/PID/cgroup), a policy name at most
 * POLICY_MAX_NAME, a container id at most OCI_MAX_ID (oci.c); the keys and a pid take less than 128 bytes. */
_Static_assert(6 * (PATH_MAX + POLICY_MAX_NAME + OCI_MAX_ID) + 128 <= KEEPER_MAX_DATA, "a listener's tag may not fit");

static int send_msg(int fd, uint32_t max_data, uint32_t op, uint32_t key, uint32_t flags, const char *data,
                    int payload_fd) {
        struct keeper_header h = {.op = op, .key = key, .flags = flags};
        size_t len = data ? strlen(data) : 0;
        struct iovec iov[2] = {{&h, sizeof(h)}, {(void *) data, len}};

        if (len > max_data)
                return -E2BIG;
        return unix_send_with_fd(fd, iov, 2, payload_fd) < 0 ? -errno : 0;
}

int keeper_put(const struct keeper_conn *k, uint32_t key, uint32_t flags, const char *data, int payload_fd) {
        return send_msg(k->fd, k->max_data, KEEPER_PUT, key, flags, data, payload_fd);
}

int keeper_del(const struct keeper_conn *k, uint32_t key) {
        return send_msg(k->fd, k->max_data, KEEPER_DEL, key, 0, NULL, -1);
}

/* Starts the keeper detached: a grandchild in its own session, so that neither commitd's death nor its
 * terminal's takes it along, and not commitd's child, so that nothing has to reap it. Only async-signal-safe
 * calls after fork(): listener threads may be running. */
static int spawn(const char *binary, const char *path) {
        char *const argv[] = {(char *) "commitd-keeper", (char *) "--socket", (char *) path,
                              (char *) "--exit-when-idle", NULL};
        sigset_t none;
        int status;
        pid_t pid;

        sigemptyset(&none);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null;
                if (setsid() < 0 || fork() != 0)
                        _exit(0);
                null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, STDIN_FILENO);
                close_range(3, ~0U, 0);
                sigprocmask(SIG_SETMASK, &none, NULL); /* commitd blocks its signals for the signalfd */
                execv(binary, argv);
                _exit(127);
        }
        (void) waitpid(pid, &status, 0);
        return 0;
}

static int try_connect(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {5, 0};
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        unix_sndbuf_fit(fd, sizeof(struct keeper_header) + KEEPER_MAX_DATA); /* PUT */
        /* The keeper answers at once or is gone: never let it stall commitd. */
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        tv.tv_sec = 1;
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        return fd;
}

struct held {
        uint32_t key;
        int fd;
        char *data;
};

static void held_free(struct held *h, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (h[i].fd >= 0)
                        close(h[i].fd);
                free(h[i].data);
        }
        free(h);
}

/* Collects the whole answer to LIST before handing anything on: a keeper that vanishes half-way is asked
 * again, and no entry is adopted twice. Returns the count, -EBUSY (another commitd) or -errno. */
static ssize_t list(int fd, struct held **ret, uint32_t *ret_max_data) {
        struct held *h = NULL;
        size_t n = 0;
        int r;

        /* A keeper that is busy with another commitd answers BUSY and hangs up at once, perhaps before this
         * request arrives: read its answer even when the request could not be sent. */
        (void) send_msg(fd, 0, KEEPER_LIST, 0, 0, NULL, -1);
        for (;;) {
                char buf[sizeof(struct keeper_header) + KEEPER_MAX_DATA + 1];
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int))];
                } control;
                struct iovec iov = {buf, sizeof(buf) - 1};
                struct msghdr m = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
                struct keeper_header kh;
                size_t n_fds = 0;
                int entry_fd = -1;
                ssize_t len = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);

                if (len > 0)
                        (void) cmsg_collect_fds(&m, &entry_fd, &n_fds, 1);
                if (len < (ssize_t) sizeof(kh)) {
                        r = len < 0 ? -errno : -ECONNRESET;
                        break;
                }
                memcpy(&kh, buf, sizeof(kh));
                buf[len] = '\0';
                if (kh.op == KEEPER_END) {
                        *ret_max_data = kh.max_data == 0 ? KEEPER_LEGACY_MAX_DATA : MIN(kh.max_data, KEEPER_MAX_DATA);
                        *ret = h;
                        return (ssize_t) n;
                }
                if (kh.op == KEEPER_BUSY) {
                        r = -EBUSY;
                        break;
                }
                if (kh.op != KEEPER_ENTRY || entry_fd < 0) {
                        if (entry_fd >= 0)
                                close(entry_fd);
                        r = -EBADMSG;
                        break;
                }
                struct held *bigger = realloc(h, (n + 1) * sizeof(*h));
                char *data = strdup(buf + sizeof(kh));
                if (!bigger || !data) {
                        free(data);
                        if (bigger)
                                h = bigger;
                        close(entry_fd);
                        r = -ENOMEM;
                        break;
                }
                h = bigger;
                h[n++] = (struct held){.key = kh.key, .fd = entry_fd, .data = data};
        }
        held_free(h, n);
        return r;
}

int keeper_open(const char *socket_path, const char *binary, keeper_entry_t cb, void *userdata,
                struct keeper_conn *ret) {
        bool spawned = false;
        int r = -ENOENT;

        for (int i = 0; i < CONNECT_TRIES; i++) {
                struct timespec pause = {0, 20 * 1000 * 1000};
                struct held *h = NULL;
                int fd = try_connect(socket_path);

                if (fd >= 0) {
                        uint32_t max_data;
                        ssize_t n = list(fd, &h, &max_data);
                        if (n >= 0) {
                                for (ssize_t k = 0; k < n; k++) {
                                        cb(h[k].key, h[k].data, h[k].fd, userdata);
                                        h[k].fd = -1;
                                }
                                held_free(h, (size_t) n);
                                *ret = (struct keeper_conn){.fd = fd, .max_data = max_data};
                                return 0;
                        }
                        close(fd);
                        r = (int) n;
                } else {
                        r = fd;
                        if ((r == -ENOENT || r == -ECONNREFUSED) && !spawned) {
                                r = spawn(binary, socket_path);
                                if (r < 0)
                                        return r;
                                spawned = true;
                        }
                }
                nanosleep(&pause, NULL);
        }
        return r;
}
