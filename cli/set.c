/* SPDX-License-Identifier: MIT */
/* commitctl set-mode, set-ratio, set-limit: change one knob of a cgroup's budget, live and persistent. The
 * value is checked here first, so a typo is a usage error that never reaches commitd. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "client.h"
#include "formula.h"
#include "knobs.h"
#include "macro.h"
#include "policy.h"
#include "status.h"
#include "units.h"
#include "verbs.h"

struct verb_knob {
        const char *verb;  /* "set-mode", also the method */
        enum knob knob;    /* lib/knobs.h: the parameter, what its value may be */
        const char *value; /* "MODE" */
        const char *example;
};

static const struct verb_knob knobs[] = {
        {"set-mode", KNOB_MODE, "MODE", "commitctl set-mode tenants/a strict"},
        {"set-ratio", KNOB_RATIO, "PCT", "commitctl set-ratio tenants/a 80"},
        {"set-limit", KNOB_LIMIT, "SIZE", "commitctl set-limit tenants/a 4G"},
};

static void set_help(FILE *f, const struct verb_knob *k) {
        fprintf(f,
                "Usage: commitctl %s [--json] CGROUP %s\n"
                "\n"
                "Change the cgroup's %s now and across restarts; a cgroup without a policy gets one (defaults for\n"
                "the rest), and the cgroup is created. Setting a ratio clears the limit and the other way round.\n"
                "%s. Needs root or group commitd.\n"
                "\n"
                "  --json    print the cgroup's status entry as JSON\n"
                "\n"
                "Example: %s\n",
                k->verb, k->value, knob_name(k->knob), knob_text_rule(k->knob), k->example);
}

/* A negative number looks like an option to getopt; say what is wrong with it as a value instead. */
static const char *negative_number(int argc, char **argv) {
        for (int i = optind - 1; i <= optind && i < argc; i++)
                if (i > 0 && argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9')
                        return argv[i];
        return NULL;
}

static int set_knob(const struct verb_knob *k, int argc, char **argv, const struct global_options *g) {
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        _cleanup_free_ char *cgroup = NULL;
        json_auto_t *result = NULL;
        struct knob_change change;
        bool json = g->json;
        int c, r;

        opterr = 0; /* the messages are ours: see negative_number() */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        set_help(stdout, k);
                        return EXIT_OK;
                default: {
                        const char *neg = optopt >= '0' && optopt <= '9' ? negative_number(argc, argv) : NULL;
                        if (neg)
                                fprintf(stderr, "commitctl %s: '%s' is not a valid %s: %s\n", k->verb, neg,
                                        knob_name(k->knob), knob_text_rule(k->knob));
                        else
                                fprintf(stderr, "commitctl %s: unknown option '%s'. Try 'commitctl %s --help'.\n",
                                        k->verb, argv[optind - 1], k->verb);
                        return EXIT_USAGE;
                }
                }
        }
        if (argc - optind != 2) {
                fprintf(stderr, "commitctl %s: give CGROUP and %s, e.g. %s\n", k->verb, k->value, k->example);
                return EXIT_USAGE;
        }
        if (cgroupfs_path_normalize(argv[optind], &cgroup) < 0) {
                fprintf(stderr,
                        "commitctl %s: '%s' is not a cgroup path; give a path below the cgroup v2 root such as "
                        "tenants/a (no '..', no empty components)\n",
                        k->verb, argv[optind]);
                return EXIT_USAGE;
        }
        if (knob_parse_text(k->knob, argv[optind + 1], &change) < 0) {
                fprintf(stderr, "commitctl %s: '%s' is not a valid %s: %s\n", k->verb, argv[optind + 1],
                        knob_name(k->knob), knob_text_rule(k->knob));
                return EXIT_USAGE;
        }

        r = client_call_once(g, k->verb, k->verb,
                             json_pack("{s:s, s:o}", "cgroup", cgroup, knob_name(k->knob), knob_change_json(&change)),
                             &result);
        if (r != EXIT_OK)
                return r;
        if (json)
                r = client_print_json(result, JSON_INDENT(2));
        else {
                status_print_line(stdout, result);
                r = fflush(stdout) == EOF ? -EIO : 0;
        }
        if (r < 0) {
                fprintf(stderr, "commitctl %s: cannot write the output: %m\n", k->verb);
                return EXIT_FAILURE_;
        }
        return EXIT_OK;
}

int verb_set_mode(int argc, char **argv, const struct global_options *g) {
        return set_knob(&knobs[0], argc, argv, g);
}

int verb_set_ratio(int argc, char **argv, const struct global_options *g) {
        return set_knob(&knobs[1], argc, argv, g);
}

int verb_set_limit(int argc, char **argv, const struct global_options *g) {
        return set_knob(&knobs[2], argc, argv, g);
}
