/* SPDX-License-Identifier: MIT */
/* commitctl events: the refusals commitd recorded (and the would-be refusals of audit policies), and with
 * --follow each new one as it happens. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "macro.h"
#include "refusal.h"
#include "status.h"
#include "verbs.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

static int print_event(const json_t *ev, bool json) {
        char t[REFUSAL_TIME_MAX], cg[256], what[1024];
        uint64_t usec = 0;

        if (json)
                return client_print_json(ev, JSON_COMPACT);
        (void) status_get_u64(ev, "time_usec", &usec);
        printf("%s %s %s\n", refusal_format_time(usec, t),
               refusal_clean(json_string_value(json_object_get(ev, "cgroup")) ?: "?", cg, sizeof(cg)),
               refusal_describe(ev, what, sizeof(what)));
        return fflush(stdout) == EOF ? -EIO : 0;
}

static void events_help(FILE *f) {
        fprintf(f, "Usage: commitctl events [--json] [--follow]\n"
                   "\n"
                   "The most recent refusals commitd recorded, and the calls audit policies would have refused:\n"
                   "time, cgroup, process, call, request, committed, CommitLimit, mode.\n"
                   "\n"
                   "  -f, --follow   then print each new one as it happens, until interrupted\n"
                   "  --json         one JSON object per event per line\n");
}

int verb_events(int argc, char **argv, const struct global_options *g) {
        static const struct option options[] = {
                {"follow", no_argument, NULL, 'f'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *error = NULL;
        json_auto_t *result = NULL;
        const json_t *events, *ev;
        struct sigaction sa = {.sa_handler = on_signal};
        bool json = g->json, follow = false;
        size_t i;
        int c, r;

        while ((c = getopt_long(argc, argv, "fh", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        follow = true;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        events_help(stdout);
                        return EXIT_OK;
                default:
                        events_help(stderr);
                        return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "commitctl events: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }

        r = client_connect(g->socket, &fd);
        if (r < 0) {
                fprintf(stderr, "commitctl events: %s\n", client_connect_error(g->socket, r));
                return EXIT_FAILURE_;
        }
        r = client_call(fd, "events", json_pack("{s:b}", "follow", follow), &result, &error);
        if (r < 0) {
                fprintf(stderr, "commitctl events: %s\n", error ?: strerror(-r));
                return EXIT_FAILURE_;
        }
        events = json_object_get(result, "events");
        if (!follow && !json && json_array_size(events) == 0)
                printf("No refusals recorded since commitd started.\n");
        json_array_foreach(events, i, ev) if (print_event(ev, json) < 0) goto write_error;
        if (!follow) {
                if (fflush(stdout) == EOF)
                        goto write_error;
                return EXIT_OK;
        }

        /* No SA_RESTART: the signal interrupts recvmsg() and the loop ends with exit status 0. */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (fflush(stdout) == EOF)
                goto write_error;
        while (!stop) {
                json_auto_t *msg = NULL;

                r = client_recv_message(fd, &msg);
                if (r == -EINTR)
                        continue;
                if (r < 0) {
                        if (r == -ECONNRESET)
                                fprintf(stderr, "commitctl events: commitd closed the connection: it stopped, or this "
                                                "follower fell behind and was dropped (its log says which); "
                                                "run it again\n");
                        else
                                fprintf(stderr, "commitctl events: cannot read from commitd: %s\n", strerror(-r));
                        return EXIT_FAILURE_;
                }
                ev = json_object_get(msg, "event");
                if (!json_is_object(ev))
                        continue; /* not an event: nothing else is sent on a following connection */
                if (print_event(ev, json) < 0)
                        goto write_error;
        }
        return EXIT_OK;
write_error:
        fprintf(stderr, "commitctl events: cannot write the output: %m\n");
        return EXIT_FAILURE_;
}
