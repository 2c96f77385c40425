/* SPDX-License-Identifier: MIT */
/* The OCI side over arbitrary bytes, both inputs: as the container process state a runtime sends the agent
 * socket (ocispec_parse_state()), and as a bundle's config.json that the runtime wrapper edits
 * (ocispec_policy_annotation(), ocispec_add_commitd()). An edited config edited again stays the same. */
#include <errno.h>

#include "fuzz.h"
#include "macro.h"
#include "ociquery.h"
#include "ocispec.h"
#include "ociwrap.h"

#define LISTENER "/run/commitd/oci.sock"

static void state(const uint8_t *data, size_t size) {
        _cleanup_(ocispec_state_done) struct ocispec_state st = {0};
        const char *why = NULL;
        int r;

        r = ocispec_parse_state((const char *) data, size, &st, &why);
        if (r < 0) {
                fuzz_check(r == -ENOMEM || (r == -EBADMSG && why));
                return;
        }
        fuzz_check(st.id && st.pid >= 0 && st.seccomp_index < st.n_fds);
        fuzz_check(!st.policy || st.policy[0]);
}

static void config(const uint8_t *data, size_t size) {
        json_auto_t *c = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        json_auto_t *once = NULL;
        _cleanup_free_ char *error = NULL, *policy_copy = NULL;
        const char *policy = NULL;
        int r;

        if (!c)
                return;
        r = ocispec_policy_annotation(c, &policy, &error);
        if (r < 0) {
                fuzz_check(r == -EINVAL && error);
                return;
        }
        /* The edit below may free what policy points into. */
        if (policy)
                fuzz_check(policy_copy = strdup(policy));
        r = ocispec_add_commitd(c, LISTENER, policy_copy, &error);
        if (r < 0) {
                fuzz_check(r == -EINVAL || r == -EOPNOTSUPP || r == -ENOMEM);
                fuzz_check(r == -ENOMEM || error);
                return;
        }
        once = json_deep_copy(c);
        fuzz_check(once);
        r = ocispec_add_commitd(c, LISTENER, policy_copy, &error);
        fuzz_check(r == 0);
        fuzz_check(json_equal(c, once));
}

/* The agent socket's other message (lib/ociquery.h): a query, told apart from a state, and its answer; and the
 * wrapper's config file (lib/ociwrap.h). */
static void query(const uint8_t *data, size_t size) {
        _cleanup_(ociquery_answer_done) struct ociquery_answer a = {0};
        _cleanup_(ociwrap_config_done) struct ociwrap_config c = {0};
        _cleanup_free_ char *policy = NULL, *error = NULL;
        const char *why = NULL;
        int r;

        r = ociquery_parse_request((const char *) data, size, &policy, &why);
        fuzz_check(r == 1 || r == 0 || r == -ENOMEM || (r == -EBADMSG && why));
        fuzz_check(r == 1 || !policy);
        if (r == 1)
                fuzz_check(size <= OCIQUERY_MAX_BYTES);
        r = ociquery_parse_answer((const char *) data, size, &a);
        fuzz_check(r == 0 || r == -EBADMSG || r == -ENOMEM);
        r = ociwrap_parse_config("f", (const char *) data, size, &c, &error);
        fuzz_check(r == 0 || r == -ENOMEM || ((r == -EINVAL || r == -EFBIG) && error));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        state(data, size);
        config(data, size);
        query(data, size);
        return 0;
}
