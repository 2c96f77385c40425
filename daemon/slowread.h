/* SPDX-License-Identifier: MIT */
#pragma once

struct daemon;

/* Reads of /proc that take long (smaps of large processes: milliseconds each) run on a few threads of their own
 * at a lower CPU priority (nice SLOWREAD_NICE), never under d->lock. A tenant whose refusals make commitd
 * measure it again and again then burns the CPU that is left over, not what its neighbours' calls and root's
 * `status` need: their threads, at nice 0, go first (bench-neighbours). commitd cannot lower a thread's nice
 * back without CAP_SYS_NICE, hence threads of their own rather than a listener thread's priority lowered for
 * the moment. */
#define SLOWREAD_NICE    10
#define SLOWREAD_THREADS 2

#include <pthread.h>
#include <stdbool.h>

struct slowread_job;

/* In struct daemon. */
struct slowread {
        pthread_mutex_t lock;
        pthread_cond_t queued, done;
        struct slowread_job *head, **tail;
        pthread_t threads[SLOWREAD_THREADS];
        unsigned n_threads;
        bool stopping;
};

/* The queue, before anything may read (slowread_run() works from then on, in its caller); the threads. */
void slowread_init(struct daemon *d);
int slowread_start(struct daemon *d);
void slowread_stop(struct daemon *d);
/* Runs fn(arg) on a slow-read thread and waits for it. Called with d->lock held: the lock is let go meanwhile
 * (daemon_unlock()/daemon_relock(): the caller looks up again what it points at). Without the threads (before
 * slowread_start(), once slowread_stop() began) it runs in the caller, the lock let go all the same. */
void slowread_run(struct daemon *d, void (*fn)(void *arg), void *arg);
