/* SPDX-License-Identifier: MIT */
/* commitctl status: what commitd holds per cgroup, as a table like `free -h`, or its JSON as it came. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "client.h"
#include "macro.h"
#include "status.h"
#include "units.h"
#include "verbs.h"

bool status_get_u64(const json_t *o, const char *key, uint64_t *ret) {
        const json_t *v = json_object_get(o, key);

        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return false;
        *ret = (uint64_t) json_integer_value(v);
        return true;
}

static const char *str_or(const json_t *o, const char *key, const char *fallback) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : fallback;
}

static const char *size_or_dash(const json_t *o, const char *key, char buf[static UNITS_FORMAT_MAX]) {
        uint64_t v;
        return status_get_u64(o, key, &v) ? units_format_size(v, buf) : "-";
}

static const char *count_or_dash(const json_t *o, const char *key, char buf[static UNITS_FORMAT_MAX]) {
        uint64_t v;

        if (!status_get_u64(o, key, &v))
                return "-";
        snprintf(buf, UNITS_FORMAT_MAX, "%" PRIu64, v);
        return buf;
}

bool status_use_percent(const json_t *o, uint64_t *ret) {
        uint64_t committed, limit;

        if (!status_get_u64(o, "committed_bytes", &committed) || !status_get_u64(o, "commit_limit_bytes", &limit) ||
            limit == 0)
                return false;
        if (limit > UINT64_MAX / 100)
                *ret = committed / (limit / 100);
        else if (committed / limit > UINT64_MAX / 100 - 1)
                *ret = UINT64_MAX / 100;
        else
                *ret = committed / limit * 100 + committed % limit * 100 / limit;
        return true;
}

static const char *use_percent(const json_t *o, char buf[static UNITS_FORMAT_MAX]) {
        uint64_t pct;

        if (!status_use_percent(o, &pct))
                return "-";
        snprintf(buf, UNITS_FORMAT_MAX, "%" PRIu64 "%%", pct);
        return buf;
}

static bool audit(const json_t *entry) {
        return json_is_false(json_object_get(entry, "enforce"));
}

void status_print_line(FILE *f, const json_t *entry) {
        char a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX], c[UNITS_FORMAT_MAX];
        uint64_t ratio, limit, procs = 0;

        fprintf(f, "%s: %s", str_or(entry, "cgroup", "?"), str_or(entry, "mode", "no policy"));
        if (status_get_u64(entry, "limit_bytes", &limit))
                fprintf(f, ", limit %s", units_format_size(limit, a));
        else if (status_get_u64(entry, "ratio", &ratio))
                fprintf(f, ", ratio %" PRIu64 "%%", ratio);
        (void) status_get_u64(entry, "enrolled_processes", &procs);
        fprintf(f, ", CommitLimit %s, committed %s (%s), %" PRIu64 " process%s%s\n",
                size_or_dash(entry, "commit_limit_bytes", a), size_or_dash(entry, "committed_bytes", b),
                use_percent(entry, c), procs, procs == 1 ? "" : "es",
                audit(entry) ? ", audit: refusals are logged, not enforced" : "");
}

void status_print_table(FILE *f, const json_t *cgroups) {
        int width = (int) strlen("CGROUP"), pwidth = (int) strlen("POLICY");
        const json_t *e;
        size_t i;

        json_array_foreach(cgroups, i, e) {
                int n = (int) strlen(str_or(e, "cgroup", "?")), p = (int) strlen(str_or(e, "policy", "-"));
                width = MAX(width, n);
                pwidth = MAX(pwidth, p);
        }
        fprintf(f, "%-*s  %-*s  %-9s  %7s  %9s  %4s  %5s  %9s  %7s\n", width, "CGROUP", pwidth, "POLICY", "MODE",
                "LIMIT", "COMMITTED", "USE%", "PROCS", "ADMITTED", "REFUSED");
        json_array_foreach(cgroups, i, e) {
                char a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX], c[UNITS_FORMAT_MAX], d[UNITS_FORMAT_MAX],
                        x[UNITS_FORMAT_MAX], y[UNITS_FORMAT_MAX];

                /* POLICY: the cgroup's own; a container's is TEMPLATE@ID, with the whole id. */
                fprintf(f, "%-*s  %-*s  %-9s  %7s  %9s  %4s  %5s  %9s  %7s%s\n", width, str_or(e, "cgroup", "?"),
                        pwidth, str_or(e, "policy", "-"), str_or(e, "mode", "-"),
                        size_or_dash(e, "commit_limit_bytes", a), size_or_dash(e, "committed_bytes", b),
                        use_percent(e, c), count_or_dash(e, "enrolled_processes", d), count_or_dash(e, "admitted", x),
                        count_or_dash(e, "refusals", y), audit(e) ? "  audit" : "");
        }
}

static void status_help(FILE *f) {
        fprintf(f, "Usage: commitctl status [--json] [CGROUP]\n"
                   "\n"
                   "Show each cgroup commitd budgets (or just CGROUP, like tenants/a): its policy (a container's is\n"
                   "TEMPLATE@CONTAINER-ID), mode, CommitLimit (LIMIT),\n"
                   "Committed_AS (COMMITTED), enrolled processes, calls admitted and refused. \"audit\" marks a\n"
                   "policy that logs refusals without enforcing them.\n"
                   "\n"
                   "  --json    the reply as commitd sent it\n");
}

int verb_status(int argc, char **argv, const struct global_options *g) {
        _cleanup_free_ char *cgroup = NULL;
        json_auto_t *result = NULL;
        json_t *cgroups;
        bool json = g->json;
        int k, r;

        k = verb_simple_options(argc, argv, &json, status_help);
        if (k >= 0)
                return k;
        if (argc - optind > 1) {
                fprintf(stderr, "commitctl status: unexpected argument '%s' (give at most one CGROUP)\n",
                        argv[optind + 1]);
                return EXIT_USAGE;
        }
        if (optind < argc && cgroupfs_path_normalize(argv[optind], &cgroup) < 0) {
                fprintf(stderr,
                        "commitctl status: '%s' is not a cgroup path; give a path below the cgroup v2 root "
                        "such as tenants/a (no '..', no empty components)\n",
                        argv[optind]);
                return EXIT_USAGE;
        }

        /* A reply holds as many cgroups as fit in one message and names the "next" page: asked for to the end. */
        r = cgroup ? client_call_once(g, "status", "status", json_pack("{s:s}", "cgroup", cgroup), &result)
                   : client_call_paged(g, "status", "status", "cgroups", &result);
        if (r != EXIT_OK)
                return r;
        cgroups = json_object_get(result, "cgroups");
        if (!json_is_array(cgroups)) {
                fprintf(stderr, "commitctl status: commitd's reply has no \"cgroups\" list\n");
                return EXIT_FAILURE_;
        }
        if (json) {
                if (client_print_json(result, JSON_INDENT(2)) < 0)
                        goto write_error;
                return EXIT_OK;
        }
        if (json_array_size(cgroups) == 0 && geteuid() != 0)
                printf("No cgroups of yours: commitd shows a tenant only the cgroups delegated to its uid (root and\n"
                       "commitd's group see all), and it budgets none of yours.\n");
        else if (json_array_size(cgroups) == 0)
                printf("No cgroups: commitd has no policies and nothing is enrolled (see `commitctl policy list`\n"
                       "and commitd.policy(5); `commitctl set-mode CGROUP strict` creates one).\n");
        else
                status_print_table(stdout, cgroups);
        if (fflush(stdout) == EOF)
                goto write_error;
        return EXIT_OK;
write_error:
        fprintf(stderr, "commitctl status: cannot write the output: %m\n");
        return EXIT_FAILURE_;
}
