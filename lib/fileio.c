/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int fileio_open(const char *path) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (!path)
                return -EINVAL;
        /* O_NONBLOCK and the S_ISREG check: a FIFO or device planted where a file is expected must not hang
         * the daemon's loop. procfs, sysfs and cgroupfs files are regular files. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        return TAKE_FD(fd);
}

/* read() that retries EINTR. */
static ssize_t read_retry(int fd, char *buf, size_t n) {
        for (;;) {
                ssize_t r = read(fd, buf, n);
                if (r >= 0 || errno != EINTR)
                        return r < 0 ? -errno : r;
        }
}

/* procfs and cgroupfs files report st_size 0 and are generated per read(), so the only way to get one whole
 * is to read until EOF into a growing buffer. */
int fileio_read_full(const char *path, size_t max_bytes, char **ret_buf, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, allocated = 0, cap;

        if (!path || !ret_buf)
                return -EINVAL;

        /* Room for max_bytes, the NUL, and one byte more so that a file of exactly max_bytes is told apart
         * from a longer one by the read that follows. */
        cap = max_bytes > SIZE_MAX - 2 ? SIZE_MAX : max_bytes + 2;

        fd = fileio_open(path);
        if (fd < 0)
                return fd;

        for (;;) {
                ssize_t n;

                if (allocated - len < 2) {
                        size_t want = allocated > cap / 2 ? cap : MAX(allocated * 2, (size_t) 4096);
                        char *bigger;

                        if (want > cap)
                                want = cap;
                        if (want <= allocated)
                                return -EFBIG;
                        bigger = realloc(buf, want);
                        if (!bigger)
                                return -ENOMEM;
                        buf = bigger;
                        allocated = want;
                }

                n = read_retry(fd, buf + len, allocated - len - 1);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max_bytes)
                        return -EFBIG;
        }

        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fileio_read_chunks(const char *path, size_t chunk_bytes, fileio_chunk_fn fn, void *userdata) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;

        if (!path || !fn || chunk_bytes == 0)
                return -EINVAL;
        fd = fileio_open(path);
        if (fd < 0)
                return fd;
        buf = malloc(chunk_bytes);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read_retry(fd, buf, chunk_bytes);
                int r;

                if (n <= 0)
                        return (int) n;
                r = fn(buf, (size_t) n, userdata);
                if (r != 0)
                        return r;
        }
}

int fileio_write_atomic(const char *path, const char *text, size_t len, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const char *slash = strrchr(path, '/');
        size_t done = 0;
        int r = 0;

        if (asprintf(&tmp, "%.*s.%s.XXXXXX", slash ? (int) (slash - path + 1) : 0, path, slash ? slash + 1 : path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0 || (uid != (uid_t) -1 && fchown(fd, uid, gid) < 0))
                r = -errno;
        while (r == 0 && done < len) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        done += (size_t) n;
        }
        /* The data on disk before the name: otherwise a crash after the rename can leave path empty (a
         * filesystem may commit the rename first, as XFS does and ext4 without auto_da_alloc). The directory is
         * not synced: after a crash path is then the old file or the new one, both whole, which is all a
         * reader is promised. */
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && (close(TAKE_FD(fd)) < 0 || rename(tmp, path) < 0))
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
