/* SPDX-License-Identifier: MIT */
/* policy_parse() over arbitrary bytes (a policy directory is operator input). An accepted policy, written out
 * the way `policy show` and the state directory write it, must parse back to the same policy. */
#include <errno.h>

#include "fuzz.h"
#include "macro.h"
#include "policy.h"

static char *dump(const struct policy *p) {
        json_auto_t *j = policy_to_json(p);
        char *s;

        fuzz_check(j);
        s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        fuzz_check(s);
        return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(policy_done) struct policy p = {0}, again = {0};
        _cleanup_free_ char *error = NULL, *text = NULL, *text_again = NULL;
        int r;

        /* The buffer is not NUL-terminated: policy_parse() must keep to len. */
        r = policy_parse("fuzz.json", (const char *) data, size, &p, &error);
        if (r < 0) {
                fuzz_check(r == -EINVAL || r == -ENOMEM);
                fuzz_check(r == -ENOMEM || error);
                return 0;
        }
        fuzz_check(p.name && p.cgroup && p.cgroup[0] == '/');
        text = dump(&p);
        r = policy_parse("fuzz.json", text, strlen(text), &again, NULL);
        fuzz_check(r >= 0);
        text_again = dump(&again);
        fuzz_check(streq(text, text_again));
        return 0;
}
