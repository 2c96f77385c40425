/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's vm.overcommit_memory values (include/uapi/linux/mman.h). */
enum commit_mode {
        COMMIT_MODE_GUESS = 0,  /* OVERCOMMIT_GUESS: heuristic */
        COMMIT_MODE_ALWAYS = 1, /* OVERCOMMIT_ALWAYS */
        COMMIT_MODE_NEVER = 2,  /* OVERCOMMIT_NEVER: strict */
        _COMMIT_MODE_MAX,
};

enum commit_formula {
        COMMIT_FORMULA_KERNEL,  /* mm/util.c __vm_enough_memory() of Linux >= 4.x (today's) */
        COMMIT_FORMULA_CLASSIC, /* the 2.6-era function shown in the seed incident report */
        _COMMIT_FORMULA_MAX,
};

/* The budget of one cgroup level, in bytes; converted to whole pages the way the kernel holds them. */
struct budget {
        enum commit_mode mode;
        enum commit_formula formula;
        uint64_t ram_bytes;     /* totalram_pages() of the level */
        uint64_t hugetlb_bytes; /* hugetlb_total_pages() reserved out of ram */
        uint64_t swap_bytes;    /* total_swap_pages */
        uint32_t ratio;         /* percent, used when !has_limit (vm.overcommit_ratio) */
        bool has_limit;         /* limit_bytes replaces the ratio formula (vm.overcommit_kbytes) */
        uint64_t limit_bytes;
        uint64_t admin_reserve_bytes; /* vm.admin_reserve_kbytes: kept back from callers without CAP_SYS_ADMIN */
        uint64_t user_reserve_bytes;  /* vm.user_reserve_kbytes: caps the per-process total_vm/32 keep-back */
};

/* What the classic heuristic (mode 0, classic family) reads; all in bytes, of the level's own memory. */
struct heuristic_state {
        uint64_t file_bytes;             /* NR_FILE_PAGES */
        uint64_t swap_free_bytes;        /* nr_swap_pages */
        uint64_t slab_reclaimable_bytes; /* NR_SLAB_RECLAIMABLE */
        uint64_t free_bytes;             /* nr_free_pages() */
        uint64_t totalreserve_bytes;     /* totalreserve_pages */
};

/* One level of a nested judgement: a cgroup with a policy, its budget and its current commit. */
struct formula_level {
        const char *name; /* the cgroup, for the refusal message */
        const struct budget *budget;
        uint64_t committed_bytes;                /* Committed_AS of the level, before the request */
        const struct heuristic_state *heuristic; /* classic mode 0 only; NULL elsewhere */
};

/* The caller of the system call being judged. */
struct formula_caller {
        uint64_t total_vm_bytes; /* mm->total_vm of the calling process (VmSize); 0 when there is no mm */
        bool cap_sys_admin;
};

enum formula_verdict {
        FORMULA_ADMIT,
        FORMULA_REFUSE,
};

/* Why a level refused, for the log line and for `commitctl events`. */
struct formula_result {
        enum formula_verdict verdict;
        size_t level;             /* index into the levels array of the level that refused */
        uint64_t request_bytes;   /* the request, rounded up to whole pages */
        uint64_t committed_bytes; /* that level's commit before the request */
        uint64_t allowed_bytes;   /* the bound the request was compared with (mode 2: allowed after reserves;
                                     kernel mode 0: ram + swap; classic mode 0: the free estimate) */
};

/* Default reserves of a level whose policy names none: the kernel's init_admin_reserve() and
 * init_user_reserve() take min(free/32, 8 MiB) and min(free/32, 128 MiB); a cgroup uses its ram. */
uint64_t formula_default_admin_reserve(uint64_t ram_bytes);
uint64_t formula_default_user_reserve(uint64_t ram_bytes);

/* CommitLimit of a level (mm/util.c vm_commit_limit()): ((ram - hugetlb) * ratio / 100 + swap) pages, or
 * (limit + swap), in whole pages. Returns 0 and *ret_bytes, or -ERANGE on overflow, -EINVAL on a bad budget
 * (hugetlb above ram, page_size not a power of two). */
int formula_commit_limit(const struct budget *b, uint64_t page_size, uint64_t *ret_bytes);

/* Judges one request of request_bytes against one level. Returns 0 and fills *ret (level = 0), or a
 * negative errno for invalid input. */
int formula_judge(const struct formula_level *level, const struct formula_caller *caller, uint64_t request_bytes,
                  uint64_t page_size, struct formula_result *ret);

/* Judges a request against every level, innermost first (levels[0] is the cgroup of the caller, the
 * last is the outermost ancestor with a policy); the first level that refuses is the verdict. */
int formula_judge_nested(const struct formula_level *levels, size_t n_levels, const struct formula_caller *caller,
                         uint64_t request_bytes, uint64_t page_size, struct formula_result *ret);

/* Names. commit_mode_from_string() accepts "0"|"1"|"2", "heuristic"|"always"|"strict" and the kernel's
 * "guess"|"never"; returns the mode or -EINVAL. */
int commit_mode_from_string(const char *s);
const char *commit_mode_to_string(enum commit_mode m); /* "heuristic", "always", "strict" */
int commit_formula_from_string(const char *s);         /* "kernel", "classic" */
const char *commit_formula_to_string(enum commit_formula f);
