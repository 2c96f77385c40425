/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "heap.h"
#include "macro.h"

enum { HEAP_MORE, HEAP_FOUND, HEAP_NONE };

/* One line of maps: "start-end perms offset dev inode [name]". The kernel names "[heap]" every area between
 * start_brk and brk, and the heap can be more than one area (after a fork, an mprotect of part of it): the
 * break's page ends the last of them, so the scan goes on while [heap] lines follow. *end > 0: one was seen. */
static int heap_line(const char *s, size_t n, uint64_t start_brk, uint64_t *end) {
        unsigned long long lo, hi;
        char line[256];
        size_t m = MIN(n, sizeof(line) - 1);

        memcpy(line, s, m);
        line[m] = '\0';
        if (sscanf(line, "%llx-%llx", &lo, &hi) != 2 || hi < lo)
                return -EINVAL;
        if (n >= 6 && memcmp(s + n - 6, "[heap]", 6) == 0) {
                *end = hi;
                return HEAP_MORE;
        }
        if (*end > 0)
                return HEAP_FOUND; /* the first area past the heap */
        /* Areas are in address order and the heap starts at start_brk: past it, there is none. */
        return lo > start_brk ? HEAP_NONE : HEAP_MORE;
}

static int finish(int r, uint64_t start_brk, uint64_t end, uint64_t *ret_end, bool *ret_has_heap) {
        if (r < 0)
                return r;
        if (r == HEAP_MORE) /* the file ended */
                r = end > 0 ? HEAP_FOUND : HEAP_NONE;
        *ret_has_heap = r == HEAP_FOUND;
        *ret_end = r == HEAP_FOUND ? MAX(end, start_brk) : start_brk;
        return 0;
}

int heap_end_parse(const char *buf, uint64_t start_brk, uint64_t *ret_end, bool *ret_has_heap) {
        uint64_t end = 0;
        int r = HEAP_MORE;

        for (const char *s = buf; *s;) {
                const char *nl = strchr(s, '\n');
                size_t n = nl ? (size_t) (nl - s) : strlen(s);
                if (n > 0 && (r = heap_line(s, n, start_brk, &end)) != HEAP_MORE)
                        break;
                r = HEAP_MORE;
                s += n + (nl != NULL);
        }
        return finish(r, start_brk, end, ret_end, ret_has_heap);
}

int heap_end_read(const char *maps_path, uint64_t start_brk, uint64_t *ret_end, bool *ret_has_heap) {
        _cleanup_close_ int fd = open(maps_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        char buf[8192];
        size_t len = 0;
        bool skipping = false; /* the rest of a line longer than buf (a long file name: not the heap) */
        uint64_t end = 0;

        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + len, sizeof(buf) - len);
                size_t used = 0;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                for (char *nl; (nl = memchr(buf + used, '\n', len - used)); used = (size_t) (nl - buf) + 1) {
                        int r;
                        if (skipping) {
                                skipping = false;
                                continue;
                        }
                        r = heap_line(buf + used, (size_t) (nl - buf) - used, start_brk, &end);
                        if (r != HEAP_MORE)
                                return finish(r, start_brk, end, ret_end, ret_has_heap);
                }
                memmove(buf, buf + used, len - used);
                len -= used;
                if (len == sizeof(buf)) {
                        /* Its start and end are in its first 40 bytes; its name, cut, is a file's, never "[heap]". */
                        int r = skipping ? HEAP_MORE : heap_line(buf, 40, start_brk, &end);
                        if (r == HEAP_NONE || r < 0)
                                return finish(r, start_brk, end, ret_end, ret_has_heap);
                        skipping = true;
                        len = 0;
                }
        }
        return finish(HEAP_MORE, start_brk, end, ret_end, ret_has_heap);
}
