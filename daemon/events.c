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

static struct refusal ring[EVENTS_RING];
static uint64_t ring_count, delivered;
static void (*event_sink)(const struct refusal *r, void *userdata);
static void *event_sink_data;
static int wake_fd = -1;
static struct loop_source *wake_source;
static uint64_t log_window_sec, logged_in_window, suppressed;

static void log_refusal(const struct refusal *r) {
        char req[UNITS_FORMAT_MAX], com[UNITS_FORMAT_MAX], lim[UNITS_FORMAT_MAX];
        uint64_t sec = r->time_usec / 1000000;

        if (sec != log_window_sec) {
                if (suppressed > 0)
                        log_notice("%" PRIu64 " more refusals not logged in the last second (rate limit); "
                                   "`commitctl events` has them",
                                   suppressed);
                log_window_sec = sec;
                logged_in_window = 0;
                suppressed = 0;
        }
        if (++logged_in_window > LOG_BURST) {
                suppressed++;
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
static void deliver(void) {
        if (ring_count - delivered > EVENTS_RING) {
                log_warning("%" PRIu64 " refusals came faster than commitd could log and push them: not logged, "
                            "followers did not get them (`commitctl events` has the last %d)",
                            ring_count - delivered - EVENTS_RING, EVENTS_RING);
                delivered = ring_count - EVENTS_RING;
        }
        for (; delivered < ring_count; delivered++) {
                const struct refusal *r = &ring[delivered % EVENTS_RING];
                log_refusal(r);
                if (event_sink)
                        event_sink(r, event_sink_data);
        }
}

static void on_wake(struct loop_source *s, uint32_t events, void *userdata) {
        uint64_t n;
        (void) s, (void) events, (void) userdata;

        (void) !read(wake_fd, &n, sizeof(n));
        deliver();
}

int events_start(struct loop *l) {
        int r;

        wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd < 0)
                return -errno;
        r = loop_add(l, wake_fd, EPOLLIN, on_wake, NULL, &wake_source);
        if (r < 0) {
                close(wake_fd);
                wake_fd = -1;
        }
        return r;
}

void events_stop(struct loop *l) {
        deliver();
        if (wake_source)
                loop_remove(l, wake_source);
        wake_source = NULL;
        if (wake_fd >= 0)
                close(wake_fd);
        wake_fd = -1;
}

void events_record(const struct refusal *r) {
        uint64_t one = 1;

        ring[ring_count % EVENTS_RING] = *r;
        ring_count++;
        if (wake_fd < 0)
                deliver(); /* no loop (tests, setup): at once */
        else
                (void) !write(wake_fd, &one, sizeof(one));
}

json_t *refusal_json(const struct refusal *r) {
        return json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:o}", "time_usec",
                         (json_int_t) r->time_usec, "cgroup", r->cgroup, "level", r->level, "pid", (int) r->pid, "comm",
                         r->comm, "call", r->call, "request_bytes", (json_int_t) r->request_bytes, "committed_bytes",
                         (json_int_t) r->committed_bytes, "limit_bytes", (json_int_t) r->limit_bytes, "mode", r->mode,
                         "enforced", r->enforced, "reason", r->reason[0] ? json_string(r->reason) : json_null());
}

json_t *events_recent_json(bool (*keep)(const struct refusal *r, void *userdata), void *userdata, size_t max_bytes) {
        json_t *a = json_array();
        uint64_t first = ring_count > EVENTS_RING ? ring_count - EVENTS_RING : 0;
        size_t total = 2; /* "[]" */

        /* Newest first, so that when the reply would pass its size the oldest are the ones left out. */
        for (uint64_t i = ring_count; a && i > first; i--) {
                const struct refusal *r = &ring[(i - 1) % EVENTS_RING];
                json_t *ev;
                size_t n;

                if (keep && !keep(r, userdata))
                        continue;
                ev = refusal_json(r);
                n = ev ? json_dumpb(ev, NULL, 0, JSON_COMPACT) : 0;
                if (n == 0 || total + n + 1 > max_bytes) {
                        json_decref(ev);
                        break;
                }
                total += n + 1;
                if (json_array_insert_new(a, 0, ev) < 0)
                        break;
        }
        return a;
}

void events_set_sink(void (*sink)(const struct refusal *r, void *userdata), void *userdata) {
        event_sink = sink;
        event_sink_data = userdata;
}
