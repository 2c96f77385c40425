/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "budgets.h"
#include "cgroup.h"
#include "container.h"
#include "custody.h"
#include "events.h"
#include "loop.h"
#include "measure.h"
#include "oci.h"
#include "server.h"
#include "vmaiter.h"

struct thread;
struct process;
struct listener;

#define PROCS_BUCKETS 4096

/* Judge latency buckets (upper bounds, microseconds) of the metrics' histogram; one more bucket past the last. */
#define JUDGE_BUCKETS 14
extern const uint64_t judge_bucket_usec[JUDGE_BUCKETS];

/* The daemon's own counters for the metrics method (dispatch.c), each updated under d->lock where the thing
 * counted happens: per judged call two reads of CLOCK_MONOTONIC (vDSO) and three additions, no allocation. */
struct daemon_stats {
        uint64_t judge_counts[JUDGE_BUCKETS + 1]; /* per bucket, not cumulative; the last: slower than any bound */
        uint64_t judge_sum_usec;
        uint64_t remeasures, remeasure_sum_usec; /* daemon_measure()s that read /proc, and their time in all */
        unsigned listeners_recovered;            /* adopted from the keeper at start (custody_recover()) */
};

/* The daemon's state: one instance, owned by main.c, passed to every part. */
struct daemon {
        /* Guards everything below. The loop holds it while its handlers run; a listener thread while it judges. */
        pthread_mutex_t lock;
        atomic_uint lock_waiters;   /* listener threads waiting for lock: the loop lets them go first */
        pthread_cond_t measured;    /* with lock: a measure of some entry ended (daemon_measure()) */
        pthread_cond_t read_done;   /* with lock: some entry's read of /proc ended (daemon_read_end()) */
        pthread_t remeasure_thread; /* the upkeep's measures (notify.c), woken by remeasure_wake */
        pthread_cond_t remeasure_wake;
        bool remeasure_thread_running, remeasure_due, remeasure_stopping;
        pthread_attr_t thread_attr; /* listener threads: small stacks */
        struct loop *loop;
        struct cgroup_root root;
        struct budgets budgets;
        struct containers containers;             /* the cgroups commitd makes for containers (container.h) */
        struct measure_ctx measure;               /* how budgets are measured: /proc, the shm mount's device */
        struct measure_ctx measure_private;       /* the same, private sums only: a process's fork charge (records.c) */
        struct vmaiter *vmaiter;                  /* the BPF task_vma iterator both use, or NULL: smaps (vmaiter.h) */
        struct thread *threads[PROCS_BUCKETS];    /* records.h: threads that made a notified call, by tid */
        struct process *processes[PROCS_BUCKETS]; /* records.h: their processes, by tgid */
        struct sysv_claim *sysv_claims; /* sysv.h: segments judged processes made, by the cgroup they charge */
        unsigned sysv_makers;           /* process records that made a segment (their claims may be due) */
        uint64_t process_measures;      /* records_measure()s started: numbers them (struct process measure_number) */
        uint64_t ipc_ns;                /* commitd's IPC namespace: the one whose segments it sees */
        struct listener *listeners;
        size_t n_listeners;
        struct custody custody; /* the in-flight table, the keeper connection, listeners by slot (custody.h) */
        struct server server;   /* the control socket and its clients (server.h) */
        struct oci oci;         /* the OCI agent socket (oci.h) */
        struct events events;   /* refusals: the ring, their delivery by the loop, the log's rate limit (events.h) */
        uint64_t unknown_call_logged_sec; /* judge.c: a call the table does not know is logged once a second */
        uint64_t page_size;
        gid_t admin_gid; /* members may call mutating methods; (gid_t) -1: root only */
        gid_t read_gid;  /* members may call every read method for every cgroup; (gid_t) -1: none */
        struct daemon_stats stats;
};

/* d->lock, held by whoever changes the state (the loop's handlers, a listener thread judging). It is let go
 * around reads of /proc that take long (smaps): daemon_unlock() before, daemon_relock() after, and whatever
 * the caller holds a pointer to must be pinned or looked up again (budget entries: pins; records: by id). */
void daemon_unlock(struct daemon *d);
void daemon_relock(struct daemon *d);
/* A read of /proc for entry e (a measure of it, of one of its processes, an area of one): waits for the one
 * running for e, pins e and lets d->lock go; daemon_read_end() takes it again. One read per budget at a time:
 * a tenant whose refusals make commitd read it again and again keeps one CPU busy, not every one, and the
 * other tenants' threads find one free (bench-neighbours). e may be freed by daemon_read_end() (an unused
 * entry a reload left): the caller looks up again what it needs. */
void daemon_read_begin(struct daemon *d, struct budget_entry *e);
void daemon_read_end(struct daemon *d, struct budget_entry *e);
/* A budget measured (budgets_measure_begin/read/end) with /proc read while the lock is let go (notify.c). */
int daemon_measure(struct daemon *d, struct budget_entry *e, uint64_t now_usec);
