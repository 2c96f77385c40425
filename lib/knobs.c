/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "knobs.h"
#include "macro.h"
#include "policy.h"
#include "units.h"

_Static_assert(POLICY_MAX_RATIO == 10000u, "the rules below say 10000");

const char *knob_name(enum knob k) {
        static const char *const names[_KNOB_MAX] = {
                [KNOB_MODE] = "mode", [KNOB_RATIO] = "ratio", [KNOB_LIMIT] = "limit"};
        return k < _KNOB_MAX ? names[k] : "?";
}

const char *knob_json_rule(enum knob k) {
        switch (k) {
        case KNOB_MODE:
                return "\"mode\" must be 0, 1, 2, \"heuristic\", \"always\", \"strict\", \"guess\" or \"never\"";
        case KNOB_RATIO:
                return "\"ratio\" must be an integer from 0 to 10000";
        case KNOB_LIMIT:
                return "\"limit\" must be bytes, a size such as \"4G\", or null to clear it";
        case _KNOB_MAX:
        default:
                return "unknown knob";
        }
}

const char *knob_text_rule(enum knob k) {
        switch (k) {
        case KNOB_MODE:
                return "MODE is 0|1|2, heuristic|always|strict, or the kernel's guess|never";
        case KNOB_RATIO:
                return "PCT is a whole percent from 0 to 10000 (CommitLimit = RAM * PCT / 100 + swap)";
        case KNOB_LIMIT:
                return "SIZE is bytes or a number with K, M, G, T, P or E (512M, 4G, 4GiB), or 'none' to clear the "
                       "limit";
        case _KNOB_MAX:
        default:
                return "unknown knob";
        }
}

int knob_parse_json(enum knob k, const json_t *v, bool may_clear, struct knob_change *ret) {
        struct knob_change c = {.knob = k};
        json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;
        int m;

        switch (k) {
        case KNOB_MODE:
                m = json_is_integer(v)  ? (i >= 0 && i < _COMMIT_MODE_MAX ? (int) i : -EINVAL)
                    : json_is_string(v) ? commit_mode_from_string(json_string_value(v))
                                        : -EINVAL;
                if (m < 0)
                        return -EINVAL;
                c.mode = (enum commit_mode) m;
                break;
        case KNOB_RATIO:
                if (!json_is_integer(v) || i < 0 || i > POLICY_MAX_RATIO)
                        return -EINVAL;
                c.ratio = (uint32_t) i;
                break;
        case KNOB_LIMIT:
                if (json_is_null(v) && may_clear)
                        c.clear = true;
                else if (json_is_integer(v) && i >= 0)
                        c.limit_bytes = (uint64_t) i;
                else if (!json_is_string(v) || units_parse_size(json_string_value(v), &c.limit_bytes) < 0)
                        return -EINVAL;
                break;
        case _KNOB_MAX:
        default:
                return -EINVAL;
        }
        *ret = c;
        return 0;
}

int knob_parse_text(enum knob k, const char *s, struct knob_change *ret) {
        struct knob_change c = {.knob = k};
        uint64_t v;
        int m;

        if (!s)
                return -EINVAL;
        switch (k) {
        case KNOB_MODE:
                m = commit_mode_from_string(s);
                if (m < 0)
                        return -EINVAL;
                c.mode = (enum commit_mode) m;
                break;
        case KNOB_RATIO:
                if (units_parse_count(s, 0, POLICY_MAX_RATIO, &v) < 0)
                        return -EINVAL;
                c.ratio = (uint32_t) v;
                break;
        case KNOB_LIMIT:
                /* JSON integers are signed 64-bit; more than 8 EiB is no limit anyone means. */
                if (streq(s, "none"))
                        c.clear = true;
                else if (units_parse_size(s, &c.limit_bytes) < 0 || c.limit_bytes > INT64_MAX)
                        return -EINVAL;
                break;
        case _KNOB_MAX:
        default:
                return -EINVAL;
        }
        *ret = c;
        return 0;
}

json_t *knob_change_json(const struct knob_change *c) {
        switch (c->knob) {
        case KNOB_MODE:
                return json_string(commit_mode_to_string(c->mode));
        case KNOB_RATIO:
                return json_integer((json_int_t) c->ratio);
        case KNOB_LIMIT:
                return c->clear ? json_null() : json_integer((json_int_t) c->limit_bytes);
        case _KNOB_MAX:
        default:
                return NULL;
        }
}
