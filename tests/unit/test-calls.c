/* SPDX-License-Identifier: MIT */
/* lib/calls.c's table against the filters that really reach the kernel. The filter of `commitctl run`
 * (cli/filter.c) and the one a runtime builds from an OCI profile edited by ocispec.c are built with
 * libseccomp, exported as classic BPF and run here over every (arch, nr) with argument vectors that reach
 * every cell of the table: every call that comes back SECCOMP_RET_USER_NOTIF must be one the judge knows
 * (calls_lookup()), and every call the judge knows must be notified for some arguments. The numbers are
 * checked against libseccomp's own tables where it names them. Links libseccomp and cli/'s filter besides
 * lib/: no root needed. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "calls.h"
#include "filter.h"
#include "macro.h"
#include "ocispec.h"

#define MAX_NR  1024
#define MAX_VEC 256

/* ---- a classic BPF interpreter for seccomp programs (what the kernel runs) ---- */

struct program {
        struct sock_filter *insns;
        size_t n;
};

static uint32_t load_data(const struct seccomp_data *d, uint32_t off) {
        uint32_t v;

        assert_true(off + 4 <= sizeof(*d) && off % 4 == 0);
        memcpy(&v, (const char *) d + off, 4);
        return v;
}

static uint32_t run(const struct program *p, const struct seccomp_data *d) {
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};

        for (size_t pc = 0; pc < p->n; pc++) {
                const struct sock_filter *f = &p->insns[pc];
                uint32_t src = BPF_SRC(f->code) == BPF_X ? x : f->k;

                switch (BPF_CLASS(f->code)) {
                case BPF_LD:
                        if (f->code == (BPF_LD | BPF_W | BPF_ABS))
                                a = load_data(d, f->k);
                        else if (f->code == (BPF_LD | BPF_MEM))
                                a = mem[f->k];
                        else if (f->code == (BPF_LD | BPF_IMM))
                                a = f->k;
                        else
                                fail_msg("unknown load %#x", f->code);
                        break;
                case BPF_LDX:
                        if (f->code == (BPF_LDX | BPF_MEM))
                                x = mem[f->k];
                        else if (f->code == (BPF_LDX | BPF_IMM))
                                x = f->k;
                        else
                                fail_msg("unknown ldx %#x", f->code);
                        break;
                case BPF_ST:
                        mem[f->k] = a;
                        break;
                case BPF_STX:
                        mem[f->k] = x;
                        break;
                case BPF_ALU:
                        switch (BPF_OP(f->code)) {
                        case BPF_AND:
                                a &= src;
                                break;
                        case BPF_OR:
                                a |= src;
                                break;
                        case BPF_ADD:
                                a += src;
                                break;
                        case BPF_SUB:
                                a -= src;
                                break;
                        default:
                                fail_msg("unknown alu %#x", f->code);
                        }
                        break;
                case BPF_JMP:
                        if (BPF_OP(f->code) == BPF_JA) {
                                pc += f->k;
                                break;
                        }
                        {
                                bool t;
                                switch (BPF_OP(f->code)) {
                                case BPF_JEQ:
                                        t = a == src;
                                        break;
                                case BPF_JGT:
                                        t = a > src;
                                        break;
                                case BPF_JGE:
                                        t = a >= src;
                                        break;
                                case BPF_JSET:
                                        t = (a & src) != 0;
                                        break;
                                default:
                                        fail_msg("unknown jump %#x", f->code);
                                        return 0;
                                }
                                pc += t ? f->jt : f->jf;
                        }
                        break;
                case BPF_RET:
                        return BPF_RVAL(f->code) == BPF_A ? a : f->k;
                case BPF_MISC:
                        if (BPF_MISCOP(f->code) == BPF_TAX)
                                x = a;
                        else
                                a = x;
                        break;
                default:
                        fail_msg("unknown class %#x", f->code);
                }
        }
        fail_msg("program fell off its end");
        return 0;
}

static struct program export(scmp_filter_ctx ctx) {
        struct program p = {0};
        int fd = memfd_create("bpf", MFD_CLOEXEC);
        off_t size;

        assert_true(fd >= 0);
        assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
        size = lseek(fd, 0, SEEK_END);
        assert_true(size > 0 && size % sizeof(struct sock_filter) == 0);
        p.n = (size_t) size / sizeof(struct sock_filter);
        p.insns = malloc((size_t) size);
        assert_non_null(p.insns);
        assert_int_equal(pread(fd, p.insns, (size_t) size, 0), size);
        close(fd);
        return p;
}

/* ---- argument vectors that reach every cell ---- */

static uint64_t satisfying(const struct call_cond *c) {
        switch (c->op) {
        case CALL_OP_NE:
                return c->value + 1;
        case CALL_OP_LT:
                return c->value - 1;
        case CALL_OP_LE:
        case CALL_OP_EQ:
        case CALL_OP_GE:
                return c->value;
        case CALL_OP_GT:
                return c->value + 1;
        case CALL_OP_MASKED_EQ:
                return c->value_two | (UINT64_C(0x5a5a0000) & ~c->value); /* other bits set too, where ignored */
        case _CALL_OP_MAX:
        default:
                fail_msg("unknown op");
                return 0;
        }
}

static size_t vectors(uint64_t v[MAX_VEC][6]) {
        size_t n = 0;

        memset(v, 0, sizeof(uint64_t) * 6 * MAX_VEC);
        n++;                                /* all zero */
        memset(v[n++], 0xff, sizeof(v[0])); /* all ones */
        for (size_t i = 0; i < CALLS_TABLE_SIZE; i++)
                for (size_t c = 0; c < calls_table[i].n_cells; c++) {
                        const struct call_cell *cell = &calls_table[i].cells[c];
                        assert_true(n < MAX_VEC);
                        for (unsigned k = 0; k < cell->n_conds; k++)
                                v[n][cell->conds[k].index] = satisfying(&cell->conds[k]);
                        n++;
                }
        return n;
}

/* ---- the checks ---- */

static void check_notified(const struct program *p, const char *what) {
        static const struct {
                uint32_t arch;
                int bit;
        } abis[] = {{CALLS_AUDIT_ARCH_X86_64, 0},
                    {CALLS_AUDIT_ARCH_I386, 0},
                    {CALLS_AUDIT_ARCH_X86_64, CALLS_X32_SYSCALL_BIT}};
        static uint64_t v[MAX_VEC][6];
        size_t nv = vectors(v);
        unsigned reached[CALLS_TABLE_SIZE][_CALL_ABI_MAX] = {{0}};

        for (size_t a = 0; a < ELEMENTSOF(abis); a++)
                for (int nr = 0; nr < MAX_NR; nr++)
                        for (size_t i = 0; i < nv; i++) {
                                struct seccomp_data d = {.nr = nr | abis[a].bit, .arch = abis[a].arch};
                                enum call_abi abi;
                                uint32_t ret;

                                memcpy(d.args, v[i], sizeof(d.args));
                                ret = run(p, &d);
                                if ((ret & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_USER_NOTIF)
                                        continue;
                                if (calls_lookup(d.arch, d.nr, &abi) == CALL_NONE)
                                        fail_msg("%s: arch %#x nr %#x is notified and the judge does not know it", what,
                                                 d.arch, (unsigned) d.nr);
                                for (size_t r = 0; r < CALLS_TABLE_SIZE; r++)
                                        if (calls_table[r].nr[abi] == (nr & ~CALLS_X32_SYSCALL_BIT))
                                                reached[r][abi]++;
                        }
        /* The other way: what the judge knows is what the filter sends (clone3 and old_mmap are refused). */
        for (size_t r = 0; r < CALLS_TABLE_SIZE; r++)
                for (int abi = 0; abi < _CALL_ABI_MAX; abi++) {
                        enum call_kind k = calls_table[r].kind[abi];
                        if (k == CALL_NONE || k == CALL_CLONE3 || k == CALL_OLD_MMAP)
                                continue;
                        if (reached[r][abi] == 0)
                                fail_msg("%s: %s (ABI %d) is in the table but never notified", what,
                                         calls_table[r].name, abi);
                }
}

static void test_numbers_match_libseccomp(void **state) {
        static const uint32_t arches[_CALL_ABI_MAX] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};
        (void) state;

        for (size_t r = 0; r < CALLS_TABLE_SIZE; r++)
                for (int abi = 0; abi < _CALL_ABI_MAX; abi++) {
                        int nr = seccomp_syscall_resolve_name_arch(arches[abi], calls_table[r].name);
                        if (calls_table[r].nr[abi] < 0)
                                continue;
                        /* libseccomp names some i386 calls by the ipc/socketcall multiplexer it also emits
                         * (a negative pseudo-number): the kernel's direct number is the table's. */
                        if (nr < 0)
                                continue;
                        if (abi == CALL_ABI_X32)
                                nr &= ~CALLS_X32_SYSCALL_BIT;
                        if (nr != calls_table[r].nr[abi])
                                fail_msg("%s: the table says %d on ABI %d, libseccomp %d", calls_table[r].name,
                                         calls_table[r].nr[abi], abi, nr);
                }
}

static void test_lookup(void **state) {
        enum call_abi abi;
        (void) state;

        assert_int_equal(calls_lookup(CALLS_AUDIT_ARCH_X86_64, 9, &abi), CALL_MMAP);
        assert_int_equal(abi, CALL_ABI_X86_64);
        assert_int_equal(calls_lookup(CALLS_AUDIT_ARCH_X86_64, 9 | CALLS_X32_SYSCALL_BIT, &abi), CALL_MMAP);
        assert_int_equal(abi, CALL_ABI_X32);
        assert_int_equal(calls_lookup(CALLS_AUDIT_ARCH_I386, 90, NULL), CALL_OLD_MMAP);
        assert_int_equal(calls_lookup(CALLS_AUDIT_ARCH_I386, 192, NULL), CALL_MMAP);
        assert_int_equal(calls_lookup(CALLS_AUDIT_ARCH_I386, 395, NULL), CALL_SHMGET); /* the issue-9 escape */
        assert_int_equal(calls_lookup(CALLS_AUDIT_ARCH_I386, 117, NULL), CALL_IPC);
        assert_int_equal(calls_lookup(CALLS_AUDIT_ARCH_X86_64, 117, NULL), CALL_NONE); /* x86_64 has no ipc */
        assert_int_equal(calls_lookup(CALLS_AUDIT_ARCH_X86_64, 0, NULL), CALL_NONE);
        assert_int_equal(calls_lookup(0xdeadbeef, 9, NULL), CALL_NONE);
}

/* Every argument vector falls in exactly one cell of each call. */
static void test_cells_partition(void **state) {
        static uint64_t v[MAX_VEC][6];
        size_t nv = vectors(v);
        (void) state;

        for (size_t r = 0; r < CALLS_TABLE_SIZE; r++)
                for (size_t i = 0; i < nv + 65536; i++) {
                        uint64_t args[6] = {0};
                        unsigned hits = 0;
                        if (i < nv)
                                memcpy(args, v[i], sizeof(args));
                        else /* every low 16-bit value in each argument: the ipc cells */
                                for (int k = 0; k < 6; k++)
                                        args[k] = (uint64_t) (i - nv) | (UINT64_C(1) << 20);
                        for (size_t c = 0; c < calls_table[r].n_cells; c++) {
                                bool all = true;
                                for (unsigned k = 0; k < calls_table[r].cells[c].n_conds; k++)
                                        all = all && calls_cond_holds(&calls_table[r].cells[c].conds[k],
                                                                      args[calls_table[r].cells[c].conds[k].index]);
                                hits += all;
                        }
                        if (hits != 1)
                                fail_msg("%s: %u cells hold for (%#lx, %#lx, %#lx, %#lx)", calls_table[r].name, hits,
                                         (unsigned long) args[0], (unsigned long) args[1], (unsigned long) args[2],
                                         (unsigned long) args[3]);
                }
}

static void test_commitctl_filter(void **state) {
        scmp_filter_ctx ctx;
        struct program p;
        struct seccomp_data d = {.arch = CALLS_AUDIT_ARCH_I386, .nr = 90};
        (void) state;

        assert_int_equal(filter_build(&ctx), 0);
        p = export(ctx);
        seccomp_release(ctx);
        check_notified(&p, "commitctl run's filter");
        /* i386 old_mmap and clone3 never reach the judge: ENOSYS in the filter. */
        assert_int_equal(run(&p, &d), SECCOMP_RET_ERRNO | ENOSYS);
        d.nr = 435;
        assert_int_equal(run(&p, &d), SECCOMP_RET_ERRNO | ENOSYS);
        d = (struct seccomp_data){.arch = CALLS_AUDIT_ARCH_X86_64, .nr = 435};
        assert_int_equal(run(&p, &d), SECCOMP_RET_ERRNO | ENOSYS);
        free(p.insns);
}

/* What runc and crun do with the edited profile's linux.seccomp: each entry a libseccomp rule. */
static scmp_filter_ctx build_oci(const json_t *seccomp) {
        static const struct {
                const char *name;
                enum scmp_compare op;
        } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
                   {"SCMP_CMP_LT", SCMP_CMP_LT},
                   {"SCMP_CMP_LE", SCMP_CMP_LE},
                   {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                   {"SCMP_CMP_GE", SCMP_CMP_GE},
                   {"SCMP_CMP_GT", SCMP_CMP_GT},
                   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
        const json_t *syscalls = json_object_get(seccomp, "syscalls");
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

        assert_non_null(ctx);
        assert_int_equal(seccomp_arch_add(ctx, SCMP_ARCH_X86), 0);
        assert_int_equal(seccomp_arch_add(ctx, SCMP_ARCH_X32), 0);
        for (size_t i = 0; i < json_array_size(syscalls); i++) {
                const json_t *e = json_array_get(syscalls, i), *names = json_object_get(e, "names");
                const json_t *args = json_object_get(e, "args");
                const char *action = json_string_value(json_object_get(e, "action"));
                struct scmp_arg_cmp cmp[6];
                uint32_t act;

                assert_true(json_array_size(args) <= 6);
                act = streq(action, "SCMP_ACT_NOTIFY") ? SCMP_ACT_NOTIFY
                      : streq(action, "SCMP_ACT_ERRNO")
                              ? SCMP_ACT_ERRNO((uint32_t) json_integer_value(json_object_get(e, "errnoRet")))
                              : SCMP_ACT_ALLOW;
                for (size_t k = 0; k < json_array_size(args); k++) {
                        const json_t *a = json_array_get(args, k);
                        const char *op = json_string_value(json_object_get(a, "op"));
                        cmp[k] = (struct scmp_arg_cmp){
                                .arg = (unsigned) json_integer_value(json_object_get(a, "index")),
                                .datum_a = (uint64_t) json_integer_value(json_object_get(a, "value")),
                                .datum_b = (uint64_t) json_integer_value(json_object_get(a, "valueTwo"))};
                        for (size_t o = 0; o < ELEMENTSOF(ops); o++)
                                if (streq(op, ops[o].name))
                                        cmp[k].op = ops[o].op;
                }
                for (size_t j = 0; j < json_array_size(names); j++) {
                        int nr = seccomp_syscall_resolve_name(json_string_value(json_array_get(names, j)));
                        assert_int_equal(seccomp_rule_add_array(ctx, act, nr, (unsigned) json_array_size(args), cmp),
                                         0);
                }
        }
        return ctx;
}

static void test_oci_profile(void **state) {
        json_auto_t *config = json_pack("{s:{s:[s]}}", "process", "args", "sh");
        _cleanup_free_ char *error = NULL;
        scmp_filter_ctx ctx;
        struct program p;
        (void) state;

        assert_non_null(config);
        assert_int_equal(ocispec_add_commitd(config, "/run/commitd/oci.sock", NULL, &error), 0);
        ctx = build_oci(json_object_get(json_object_get(config, "linux"), "seccomp"));
        p = export(ctx);
        seccomp_release(ctx);
        check_notified(&p, "the OCI profile");
        free(p.insns);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_numbers_match_libseccomp),
                cmocka_unit_test(test_lookup),
                cmocka_unit_test(test_cells_partition),
                cmocka_unit_test(test_commitctl_filter),
                cmocka_unit_test(test_oci_profile),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
