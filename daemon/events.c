/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "loop.h"
#include "units.h"

#define LOG_BURST 20 /* refusals logged per second before suppression */

static void log_refusal(struct events *ev, const struct refusal *r) {
        char req[UNITS_FORMAT_MAX], com[UNITS_FORMAT_MAX], lim[UNITS_FORMAT_MAX];
        uint64_t sec = r->time_usec / 1000000;

        if (sec != ev->log_window_sec) {
                if (ev->suppressed > 0)
                        log_notice("%" PRIu64 " more refusals not logged in the last second (rate limit); "
                                   "`commitctl events` has them",
                                   ev->suppressed);
                ev->log_window_sec = sec;
                ev->logged_in_window = 0;
                ev->suppressed = 0;
        }
        if (++ev->logged_in_window > LOG_BURST) {
                ev->suppressed++;
                return;
        }
        if (r->reason[0])
                log_notice("refused cgroup=%s pid=%d comm=%s call=%s reason=\"%s\"", r->cgroup, (int) r->pid, r->comm,
                           r->call, r->reason);
        else
                log_notice("%s cgroup=%s pid=%d comm=%s call=%s request=%s committed=%s limit=%s mode=%s level=%s",
                           r->enforced ? "refused" : "would refuse (audit)", r->cgroup, (int) r->pid, r->comm, r->call,
                           units_format_size(r->request_bytes, req), units_format_size(r->committed_bytes, com),
                           units_format_size(r->limit_bytes, lim), r->mode, r->level);
}

/* Logs and pushes to followers what was recorded since the last delivery; a listener thread only recorded it. */
static void deliver(struct events *ev) {
        if (ev->count - ev->delivered > EVENTS_RING) {
                log_warning("%" PRIu64 " refusals came faster than commitd could log and push them: not logged, "
                            "followers did not get them (`commitctl events` has the last %d)",
                            ev->count - ev->delivered - EVENTS_RING, EVENTS_RING);
                ev->delivered = ev->count - EVENTS_RING;
        }
        for (; ev->delivered < ev->count; ev->delivered++) {
                const struct refusal *r = &ev->ring[ev->delivered % EVENTS_RING];
                log_refusal(ev, r);
                if (ev->sink)
                        ev->sink(r, ev->sink_data);
        }
}

static void on_wake(struct loop_source *s, uint32_t events, void *userdata) {
        struct events *ev = userdata;
        uint64_t n;
        (void) events;

        (void) !read(loop_source_fd(s), &n, sizeof(n));
        deliver(ev);
}

int events_start(struct events *ev, struct loop *l) {
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), r;

        if (fd < 0)
                return -errno;
        r = loop_add(l, fd, EPOLLIN, on_wake, ev, &ev->wake_source);
        if (r < 0) {
                close(fd);
                return r;
        }
        ev->wake_fd = fd;
        return 0;
}

void events_stop(struct events *ev, struct loop *l) {
        deliver(ev);
        if (ev->wake_source)
                loop_remove(l, ev->wake_source); /* closes wake_fd */
        ev->wake_source = NULL;
}

void events_record(struct events *ev, const struct refusal *r) {
        uint64_t one = 1;

        ev->ring[ev->count % EVENTS_RING] = *r;
        ev->count++;
        if (!ev->wake_source)
                deliver(ev); /* no loop (setup, stop): at once */
        else
                (void) !write(ev->wake_fd, &one, sizeof(one));
}

json_t *refusal_json(const struct refusal *r) {
        return json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:o}", "time_usec",
                         (json_int_t) r->time_usec, "cgroup", r->cgroup, "level", r->level, "pid", (int) r->pid, "comm",
                         r->comm, "call", r->call, "request_bytes", (json_int_t) r->request_bytes, "committed_bytes",
                         (json_int_t) r->committed_bytes, "limit_bytes", (json_int_t) r->limit_bytes, "mode", r->mode,
                         "enforced", r->enforced, "reason", r->reason[0] ? json_string(r->reason) : json_null());
}

json_t *events_recent_json(const struct events *ev, bool (*keep)(const struct refusal *r, void *userdata),
                           void *userdata, size_t max_bytes) {
        json_t *a = json_array();
        uint64_t first = ev->count > EVENTS_RING ? ev->count - EVENTS_RING : 0;
        size_t total = 2; /* "[]" */

        /* Newest first, so that when the reply would pass its size the oldest are the ones left out. */
        for (uint64_t i = ev->count; a && i > first; i--) {
                const struct refusal *r = &ev->ring[(i - 1) % EVENTS_RING];
                json_t *one;
                size_t n;

                if (keep && !keep(r, userdata))
                        continue;
                one = refusal_json(r);
                n = one ? json_dumpb(one, NULL, 0, JSON_COMPACT) : 0;
                if (n == 0 || total + n + 1 > max_bytes) {
                        json_decref(one);
                        break;
                }
                total += n + 1;
                if (json_array_insert_new(a, 0, one) < 0)
                        break;
        }
        return a;
}

void events_set_sink(struct events *ev, events_sink_t sink, void *userdata) {
        ev->sink = sink;
        ev->sink_data = userdata;
}
