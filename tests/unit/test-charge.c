/* SPDX-License-Identifier: MIT */
/* The charge of a call (lib/charge.c), case by case against the kernel's rules (mm/mmap.c accountable_mapping(),
 * mm/mremap.c, mm/mprotect.c, kernel/fork.c dup_mmap(), ipc/shm.c newseg(), mm/mmap.c brk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include <cmocka.h>

#include "charge.h"
#include "macro.h"

#define PAGE 4096u
#define MiB  (UINT64_C(1) << 20)
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static const struct charge_caller caller = {
        .fork_bytes = 40 * MiB, .fork_noreserve_bytes = 2 * MiB, .heap_end = 0x55550000a000};

static void test_table(void **state) {
        static const struct {
                const char *what;
                enum call_kind kind;
                uint64_t args[6];
                uint64_t plain, noreserve;
                bool copied_by_fork;
        } cases[] = {
                {"private writable anonymous",
                 CALL_MMAP,
                 {0, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS},
                 MiB,
                 0,
                 true},
                {"rounded to pages", CALL_MMAP, {0, 1, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS}, PAGE, 0, true},
                {"MAP_NORESERVE: strict only",
                 CALL_MMAP,
                 {0, MiB, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE},
                 0,
                 MiB,
                 true},
                {"read-only private: not accountable",
                 CALL_MMAP,
                 {0, MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS},
                 0,
                 0,
                 false},
                {"shared anonymous: shmem, whole",
                 CALL_MMAP,
                 {0, MiB, PROT_READ, MAP_SHARED | MAP_ANONYMOUS},
                 MiB,
                 0,
                 false},
                {"shared anonymous NORESERVE",
                 CALL_MMAP,
                 {0, MiB, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE},
                 0,
                 MiB,
                 false},
                {"shared file: not committed", CALL_MMAP, {0, MiB, PROT_WRITE, MAP_SHARED}, 0, 0, false},
                {"hugetlb: its own pool",
                 CALL_MMAP,
                 {0, MiB, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB},
                 0,
                 0,
                 false},
                {"brk(0): a query", CALL_BRK, {0}, 0, 0, false},
                {"brk growth from the heap's end", CALL_BRK, {0x55550000a000 + 3 * PAGE + 5}, 4 * PAGE, 0, true},
                {"brk within the last page", CALL_BRK, {0x55550000a000 - 100}, 0, 0, false},
                {"brk shrink", CALL_BRK, {0x555500000000}, 0, 0, false},
                {"mremap growth", CALL_MREMAP, {0x1000, MiB, 3 * MiB, MREMAP_MAYMOVE}, 2 * MiB, 0, true},
                {"mremap shrink", CALL_MREMAP, {0x1000, 3 * MiB, MiB, 0}, 0, 0, false},
                {"mremap DONTUNMAP: the new area whole",
                 CALL_MREMAP,
                 {0x1000, 40 * MiB, 40 * MiB, MREMAP_MAYMOVE | MREMAP_DONTUNMAP},
                 40 * MiB,
                 0,
                 true},
                {"mprotect: the range", CALL_MPROTECT, {0x1000, MiB + 1, PROT_READ | PROT_WRITE}, MiB + PAGE, 0, true},
                {"fork: the process's accountable size", CALL_FORK, {0}, 40 * MiB, 2 * MiB, false},
                {"clone without CLONE_VM", CALL_CLONE, {17}, 40 * MiB, 2 * MiB, false},
                {"shmget IPC_PRIVATE", CALL_SHMGET, {IPC_PRIVATE, MiB, 0600}, MiB, 0, false},
                {"shmget IPC_CREAT", CALL_SHMGET, {42, MiB, IPC_CREAT | 0600}, MiB, 0, false},
                {"shmget of an existing key", CALL_SHMGET, {42, MiB, 0600}, 0, 0, false},
                {"shmget SHM_NORESERVE", CALL_SHMGET, {IPC_PRIVATE, MiB, SHM_NORESERVE}, 0, MiB, false},
                {"shmget SHM_HUGETLB", CALL_SHMGET, {IPC_PRIVATE, MiB, SHM_HUGETLB}, 0, 0, false},
                {"i386 ipc(SHMGET)", CALL_IPC, {23, IPC_PRIVATE, MiB, 0600}, MiB, 0, false},
                {"i386 ipc(SHMGET) with a version", CALL_IPC, {23 | (1 << 16), IPC_PRIVATE, MiB, 0600}, MiB, 0, false},
                {"i386 ipc(SHMAT)", CALL_IPC, {21, IPC_PRIVATE, MiB, 0600}, 0, 0, false},
                {"madvise(MADV_DOFORK)", CALL_DOFORK, {0x1000, MiB, MADV_DOFORK}, 0, 0, false},
                {"memfd_create", CALL_MEMFD, {0}, 0, 0, false},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct call_charge c;
                charge_of_call(cases[i].kind, cases[i].args, &caller, PAGE, &c);
                if (c.plain != cases[i].plain || c.noreserve != cases[i].noreserve ||
                    c.copied_by_fork != cases[i].copied_by_fork)
                        fail_msg("%s: plain %lu noreserve %lu fork %d; want %lu %lu %d", cases[i].what,
                                 (unsigned long) c.plain, (unsigned long) c.noreserve, c.copied_by_fork,
                                 (unsigned long) cases[i].plain, (unsigned long) cases[i].noreserve,
                                 cases[i].copied_by_fork);
        }
}

static void test_mremap_exact(void **state) {
        const uint64_t grow[6] = {0x1000, MiB, 3 * MiB, MREMAP_MAYMOVE};
        const uint64_t dontunmap[6] = {0x1000, 8 * MiB, 8 * MiB, MREMAP_MAYMOVE | MREMAP_DONTUNMAP};
        struct call_charge c;
        (void) state;

        charge_mremap_exact(grow, &(struct charge_area){.found = true, .accountable = true, .private_ = true}, PAGE,
                            &c);
        assert_int_equal(c.plain, 2 * MiB);
        charge_mremap_exact(dontunmap, &(struct charge_area){.found = true, .accountable = true, .private_ = true},
                            PAGE, &c);
        assert_int_equal(c.plain, 8 * MiB);
        /* shared or read-only: nothing */
        charge_mremap_exact(grow, &(struct charge_area){.found = true}, PAGE, &c);
        assert_int_equal(c.plain + c.noreserve, 0);
        /* private writable NORESERVE: what mode 2 would charge */
        charge_mremap_exact(grow,
                            &(struct charge_area){.found = true, .private_ = true, .writable = true, .noreserve = true},
                            PAGE, &c);
        assert_int_equal(c.plain, 0);
        assert_int_equal(c.noreserve, 2 * MiB);
        /* no area: the kernel fails it */
        charge_mremap_exact(grow, &(struct charge_area){.found = false}, PAGE, &c);
        assert_int_equal(c.plain + c.noreserve, 0);
}

static void test_page_up_saturates(void **state) {
        (void) state;
        assert_int_equal(charge_page_up(UINT64_MAX, PAGE), UINT64_MAX & ~(uint64_t) (PAGE - 1));
        assert_int_equal(charge_page_up(0, PAGE), 0);
        assert_int_equal(charge_page_up(PAGE + 1, PAGE), 2 * PAGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_mremap_exact),
                cmocka_unit_test(test_page_up_saturates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
