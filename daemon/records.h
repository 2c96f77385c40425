/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "charge.h"
#include "commitd.h"

/* What commitd knows of the processes it judges: a record per process (thread group), whose facts are the mm's
 * (its size, what a fork copies, its program break), and a record per thread that made a notified call, which
 * holds that thread's last admitted call until it is known done. All under d->lock. */

#define RECORDS_BRK_TARGETS 4

/* The last call a thread was admitted: the kernel may not have acted on it yet. A thread makes one system
 * call at a time, so it is done when the thread makes its next notified call, exits, or /proc/TID/syscall
 * shows it anywhere else; until then a re-measure, which cannot see it in smaps, keeps its charge. */
struct inflight {
        bool active;
        enum call_kind kind;
        int nr;           /* as the notification named it */
        uint64_t args[3]; /* the first three arguments: enough to tell this call from the thread's next */
        uint64_t plain, noreserve;
        bool copied_by_fork; /* a private accountable area: a fork's charge includes it once it is there */
};

struct process;

struct thread {
        pid_t tid;
        uint64_t start_time; /* /proc/TID/stat field 22: with the tid it names one thread (tid reuse) */
        struct process *proc;
        struct inflight call;
        struct thread *next;    /* hash bucket */
        struct thread *sibling; /* the process's threads */
};

struct process {
        pid_t tgid;
        uint64_t start_time;
        struct listener *listener;  /* whose filter it carries: its calls reach that listener only */
        struct budget_entry *entry; /* the cgroup it is judged in: its listener's, or one below */
        bool measured;              /* the fields below come from an exact measure (and admitted calls since) */
        uint64_t measure_number;    /* of the measure that set them: d->process_measures when it started */
        uint64_t fork_bytes, fork_noreserve_bytes;
        uint64_t held_bytes, held_noreserve_bytes; /* at the last measure: accountable, and MAP_NORESERVE */
        bool remeasure_before_fork;                /* execve() (ld.so's brk(0)) or MADV_DOFORK since the last measure */
        bool rescan_objects;                       /* memfd_create since the last measure: a shmem object to find */
        bool made_sysv; /* a shmget() was admitted: its segments are claimed for entry (sysv.h) */
        uint64_t vm_size_bytes;
        bool cap_sys_admin;
        char comm[64];
        /* brk(addr) calls admitted since the record began, newest last: the kernel set the break to one of them
         * (or kept it), and the refused-brk answer must be the break exactly (judge.c). */
        uint64_t brk_targets[RECORDS_BRK_TARGETS];
        unsigned n_brk_targets;
        /* Forks admitted whose child has not been found yet: it may leave the cgroup before its first notified
         * call, so the charge stays until a measure finds it among the children and gives it a record. */
        unsigned unresolved_forks;
        uint64_t unresolved_fork_plain, unresolved_fork_noreserve;
        bool clone_parent;         /* one of them was CLONE_PARENT: the child is a sibling */
        uint64_t first_fork_ticks; /* CLOCK_BOOTTIME in clock ticks when the first of them was admitted */
        struct thread *threads;
        struct process *next; /* hash bucket */
};

/* The thread record of a notification (tid, from listener l), learned on first sight: /proc/TID/status names
 * its process, whose record is learned (and measured) with it. A record of another listener is a dead
 * process's reused pid: dropped. Returns 1 when it read /proc (the caller then checks that the notification is
 * still pending), 0 for a known thread; -ESRCH: the thread is gone; other -errno: /proc could not be read. */
int records_thread(struct daemon *d, struct listener *l, pid_t tid, struct thread **ret);
/* Drops t (its tid names another thread now); its process stays while it has other threads. */
void records_thread_forget(struct daemon *d, struct thread *t);
/* Measures *tp's process exactly through the thread (a live thread: the leader may have exited), and moves it
 * to the cgroup below its listener's that it is in now, if any. /proc is read without d->lock: *tp is looked
 * up again after, NULL when its record went meanwhile (-ESRCH); every other record pointer the caller holds
 * must be looked up again too. */
int records_measure(struct daemon *d, struct thread **tp);
/* The record of thread tid, or NULL. */
struct thread *records_thread_find(struct daemon *d, pid_t tid);
/* Whether tid now names another thread than t (read from /proc/TID/stat). */
bool records_thread_reused(const struct thread *t);
/* The notification of t arrived: the thread's previous call is done. */
void records_thread_called(struct thread *t);
/* t's call (kind, nr, args) was admitted with charge c: what its process now holds, and its in flight charge. */
void records_admitted(struct thread *t, enum call_kind kind, int nr, const uint64_t args[6],
                      const struct call_charge *c);

/* For budgets_measure_begin() (budgets.h): first settles what the kernel has done since (in-flight calls, forks
 * whose children can be found now: they get records, SysV segments made: they are claimed), then lists the
 * processes judged in e or below, the charges e must still carry on top of what smaps will show, and the SysV
 * segments claimed for e or below as objects. */
int records_judged(void *userdata, const struct budget_entry *e, pid_t **pids, size_t *n, uint64_t *ret_inflight,
                   struct smaps_charge *objects);
/* The record of process tgid, or NULL. */
struct process *records_process(struct daemon *d, pid_t tgid);

/* Forgets the processes of listener l (all gone: its filter hung up), its ghosts too. A process that exits with
 * forks unresolved becomes its listener's ghost (one per listener and cgroup): its children may live on
 * where no measure finds them, so their charge stays until every process of the filter is gone. */
void records_forget_listener(struct daemon *d, struct listener *l);
/* Forgets threads and processes that exited or whose ids name others now. */
void records_upkeep(struct daemon *d);
void records_free(struct daemon *d);
