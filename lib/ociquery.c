/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "macro.h"
#include "ociquery.h"
#include "policy.h"

static int dump(json_t *j, char **ret) {
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

        json_decref(j);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int ociquery_format_request(const char *policy, char **ret) {
        return dump(json_pack("{s:s, s:s?}", "query", "policy", "policy", policy), ret);
}

static int bad(const char **ret_why, const char *why) {
        if (ret_why)
                *ret_why = why;
        return -EBADMSG;
}

int ociquery_parse_request(const char *buf, size_t len, char **ret_policy, const char **ret_why) {
        json_auto_t *j = NULL;
        const json_t *query, *policy;
        const char *key;
        json_t *v;

        /* The agent socket takes container states of up to 256 KiB; a query has no reason to be long, and is
         * told apart before anything else is read of it. */
        j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
        query = json_object_get(j, "query");
        if (!query)
                return 0;
        if (len > OCIQUERY_MAX_BYTES)
                return bad(ret_why, "the query is longer than 4096 bytes");
        if (!json_is_string(query) || !streq(json_string_value(query), "policy"))
                return bad(ret_why, "unknown query (the one query is \"policy\")");
        json_object_foreach(j, key, v) {
                if (!streq(key, "query") && !streq(key, "policy"))
                        return bad(ret_why, "the query has a key other than query and policy");
        }
        policy = json_object_get(j, "policy");
        if (!policy)
                return bad(ret_why, "the query lacks policy (a name, or null)");
        if (json_is_null(policy)) {
                *ret_policy = NULL;
                return 1;
        }
        if (!json_is_string(policy) || strlen(json_string_value(policy)) != json_string_length(policy) ||
            !policy_name_valid(json_string_value(policy)))
                return bad(ret_why, "the query's policy is not a policy name");
        *ret_policy = strdup(json_string_value(policy));
        return *ret_policy ? 1 : -ENOMEM;
}

int ociquery_format_answer(const char *policy, bool known, bool meminfo, const char *error, char **ret) {
        if (error)
                return dump(json_pack("{s:s}", "error", error), ret);
        return dump(json_pack("{s:s, s:s?, s:b, s:b}", "query", "policy", "policy", policy, "known", known, "meminfo",
                              meminfo),
                    ret);
}

int ociquery_parse_answer(const char *buf, size_t len, struct ociquery_answer *ret) {
        json_auto_t *j = NULL;
        const json_t *policy, *known, *error, *meminfo;
        struct ociquery_answer a = {0};

        if (len > OCIQUERY_MAX_BYTES)
                return -EBADMSG;
        j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        error = json_object_get(j, "error");
        if (error) {
                if (!json_is_string(error))
                        return -EBADMSG;
                a.error = strdup(json_string_value(error));
                if (!a.error)
                        return -ENOMEM;
                *ret = a;
                return 0;
        }
        policy = json_object_get(j, "policy");
        known = json_object_get(j, "known");
        meminfo = json_object_get(j, "meminfo");
        if (!json_is_boolean(known) || !policy || (!json_is_null(policy) && !json_is_string(policy)) ||
            (meminfo && !json_is_boolean(meminfo)))
                return -EBADMSG;
        a.known = json_is_true(known);
        a.meminfo = json_is_true(meminfo);
        if (json_is_string(policy) && !(a.policy = strdup(json_string_value(policy))))
                return -ENOMEM;
        *ret = a;
        return 0;
}

void ociquery_answer_done(struct ociquery_answer *a) {
        if (!a)
                return;
        free(a->policy);
        free(a->error);
        *a = (struct ociquery_answer){0};
}
