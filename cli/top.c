/* SPDX-License-Identifier: MIT */
/* commitctl top: the budgets live, in the manner of systemd-cgtop. Each poll is one metrics call (the host and
 * every budget the caller may read, docs/protocol.md); refusals per second are the difference of a budget's
 * refused count between two polls over the time measured between them; the last refusal of each budget comes
 * from following events (the recent list at start, then each as it happens). On a terminal it redraws until
 * q; otherwise, or with --iterations, it prints snapshots. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "formula.h"
#include "macro.h"
#include "refusal.h"
#include "screen.h"
#include "status.h"
#include "units.h"
#include "verbs.h"

#define TOP_BAR       20 /* cells between the bar's [ and ] */
#define TOP_NAME_MIN  16 /* a terminal narrower than the row cuts the CGROUP column down to this, then the row */
#define TOP_DELAY_MIN 0.1
#define TOP_DELAY_MAX 3600.0

enum top_order { TOP_ORDER_USE, TOP_ORDER_REFUSALS, TOP_ORDER_COMMITTED, TOP_ORDER_NAME, _TOP_ORDER_MAX };

/* The orders: --order's word, the key that picks it on the screen (systemd-cgtop's where it has one). */
static const struct {
        const char *name;
        char key;
} top_orders[_TOP_ORDER_MAX] = {
        [TOP_ORDER_USE] = {"use", 'u'},
        [TOP_ORDER_REFUSALS] = {"refusals", 'r'},
        [TOP_ORDER_COMMITTED] = {"committed", 'c'},
        [TOP_ORDER_NAME] = {"name", 'n'},
};

struct top {
        const char *socket;
        enum top_order order;
        double delay; /* seconds between polls */
        bool paused;
        json_t *metrics;      /* the last poll's reply */
        json_t *refused;      /* cgroup -> its refused count at the last poll */
        json_t *rates;        /* cgroup -> refusals per second between the last two polls */
        json_t *last;         /* cgroup -> the newest refusal event seen */
        uint64_t polled_usec; /* CLOCK_MONOTONIC of the last poll; 0 before the first */
        int follow_fd;        /* events with follow, or -1: the recent list is asked for at each poll */
        bool follow_wanted;   /* try to follow at the next poll (at start, and after a follower was dropped) */
        char *follow_error;   /* why the last refusals come from the recent list instead */
        char *poll_error;     /* the last poll's failure, shown on the screen while it lasts */
};

/* One line of the table, built from the last poll at each drawing. */
struct top_row {
        const json_t *budget;
        const char *cgroup;
        uint64_t committed, limit, use;
        bool has_use;
        double rate; /* < 0: not known yet */
        const json_t *last;
};

static void top_done(struct top *t) {
        json_decref(t->metrics);
        json_decref(t->refused);
        json_decref(t->rates);
        json_decref(t->last);
        if (t->follow_fd >= 0)
                close(t->follow_fd);
        free(t->follow_error);
        free(t->poll_error);
}

static void set_text(char **p, char *text) {
        free(*p);
        *p = text;
}

/* The calls of the cgroup's own processes refused by a budget, that an audit policy would have refused, and that
 * commitd refused for not being able to judge them, every call kind: the calls its refusal events are of. */
static uint64_t budget_refused(const json_t *budget) {
        static const char *const keys[] = {"refused", "would_refuse", "failed_closed"};
        uint64_t sum = 0;
        const char *call;
        json_t *n;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                json_object_foreach((json_t *) json_object_get(budget, keys[i]), call, n) {
                        if (json_is_integer(n) && json_integer_value(n) > 0)
                                sum += (uint64_t) json_integer_value(n);
                }
        return sum;
}

/* Keeps the newest event of each cgroup; an event seen twice (in the recent list and pushed) changes nothing. */
static void top_merge_event(struct top *t, json_t *ev) {
        const char *cgroup = json_string_value(json_object_get(ev, "cgroup"));
        uint64_t when, had;
        const json_t *old;

        if (!cgroup || !status_get_u64(ev, "time_usec", &when))
                return;
        old = json_object_get(t->last, cgroup);
        if (old && status_get_u64(old, "time_usec", &had) && had > when)
                return;
        json_object_set(t->last, cgroup, ev);
}

static void top_merge_events(struct top *t, const json_t *events) {
        json_t *ev;
        size_t i;

        json_array_foreach(events, i, ev) top_merge_event(t, ev);
}

/* Follows events on a connection of its own: the recent refusals now, each new one as it is pushed. A uid
 * follows on at most 4 connections; when this one is refused, the recent list is asked for at each poll. */
static void top_follow(struct top *t) {
        _cleanup_close_ int fd = -1;
        json_auto_t *result = NULL;
        char *error = NULL;
        int r;

        t->follow_wanted = false;
        r = client_connect(t->socket, &fd);
        if (r < 0) {
                set_text(&t->follow_error, strdup(client_connect_error(t->socket, r)));
                return;
        }
        r = client_call(fd, "events", json_pack("{s:b}", "follow", 1), &result, &error);
        if (r < 0) {
                set_text(&t->follow_error, error);
                return;
        }
        top_merge_events(t, json_object_get(result, "events"));
        /* Read between polls without waiting: commitd drops a follower whose queue it finds full. */
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
                set_text(&t->follow_error, strdup("cannot make the events connection non-blocking"));
                return;
        }
        set_text(&t->follow_error, NULL);
        t->follow_fd = TAKE_FD(fd);
}

/* Reads every event pushed so far. */
static void top_drain(struct top *t) {
        while (t->follow_fd >= 0) {
                json_auto_t *msg = NULL;
                int r = client_recv_message(t->follow_fd, &msg);

                if (r == -EAGAIN || r == -EWOULDBLOCK)
                        return;
                if (r == -EINTR || r == -EBADMSG || r == -EMSGSIZE)
                        continue; /* a record that is not an event: read past it */
                if (r < 0) {
                        set_text(&t->follow_error, strdup("commitd closed the events connection (it restarted, or "
                                                          "dropped this follower for falling behind)"));
                        close(t->follow_fd);
                        t->follow_fd = -1;
                        t->follow_wanted = true;
                        return;
                }
                top_merge_event(t, json_object_get(msg, "event"));
        }
}

static void top_recent(struct top *t) {
        _cleanup_close_ int fd = -1;
        json_auto_t *result = NULL;
        char *error = NULL;

        if (client_connect(t->socket, &fd) < 0)
                return; /* the metrics call just made says it */
        if (client_call(fd, "events", json_object(), &result, &error) < 0) {
                free(error);
                return;
        }
        top_merge_events(t, json_object_get(result, "events"));
}

/* One metrics call; the rates since the poll before; the events since. On failure the last poll's numbers stay
 * and *ret_error says why. */
static int top_poll(struct top *t, char **ret_error) {
        json_t *metrics = NULL, *refused, *rates, *b;
        const char *cgroup;
        void *next;
        uint64_t now;
        size_t i;
        int r;

        r = client_fetch_paged(t->socket, "metrics", "budgets", &metrics, ret_error);
        if (r < 0)
                return r;
        now = now_usec(CLOCK_MONOTONIC);
        refused = json_object();
        rates = json_object();
        json_array_foreach(json_object_get(metrics, "budgets"), i, b) {
                uint64_t n = budget_refused(b), before;

                cgroup = json_string_value(json_object_get(b, "cgroup"));
                if (!cgroup)
                        continue;
                json_object_set_new(refused, cgroup, json_integer((json_int_t) n));
                /* A count that went down is a restarted commitd's: no rate until the next poll. */
                if (t->polled_usec && now > t->polled_usec && status_get_u64(t->refused, cgroup, &before) &&
                    n >= before)
                        json_object_set_new(rates, cgroup,
                                            json_real((double) (n - before) * 1e6 / (double) (now - t->polled_usec)));
        }
        json_decref(t->metrics);
        json_decref(t->refused);
        json_decref(t->rates);
        t->metrics = metrics;
        t->refused = refused;
        t->rates = rates;
        t->polled_usec = now;

        if (t->follow_fd < 0 && t->follow_wanted)
                top_follow(t);
        if (t->follow_fd >= 0)
                top_drain(t);
        else
                top_recent(t);
        /* Only budgets listed now keep a last refusal: the map does not grow with cgroups that came and went. */
        json_object_foreach_safe(t->last, next, cgroup, b) {
                if (!json_object_get(refused, cgroup))
                        json_object_del(t->last, cgroup);
        }
        return 0;
}

static int row_compare(const void *x, const void *y, void *userdata) {
        const struct top_row *a = x, *b = y;
        int c = 0;

        switch (*(const enum top_order *) userdata) {
        case TOP_ORDER_USE:
                /* committed/limit, compared exactly as a product of 64-bit numbers; rows without a limit last */
                if (a->has_use != b->has_use)
                        c = a->has_use ? -1 : 1;
                else if (a->has_use) {
                        unsigned __int128 l = (unsigned __int128) a->committed * b->limit,
                                          r = (unsigned __int128) b->committed * a->limit;
                        c = l > r ? -1 : l < r;
                }
                break;
        case TOP_ORDER_REFUSALS:
                c = a->rate > b->rate ? -1 : a->rate < b->rate;
                break;
        case TOP_ORDER_COMMITTED:
                c = a->committed > b->committed ? -1 : a->committed < b->committed;
                break;
        case TOP_ORDER_NAME:
        case _TOP_ORDER_MAX:
        default:
                break;
        }
        return c ?: strcmp(a->cgroup, b->cgroup);
}

/* The last poll's budgets in the chosen order; NULL (with *ret_n 0) when there are none. Caller frees. */
static struct top_row *top_rows(const struct top *t, size_t *ret_n) {
        const json_t *budgets = json_object_get(t->metrics, "budgets"), *b;
        struct top_row *rows;
        size_t i, n = 0;

        *ret_n = 0;
        rows = calloc(MAX(json_array_size(budgets), 1), sizeof(*rows));
        if (!rows)
                return NULL;
        json_array_foreach(budgets, i, b) {
                struct top_row *r = &rows[n];
                const json_t *rate;

                r->cgroup = json_string_value(json_object_get(b, "cgroup"));
                if (!r->cgroup)
                        continue;
                r->budget = b;
                (void) status_get_u64(b, "committed_bytes", &r->committed);
                (void) status_get_u64(b, "commit_limit_bytes", &r->limit);
                r->has_use = status_use_percent(b, &r->use);
                rate = json_object_get(t->rates, r->cgroup);
                r->rate = json_is_real(rate) ? json_real_value(rate) : -1;
                r->last = json_object_get(t->last, r->cgroup);
                n++;
        }
        qsort_r(rows, n, sizeof(*rows), row_compare, (void *) &t->order);
        *ret_n = n;
        return rows;
}

/* "/a/very/long/cgroup" in width bytes: its end, after "...". */
static const char *fit_name(const char *name, int width, char *buf, size_t size) {
        size_t n;

        refusal_clean(name, buf, size);
        n = strlen(buf);
        if (width < 4 || n <= (size_t) width)
                return buf;
        name = buf + n - (width - 3);
        while (((unsigned char) *name & 0xC0) == 0x80) /* not inside a UTF-8 character */
                name++;
        memmove(buf + 3, name, strlen(name) + 1);
        memcpy(buf, "...", 3);
        return buf;
}

static const char *format_rate(double rate, char buf[static UNITS_FORMAT_MAX]) {
        if (rate < 0)
                return "-";
        snprintf(buf, UNITS_FORMAT_MAX, rate < 100 ? "%.1f" : "%.0f", rate);
        return buf;
}

/* "[#######             ]": use in TOP_BAR cells, full from 100% on. */
static const char *format_bar(const struct top_row *r, char buf[static TOP_BAR + 3]) {
        unsigned cells = r->has_use ? (unsigned) (MIN(r->use, 100) * TOP_BAR / 100) : 0;

        buf[0] = '[';
        for (unsigned i = 0; i < TOP_BAR; i++)
                buf[1 + i] = i < cells ? '#' : (r->has_use ? ' ' : '-');
        buf[TOP_BAR + 1] = ']';
        buf[TOP_BAR + 2] = 0;
        return buf;
}

static void top_format_header(FILE *f, int name_width) {
        fprintf(f, "%-*s  %-12s  %9s  %7s  %4s  %-*s  %6s  %s", name_width, "CGROUP", "MODE", "COMMITTED", "LIMIT",
                "USE%", TOP_BAR + 2, "", "REF/S", "LAST REFUSAL");
}

static void top_format_row(FILE *f, const struct top_row *r, int name_width) {
        char name[1024], mode[64], com[UNITS_FORMAT_MAX], lim[UNITS_FORMAT_MAX], use[UNITS_FORMAT_MAX],
                rate[UNITS_FORMAT_MAX], bar[TOP_BAR + 3], when[16] = "", what[1024] = "-";
        const char *m = json_string_value(json_object_get(r->budget, "mode")) ?: "-";
        uint64_t usec;

        snprintf(mode, sizeof(mode), "%s%s", m, json_is_false(json_object_get(r->budget, "enforce")) ? "/audit" : "");
        snprintf(use, sizeof(use), "%" PRIu64 "%%", r->use);
        if (r->last) {
                time_t s;
                struct tm tm;

                if (status_get_u64(r->last, "time_usec", &usec) &&
                    (s = (time_t) (usec / 1000000), localtime_r(&s, &tm)))
                        strftime(when, sizeof(when), "%H:%M:%S ", &tm);
                refusal_describe(r->last, what, sizeof(what));
        }
        fprintf(f, "%-*s  %-12s  %9s  %7s  %4s  %s  %6s  %s%s", name_width,
                fit_name(r->cgroup, name_width, name, sizeof(name)), mode, units_format_size(r->committed, com),
                r->limit ? units_format_size(r->limit, lim) : "-", r->has_use ? use : "-", format_bar(r, bar),
                format_rate(r->rate, rate), when, what);
}

/* "CommitLimit 7.6Gi, Committed_AS 3.1Gi (41%), vm.overcommit_memory 0 (heuristic)": the host, as commitd read it. */
static void top_format_host(FILE *f, const struct top *t) {
        const json_t *host = json_object_get(t->metrics, "host");
        char a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX];
        uint64_t limit, committed, pct, mode;

        fprintf(f, "host: CommitLimit %s",
                status_get_u64(host, "commit_limit_bytes", &limit) ? units_format_size(limit, a) : "?");
        fprintf(f, ", Committed_AS %s",
                status_get_u64(host, "committed_bytes", &committed) ? units_format_size(committed, b) : "?");
        if (status_use_percent(host, &pct))
                fprintf(f, " (%" PRIu64 "%%)", pct);
        if (status_get_u64(host, "overcommit_memory", &mode) && mode < _COMMIT_MODE_MAX)
                fprintf(f, ", vm.overcommit_memory %" PRIu64 " (%s)", mode,
                        commit_mode_to_string((enum commit_mode) mode));
}

static void top_format_status(FILE *f, const struct top *t, size_t n) {
        fprintf(f, "%zu budget%s, by %s, every %gs", n, n == 1 ? "" : "s", top_orders[t->order].name, t->delay);
        if (t->follow_error)
                fprintf(f, "; last refusals from commitd's recent list (%s)", t->follow_error);
}

static int name_width_of(const struct top_row *rows, size_t n) {
        int w = (int) strlen("CGROUP");

        for (size_t i = 0; i < n; i++)
                w = MAX(w, (int) strlen(rows[i].cgroup));
        return w;
}

/* One frame: the host, the status with the keys, the last poll's failure, the header, as many rows as fit. */
static void top_draw(const struct top *t, const struct screen *s) {
        _cleanup_free_ struct top_row *rows = NULL;
        struct screen_frame fr;
        size_t n = 0, len;
        int w;

        rows = top_rows(t, &n);
        /* the name as long as the longest, but not so long that the bar goes off a narrow screen */
        w = MIN(name_width_of(rows, n), MAX(TOP_NAME_MIN, (int) s->cols - 73));
        if (screen_frame_begin(&fr, s) < 0)
                return;
        for (size_t part = 0; part < 4 + n; part++) {
                _cleanup_free_ char *l = NULL;
                FILE *lf = open_memstream(&l, &len);

                if (!lf)
                        break;
                if (part == 0)
                        top_format_host(lf, t);
                else if (part == 1) {
                        top_format_status(lf, t, n);
                        fprintf(lf, "%s; keys: u use, r refusals/s, c committed, n name, p pause, q quit",
                                t->paused ? " [paused]" : "");
                } else if (part == 2)
                        fprintf(lf, "%s", t->poll_error ? t->poll_error : "");
                else if (part == 3)
                        top_format_header(lf, w);
                else
                        top_format_row(lf, &rows[part - 4], w);
                if (fclose(lf) != 0 || !screen_frame_line(&fr, l, len, part == 3))
                        break;
        }
        screen_frame_end(&fr);
}

static void handle_key(struct top *t, char c, bool *quit) {
        if (c == 'q' || c == 'Q')
                *quit = true;
        else if (c == 'p' || c == ' ')
                t->paused = !t->paused;
        else
                for (int o = 0; o < _TOP_ORDER_MAX; o++)
                        if (c == top_orders[o].key)
                                t->order = (enum top_order) o;
}

static int top_interactive(struct top *t) {
        _cleanup_free_ char *error = NULL;
        struct screen s;
        uint64_t next = 0;
        bool quit = false;
        int r = 0;

        /* What keeps it from starting (no commitd, no access) is said before the screen is taken. */
        if (top_poll(t, &error) < 0) {
                fprintf(stderr, "commitctl top: %s\n", error ?: "cannot read commitd's metrics");
                return EXIT_FAILURE_;
        }
        next = t->polled_usec + (uint64_t) (t->delay * 1e6);
        if (screen_init(&s) < 0) {
                fprintf(stderr, "commitctl top: cannot read the terminal's settings: %m\n");
                return EXIT_FAILURE_;
        }
        r = screen_open(&s);
        if (r >= 0)
                top_draw(t, &s);
        while (r >= 0 && !quit) {
                struct timespec timeout, *tp = NULL;
                struct screen_input in;
                uint64_t now = now_usec(CLOCK_MONOTONIC);

                if (!t->paused && now >= next) {
                        char *why = NULL;
                        set_text(&t->poll_error, top_poll(t, &why) < 0 ? (why ?: strdup("commitd failed")) : NULL);
                        next = now + (uint64_t) (t->delay * 1e6);
                        top_draw(t, &s);
                }
                if (!t->paused) {
                        uint64_t at = now_usec(CLOCK_MONOTONIC), left = next > at ? next - at : 0;
                        timeout = (struct timespec){.tv_sec = (time_t) (left / 1000000),
                                                    .tv_nsec = (long) (left % 1000000) * 1000};
                        tp = &timeout;
                }
                r = screen_wait(&s, t->follow_fd, tp, &in);
                if (r < 0 || in.quit)
                        break;
                for (size_t i = 0; i < in.n_keys; i++)
                        handle_key(t, in.keys[i], &quit);
                if (in.fd_ready)
                        top_drain(t);
                if (in.redraw && !quit)
                        top_draw(t, &s);
        }
        screen_close(&s);
        if (r < 0) {
                fprintf(stderr, "commitctl top: cannot use the terminal: %s\n", strerror(-r));
                return EXIT_FAILURE_;
        }
        return EXIT_OK;
}

static json_t *row_json(const struct top_row *r) {
        json_t *o =
                json_pack("{s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*}", "cgroup", json_object_get(r->budget, "cgroup"),
                          "policy", json_object_get(r->budget, "policy"), "mode", json_object_get(r->budget, "mode"),
                          "enforce", json_object_get(r->budget, "enforce"), "commit_limit_bytes",
                          json_object_get(r->budget, "commit_limit_bytes"), "committed_bytes",
                          json_object_get(r->budget, "committed_bytes"), "enrolled_processes",
                          json_object_get(r->budget, "enrolled_processes"));

        if (!o)
                return NULL;
        json_object_set_new(o, "use_percent", r->has_use ? json_integer((json_int_t) r->use) : json_null());
        json_object_set_new(o, "refused", json_integer((json_int_t) budget_refused(r->budget)));
        json_object_set_new(o, "refusals_per_second", r->rate >= 0 ? json_real(r->rate) : json_null());
        json_object_set(o, "last_refusal", r->last ? (json_t *) r->last : json_null());
        return o;
}

/* One snapshot: the host, the status line, the table; or one line of JSON. */
static int top_print(const struct top *t, bool json) {
        _cleanup_free_ struct top_row *rows = NULL;
        size_t n = 0;
        int w;

        rows = top_rows(t, &n);
        if (json) {
                json_auto_t *list = json_array(), *snap = NULL;

                for (size_t i = 0; i < n; i++)
                        json_array_append_new(list, row_json(&rows[i]));
                snap = json_pack("{s:O*, s:s, s:O}", "host", json_object_get(t->metrics, "host"), "order",
                                 top_orders[t->order].name, "budgets", list);
                return snap ? client_print_json(snap, JSON_COMPACT) : -ENOMEM;
        }
        w = name_width_of(rows, n);
        top_format_host(stdout, t);
        putchar('\n');
        top_format_status(stdout, t, n);
        putchar('\n');
        top_format_header(stdout, w);
        putchar('\n');
        for (size_t i = 0; i < n; i++) {
                top_format_row(stdout, &rows[i], w);
                putchar('\n');
        }
        return fflush(stdout) == EOF ? -EIO : 0;
}

/* Waits until the deadline, reading pushed events meanwhile (a follower that does not read is dropped). */
static void top_sleep(struct top *t, uint64_t deadline) {
        for (uint64_t now; (now = now_usec(CLOCK_MONOTONIC)) < deadline;) {
                struct pollfd pfd = {.fd = t->follow_fd, .events = POLLIN};
                uint64_t left = deadline - now;
                struct timespec ts = {.tv_sec = (time_t) (left / 1000000), .tv_nsec = (long) (left % 1000000) * 1000};

                if (ppoll(&pfd, 1, &ts, NULL) > 0)
                        top_drain(t);
        }
}

static int top_snapshots(struct top *t, uint64_t iterations, bool json) {
        uint64_t next = 0;

        for (uint64_t i = 0; i < iterations; i++) {
                _cleanup_free_ char *error = NULL;

                if (i > 0) {
                        top_sleep(t, next);
                        if (!json)
                                putchar('\n');
                }
                next = now_usec(CLOCK_MONOTONIC) + (uint64_t) (t->delay * 1e6);
                if (top_poll(t, &error) < 0) {
                        fprintf(stderr, "commitctl top: %s\n", error ?: "cannot read commitd's metrics");
                        return EXIT_FAILURE_;
                }
                if (top_print(t, json) < 0) {
                        fprintf(stderr, "commitctl top: cannot write the output: %m\n");
                        return EXIT_FAILURE_;
                }
        }
        return EXIT_OK;
}

static void top_help(FILE *f) {
        fprintf(f, "Usage: commitctl top [--json] [--iterations N] [--delay SECONDS] [--order ORDER]\n"
                   "\n"
                   "The budgets live, like systemd-cgtop: each cgroup's mode, Committed_AS against its CommitLimit\n"
                   "(and as a bar), refusals per second since the last refresh, and the last refusal's reason; the\n"
                   "host's CommitLimit, Committed_AS and vm.overcommit_memory above. On a terminal it refreshes until\n"
                   "q; keys: u use, r refusals/s, c committed, n name (order), p or space pause, q quit.\n"
                   "Otherwise, or with --iterations, it prints snapshots.\n"
                   "\n"
                   "  -n, --iterations N     print N snapshots and exit (without a terminal: 1)\n"
                   "  -d, --delay SECONDS    between refreshes (default 1, from 0.1 to 3600)\n"
                   "  -o, --order ORDER      use (committed/CommitLimit, the default), refusals, committed, name\n"
                   "  --json                 each snapshot as one line of JSON\n");
}

int verb_top(int argc, char **argv, const struct global_options *g) {
        static const struct option options[] = {
                {"iterations", required_argument, NULL, 'n'},
                {"delay", required_argument, NULL, 'd'},
                {"order", required_argument, NULL, 'o'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        struct top t = {.socket = g->socket, .delay = 1.0, .follow_fd = -1, .follow_wanted = true};
        uint64_t iterations = 0;
        bool json = g->json, found;
        char *end;
        int c, r;

        while ((c = getopt_long(argc, argv, "n:d:o:h", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        if (units_parse_count(optarg, 1, UINT64_MAX, &iterations) < 0) {
                                fprintf(stderr, "commitctl top: --iterations takes a positive whole number, not '%s'\n",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'd':
                        errno = 0;
                        t.delay = strtod(optarg, &end);
                        if (errno || end == optarg || *end || !(t.delay >= TOP_DELAY_MIN && t.delay <= TOP_DELAY_MAX)) {
                                fprintf(stderr, "commitctl top: --delay takes seconds from %g to %g, not '%s'\n",
                                        TOP_DELAY_MIN, TOP_DELAY_MAX, optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'o':
                        found = false;
                        for (int o = 0; o < _TOP_ORDER_MAX; o++)
                                if (streq(optarg, top_orders[o].name)) {
                                        t.order = (enum top_order) o;
                                        found = true;
                                }
                        if (!found) {
                                fprintf(stderr,
                                        "commitctl top: --order takes use, refusals, committed or name, not '%s'\n",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        top_help(stdout);
                        return EXIT_OK;
                default:
                        top_help(stderr);
                        return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "commitctl top: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        t.refused = json_object();
        t.rates = json_object();
        t.last = json_object();
        if (!t.refused || !t.rates || !t.last)
                r = EXIT_FAILURE_;
        else if (iterations == 0 && !json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
                r = top_interactive(&t);
        else
                r = top_snapshots(&t, iterations ?: 1, json);
        top_done(&t);
        return r;
}
