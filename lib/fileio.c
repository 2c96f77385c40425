/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

/* procfs and cgroupfs files report st_size 0 and are generated per read(), so the only way to get one whole
 * is to read until EOF into a growing buffer. */
int fileio_read_full(const char *path, size_t max_bytes, char **ret_buf, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, allocated = 0, cap;
        struct stat st;

        if (!path || !ret_buf)
                return -EINVAL;

        /* Room for max_bytes, the NUL, and one byte more so that a file of exactly max_bytes is told apart
         * from a longer one by the read that follows. */
        cap = max_bytes > SIZE_MAX - 2 ? SIZE_MAX : max_bytes + 2;

        /* O_NONBLOCK and the S_ISREG check: a FIFO or device planted where a file is expected must not hang
         * the daemon's loop. procfs, sysfs and cgroupfs files are regular files. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;

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

                n = read(fd, buf + len, allocated - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
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
