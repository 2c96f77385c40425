/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "macro.h"
#include "units.h"

static void test_parse(void **state) {
        static const struct {
                const char *s;
                int ret;
                uint64_t bytes;
        } cases[] = {
                {"0", 0, 0},
                {"4096", 0, 4096},
                {"4096B", 0, 4096},
                {"512M", 0, UINT64_C(512) << 20},
                {"512m", 0, UINT64_C(512) << 20},
                {"4G", 0, UINT64_C(4) << 30},
                {"4GiB", 0, UINT64_C(4) << 30},
                {"4GB", 0, UINT64_C(4) << 30},
                {"4Gi", 0, UINT64_C(4) << 30},
                {"64K", 0, UINT64_C(64) << 10},
                {"64k", 0, UINT64_C(64) << 10},
                {"1T", 0, UINT64_C(1) << 40},
                {"2P", 0, UINT64_C(2) << 50},
                {"15E", 0, UINT64_C(15) << 60},
                {"18446744073709551615", 0, UINT64_MAX},
                {"18446744073709551616", -ERANGE, 0},
                {"16E", -ERANGE, 0},
                {"99999999999E", -ERANGE, 0},
                {"", -EINVAL, 0},
                {"G", -EINVAL, 0},
                {"-1", -EINVAL, 0},
                {"+1", -EINVAL, 0},
                {" 1", -EINVAL, 0},
                {"1 ", -EINVAL, 0},
                {"1.5G", -EINVAL, 0},
                {"4X", -EINVAL, 0},
                {"4GiBs", -EINVAL, 0},
                {"4iB", -EINVAL, 0},
                {"4BB", -EINVAL, 0},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 12345;
                print_message("parse \"%s\"\n", cases[i].s);
                assert_int_equal(units_parse_size(cases[i].s, &v), cases[i].ret);
                assert_int_equal(v, cases[i].ret == 0 ? cases[i].bytes : 12345);
        }
        uint64_t v;
        assert_int_equal(units_parse_size(NULL, &v), -EINVAL);
}

static void test_parse_count(void **state) {
        static const struct {
                const char *s;
                uint64_t min, max;
                int ret;
                uint64_t v;
        } cases[] = {
                {"1", 1, 3600, 0, 1},
                {"3600", 1, 3600, 0, 3600},
                {"0", 0, 10, 0, 0},
                {"007", 0, 10, 0, 7},
                {"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
                {"0", 1, 3600, -ERANGE, 0},
                {"3601", 1, 3600, -ERANGE, 0},
                {"18446744073709551616", 0, UINT64_MAX, -ERANGE, 0},
                {"", 0, 10, -EINVAL, 0},
                {"+1", 0, 10, -EINVAL, 0},
                {"-1", 0, 10, -EINVAL, 0},
                {" 1", 0, 10, -EINVAL, 0},
                {"1 ", 0, 10, -EINVAL, 0},
                {"1s", 0, 10, -EINVAL, 0},
                {"1.5", 0, 10, -EINVAL, 0},
                {"0x1", 0, 10, -EINVAL, 0},
        };
        uint64_t v;
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                v = 12345;
                print_message("count \"%s\" in [%llu, %llu]\n", cases[i].s, (unsigned long long) cases[i].min,
                              (unsigned long long) cases[i].max);
                assert_int_equal(units_parse_count(cases[i].s, cases[i].min, cases[i].max, &v), cases[i].ret);
                assert_int_equal(v, cases[i].ret == 0 ? cases[i].v : 12345);
        }
        assert_int_equal(units_parse_count(NULL, 0, 10, &v), -EINVAL);
}

static void test_format(void **state) {
        static const struct {
                uint64_t bytes;
                const char *s;
        } cases[] = {
                {0, "0B"},
                {1023, "1023B"},
                {1024, "1.0Ki"},
                {1536, "1.5Ki"},
                {10 * 1024 - 52, "9.9Ki"},
                {10 * 1024 - 51, "10Ki"},
                {UINT64_C(512) << 20, "512Mi"},
                {(UINT64_C(1) << 20) - 1, "1.0Mi"},
                {UINT64_C(3650722201), "3.4Gi"},
                {UINT64_C(12061860) << 10, "12Gi"},
                {UINT64_C(24684084) << 10, "24Gi"},
                {UINT64_MAX, "16Ei"},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[UNITS_FORMAT_MAX];
                print_message("format %llu\n", (unsigned long long) cases[i].bytes);
                assert_string_equal(units_format_size(cases[i].bytes, buf), cases[i].s);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse), cmocka_unit_test(test_parse_count),
                                           cmocka_unit_test(test_format)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
