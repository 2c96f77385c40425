/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "formula.h"
#include "procfs.h"

/* Exact commit measurement from procfs: the ground truth behind doctor's tables and the daemon's ledger
 * re-measures. Costs milliseconds per large process (smaps, streamed), so it never runs on a hot path.
 *
 * A process's charge is its smaps (private accountable and MAP_NORESERVE areas) and the shmem objects it
 * holds, each once: those it maps (smaps; sized by stat() of /proc/PID/map_files/START-END, which follows to
 * the object) and the tmpfs files it has open (/proc/PID/fd/N: memfd, /dev/shm). map_files needs
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) besides ptrace read access; without it (EPERM) objects are sized
 * from their mappings (struct shmem_object.estimated) and process_commit.objects_estimated says so. A process
 * whose leader has exited is read through a live thread: /proc/PID/task/TID, and /proc/TID/map_files. */

/* Where and how to measure. */
struct measure_ctx {
        const char *proc_root; /* "/proc" outside tests; tests pass a directory laid out like it */
        uint64_t shm_dev;      /* st_dev of the internal shm mount (shared anonymous, SysV, memfd); 0: unknown,
                                  shmem objects are then told by name on any device */
        bool private_only;     /* only the smaps sums and the objects smaps names; no map_files, no fd walk:
                                  for a caller that needs fork's charge, not the objects' sizes */
        /* Optional: another source of a process's areas than its smaps text, much cheaper (the daemon's BPF
         * task_vma iterator: no page walk per area). It calls fn for each area of pid's mm in address order
         * with what smaps would show of it, and returns 0; or it returns -EOPNOTSUPP, having called fn for none,
         * when it cannot give them all as smaps would (a shmem or tmpfs mapping, whose object smaps names), and
         * smaps is read instead. NULL: smaps always. */
        int (*areas)(void *data, pid_t pid, smaps_area_fn fn, void *userdata);
        void *areas_data;
};
/* {proc_root, the st_dev of a memfd it creates and closes, all of it}. Returns 0 or -errno. */
int measure_ctx_init(struct measure_ctx *ctx, const char *proc_root);

struct process_commit {
        pid_t pid;
        pid_t tgid;     /* the process of the thread pid names (the same for a process's main thread) */
        pid_t read_tid; /* 0, or the live thread whose /proc/PID/task/TID was read: pid's own thread had no mm
                           (a leader that called SYS_exit while other threads live) */
        char comm[64];
        char *cgroup;           /* v2 path, or the v1 memory path on a host without cgroup2; NULL if unreadable */
        uint64_t vm_size_bytes; /* mm->total_vm, for the per-process keep-back of strict mode */
        bool cap_sys_admin;     /* CapEff has CAP_SYS_ADMIN: the admin reserve is open to it */
        bool objects_estimated; /* some shmem object sized from its mappings, or a shared file mapping whose
                                   file system could not be asked (see above) */
        struct smaps_charge charge;
};

/* Measures one process (any thread id of it). Returns 0; -ESRCH when it is gone, a zombie with no live
 * thread, or a kernel thread (nothing to charge); -EACCES/-EPERM when its files are not ours to read; other
 * -errno on failure. A thread group with any live thread is never gone. NULL ctx: {"/proc", 0, false}. */
int measure_process(const struct measure_ctx *ctx, pid_t pid, struct process_commit *ret);
void process_commit_done(struct process_commit *p);

/* What measuring a set of processes met besides the charge. */
struct measure_skip {
        pid_t pid;
        int error; /* -EACCES or -EPERM */
};
struct measure_report {
        size_t measured;                 /* thread groups measured: pids of one group count once */
        size_t gone;                     /* pids gone (exited, zombies, kernel threads): skipped silently */
        size_t estimated;                /* of the measured, those with objects_estimated */
        struct measure_skip *unreadable; /* skipped: the caller decides (log, fail closed, ...) */
        size_t n_unreadable;
};
void measure_report_done(struct measure_report *r);
/* The first unreadable process of r that is among judged (n pids, any order), or NULL. A caller whose
 * refusals rest on the measure fails it for such a one (closed: what it holds is unknown) and may leave out
 * the others, which it does not judge (PID 1 in a level's cgroup, whose smaps a container's root cannot read). */
const struct measure_skip *measure_report_blocking(const struct measure_report *r, const pid_t *judged, size_t n);

/* The charge of a set of pids (a cgroup's cgroup.procs, thread ids welcome) as one union, each thread group
 * once. Gone pids are skipped silently; unreadable ones skipped and listed in *ret_report (may be NULL); any
 * other error fails the call (nothing written). */
int measure_pids(const struct measure_ctx *ctx, const pid_t *pids, size_t n, struct smaps_charge *ret,
                 struct measure_report *ret_report);

/* Every process of the host, sorted by charge in `mode`, largest first, under measure_pids()'s rules.
 * *ret_total is the union of all charges (a shmem object counted once). ret_report may be NULL. */
int measure_host(const struct measure_ctx *ctx, enum commit_mode mode, struct process_commit **ret, size_t *ret_n,
                 struct smaps_charge *ret_total, struct measure_report *ret_report);
void process_commits_free(struct process_commit *p, size_t n);
