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
#include "macro.h"
#include "policy.h"
#include "status.h"
#include "units.h"
#include "verbs.h"

struct knob {
        const char *verb;  /* "set-mode", also the method */
        const char *param; /* "mode" */
        const char *value; /* "MODE" */
        const char *what;  /* what VALUE may be, for help and errors */
        const char *example;
        /* Returns the parameter's JSON value, or NULL when s is not a valid value. */
        json_t *(*parse)(const char *s);
};

static json_t *parse_mode(const char *s) {
        int m = commit_mode_from_string(s);
        return m < 0 ? NULL : json_string(commit_mode_to_string((enum commit_mode) m));
}

static json_t *parse_ratio(const char *s) {
        unsigned long v;
        char *end;

        if (!*s || !strchr("0123456789", s[0]))
                return NULL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > POLICY_MAX_RATIO)
                return NULL;
        return json_integer((json_int_t) v);
}

static json_t *parse_limit(const char *s) {
        uint64_t v;

        if (streq(s, "none"))
                return json_null();
        /* JSON integers here are signed 64-bit; more than 8 EiB is no limit anyone means. */
        if (units_parse_size(s, &v) < 0 || v > INT64_MAX)
                return NULL;
        return json_integer((json_int_t) v);
}

static const struct knob knobs[] = {
        {"set-mode", "mode", "MODE", "MODE is 0|1|2, heuristic|always|strict, or the kernel's guess|never",
         "commitctl set-mode tenants/a strict", parse_mode},
        {"set-ratio", "ratio", "PCT", "PCT is a whole percent from 0 to 10000 (CommitLimit = RAM * PCT / 100 + swap)",
         "commitctl set-ratio tenants/a 80", parse_ratio},
        {"set-limit", "limit", "SIZE",
         "SIZE is bytes or a number with K, M, G, T, P or E (512M, 4G, 4GiB), or 'none' to clear the limit",
         "commitctl set-limit tenants/a 4G", parse_limit},
};

static void set_help(FILE *f, const struct knob *k) {
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
                k->verb, k->value, k->param, k->what, k->example);
}

/* A negative number looks like an option to getopt; say what is wrong with it as a value instead. */
static const char *negative_number(int argc, char **argv) {
        for (int i = optind - 1; i <= optind && i < argc; i++)
                if (i > 0 && argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9')
                        return argv[i];
        return NULL;
}

static int set_knob(const struct knob *k, int argc, char **argv, const struct global_options *g) {
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        _cleanup_free_ char *cgroup = NULL;
        json_auto_t *result = NULL;
        json_t *value;
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
                                fprintf(stderr, "commitctl %s: '%s' is not a valid %s: %s\n", k->verb, neg, k->param,
                                        k->what);
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
        value = k->parse(argv[optind + 1]);
        if (!value) {
                fprintf(stderr, "commitctl %s: '%s' is not a valid %s: %s\n", k->verb, argv[optind + 1], k->param,
                        k->what);
                return EXIT_USAGE;
        }

        r = client_call_once(g, k->verb, k->verb, json_pack("{s:s, s:o}", "cgroup", cgroup, k->param, value), &result);
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
