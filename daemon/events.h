/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* Refusals (and would-be refusals of audit policies): kept in a ring for `events`, pushed to followers,
 * logged at NOTICE with a rate limit so a flood cannot drown the journal. A listener thread only records an
 * event (under d->lock, like the ring's readers) and wakes the loop, which logs and pushes it: judging never
 * waits on a follower's socket or on the log. */
struct loop;
struct loop_source;
struct refusal {
        uint64_t time_usec; /* CLOCK_REALTIME */
        char cgroup[256], level[256];
        pid_t pid;
        char comm[64];
        const char *call;
        uint64_t request_bytes, committed_bytes, limit_bytes;
        const char *mode;
        bool enforced;
        char reason[96]; /* empty: the budget refused; else why commitd could not judge (it fails closed) */
};

#define EVENTS_RING 256

typedef void (*events_sink_t)(const struct refusal *r, void *userdata);

/* The daemon's refusals (struct daemon's events; guarded by d->lock). Zeroed is ready: until events_start()
 * an event is delivered as it is recorded. */
struct events {
        struct refusal ring[EVENTS_RING];
        uint64_t count, delivered; /* recorded, and logged and pushed, since start: ring[i % EVENTS_RING] */
        events_sink_t sink;        /* the server's: pushes to followers */
        void *sink_data;
        int wake_fd; /* an eventfd the loop reads, when wake_source is set */
        struct loop_source *wake_source;
        uint64_t log_window_sec, logged_in_window, suppressed; /* the NOTICE log's rate limit */
};

void events_record(struct events *ev, const struct refusal *r);
/* The loop's side: an eventfd whose handler delivers what was recorded. Stop delivers what is left. */
int events_start(struct events *ev, struct loop *l);
void events_stop(struct events *ev, struct loop *l);
/* The ring, oldest first: the events keep() accepts (all when keep is NULL), as many of the newest as fit in
 * max_bytes of compact JSON. */
json_t *events_recent_json(const struct events *ev, bool (*keep)(const struct refusal *r, void *userdata),
                           void *userdata, size_t max_bytes);
json_t *refusal_json(const struct refusal *r);
/* Called for each new event; the server registers one to push to followers. */
void events_set_sink(struct events *ev, events_sink_t sink, void *userdata);
