/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "formula.h"

/* The knobs of a budget that a policy file sets and that change live (set-mode, set-ratio, set-limit): what a
 * valid value is lives here, for the policy parser and the dispatcher (a JSON value) and commitctl (its
 * argument), and a live change is one typed value from commitctl to budgets_change(). */
enum knob { KNOB_MODE, KNOB_RATIO, KNOB_LIMIT, _KNOB_MAX };

struct knob_change {
        enum knob knob;
        enum commit_mode mode; /* KNOB_MODE */
        uint32_t ratio;        /* KNOB_RATIO, percent */
        bool clear;            /* KNOB_LIMIT: no limit (the ratio applies) */
        uint64_t limit_bytes;  /* KNOB_LIMIT */
};

/* "mode", "ratio", "limit". */
const char *knob_name(enum knob k);
/* What a valid value is, to end an error message: "must be ..." (for JSON) or "is ..." (for the command line). */
const char *knob_json_rule(enum knob k);
const char *knob_text_rule(enum knob k);
/* A JSON value: mode 0-2 or its names; ratio an integer 0-POLICY_MAX_RATIO; limit bytes or a size string, or
 * null to clear it where may_clear (a request; a policy file leaves the key out instead). 0 or -EINVAL. */
int knob_parse_json(enum knob k, const json_t *v, bool may_clear, struct knob_change *ret);
/* commitctl's argument: "strict", "80", "4G", "none". 0 or -EINVAL. */
int knob_parse_text(enum knob k, const char *s, struct knob_change *ret);
/* The request parameter's value that knob_parse_json() reads back as c. */
json_t *knob_change_json(const struct knob_change *c);
