/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"

/* Names follow Prometheus' conventions: the prefix commitd_, base units (bytes, seconds) named in the suffix,
 * _total on counters, one label per dimension (cgroup, call), and what describes a budget rather than measures
 * it (policy, mode) as labels of an info metric whose value is 1. */

/* Backslash and line feed escaped, and the double quote when quote (label values; HELP text keeps it). */
static void write_escaped(FILE *f, const char *s, bool quote) {
        for (; s && *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '"' && quote)
                        fputs("\\\"", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
}

void metrics_write_label_value(FILE *f, const char *s) {
        write_escaped(f, s, true);
}

static void header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s ", name);
        write_escaped(f, help, false);
        fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* name{k1="v1",k2="v2"} value: labels is NULL or pairs, NULL-terminated. */
static void sample(FILE *f, const char *name, const char *suffix, const char *const *labels, const char *value) {
        fprintf(f, "%s%s", name, suffix);
        for (size_t i = 0; labels && labels[i]; i += 2) {
                fprintf(f, "%s%s=\"", i == 0 ? "{" : ",", labels[i]);
                metrics_write_label_value(f, labels[i + 1]);
                fputc('"', f);
        }
        fprintf(f, "%s %s\n", labels && labels[0] ? "}" : "", value);
}

static bool get_u64(const json_t *o, const char *key, uint64_t *ret) {
        const json_t *v = json_object_get(o, key);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return false;
        *ret = (uint64_t) json_integer_value(v);
        return true;
}

static const char *u64(uint64_t v, char buf[static 24]) {
        snprintf(buf, 24, "%" PRIu64, v);
        return buf;
}

/* Microseconds as seconds, exactly: 1500 is 0.0015. */
static const char *usec_as_seconds(uint64_t usec, char buf[static 32]) {
        int n = snprintf(buf, 32, "%" PRIu64 ".%06" PRIu64, usec / 1000000, usec % 1000000);
        while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
                buf[--n] = '\0';
        return buf;
}

static const char *string_or_empty(const json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

/* One value of the host or daemon object, unlabelled. */
struct scalar {
        const char *key, *name, *type, *help;
};

static void write_scalars(FILE *f, const json_t *o, const struct scalar *s, size_t n) {
        char buf[24];
        uint64_t v;

        for (size_t i = 0; i < n; i++) {
                const json_t *j = json_object_get(o, s[i].key);
                if (json_is_boolean(j))
                        v = json_is_true(j);
                else if (!get_u64(o, s[i].key, &v))
                        continue;
                header(f, s[i].name, s[i].type, s[i].help);
                sample(f, s[i].name, "", NULL, u64(v, buf));
        }
}

static const struct scalar host_scalars[] = {
        {"commit_limit_bytes", "commitd_host_commit_limit_bytes", "gauge",
         "The host's own CommitLimit (/proc/meminfo), in bytes."},
        {"committed_bytes", "commitd_host_committed_bytes", "gauge",
         "The host's own Committed_AS (/proc/meminfo), in bytes."},
        {"overcommit_memory", "commitd_host_overcommit_memory", "gauge",
         "The host's vm.overcommit_memory: 0 heuristic, 1 always, 2 strict."},
};

static const struct scalar daemon_scalars[] = {
        {"listeners", "commitd_listeners", "gauge", "Seccomp listeners commitd holds."},
        {"listeners_recovered", "commitd_listeners_recovered", "gauge",
         "Listeners this commitd adopted from the keeper when it started (held across a restart)."},
        {"keeper_up", "commitd_keeper_up", "gauge",
         "1 while commitd-keeper holds the listeners for the next commitd, 0 when they would die with commitd."},
};

/* A per-budget number, labelled cgroup; by_call: an object of counts by call name, labelled call too. */
struct per_budget {
        const char *key, *name, *type, *help;
        bool by_call;
};

static const struct per_budget budget_metrics[] = {
        {"commit_limit_bytes", "commitd_budget_commit_limit_bytes", "gauge",
         "CommitLimit of the budget (its own, or of the nearest ancestor with a policy), in bytes.", false},
        {"committed_bytes", "commitd_budget_committed_bytes", "gauge",
         "Committed_AS of the cgroup: the last exact measure plus the charges admitted since, in bytes.", false},
        {"enrolled_processes", "commitd_budget_enrolled_processes", "gauge",
         "Processes commitd judges in exactly this cgroup.", false},
        {"listeners", "commitd_budget_listeners", "gauge", "Seccomp listeners enrolled into exactly this cgroup.",
         false},
        {"admitted", "commitd_budget_admitted_calls_total", "counter",
         "Calls of the cgroup's processes that commitd admitted, by call.", true},
        {"refused", "commitd_budget_refused_calls_total", "counter",
         "Calls of the cgroup's processes refused with ENOMEM because a budget (this or an ancestor) had no room, "
         "by call.",
         true},
        {"would_refuse", "commitd_budget_would_refuse_calls_total", "counter",
         "Calls of the cgroup's processes that an audit policy would have refused and admitted, by call.", true},
        {"failed_closed", "commitd_budget_failed_closed_calls_total", "counter",
         "Calls of the cgroup's listeners refused because commitd could not judge them (fail closed), by call.", true},
        {"level_refusals", "commitd_budget_level_refusals_total", "counter",
         "Refusals this budget decided as the level that had no room, for its own processes and its descendants' "
         "(would-be refusals for an audit policy).",
         false},
};

static void write_info(FILE *f, const json_t *budgets) {
        const json_t *b;
        size_t i;

        if (json_array_size(budgets) == 0)
                return;
        header(f, "commitd_budget_info", "gauge",
               "A budget commitd knows, its policy (empty: none of its own), mode and whether it enforces; always 1.");
        json_array_foreach(budgets, i, b) {
                const char *labels[] = {"cgroup",  string_or_empty(b, "cgroup"),
                                        "policy",  string_or_empty(b, "policy"),
                                        "mode",    string_or_empty(b, "mode"),
                                        "enforce", json_is_false(json_object_get(b, "enforce")) ? "false" : "true",
                                        NULL};
                sample(f, "commitd_budget_info", "", labels, "1");
        }
}

static void write_per_budget(FILE *f, const json_t *budgets, const struct per_budget *m) {
        bool headed = false;
        const json_t *b;
        char buf[24];
        size_t i;
        uint64_t v;

        json_array_foreach(budgets, i, b) {
                const char *cgroup = string_or_empty(b, "cgroup");
                const json_t *calls = json_object_get(b, m->key);
                const char *call;
                const json_t *n;

                if (!m->by_call) {
                        if (!get_u64(b, m->key, &v))
                                continue;
                        if (!headed)
                                header(f, m->name, m->type, m->help);
                        headed = true;
                        sample(f, m->name, "", (const char *const[]){"cgroup", cgroup, NULL}, u64(v, buf));
                        continue;
                }
                json_object_foreach((json_t *) calls, call, n) {
                        if (!get_u64(calls, call, &v))
                                continue;
                        if (!headed)
                                header(f, m->name, m->type, m->help);
                        headed = true;
                        sample(f, m->name, "", (const char *const[]){"cgroup", cgroup, "call", call, NULL},
                               u64(v, buf));
                }
        }
}

/* "judge": {"le_usec": [bounds...], "counts": [one per bound, then the rest], "sum_usec"}: counts per bucket,
 * written cumulative as the format wants, the last one le="+Inf". */
static void write_histogram(FILE *f, const json_t *h, const char *name, const char *help) {
        const json_t *le = json_object_get(h, "le_usec"), *counts = json_object_get(h, "counts");
        uint64_t sum_usec, total = 0;
        char buf[32], count[24];

        if (!json_is_array(le) || !json_is_array(counts) || json_array_size(counts) != json_array_size(le) + 1 ||
            !get_u64(h, "sum_usec", &sum_usec))
                return;
        header(f, name, "histogram", help);
        for (size_t i = 0; i < json_array_size(counts); i++) {
                const json_t *c = json_array_get(counts, i), *bound = json_array_get(le, i);
                total += json_is_integer(c) && json_integer_value(c) > 0 ? (uint64_t) json_integer_value(c) : 0;
                if (i < json_array_size(le))
                        usec_as_seconds(json_is_integer(bound) && json_integer_value(bound) > 0
                                                ? (uint64_t) json_integer_value(bound)
                                                : 0,
                                        buf);
                else
                        snprintf(buf, sizeof(buf), "+Inf");
                sample(f, name, "_bucket", (const char *const[]){"le", buf, NULL}, u64(total, count));
        }
        sample(f, name, "_sum", NULL, usec_as_seconds(sum_usec, buf));
        sample(f, name, "_count", NULL, u64(total, count));
}

/* {"count", "sum_usec"}: a summary without quantiles, the idiom for "how many and how long in all". */
static void write_summary(FILE *f, const json_t *s, const char *name, const char *help) {
        uint64_t n, sum_usec;
        char buf[32];

        if (!get_u64(s, "count", &n) || !get_u64(s, "sum_usec", &sum_usec))
                return;
        header(f, name, "summary", help);
        sample(f, name, "_sum", NULL, usec_as_seconds(sum_usec, buf));
        sample(f, name, "_count", NULL, u64(n, buf));
}

int metrics_write(FILE *f, const json_t *m) {
        const json_t *daemon = json_object_get(m, "daemon"), *budgets = json_object_get(m, "budgets");
        const char *version = json_string_value(json_object_get(m, "version"));

        if (version) {
                header(f, "commitd_build_info", "gauge", "The version of the commitd that answered; always 1.");
                sample(f, "commitd_build_info", "", (const char *const[]){"version", version, NULL}, "1");
        }
        write_scalars(f, json_object_get(m, "host"), host_scalars, ELEMENTSOF(host_scalars));
        if (json_is_object(daemon)) {
                write_scalars(f, daemon, daemon_scalars, ELEMENTSOF(daemon_scalars));
                write_histogram(f, json_object_get(daemon, "judge"), "commitd_judge_duration_seconds",
                                "Time to judge one notified call under commitd's lock, from its receipt to the "
                                "verdict (an exact re-measure before a refusal included).");
                write_summary(f, json_object_get(daemon, "remeasure"), "commitd_remeasure_duration_seconds",
                              "Exact measures of a budget from /proc (before a refusal, after a change, by the "
                              "upkeep): how many and how long in all.");
        }
        if (json_is_array(budgets)) {
                write_info(f, budgets);
                for (size_t i = 0; i < ELEMENTSOF(budget_metrics); i++)
                        write_per_budget(f, budgets, &budget_metrics[i]);
        }
        return fflush(f) == EOF || ferror(f) ? -EIO : 0;
}

int metrics_write_up(FILE *f, bool up) {
        header(f, "commitd_up", "gauge",
               "1 when the exporter read commitd's numbers through its control socket for this exposition, 0 when "
               "it could not (commitd down, or the socket not reachable).");
        sample(f, "commitd_up", "", NULL, up ? "1" : "0");
        return fflush(f) == EOF || ferror(f) ? -EIO : 0;
}
