/* SPDX-License-Identifier: MIT */
/* doctor's numbers: the seed's host, an exhausted strict host, the lenient modes, and --what-if. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "diagnosis.h"

#define PAGE   4096u
#define KiB(n) ((uint64_t) (n) << 10)
#define MiB(n) ((uint64_t) (n) << 20)

/* The seed's /proc/meminfo and sysctls: mode 2, ratio 99, no swap; reserves at their defaults. */
static const struct meminfo seed_mi = {
        .mem_total = KiB(12183700),
        .mem_available = KiB(4429424),
        .commit_limit = KiB(12061860),
        .committed_as = KiB(8625360),
};
static const struct overcommit seed_oc = {
        .mode = COMMIT_MODE_NEVER,
        .ratio = 99,
        .admin_reserve_bytes = KiB(8192),
        .user_reserve_bytes = KiB(131072),
};

static void test_seed(void **state) {
        struct diagnosis d;
        (void) state;

        assert_int_equal(diagnosis_compute(&seed_mi, &seed_oc, PAGE, &d), 0);
        assert_int_equal(d.commit_limit_bytes, KiB(12061860)); /* what the seed's kernel reported */
        assert_int_equal(d.committed_bytes, KiB(8625360));
        /* (3015465 - 2048 admin) - 2156340 committed - 1 page: the largest request still strictly below. */
        assert_int_equal(d.headroom_bytes, KiB(857076 * 4));
        assert_int_equal(d.headroom_admin_bytes, KiB((3015465 - 2156340 - 1) * 4));

        /* A 4 GiB process (VmSize 5 GiB) cannot fork here, a 1 GiB one can; an admin's 3.27 GiB can too. */
        assert_false(diagnosis_fork_fits(&d, MiB(4096), MiB(5120), false, PAGE));
        assert_true(diagnosis_fork_fits(&d, MiB(1024), MiB(1100), false, PAGE));
        assert_true(diagnosis_fork_fits(&d, KiB(857076 * 4), 0, false, PAGE));
        assert_false(diagnosis_fork_fits(&d, KiB(857077 * 4), 0, false, PAGE));
        assert_true(diagnosis_fork_fits(&d, 0, MiB(5120), false, PAGE));
}

static void test_exhausted(void **state) {
        struct meminfo mi = seed_mi;
        struct diagnosis d;
        (void) state;

        mi.committed_as = KiB(12061860) - KiB(8192); /* exactly CommitLimit - admin reserve */
        assert_int_equal(diagnosis_compute(&mi, &seed_oc, PAGE, &d), 0);
        assert_int_equal(d.headroom_bytes, 0);
        assert_int_equal(d.headroom_admin_bytes, KiB(8192) - PAGE);
        assert_false(diagnosis_fork_fits(&d, PAGE, 0, false, PAGE));
        assert_true(diagnosis_fork_fits(&d, PAGE, 0, true, PAGE));
}

/* commitd-meminfo's view: a 64 MiB budget with 16 MiB committed, whatever MemTotal and swap the view shows. */
static void test_view(void **state) {
        struct meminfo mi = {
                .mem_total = MiB(256), .swap_total = MiB(1024), .commit_limit = MiB(64), .committed_as = MiB(16)};
        struct diagnosis d;
        (void) state;

        assert_int_equal(diagnosis_compute_view(&mi, PAGE, &d), 0);
        assert_int_equal(d.budget.mode, COMMIT_MODE_NEVER);
        assert_int_equal(d.commit_limit_bytes, MiB(64));
        assert_int_equal(d.committed_bytes, MiB(16));
        assert_int_equal(d.headroom_bytes, MiB(48) - PAGE); /* strictly below the limit */
        assert_int_equal(d.headroom_admin_bytes, MiB(48) - PAGE);
        assert_true(diagnosis_fork_fits(&d, MiB(40), MiB(41), false, PAGE));
        assert_false(diagnosis_fork_fits(&d, MiB(48), MiB(49), false, PAGE));
        mi.committed_as = MiB(70); /* over: nothing fits */
        assert_int_equal(diagnosis_compute_view(&mi, PAGE, &d), 0);
        assert_int_equal(d.headroom_bytes, 0);
}

static void test_lenient_modes(void **state) {
        struct overcommit oc = seed_oc;
        struct meminfo mi = seed_mi;
        struct diagnosis d;
        (void) state;

        mi.swap_total = MiB(100);
        oc.mode = COMMIT_MODE_GUESS;
        assert_int_equal(diagnosis_compute(&mi, &oc, PAGE, &d), 0);
        assert_int_equal(d.headroom_bytes, KiB(12183700) + MiB(100));
        assert_true(diagnosis_fork_fits(&d, KiB(12183700), UINT64_MAX / 2, false, PAGE));
        assert_false(diagnosis_fork_fits(&d, KiB(12183700) + MiB(101), 0, false, PAGE));

        oc.mode = COMMIT_MODE_ALWAYS;
        assert_int_equal(diagnosis_compute(&mi, &oc, PAGE, &d), 0);
        assert_int_equal(d.headroom_bytes, UINT64_MAX);
        assert_true(diagnosis_fork_fits(&d, UINT64_MAX / 2, 0, false, PAGE));
}

static void test_what_if(void **state) {
        struct overcommit host = {.mode = COMMIT_MODE_GUESS, .ratio = 50, .kbytes_bytes = MiB(64)}, oc;
        struct meminfo mi = seed_mi;
        const char *bad = NULL;
        struct what_if w;
        struct diagnosis d;
        (void) state;

        assert_int_equal(diagnosis_parse_what_if("mode=2,ratio=99", &w, &bad), 0);
        assert_true(w.has_mode && w.has_ratio && !w.has_limit);
        diagnosis_apply_what_if(&host, &w, &oc);
        assert_int_equal(oc.mode, COMMIT_MODE_NEVER);
        assert_int_equal(oc.ratio, 99);
        assert_int_equal(oc.kbytes_bytes, 0); /* writing the ratio clears overcommit_kbytes */
        assert_int_equal(diagnosis_compute(&mi, &oc, PAGE, &d), 0);
        assert_int_equal(d.commit_limit_bytes, KiB(12061860));

        assert_int_equal(diagnosis_parse_what_if("ratio=10,mode=never,limit=4G", &w, &bad), 0);
        assert_true(w.has_limit && !w.has_ratio);
        diagnosis_apply_what_if(&host, &w, &oc);
        assert_int_equal(oc.kbytes_bytes, (uint64_t) 4 << 30);
        assert_int_equal(diagnosis_compute(&mi, &oc, PAGE, &d), 0);
        assert_int_equal(d.commit_limit_bytes, (uint64_t) 4 << 30);
        assert_int_equal(d.headroom_bytes, 0); /* 8.2 GiB committed already: every allocation would fail */

        static const struct {
                const char *spec;
                const char *bad;
        } bads[] = {
                {"", ""},
                {"mode=3", "mode=3"},
                {"mode=2,ratio=x", "ratio=x"},
                {"mode=2,", NULL},
                {"limit=0", "limit=0"},
                {"foo=1", "foo=1"},
                {"mode", "mode"},
                {"ratio=99999999999", "ratio=99999999999"},
        };
        for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
                bad = NULL;
                print_message("what-if \"%s\"\n", bads[i].spec);
                assert_int_equal(diagnosis_parse_what_if(bads[i].spec, &w, &bad), -EINVAL);
                if (bads[i].bad)
                        assert_string_equal(bad, bads[i].bad);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seed),          cmocka_unit_test(test_exhausted), cmocka_unit_test(test_view),
                cmocka_unit_test(test_lenient_modes), cmocka_unit_test(test_what_if),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
