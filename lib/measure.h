/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "formula.h"
#include "procfs.h"

/* Exact commit measurement from procfs: the ground truth behind doctor's tables and the daemon's ledger
 * re-measures. Costs milliseconds per large process (smaps), so it never runs on a hot path.
 * proc_root is "/proc" outside tests. */

struct process_commit {
        pid_t pid;
        pid_t tgid; /* the process of the thread pid names (the same for a process's main thread) */
        char comm[64];
        char *cgroup;           /* v2 path, or the v1 memory path on a host without cgroup2; NULL if unreadable */
        uint64_t vm_size_bytes; /* mm->total_vm, for the per-process keep-back of strict mode */
        bool cap_sys_admin;     /* CapEff has CAP_SYS_ADMIN: the admin reserve is open to it */
        struct smaps_charge charge;
};

/* Measures one process. Returns -ESRCH when it is gone (or a kernel thread: nothing to charge). */
int measure_process(const char *proc_root, pid_t pid, struct process_commit *ret);
void process_commit_done(struct process_commit *p);

/* Every process of the host, sorted by charge in `mode`, largest first. Processes that vanish during the
 * scan are skipped. *ret_total is the union of all charges (a shmem object counted once). */
int measure_host(const char *proc_root, enum commit_mode mode, struct process_commit **ret, size_t *ret_n,
                 struct smaps_charge *ret_total);
void process_commits_free(struct process_commit *p, size_t n);

/* The charge of a set of pids (a cgroup's cgroup.procs) as one union; vanished pids are skipped.
 * ret_found (may be NULL) counts the pids measured. */
int measure_pids(const char *proc_root, const pid_t *pids, size_t n, struct smaps_charge *ret, size_t *ret_found);
