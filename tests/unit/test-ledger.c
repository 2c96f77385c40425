/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger.h"

static void test_charge_and_remeasure(void **state) {
        struct ledger l = {0};
        (void) state;

        assert_int_equal(ledger_committed(&l), 0);
        assert_int_equal(l.generation, 0);
        struct ledger_mark m = ledger_measure_begin(&l);
        ledger_remeasure(&l, &m, 1000 * 4096, 0, 5);
        assert_int_equal(ledger_committed(&l), 1000 * 4096);
        assert_int_equal(l.measured_at_usec, 5);
        assert_int_equal(l.generation, 1);

        assert_int_equal(ledger_charge(&l, 4096), 0);
        assert_int_equal(ledger_charge(&l, 8192), 0);
        assert_int_equal(ledger_committed(&l), 1003 * 4096);

        /* A measure replaces belief: memory freed since (munmap, exit) shows up only here. */
        m = ledger_measure_begin(&l);
        ledger_remeasure(&l, &m, 10 * 4096, 0, 9);
        assert_int_equal(ledger_committed(&l), 10 * 4096);
        assert_int_equal(l.admitted_bytes, 0);
        assert_int_equal(l.generation, 2);
}

/* Issue 9, item 7: calls answered CONTINUE that the kernel has not acted on are not in the measure; forgetting
 * them let racing threads pass the budget. They stay, and so does what was admitted while the measure ran. */
static void test_inflight_survives(void **state) {
        struct ledger l = {0};
        struct ledger_mark m = ledger_measure_begin(&l);
        (void) state;

        ledger_remeasure(&l, &m, 10 * 4096, 0, 1);
        assert_int_equal(ledger_charge(&l, 4 * 4096), 0); /* admitted, done by the kernel */
        assert_int_equal(ledger_charge(&l, 4 * 4096), 0); /* admitted, not yet done */
        m = ledger_measure_begin(&l);
        assert_int_equal(ledger_charge(&l, 2 * 4096), 0); /* admitted while the measure reads smaps */
        ledger_remeasure(&l, &m, 14 * 4096, 4 * 4096, 2);
        assert_int_equal(ledger_committed(&l), (14 + 4 + 2) * 4096);
        assert_false(ledger_grew(&l)); /* what it kept is not growth: upkeep need not measure again at once */
        assert_int_equal(ledger_charge(&l, 4096), 0);
        assert_true(ledger_grew(&l));
        assert_int_equal(l.generation, 2);
        m = ledger_measure_begin(&l);
        ledger_remeasure(&l, &m, UINT64_MAX - 1, UINT64_MAX, 3);
        assert_int_equal(ledger_committed(&l), UINT64_MAX);
}

static void test_saturates(void **state) {
        struct ledger l = {0};
        struct ledger_mark m = ledger_measure_begin(&l);
        (void) state;

        ledger_remeasure(&l, &m, UINT64_MAX - 10, 0, 1);
        assert_int_equal(ledger_charge(&l, 5), 0);
        assert_int_equal(ledger_committed(&l), UINT64_MAX - 5);
        assert_int_equal(ledger_charge(&l, 10), 0);
        assert_int_equal(ledger_committed(&l), UINT64_MAX); /* saturates, never wraps to small */
        assert_int_equal(ledger_charge(&l, UINT64_MAX), -EOVERFLOW);
        assert_int_equal(ledger_committed(&l), UINT64_MAX);
}

/* Two measures overlap (each reads /proc without the daemon's lock): X begins, Y begins, a call is admitted,
 * Y is put in the ledger, then X. X is older news and must not replace Y; and whichever is put in keeps what
 * was admitted after it began (the restart-churn failure: a charge admitted between X's begin and Y's end was
 * dropped, and a worker held 388 KiB past its budget). */
static void test_overlapping_measures(void **state) {
        struct ledger l = {0};
        struct ledger_mark x, y;
        (void) state;

        x = ledger_measure_begin(&l);
        assert_int_equal(ledger_charge(&l, 8 * 4096), 0); /* before y began: in y's measure, not x's */
        y = ledger_measure_begin(&l);
        assert_int_equal(ledger_charge(&l, 4 * 4096), 0); /* after both began */
        assert_true(ledger_remeasure(&l, &y, 18 * 4096, 0, 2));
        assert_int_equal(ledger_committed(&l), (18 + 4) * 4096);
        assert_false(ledger_remeasure(&l, &x, 10 * 4096, 0, 3));
        assert_int_equal(ledger_committed(&l), (18 + 4) * 4096);
        assert_int_equal(l.measured_at_usec, 2);

        /* In order, each keeps what was admitted after it began. */
        x = ledger_measure_begin(&l);
        assert_int_equal(ledger_charge(&l, 2 * 4096), 0);
        assert_true(ledger_remeasure(&l, &x, 30 * 4096, 0, 4));
        assert_int_equal(ledger_committed(&l), (30 + 2) * 4096);
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_charge_and_remeasure),
                                           cmocka_unit_test(test_inflight_survives), cmocka_unit_test(test_saturates),
                                           cmocka_unit_test(test_overlapping_measures)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
