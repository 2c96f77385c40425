/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The system calls commitd intercepts (SPEC 4): one table from which the seccomp filter of `commitctl run`
 * (cli/filter.c), the OCI profile edit (ocispec.c) and the judge (daemon) all derive, so that what the filter
 * sends is exactly what the judge knows. Syscall numbers are the kernel's ABI (arch/x86/entry/syscalls), per
 * ABI; tests/unit/test-calls.c checks them against libseccomp and runs the built filter over every (arch, nr)
 * to prove that each notified call has a row here. */

enum call_kind {
        CALL_NONE,     /* not intercepted on this ABI */
        CALL_MMAP,     /* mmap, and mmap2 on i386: (addr, len, prot, flags, fd, off) */
        CALL_OLD_MMAP, /* i386 old_mmap: its arguments sit in memory, out of a filter's sight: ENOSYS */
        CALL_BRK,
        CALL_MREMAP,
        CALL_MPROTECT, /* mprotect and pkey_mprotect adding PROT_WRITE */
        CALL_FORK,     /* fork, and clone without CLONE_VM */
        CALL_CLONE,
        CALL_CLONE3, /* its flags sit in memory: ENOSYS, and libc falls back to clone */
        CALL_SHMGET, /* shmget(key, size, flags) */
        CALL_IPC,    /* i386 ipc(call, key, size, flags, ...): shmget when the low 16 bits of call are SHMGET */
        CALL_DOFORK, /* madvise(MADV_DOFORK): what the next fork copies grows */
        CALL_MEMFD,  /* memfd_create: a shmem object whose pages no call will announce */
        _CALL_KIND_MAX,
};

enum call_abi { CALL_ABI_X86_64, CALL_ABI_I386, CALL_ABI_X32, _CALL_ABI_MAX };

/* AUDIT_ARCH_* as seccomp_data.arch reports them; x32 calls arrive as AUDIT_ARCH_X86_64 with this bit in nr. */
#define CALLS_AUDIT_ARCH_X86_64 0xc000003eu
#define CALLS_AUDIT_ARCH_I386   0x40000003u
#define CALLS_X32_SYSCALL_BIT   0x40000000
#define CALLS_IPC_SHMGET        23 /* ipc(2) multiplexer call number of shmget (ipc/syscall.c) */

/* One comparison of an argument, as libseccomp and the OCI runtime spec write them. */
enum call_op {
        CALL_OP_NE,
        CALL_OP_LT,
        CALL_OP_LE,
        CALL_OP_EQ,
        CALL_OP_GE,
        CALL_OP_GT,
        CALL_OP_MASKED_EQ, /* (arg & value) == value_two */
        _CALL_OP_MAX,
};

struct call_cond {
        unsigned index;
        enum call_op op;
        uint64_t value, value_two;
};

enum call_cell_kind {
        CALL_CELL_NOTIFY, /* commitd judges it */
        CALL_CELL_PASS,   /* not commitd's business: whatever else the filter says */
        CALL_CELL_ENOSYS, /* refused with ENOSYS */
};

/* One part of a call's argument space. The cells of a call are disjoint and together cover every argument
 * value, so an OCI profile's rule can be cut along them without widening anything (ocispec.c). Conditions are
 * on distinct arguments: a cell is their conjunction. */
#define CALL_CELL_MAX_CONDS 2
struct call_cell {
        enum call_cell_kind kind;
        unsigned n_conds;
        struct call_cond conds[CALL_CELL_MAX_CONDS];
};

struct call_row {
        const char *name;      /* libseccomp's and the OCI profile's name */
        int nr[_CALL_ABI_MAX]; /* -1: the ABI has no such call (x32: without CALLS_X32_SYSCALL_BIT) */
        enum call_kind kind[_CALL_ABI_MAX];
        size_t n_cells;
        const struct call_cell *cells;
};

#define CALLS_MAX_CELLS 17 /* ipc: SHMGET, and the 16 cells of "the low 16 bits say something else" */

#define CALLS_TABLE_SIZE 13
extern const struct call_row calls_table[CALLS_TABLE_SIZE];

/* The call a notification names, from seccomp_data's arch and nr: CALL_NONE when commitd does not know it
 * (it must then be answered ENOSYS, never admitted unjudged). *ret_abi may be NULL. */
enum call_kind calls_lookup(uint32_t audit_arch, int nr, enum call_abi *ret_abi);
/* The row named name, or NULL. */
const struct call_row *calls_find(const char *name);
/* Whether cond holds for argument value x. */
bool calls_cond_holds(const struct call_cond *c, uint64_t x);
/* Whether a call of kind with args is shmget() (CALL_SHMGET, or i386 ipc(2) whose low 16 bits of the first
 * argument say SHMGET: ksys_ipc()). */
bool calls_is_shmget(enum call_kind kind, const uint64_t args[6]);
/* The cell of row that args fall in (the cells cover everything, so one always does). */
const struct call_cell *calls_cell_of(const struct call_row *row, const uint64_t args[6]);
const char *call_kind_name(enum call_kind kind);
