/* SPDX-License-Identifier: MIT */
/* lib/knobs.c: what a valid mode, ratio and limit is, from a policy file or a request (JSON) and from
 * commitctl's argument (text), and that commitctl's request reads back as the change it meant. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "knobs.h"
#include "macro.h"

static void test_text(void **state) {
        struct knob_change c;
        (void) state;

        assert_int_equal(knob_parse_text(KNOB_MODE, "strict", &c), 0);
        assert_int_equal(c.mode, COMMIT_MODE_NEVER);
        assert_int_equal(knob_parse_text(KNOB_MODE, "1", &c), 0);
        assert_int_equal(c.mode, COMMIT_MODE_ALWAYS);
        assert_int_equal(knob_parse_text(KNOB_MODE, "3", &c), -EINVAL);
        assert_int_equal(knob_parse_text(KNOB_MODE, "", &c), -EINVAL);

        assert_int_equal(knob_parse_text(KNOB_RATIO, "0", &c), 0);
        assert_int_equal(knob_parse_text(KNOB_RATIO, "10000", &c), 0);
        assert_int_equal(c.ratio, 10000);
        assert_int_equal(knob_parse_text(KNOB_RATIO, "10001", &c), -EINVAL);
        assert_int_equal(knob_parse_text(KNOB_RATIO, "-1", &c), -EINVAL);
        assert_int_equal(knob_parse_text(KNOB_RATIO, "+5", &c), -EINVAL);
        assert_int_equal(knob_parse_text(KNOB_RATIO, "5%", &c), -EINVAL);

        assert_int_equal(knob_parse_text(KNOB_LIMIT, "4G", &c), 0);
        assert_false(c.clear);
        assert_int_equal(c.limit_bytes, 4ull << 30);
        assert_int_equal(knob_parse_text(KNOB_LIMIT, "none", &c), 0);
        assert_true(c.clear);
        assert_int_equal(knob_parse_text(KNOB_LIMIT, "9E", &c), -EINVAL); /* past a JSON integer */
        assert_int_equal(knob_parse_text(KNOB_LIMIT, "lots", &c), -EINVAL);
        assert_int_equal(knob_parse_text(_KNOB_MAX, "1", &c), -EINVAL);
}

static void test_json(void **state) {
        struct knob_change c;
        json_t *v;
        (void) state;

        v = json_integer(2);
        assert_int_equal(knob_parse_json(KNOB_MODE, v, false, &c), 0);
        assert_int_equal(c.mode, COMMIT_MODE_NEVER);
        json_decref(v);
        v = json_string("guess");
        assert_int_equal(knob_parse_json(KNOB_MODE, v, false, &c), 0);
        assert_int_equal(c.mode, COMMIT_MODE_GUESS);
        json_decref(v);
        v = json_integer(3);
        assert_int_equal(knob_parse_json(KNOB_MODE, v, false, &c), -EINVAL);
        json_decref(v);

        v = json_string("80");
        assert_int_equal(knob_parse_json(KNOB_RATIO, v, false, &c), -EINVAL); /* a ratio is a JSON integer */
        json_decref(v);

        v = json_null();
        assert_int_equal(knob_parse_json(KNOB_LIMIT, v, true, &c), 0);
        assert_true(c.clear);
        assert_int_equal(knob_parse_json(KNOB_LIMIT, v, false, &c), -EINVAL); /* a policy file leaves it out */
        v = json_string("512M");
        assert_int_equal(knob_parse_json(KNOB_LIMIT, v, false, &c), 0);
        assert_int_equal(c.limit_bytes, 512ull << 20);
        json_decref(v);
        v = json_integer(-1);
        assert_int_equal(knob_parse_json(KNOB_LIMIT, v, true, &c), -EINVAL);
        json_decref(v);
}

/* What commitctl sends for its argument is read back by the dispatcher as the same change. */
static void test_round_trip(void **state) {
        static const struct {
                enum knob k;
                const char *text;
        } cases[] = {{KNOB_MODE, "heuristic"}, {KNOB_MODE, "2"},    {KNOB_RATIO, "0"}, {KNOB_RATIO, "150"},
                     {KNOB_LIMIT, "none"},     {KNOB_LIMIT, "64M"}, {KNOB_LIMIT, "1"}};
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct knob_change a, b;
                json_t *v;
                assert_int_equal(knob_parse_text(cases[i].k, cases[i].text, &a), 0);
                v = knob_change_json(&a);
                assert_non_null(v);
                assert_int_equal(knob_parse_json(cases[i].k, v, true, &b), 0);
                assert_memory_equal(&a, &b, sizeof(a));
                json_decref(v);
        }
        assert_string_equal(knob_name(KNOB_LIMIT), "limit");
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_text), cmocka_unit_test(test_json),
                                           cmocka_unit_test(test_round_trip)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
