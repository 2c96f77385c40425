/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "filter.h"

#define IPC_SHMGET_CALL 23

#define RULE(ctx, action, name, ...)                                                                                   \
        do {                                                                                                           \
                int _r = seccomp_rule_add(ctx, action, SCMP_SYS(name), __VA_ARGS__);                                   \
                if (_r < 0)                                                                                            \
                        return _r;                                                                                     \
        } while (0)

/* The calls that can add commit (SPEC 4), and only those: everything else never leaves the kernel. The
 * arguments are scalars, so commitd judges what the kernel will act on (no pointer TOCTOU). */
static int add_rules(scmp_filter_ctx ctx, bool i386) {
        const uint32_t notify = SCMP_ACT_NOTIFY;

        if (i386) {
                /* old_mmap takes its arguments through a pointer; glibc uses mmap2. */
                RULE(ctx, SCMP_ACT_ERRNO(ENOSYS), mmap, 0);
                RULE(ctx, notify, mmap2, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE, PROT_WRITE),
                     SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_SHARED | MAP_PRIVATE, MAP_PRIVATE));
                RULE(ctx, notify, mmap2, 1,
                     SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_SHARED | MAP_ANONYMOUS, MAP_SHARED | MAP_ANONYMOUS));
                /* ksys_ipc() reads only the low 16 bits of the call number (the rest is a version): mask them. */
                RULE(ctx, notify, ipc, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffff, IPC_SHMGET_CALL));
        } else {
                /* private and writable (accountable_mapping()), or shared anonymous (shmem): MAP_SHARED_VALIDATE
                 * has both low bits set and counts as shared. */
                RULE(ctx, notify, mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE, PROT_WRITE),
                     SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_SHARED | MAP_PRIVATE, MAP_PRIVATE));
                RULE(ctx, notify, mmap, 1,
                     SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_SHARED | MAP_ANONYMOUS, MAP_SHARED | MAP_ANONYMOUS));
        }
        RULE(ctx, notify, shmget, 0);
        RULE(ctx, notify, brk, 0);
        RULE(ctx, notify, mremap, 0);
        RULE(ctx, notify, mprotect, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE, PROT_WRITE));
        RULE(ctx, notify, pkey_mprotect, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE, PROT_WRITE));
        RULE(ctx, notify, fork, 0);
        /* MADV_DOFORK makes a VM_DONTCOPY area copyable again: the next fork charges it. */
        RULE(ctx, notify, madvise, 1, SCMP_A2(SCMP_CMP_EQ, MADV_DOFORK, 0));
        /* clone without CLONE_VM copies the address space (dup_mmap()); threads and vfork share it. */
        RULE(ctx, notify, clone, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_VM, 0));
        /* clone3's flags sit in memory where a filter cannot look: ENOSYS makes libc fall back to clone. */
        RULE(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3, 0);
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
                r = add_rules(ctx, false);
        if (r >= 0)
                r = add_rules(ctx32, true);
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
