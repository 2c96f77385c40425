/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "formula.h"
#include "procfs.h"

/* The host's own overcommit state as numbers (commitctl doctor renders the words): the seed's diagnosis,
 * automated. Pure: meminfo and sysctls in, numbers out. */
struct diagnosis {
        struct budget budget;        /* the host as a budget: MemTotal, Hugetlb, SwapTotal, sysctls */
        uint64_t commit_limit_bytes; /* vm_commit_limit() recomputed from the budget */
        uint64_t committed_bytes;    /* Committed_AS */
        /* Strict mode: the largest single request a process without CAP_SYS_ADMIN (and with a negligible
         * total_vm) can still get, and the same for one with it. 0 when exhausted. Other modes: the
         * largest single request the mode admits (kernel heuristic: ram + swap; always: UINT64_MAX). */
        uint64_t headroom_bytes;
        uint64_t headroom_admin_bytes;
};

/* page_size is sysconf(_SC_PAGESIZE) outside tests. */
int diagnosis_compute(const struct meminfo *mi, const struct overcommit *oc, uint64_t page_size, struct diagnosis *ret);

/* The same from commitd-meminfo's view of /proc/meminfo (commitd-meminfo(8)), whose CommitLimit and Committed_AS
 * are the reader's commitd budget: no sysctl made that CommitLimit, so it is taken as it is (a budget of that limit
 * and no swap), judged as strict mode judges (the only mode that refuses on it) and without reserves (the view does
 * not show the policy's: the headroom is then an upper bound). */
int diagnosis_compute_view(const struct meminfo *mi, uint64_t page_size, struct diagnosis *ret);

/* A --what-if: "mode=2,ratio=80", "mode=strict,limit=8G", "ratio=90" (mode and the other knob stay as
 * on the host). Setting ratio clears limit and the other way round, as the sysctls do. */
struct what_if {
        bool has_mode, has_ratio, has_limit;
        enum commit_mode mode;
        uint32_t ratio;
        uint64_t limit_bytes;
};
/* Returns 0, or -EINVAL with *ret_bad pointing at the offending item in spec. */
int diagnosis_parse_what_if(const char *spec, struct what_if *ret, const char **ret_bad);
/* The host's sysctls with the what-if applied. */
void diagnosis_apply_what_if(const struct overcommit *host, const struct what_if *w, struct overcommit *ret);

/* Whether the kernel in d's mode would let a process fork now: dup_mmap() charges the parent's accountable
 * areas again, those with VM_DONTCOPY excepted (pass accountable - dontcopy). */
bool diagnosis_fork_fits(const struct diagnosis *d, uint64_t fork_charge_bytes, uint64_t total_vm_bytes,
                         bool cap_sys_admin, uint64_t page_size);
