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

void events_record(const struct refusal *r);
/* The loop's side: an eventfd whose handler delivers what was recorded. Stop delivers what is left. */
int events_start(struct loop *l);
void events_stop(struct loop *l);
/* The ring, oldest first: the events keep() accepts (all when keep is NULL), as many of the newest as fit in
 * max_bytes of compact JSON. */
json_t *events_recent_json(bool (*keep)(const struct refusal *r, void *userdata), void *userdata, size_t max_bytes);
json_t *refusal_json(const struct refusal *r);
/* Called for each new event; the server registers one to push to followers. */
void events_set_sink(void (*sink)(const struct refusal *r, void *userdata), void *userdata);
