/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "calls.h"
#include "filter.h"
#include "macro.h"

static const enum scmp_compare ops[_CALL_OP_MAX] = {
        [CALL_OP_NE] = SCMP_CMP_NE,
        [CALL_OP_LT] = SCMP_CMP_LT,
        [CALL_OP_LE] = SCMP_CMP_LE,
        [CALL_OP_EQ] = SCMP_CMP_EQ,
        [CALL_OP_GE] = SCMP_CMP_GE,
        [CALL_OP_GT] = SCMP_CMP_GT,
        [CALL_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static int add_cell(scmp_filter_ctx ctx, uint32_t action, const char *name, const struct call_cell *cell) {
        struct scmp_arg_cmp cmp[CALL_CELL_MAX_CONDS];
        int nr = seccomp_syscall_resolve_name(name);

        if (nr == __NR_SCMP_ERROR)
                return -ENOENT;
        for (unsigned i = 0; i < cell->n_conds; i++) {
                const struct call_cond *c = &cell->conds[i];
                cmp[i] = (struct scmp_arg_cmp){.arg = c->index,
                                               .op = ops[c->op],
                                               .datum_a = c->value,
                                               .datum_b = c->op == CALL_OP_MASKED_EQ ? c->value_two : 0};
        }
        return seccomp_rule_add_array(ctx, action, nr, cell->n_conds, cmp);
}

/* The calls that can add commit (SPEC 4), and only those, from lib/calls.c's table: everything else never
 * leaves the kernel. The arguments are scalars, so commitd judges what the kernel will act on (no pointer
 * TOCTOU). abi is CALL_ABI_X86_64 (its context holds x32 too: the same calls) or CALL_ABI_I386. */
static int add_rules(scmp_filter_ctx ctx, enum call_abi abi) {
        for (size_t i = 0; i < CALLS_TABLE_SIZE; i++) {
                const struct call_row *row = &calls_table[i];
                int r;

                if (row->kind[abi] == CALL_NONE)
                        continue;
                if (row->kind[abi] == CALL_OLD_MMAP) {
                        /* old_mmap takes its arguments through a pointer, out of the filter's sight; glibc uses
                         * mmap2. */
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), seccomp_syscall_resolve_name(row->name), 0);
                        if (r < 0)
                                return r;
                        continue;
                }
                for (size_t c = 0; c < row->n_cells; c++) {
                        const struct call_cell *cell = &row->cells[c];
                        if (cell->kind == CALL_CELL_PASS)
                                continue;
                        r = add_cell(ctx, cell->kind == CALL_CELL_NOTIFY ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(ENOSYS),
                                     row->name, cell);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Builds the filter for x86_64 and x32 in one context, i386 in another (its mmap differs), merges them. */
int filter_build(scmp_filter_ctx *ret) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW), ctx32 = seccomp_init(SCMP_ACT_ALLOW);
        int r;

        if (!ctx || !ctx32) {
                r = -ENOMEM;
                goto fail;
        }
        r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
        if (r >= 0)
                r = seccomp_arch_remove(ctx32, SCMP_ARCH_NATIVE);
        if (r >= 0)
                r = seccomp_arch_add(ctx32, SCMP_ARCH_X86);
        if (r >= 0)
                r = add_rules(ctx, CALL_ABI_X86_64);
        if (r >= 0)
                r = add_rules(ctx32, CALL_ABI_I386);
        /* Root keeps the power to gain privileges by exec (setuid helpers of services); others get NNP,
         * which the kernel requires to install a filter without CAP_SYS_ADMIN. */
        if (r >= 0 && geteuid() == 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r >= 0)
                r = seccomp_attr_set(ctx32, SCMP_FLTATR_CTL_NNP, geteuid() == 0 ? 0 : 1);
        if (r >= 0)
                r = seccomp_merge(ctx, ctx32);
        /* A binary tree of syscall numbers instead of a chain: every call of the process walks this filter,
         * notified or not (tests/bench: un-notified calls within a few percent of no filter). */
        if (r >= 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                goto fail;
        *ret = ctx;
        return 0;
fail:
        seccomp_release(ctx);
        seccomp_release(ctx32);
        return r;
}

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5) /* Linux 5.19 */
#endif

int filter_load(scmp_filter_ctx ctx, int *ret_listener) {
        _cleanup_close_ int mfd = -EBADF;
        struct sock_filter insns[BPF_MAXINSNS]; /* on the stack: nothing is freed once the filter is in */
        struct sock_fprog prog;
        uint32_t nnp = 0;
        off_t size;
        int r, fd;

        /* libseccomp 2.5 cannot ask for WAIT_KILLABLE_RECV: the program is exported and loaded here. */
        mfd = memfd_create("commitd-filter", MFD_CLOEXEC);
        if (mfd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, mfd);
        if (r < 0)
                return r;
        size = lseek(mfd, 0, SEEK_END);
        if (size <= 0 || size % sizeof(struct sock_filter) != 0 || (size_t) size > sizeof(insns))
                return -EINVAL;
        if (pread(mfd, insns, size, 0) != size)
                return -EIO;
        prog = (struct sock_fprog){.len = (unsigned short) (size / sizeof(struct sock_filter)), .filter = insns};
        r = seccomp_attr_get(ctx, SCMP_FLTATR_CTL_NNP, &nnp);
        if (r < 0)
                return r;
        if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        /* Once commitd has received a call, only a fatal signal ends the wait for its answer. Without this flag
         * any caught signal does, and a handler without SA_RESTART then sees EINTR from calls that never
         * return it: from brk() glibc takes -EINTR for the new break, and the process crashes at its next
         * sbrk() (docs/design.md). Linux < 5.19 lacks the flag. */
        fd = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                           SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
        if (fd < 0 && errno == EINVAL)
                fd = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (fd < 0)
                return -errno;
        *ret_listener = fd;
        return 0;
}
