/* SPDX-License-Identifier: MIT */
/* The program break's page from /proc/PID/maps (lib/heap.c): buffers, and this process's own maps against
 * sbrk(0), which glibc got from the kernel's brk(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sys/mman.h>

#include "heap.h"
#include "macro.h"
#include "procfs.h"

static void test_buffers(void **state) {
        static const char maps[] = "55f0c0a00000-55f0c0a02000 r--p 00000000 fe:01 1234 /usr/bin/x\n"
                                   "55f0c0a02000-55f0c0a04000 r-xp 00002000 fe:01 1234 /usr/bin/x\n"
                                   "55f0c1c00000-55f0c1c21000 rw-p 00000000 00:00 0                          [heap]\n"
                                   "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        static const char no_heap[] = "55f0c0a00000-55f0c0a02000 r--p 00000000 fe:01 1234 /usr/bin/x\n"
                                      "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        uint64_t end;
        bool has;
        (void) state;

        assert_int_equal(heap_end_parse(maps, 0x55f0c1c00000, &end, &has), 0);
        assert_true(has);
        assert_int_equal(end, 0x55f0c1c21000);
        assert_int_equal(heap_end_parse(no_heap, 0x55f0c1c00000, &end, &has), 0);
        assert_false(has);
        assert_int_equal(end, 0x55f0c1c00000);
        assert_int_equal(heap_end_parse("", 0x1000, &end, &has), 0);
        assert_false(has);
        assert_int_equal(heap_end_parse("garbage\n", 0x1000, &end, &has), -EINVAL);
        /* A heap of two areas (after a fork, or an mprotect of part of it): the break's page ends the second. */
        static const char split[] = "55f0c0a00000-55f0c0a02000 r--p 00000000 fe:01 1234 /usr/bin/x\n"
                                    "55f0c1c00000-55f0c1c10000 rw-p 00000000 00:00 0    [heap]\n"
                                    "55f0c1c10000-55f0c1c21000 rw-p 00000000 00:00 0    [heap]\n"
                                    "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        assert_int_equal(heap_end_parse(split, 0x55f0c1c00000, &end, &has), 0);
        assert_true(has);
        assert_int_equal(end, 0x55f0c1c21000);
        /* The file ends with the heap. */
        assert_int_equal(heap_end_parse(maps, 0x55f0c1c00000, &end, &has), 0);
        static const char last[] = "55f0c1c00000-55f0c1c21000 rw-p 00000000 00:00 0 [heap]";
        assert_int_equal(heap_end_parse(last, 0x55f0c1c00000, &end, &has), 0);
        assert_true(has);
        assert_int_equal(end, 0x55f0c1c21000);
}

static void test_self(void **state) {
        char path[64];
        struct proc_stat st;
        uint64_t end, page = (uint64_t) sysconf(_SC_PAGESIZE);
        bool has;
        void *volatile p;
        (void) state;

        p = sbrk(3 * page + 17); /* grow the heap: its area now exists and ends at PAGE_ALIGN(brk) */
        assert_true(p != (void *) -1);
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) getpid());
        assert_int_equal(proc_stat_read(path, &st), 0);
        snprintf(path, sizeof(path), "/proc/%d/maps", (int) getpid());
        assert_int_equal(heap_end_read(path, st.start_brk, &end, &has), 0);
        assert_true(has);
        assert_int_equal(end, ((uint64_t) (uintptr_t) sbrk(0) + page - 1) & ~(page - 1));

        /* Split the heap in three areas, each labelled [heap]: the end is still the break's page. */
        uint64_t brk_page = ((uint64_t) (uintptr_t) sbrk(0) + page - 1) & ~(page - 1);
        assert_int_equal(mprotect((void *) (uintptr_t) (brk_page - 2 * page), page, PROT_READ), 0);
        assert_int_equal(heap_end_read(path, st.start_brk, &end, &has), 0);
        assert_true(has);
        assert_int_equal(end, brk_page);
        assert_int_equal(mprotect((void *) (uintptr_t) (brk_page - 2 * page), page, PROT_READ | PROT_WRITE), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_buffers), cmocka_unit_test(test_self)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
