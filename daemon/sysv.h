/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"

struct daemon;

/* SysV segments judged processes made. newseg() charges a segment's whole size when it is made, and the charge
 * stays until the segment is destroyed (IPC_RMID and the last detach), whoever maps it, long after its creator
 * has exited; smaps shows it only while some process maps it. So each segment a judged process made is claimed
 * for that process's cgroup, from /proc/sysvipc/shm (cpid is the creator's tgid), while the creator's record
 * still exists, and charged to every budget at or above that cgroup until the segment is gone.
 *
 * Only the segments of commitd's own IPC namespace are visible (/proc/sysvipc is the reader's namespace's): a
 * tenant in an IPC namespace of its own is judged on the segments it maps (docs/reliability.md). */
struct sysv_claim {
        int shmid;
        pid_t cpid;
        uint64_t size_bytes;
        char *cgroup; /* of the creator's budget entry when claimed; by name, so no entry is kept alive */
        struct sysv_claim *next;
};

/* The IPC namespace commitd reads (/proc/self/ns/ipc), for the objects' names; 0 when unknown. */
uint64_t sysv_ipc_ns(void);
/* Reads /proc/sysvipc/shm when a claim may be due (some record made a segment, or claims exist): drops the
 * claims of segments gone, claims the segments of judged processes not claimed yet. Returns 0 or -errno (the
 * table unreadable: the claims stand). */
int sysv_refresh(struct daemon *d);
/* Adds to c the segments claimed for e's cgroup or one below it, as SysV shmem objects (smaps_charge_finish()
 * folds one that a process also maps into one). */
int sysv_add_objects(struct daemon *d, const char *cgroup, struct smaps_charge *c);
void sysv_free(struct daemon *d);
