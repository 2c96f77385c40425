/* SPDX-License-Identifier: MIT */
/* commitctl: the client of commitd and the host doctor. A thin table of verbs; each verb lives in its own
 * file and parses its own options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "macro.h"
#include "verbs.h"

static const struct verb {
        const char *name;
        int (*run)(int argc, char **argv, const struct global_options *g);
        const char *synopsis;
} verbs[] = {
        {"doctor", verb_doctor, "doctor [--what-if mode=2,ratio=N|limit=SIZE] [--top N]"},
        {"status", verb_status, "status [CGROUP]"},
        {"set-mode", verb_set_mode, "set-mode CGROUP 0|1|2|heuristic|always|strict|guess|never"},
        {"set-ratio", verb_set_ratio, "set-ratio CGROUP PERCENT"},
        {"set-limit", verb_set_limit, "set-limit CGROUP SIZE|none"},
        {"policy", verb_policy, "policy list | show NAME | check FILE..."},
        {"reload", verb_reload, "reload"},
        {"events", verb_events, "events [--follow]"},
        {"metrics", verb_metrics, "metrics"},
        {"top", verb_top, "top [--iterations N] [--delay SECONDS] [--order use|refusals|committed|name]"},
        {"run", verb_run, "run --cgroup PATH | --policy NAME [--] CMD [ARGS...]"},
};

int verb_simple_options(int argc, char **argv, bool *json, void (*verb_help)(FILE *f)) {
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        *json = true;
                        break;
                case 'h':
                        verb_help(stdout);
                        return EXIT_OK;
                default:
                        verb_help(stderr);
                        return EXIT_USAGE;
                }
        }
        return -1;
}

static void help(FILE *f) {
        fprintf(f, "Usage: commitctl [--json] [--socket PATH] VERB [ARGS...]\n"
                   "\n"
                   "Per-cgroup memory commit budgets: the client of commitd(8).\n"
                   "\n"
                   "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %s\n", verbs[i].synopsis);
        fprintf(f, "\n"
                   "Options:\n"
                   "  --json           machine-readable output\n"
                   "  --socket PATH    commitd's control socket (default $COMMITD_SOCKET or " COMMITD_SOCKET ")\n"
                   "  -h, --help       this help\n"
                   "  --version        print the version\n"
                   "\n"
                   "See commitctl(1).\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"socket", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {NULL, 0, NULL, 0},
        };
        struct global_options g = {.socket = getenv("COMMITD_SOCKET")};
        int c;

        if (!g.socket || !*g.socket)
                g.socket = COMMITD_SOCKET;
        /* "+": stop at the verb, whose options are its own. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        g.json = true;
                        break;
                case 's':
                        g.socket = optarg;
                        break;
                case 'h':
                        help(stdout);
                        return EXIT_OK;
                case 'V':
                        printf("commitctl " COMMITD_VERSION "\n");
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'commitctl --help'.\n");
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                help(stderr);
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        char **vargv = argv + optind;
                        int vargc = argc - optind;
                        optind = 0; /* reset getopt for the verb's own parse */
                        return verbs[i].run(vargc, vargv, &g);
                }
        fprintf(stderr, "commitctl: unknown verb '%s'. Try 'commitctl --help'.\n", argv[optind]);
        return EXIT_USAGE;
}
