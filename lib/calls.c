/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "calls.h"
#include "macro.h"

#define MASKED(i, m, v)                                                                                                \
        { .index = (i), .op = CALL_OP_MASKED_EQ, .value = (m), .value_two = (v) }
#define EQ(i, v)                                                                                                       \
        { .index = (i), .op = CALL_OP_EQ, .value = (v) }
#define NE(i, v)                                                                                                       \
        { .index = (i), .op = CALL_OP_NE, .value = (v) }

#define S MAP_SHARED
#define P MAP_PRIVATE
#define A MAP_ANONYMOUS
#define W PROT_WRITE

/* mmap private and writable (accountable_mapping()) or shared anonymous (shmem_zero_setup()); MAP_SHARED_VALIDATE
 * has both low bits set and counts as shared. By MAP_SHARED, then MAP_ANONYMOUS or MAP_PRIVATE, then PROT_WRITE: */
static const struct call_cell mmap_cells[] = {
        {CALL_CELL_NOTIFY, 1, {MASKED(3, S | A, S | A)}},
        {CALL_CELL_PASS, 1, {MASKED(3, S | A, S)}},
        {CALL_CELL_NOTIFY, 2, {MASKED(2, W, W), MASKED(3, S | P, P)}},
        {CALL_CELL_PASS, 2, {MASKED(2, W, 0), MASKED(3, S | P, P)}},
        {CALL_CELL_PASS, 1, {MASKED(3, S | P, 0)}},
};
/* mprotect_fixup() charges a private area that gains write. */
static const struct call_cell mprotect_cells[] = {
        {CALL_CELL_NOTIFY, 1, {MASKED(2, W, W)}},
        {CALL_CELL_PASS, 1, {MASKED(2, W, 0)}},
};
/* clone without CLONE_VM copies the address space (dup_mmap()); threads and vfork share it. */
static const struct call_cell clone_cells[] = {
        {CALL_CELL_NOTIFY, 1, {MASKED(0, CLONE_VM, 0)}},
        {CALL_CELL_PASS, 1, {MASKED(0, CLONE_VM, CLONE_VM)}},
};
/* ksys_ipc() reads only the low 16 bits of the call number (the rest is a version): SHMGET is any call whose
 * low 16 bits say 23. "They say something else" is no single comparison, so it is cut into 16 disjoint cells,
 * one per lowest bit that differs: bits below i equal 23's, bit i not. */
#define IPC_OTHER(i)                                                                                                   \
        {                                                                                                              \
                CALL_CELL_PASS, 1, {                                                                                   \
                        MASKED(0, (2u << (i)) - 1,                                                                     \
                               (CALLS_IPC_SHMGET & ((1u << (i)) - 1)) | (~CALLS_IPC_SHMGET & (1u << (i))))             \
                }                                                                                                      \
        }
static const struct call_cell ipc_cells[] = {
        {CALL_CELL_NOTIFY, 1, {MASKED(0, 0xffff, CALLS_IPC_SHMGET)}},
        IPC_OTHER(0),
        IPC_OTHER(1),
        IPC_OTHER(2),
        IPC_OTHER(3),
        IPC_OTHER(4),
        IPC_OTHER(5),
        IPC_OTHER(6),
        IPC_OTHER(7),
        IPC_OTHER(8),
        IPC_OTHER(9),
        IPC_OTHER(10),
        IPC_OTHER(11),
        IPC_OTHER(12),
        IPC_OTHER(13),
        IPC_OTHER(14),
        IPC_OTHER(15),
};
/* MADV_DOFORK makes a VM_DONTCOPY area copyable again: the next fork charges it. */
static const struct call_cell madvise_cells[] = {
        {CALL_CELL_NOTIFY, 1, {EQ(2, MADV_DOFORK)}},
        {CALL_CELL_PASS, 1, {NE(2, MADV_DOFORK)}},
};
static const struct call_cell always_notify[] = {{CALL_CELL_NOTIFY, 0, {}}};
static const struct call_cell always_enosys[] = {{CALL_CELL_ENOSYS, 0, {}}};

#undef S
#undef P
#undef A
#undef W

#define ROW(name, x86_64, i386, x32, kind64, kind32, cells)                                                            \
        { name, {x86_64, i386, x32}, {kind64, kind32, kind64}, ELEMENTSOF(cells), cells }
#define ROW3(name, x86_64, i386, kind, cells) ROW(name, x86_64, i386, x86_64, kind, kind, cells)

/* Numbers: arch/x86/entry/syscalls/syscall_64.tbl (x32 shares the "common" ones) and syscall_32.tbl. i386's
 * "mmap" is old_mmap (its arguments in memory); glibc uses mmap2. */
const struct call_row calls_table[CALLS_TABLE_SIZE] = {
        ROW("mmap", 9, 90, 9, CALL_MMAP, CALL_OLD_MMAP, mmap_cells),
        ROW("mmap2", -1, 192, -1, CALL_NONE, CALL_MMAP, mmap_cells),
        ROW3("brk", 12, 45, CALL_BRK, always_notify),
        ROW3("mremap", 25, 163, CALL_MREMAP, always_notify),
        ROW3("mprotect", 10, 125, CALL_MPROTECT, mprotect_cells),
        ROW3("pkey_mprotect", 329, 380, CALL_MPROTECT, mprotect_cells),
        ROW3("fork", 57, 2, CALL_FORK, always_notify),
        ROW3("clone", 56, 120, CALL_CLONE, clone_cells),
        ROW3("clone3", 435, 435, CALL_CLONE3, always_enosys),
        ROW3("shmget", 29, 395, CALL_SHMGET, always_notify),
        ROW("ipc", -1, 117, -1, CALL_NONE, CALL_IPC, ipc_cells),
        ROW3("madvise", 28, 219, CALL_DOFORK, madvise_cells),
        ROW3("memfd_create", 319, 356, CALL_MEMFD, always_notify),
};

enum call_kind calls_lookup(uint32_t audit_arch, int nr, enum call_abi *ret_abi) {
        enum call_abi abi;

        if (audit_arch == CALLS_AUDIT_ARCH_I386)
                abi = CALL_ABI_I386;
        else if (audit_arch == CALLS_AUDIT_ARCH_X86_64 && (nr & CALLS_X32_SYSCALL_BIT)) {
                abi = CALL_ABI_X32;
                nr &= ~CALLS_X32_SYSCALL_BIT;
        } else if (audit_arch == CALLS_AUDIT_ARCH_X86_64)
                abi = CALL_ABI_X86_64;
        else
                return CALL_NONE;
        for (size_t i = 0; i < CALLS_TABLE_SIZE; i++)
                if (calls_table[i].nr[abi] == nr && nr >= 0) {
                        if (ret_abi)
                                *ret_abi = abi;
                        return calls_table[i].kind[abi];
                }
        return CALL_NONE;
}

const struct call_row *calls_find(const char *name) {
        for (size_t i = 0; i < CALLS_TABLE_SIZE; i++)
                if (streq(calls_table[i].name, name))
                        return &calls_table[i];
        return NULL;
}

bool calls_cond_holds(const struct call_cond *c, uint64_t x) {
        switch (c->op) {
        case CALL_OP_NE:
                return x != c->value;
        case CALL_OP_LT:
                return x < c->value;
        case CALL_OP_LE:
                return x <= c->value;
        case CALL_OP_EQ:
                return x == c->value;
        case CALL_OP_GE:
                return x >= c->value;
        case CALL_OP_GT:
                return x > c->value;
        case CALL_OP_MASKED_EQ:
                return (x & c->value) == c->value_two;
        case _CALL_OP_MAX:
        default:
                assert(!"unknown operator");
                return false;
        }
}

const struct call_cell *calls_cell_of(const struct call_row *row, const uint64_t args[6]) {
        for (size_t c = 0; c < row->n_cells; c++) {
                bool all = true;
                for (unsigned i = 0; i < row->cells[c].n_conds && all; i++)
                        all = calls_cond_holds(&row->cells[c].conds[i], args[row->cells[c].conds[i].index]);
                if (all)
                        return &row->cells[c];
        }
        assert(!"the cells of a call cover every argument value");
        return NULL;
}

const char *call_kind_name(enum call_kind kind) {
        static const char *const names[_CALL_KIND_MAX] = {
                [CALL_NONE] = "unknown",       [CALL_MMAP] = "mmap",
                [CALL_OLD_MMAP] = "old_mmap",  [CALL_BRK] = "brk",
                [CALL_MREMAP] = "mremap",      [CALL_MPROTECT] = "mprotect",
                [CALL_FORK] = "fork",          [CALL_CLONE] = "clone",
                [CALL_CLONE3] = "clone3",      [CALL_SHMGET] = "shmget",
                [CALL_IPC] = "shmget",         [CALL_DOFORK] = "madvise",
                [CALL_MEMFD] = "memfd_create",
        };
        return kind < _CALL_KIND_MAX && names[kind] ? names[kind] : "unknown";
}

bool calls_is_shmget(enum call_kind kind, const uint64_t args[6]) {
        return kind == CALL_SHMGET || (kind == CALL_IPC && (args[0] & 0xffff) == CALLS_IPC_SHMGET);
}
