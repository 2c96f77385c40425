/* SPDX-License-Identifier: MIT */
/* One refusal event in words: the line of `commitctl events` and the LAST REFUSAL of `commitctl top`. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "refusal.h"
#include "status.h"
#include "units.h"

const char *refusal_clean(const char *s, char *buf, size_t size) {
        size_t i = 0;

        for (; s && *s && i + 1 < size; s++)
                buf[i++] = (unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s;
        buf[i] = 0;
        return buf;
}

const char *refusal_format_time(uint64_t usec, char buf[static REFUSAL_TIME_MAX]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        long off;
        size_t n;

        if (!localtime_r(&t, &tm) || (n = strftime(buf, REFUSAL_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
                return "?";
        off = tm.tm_gmtoff / 60;
        snprintf(buf + n, REFUSAL_TIME_MAX - n, ".%03u%c%02ld:%02ld", (unsigned) (usec / 1000 % 1000),
                 off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
        return buf;
}

static const char *size_or_q(const json_t *o, const char *key, char buf[static UNITS_FORMAT_MAX]) {
        uint64_t v;
        return status_get_u64(o, key, &v) ? units_format_size(v, buf) : "?";
}

const char *refusal_describe(const json_t *ev, char *buf, size_t size) {
        char level[256], comm[64], req[UNITS_FORMAT_MAX], com[UNITS_FORMAT_MAX], lim[UNITS_FORMAT_MAX];
        const char *lv = json_string_value(json_object_get(ev, "level"));
        const char *cgroup = json_string_value(json_object_get(ev, "cgroup"));
        const char *reason = json_string_value(json_object_get(ev, "reason"));
        int n;

        /* commitd could not judge the call and refused it (it fails closed): no budget, no numbers, its reason. */
        if (reason) {
                snprintf(buf, size, "pid %" JSON_INTEGER_FORMAT " (%s) %s: refused, %s",
                         json_integer_value(json_object_get(ev, "pid")),
                         refusal_clean(json_string_value(json_object_get(ev, "comm")) ?: "?", comm, sizeof(comm)),
                         json_string_value(json_object_get(ev, "call")) ?: "?", reason);
                return refusal_clean(buf, buf, size);
        }
        n = snprintf(buf, size, "pid %" JSON_INTEGER_FORMAT " (%s) %s %s: committed %s of %s, %s: %s",
                     json_integer_value(json_object_get(ev, "pid")),
                     refusal_clean(json_string_value(json_object_get(ev, "comm")) ?: "?", comm, sizeof(comm)),
                     json_string_value(json_object_get(ev, "call")) ?: "?", size_or_q(ev, "request_bytes", req),
                     size_or_q(ev, "committed_bytes", com), size_or_q(ev, "limit_bytes", lim),
                     json_string_value(json_object_get(ev, "mode")) ?: "?",
                     json_is_false(json_object_get(ev, "enforced")) ? "would refuse (audit)" : "refused");
        /* The level that refused, when it is an ancestor's budget rather than the cgroup's own. */
        if (n >= 0 && (size_t) n < size && lv && cgroup && !streq(lv, cgroup))
                snprintf(buf + n, size - (size_t) n, " by %s", refusal_clean(lv, level, sizeof(level)));
        /* call and mode are commitd's own words; cleaned all the same, as the whole goes to a terminal. */
        return refusal_clean(buf, buf, size);
}
