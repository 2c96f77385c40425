/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "units.h"

static int unit_shift(const char *suffix) {
        static const char letters[] = "KMGTPE";
        const char *p;

        if (*suffix == '\0')
                return 0;
        p = strchr(letters, *suffix & ~0x20); /* upper-case an ASCII letter */
        if (!p || (*suffix & ~0x20) == '\0')
                return -EINVAL;
        suffix++;
        if (*suffix == 'i')
                suffix++;
        if (*suffix == 'B')
                suffix++;
        if (*suffix != '\0')
                return -EINVAL;
        return 10 * (int) (p - letters + 1);
}

/* The decimal digits at *s (at least one), *s moved past them. */
static int parse_digits(const char **s, uint64_t *ret) {
        const char *p = *s;
        uint64_t v = 0;

        if (!p || *p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                        return -ERANGE;
        *s = p;
        *ret = v;
        return 0;
}

int units_parse_size(const char *s, uint64_t *ret_bytes) {
        uint64_t v;
        int shift, r;

        r = parse_digits(&s, &v);
        if (r < 0)
                return r;
        if (*s == 'B' && s[1] == '\0')
                s++;
        shift = unit_shift(s);
        if (shift < 0)
                return shift;
        if (shift > 0 && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret_bytes = v << shift;
        return 0;
}

int units_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v;
        int r;

        r = parse_digits(&s, &v);
        if (r < 0)
                return r;
        if (*s != '\0')
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

const char *units_format_size(uint64_t bytes, char buf[static UNITS_FORMAT_MAX]) {
        static const char units[][3] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        unsigned shift = 10;
        size_t i = 0;

        if (bytes < 1024) {
                snprintf(buf, UNITS_FORMAT_MAX, "%uB", (unsigned) bytes);
                return buf;
        }
        while (i + 1 < ELEMENTSOF(units) && bytes >> (shift + 10) > 0) {
                shift += 10;
                i++;
        }
        /* Tenths of the unit, rounded to nearest; 128 bits so that bytes * 10 cannot overflow. */
        unsigned __int128 tenths = ((unsigned __int128) bytes * 10 + ((unsigned __int128) 1 << (shift - 1))) >> shift;
        if (tenths >= 10235 && i + 1 < ELEMENTSOF(units)) { /* would print "1024Ki": say "1.0Mi" */
                shift += 10;
                i++;
                tenths = ((unsigned __int128) bytes * 10 + ((unsigned __int128) 1 << (shift - 1))) >> shift;
        }
        if (tenths < 100)
                snprintf(buf, UNITS_FORMAT_MAX, "%u.%u%s", (unsigned) (tenths / 10), (unsigned) (tenths % 10),
                         units[i]);
        else
                snprintf(buf, UNITS_FORMAT_MAX, "%llu%s", (unsigned long long) ((tenths + 5) / 10), units[i]);
        return buf;
}
