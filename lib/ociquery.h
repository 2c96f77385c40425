/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A question commitd-oci-runtime asks on the OCI agent socket before it lets a container start
 * (docs/protocol.md, "The OCI agent socket"): which policy would judge a container that names this one (or
 * none), and is it loaded. The runtimes' container states come on the same socket; a query is told apart by
 * its "query" key, which no state has.
 *
 *   request: {"query": "policy", "policy": "NAME"}   or   {"query": "policy", "policy": null}
 *   answer:  {"query": "policy", "policy": "NAME" or null, "known": true or false, "meminfo": true or false}
 *            {"error": "what was wrong with the request"}
 *
 * "policy": null asks for commitd's --oci-default-policy: the answer names it (null when there is none).
 * "meminfo" is the policy's "meminfo" key (struct policy's meminfo, true unless the file says false): whether
 * the wrapper bind-mounts commitd-meminfo's view over the container's /proc/meminfo. An answer without it (an
 * older commitd) means false. */
#define OCIQUERY_MAX_BYTES 4096

/* The request (caller frees). policy may be NULL. -ENOMEM. */
int ociquery_format_request(const char *policy, char **ret);
/* 1: buf is a query, *ret_policy its policy (NULL: none named; caller frees); 0: buf is not a query (no
 * "query" key, or not JSON: a container state, parsed elsewhere); -EBADMSG with *ret_why (static) for a
 * malformed query: longer than OCIQUERY_MAX_BYTES, an unknown query or key, a policy that is not a policy
 * name; -ENOMEM. */
int ociquery_parse_request(const char *buf, size_t len, char **ret_policy, const char **ret_why);

/* The answer (caller frees): error non-NULL gives {"error": ...}. -ENOMEM. */
int ociquery_format_answer(const char *policy, bool known, bool meminfo, const char *error, char **ret);
struct ociquery_answer {
        char *policy; /* NULL: none */
        bool known;
        bool meminfo;
        char *error; /* non-NULL: commitd refused the request */
};
/* -EBADMSG when buf is no answer (not JSON, a missing or mistyped key, too long); -ENOMEM. */
int ociquery_parse_answer(const char *buf, size_t len, struct ociquery_answer *ret);
void ociquery_answer_done(struct ociquery_answer *a);
