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
        ledger_remeasure(&l, 1000 * 4096, 0, 0, 5);
        assert_int_equal(ledger_committed(&l), 1000 * 4096);
        assert_int_equal(l.measured_at_usec, 5);
        assert_int_equal(l.generation, 1);

        assert_int_equal(ledger_charge(&l, 4096), 0);
        assert_int_equal(ledger_charge(&l, 8192), 0);
        assert_int_equal(ledger_committed(&l), 1003 * 4096);

        /* A measure replaces belief: memory freed since (munmap, exit) shows up only here. */
        ledger_remeasure(&l, 10 * 4096, 0, l.admitted_bytes, 9);
        assert_int_equal(ledger_committed(&l), 10 * 4096);
        assert_int_equal(l.admitted_bytes, 0);
        assert_int_equal(l.generation, 2);
}

/* Issue 9, item 7: calls answered CONTINUE that the kernel has not acted on are not in the measure; forgetting
 * them let racing threads pass the budget. They stay, and so does what was admitted while the measure ran. */
static void test_inflight_survives(void **state) {
        struct ledger l = {0};
        uint64_t start;
        (void) state;

        ledger_remeasure(&l, 10 * 4096, 0, 0, 1);
        assert_int_equal(ledger_charge(&l, 4 * 4096), 0); /* admitted, done by the kernel */
        assert_int_equal(ledger_charge(&l, 4 * 4096), 0); /* admitted, not yet done */
        start = l.admitted_bytes;
        assert_int_equal(ledger_charge(&l, 2 * 4096), 0); /* admitted while the measure reads smaps */
        ledger_remeasure(&l, 14 * 4096, 4 * 4096, start, 2);
        assert_int_equal(ledger_committed(&l), (14 + 4 + 2) * 4096);
        assert_false(ledger_grew(&l)); /* what it kept is not growth: upkeep need not measure again at once */
        assert_int_equal(ledger_charge(&l, 4096), 0);
        assert_true(ledger_grew(&l));
        assert_int_equal(l.generation, 2);
        ledger_remeasure(&l, UINT64_MAX - 1, UINT64_MAX, 0, 3);
        assert_int_equal(ledger_committed(&l), UINT64_MAX);
}

static void test_saturates(void **state) {
        struct ledger l = {0};
        (void) state;

        ledger_remeasure(&l, UINT64_MAX - 10, 0, 0, 1);
        assert_int_equal(ledger_charge(&l, 5), 0);
        assert_int_equal(ledger_committed(&l), UINT64_MAX - 5);
        assert_int_equal(ledger_charge(&l, 10), 0);
        assert_int_equal(ledger_committed(&l), UINT64_MAX); /* saturates, never wraps to small */
        assert_int_equal(ledger_charge(&l, UINT64_MAX), -EOVERFLOW);
        assert_int_equal(ledger_committed(&l), UINT64_MAX);
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_charge_and_remeasure),
                                           cmocka_unit_test(test_inflight_survives), cmocka_unit_test(test_saturates)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
