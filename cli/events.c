/* SPDX-License-Identifier: MIT */
/* commitctl events: the refusals commitd recorded (and the would-be refusals of audit policies), and with
 * --follow each new one as it happens. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "macro.h"
#include "status.h"
#include "units.h"
#include "verbs.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

/* comm and cgroup names come from other users' processes: no terminal escapes reach the reader's screen. */
static const char *clean(const char *s, char *buf, size_t size) {
        size_t i = 0;

        for (; s && *s && i + 1 < size; s++)
                buf[i++] = (unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s;
        buf[i] = 0;
        return buf;
}

/* ISO 8601 in local time with milliseconds and offset: 2026-11-26T10:15:02.123+01:00 */
static const char *format_time(uint64_t usec, char buf[static 40]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        long off;
        size_t n;

        if (!localtime_r(&t, &tm) || (n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
                return "?";
        off = tm.tm_gmtoff / 60;
        snprintf(buf + n, 40 - n, ".%03u%c%02ld:%02ld", (unsigned) (usec / 1000 % 1000), off < 0 ? '-' : '+',
                 (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
        return buf;
}

static const char *size_or_q(const json_t *o, const char *key, char buf[static UNITS_FORMAT_MAX]) {
        uint64_t v;
        return status_get_u64(o, key, &v) ? units_format_size(v, buf) : "?";
}

static int print_event(const json_t *ev, bool json) {
        char t[40], cg[256], level[256], comm[64], req[UNITS_FORMAT_MAX], com[UNITS_FORMAT_MAX], lim[UNITS_FORMAT_MAX];
        const char *lv = json_string_value(json_object_get(ev, "level"));
        const char *cgroup = json_string_value(json_object_get(ev, "cgroup"));
        uint64_t usec = 0;

        if (json)
                return client_print_json(ev, JSON_COMPACT);
        (void) status_get_u64(ev, "time_usec", &usec);
        printf("%s %s pid %" JSON_INTEGER_FORMAT " (%s) %s %s: committed %s of %s, %s: %s", format_time(usec, t),
               clean(cgroup ?: "?", cg, sizeof(cg)), json_integer_value(json_object_get(ev, "pid")),
               clean(json_string_value(json_object_get(ev, "comm")) ?: "?", comm, sizeof(comm)),
               json_string_value(json_object_get(ev, "call")) ?: "?", size_or_q(ev, "request_bytes", req),
               size_or_q(ev, "committed_bytes", com), size_or_q(ev, "limit_bytes", lim),
               json_string_value(json_object_get(ev, "mode")) ?: "?",
               json_is_false(json_object_get(ev, "enforced")) ? "would refuse (audit)" : "refused");
        /* The level that refused, when it is an ancestor's budget rather than the cgroup's own. */
        if (lv && cgroup && !streq(lv, cgroup))
                printf(" by %s", clean(lv, level, sizeof(level)));
        putchar('\n');
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
