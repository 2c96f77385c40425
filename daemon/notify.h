/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "commitd.h"

/* Seccomp user-notify listeners. Each listener belongs to the cgroup it was enrolled into; a thread per
 * listener receives its notifications and has them judged (judge.c) under d->lock; what commitd knows of the
 * processes lives in records.c; custody.c keeps every listener alive across commitd's death. */

struct process;

struct listener {
        int fd;
        struct loop_source *source;
        struct budget_entry *entry;
        pid_t enrolled_pid;
        struct daemon *daemon;
        unsigned slot;          /* its record in the in-flight table, and its keeper key - 1 (custody.c) */
        pthread_t thread;       /* blocks in NOTIF_RECV; judges under d->lock */
        bool started;           /* the thread runs */
        atomic_bool stopping;   /* set by the loop on HUP, before it interrupts the thread */
        atomic_bool broken;     /* the thread met an error receiving and stopped: upkeep lets the listener go */
        bool exec_pending;      /* an exec's listener (container.h): its first caller is checked before any is judged */
        struct process *ghosts; /* exited processes whose forked children may live on (records.h) */
        struct listener *next;
};

int notify_init(struct daemon *d);
/* Crash safety (docs/reliability.md): connects to the keeper, adopts the listeners it holds from an earlier
 * commitd, rebuilds the ledgers by measurement, and starts every listener's thread. Call once, after the
 * policies are loaded (custody.c). */
int notify_recover(struct daemon *d, const char *keeper_socket, const char *keeper_binary);
/* A listener comes through enroll_listener() (enroll.h), which calls these. Registers fd (taken, closed on
 * failure) in slot of the in-flight table, its thread not started. */
int notify_listener_new(struct daemon *d, int fd, pid_t pid, struct budget_entry *e, unsigned slot,
                        struct listener **ret);
/* Starts l's thread; on failure l is let go (the keeper lets go of it too) and its entry put. */
int notify_listener_start(struct daemon *d, struct listener *l);
/* Background upkeep: forgets processes that exited (pid reuse checked by start time), lets go of broken
 * listeners, re-measures the cgroups whose ledgers have only grown since their last measure. */
void notify_upkeep(struct daemon *d);
/* The thread that runs the upkeep's measures, so that the loop never waits on one: start it before the loop runs
 * the upkeep; stop it before taking d->lock to end. */
int notify_remeasure_start(struct daemon *d);
void notify_remeasure_stop(struct daemon *d);
/* Stops judging and closes commitd's own copies of the listeners; the keeper keeps its copies, so the
 * enrolled processes wait for the next commitd instead of failing. */
void notify_free(struct daemon *d);
