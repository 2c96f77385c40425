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
        ledger_remeasure(&l, 1000 * 4096, 5);
        assert_int_equal(ledger_committed(&l), 1000 * 4096);
        assert_int_equal(l.measured_at_usec, 5);
        assert_int_equal(l.generation, 1);

        assert_int_equal(ledger_charge(&l, 4096), 0);
        assert_int_equal(ledger_charge(&l, 8192), 0);
        assert_int_equal(ledger_committed(&l), 1003 * 4096);

        /* A measure replaces belief: memory freed since (munmap, exit) shows up only here. */
        ledger_remeasure(&l, 10 * 4096, 9);
        assert_int_equal(ledger_committed(&l), 10 * 4096);
        assert_int_equal(l.admitted_bytes, 0);
        assert_int_equal(l.generation, 2);
}

static void test_saturates(void **state) {
        struct ledger l = {0};
        (void) state;

        ledger_remeasure(&l, UINT64_MAX - 10, 1);
        assert_int_equal(ledger_charge(&l, 5), 0);
        assert_int_equal(ledger_committed(&l), UINT64_MAX - 5);
        assert_int_equal(ledger_charge(&l, 10), 0);
        assert_int_equal(ledger_committed(&l), UINT64_MAX); /* saturates, never wraps to small */
        assert_int_equal(ledger_charge(&l, UINT64_MAX), -EOVERFLOW);
        assert_int_equal(ledger_committed(&l), UINT64_MAX);
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_charge_and_remeasure),
                                           cmocka_unit_test(test_saturates)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
