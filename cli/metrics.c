/* SPDX-License-Identifier: MIT */
/* commitctl metrics: commitd's numbers in the Prometheus text exposition format (lib/metrics.c), for a
 * textfile collector, a cron job or a look by hand; --json prints them as commitd sent them. */
#include <getopt.h>
#include <stdio.h>

#include "client.h"
#include "macro.h"
#include "metrics.h"
#include "verbs.h"

static void metrics_help(FILE *f) {
        fprintf(f, "Usage: commitctl metrics [--json]\n"
                   "\n"
                   "Print commitd's numbers in the Prometheus text exposition format: per budget its CommitLimit,\n"
                   "Committed_AS, calls admitted and refused by call, refusals by level, enrolled processes and\n"
                   "listeners; commitd's judge latency, re-measures, keeper and listeners; the host's own\n"
                   "CommitLimit, Committed_AS and vm.overcommit_memory. A tenant gets its own budgets and the host's\n"
                   "numbers only. See commitctl(1) for every metric.\n"
                   "\n"
                   "  --json    the numbers as commitd sent them (every page joined)\n");
}

int verb_metrics(int argc, char **argv, const struct global_options *g) {
        json_auto_t *result = NULL;
        bool json = g->json;
        int k, r;

        k = verb_simple_options(argc, argv, &json, metrics_help);
        if (k >= 0)
                return k;
        if (optind < argc) {
                fprintf(stderr, "commitctl metrics: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        r = client_call_paged(g, "metrics", "metrics", "budgets", &result);
        if (r != EXIT_OK)
                return r;
        if (json ? client_print_json(result, JSON_INDENT(2)) < 0 : metrics_write(stdout, result) < 0) {
                fprintf(stderr, "commitctl metrics: cannot write the output: %m\n");
                return EXIT_FAILURE_;
        }
        return EXIT_OK;
}
