/* SPDX-License-Identifier: MIT */
/* Policy files: golden files under tests/data/policy. good/X.json must parse, and X.ok holds the canonical
 * JSON of the result; bad/X.json must fail, and X.ok holds the one error line the operator sees. Adding a
 * file adds a case. COMMITD_UPDATE_GOLDEN=1 rewrites the .ok files from what the parser does now. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "golden.h"
#include "macro.h"
#include "policy.h"

static void free_names(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* "dir/x.json" -> "dir/x.ok" */
static char *ok_path(const char *json_path) {
        char *s = strdup(json_path);
        assert_non_null(s);
        strcpy(s + strlen(s) - 5, ".ok");
        return s;
}

static void check_golden(const char *json_path, const char *got) {
        _cleanup_free_ char *ok = ok_path(json_path);

        golden_check(ok, got);
}

static char *dump_policy(const struct policy *p) {
        json_auto_t *j = policy_to_json(p);
        char *s, *line;

        assert_non_null(j);
        s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
        assert_non_null(s);
        assert_int_equal(asprintf(&line, "%s\n", s) > 0, 1);
        free(s);
        return line;
}

static void assert_policy_equal(const struct policy *a, const struct policy *b) {
        assert_string_equal(a->name, b->name);
        assert_string_equal(a->cgroup, b->cgroup);
        assert_true((a->description == NULL) == (b->description == NULL));
        if (a->description)
                assert_string_equal(a->description, b->description);
        assert_memory_equal(&a->budget, &b->budget, sizeof(a->budget)); /* both zero-initialized, then set */
        assert_int_equal(a->has_ram, b->has_ram);
        assert_int_equal(a->has_swap, b->has_swap);
        assert_int_equal(a->has_hugetlb, b->has_hugetlb);
        assert_int_equal(a->has_admin_reserve, b->has_admin_reserve);
        assert_int_equal(a->has_user_reserve, b->has_user_reserve);
        assert_int_equal(a->enforce, b->enforce);
        assert_int_equal(a->meminfo, b->meminfo);
}

static void test_good(void **state) {
        char **names;
        size_t n = golden_list("policy/good", ".json", NULL, false, &names);
        (void) state;

        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
                struct policy p = {};
                char *error = NULL;
                _cleanup_free_ char *got = NULL;
                int r;

                print_message("good: %s\n", names[i]);
                r = policy_load_file(names[i], &p, &error);
                if (r < 0)
                        print_error("%s\n", error);
                assert_int_equal(r, 0);
                assert_null(error);
                got = dump_policy(&p);
                check_golden(names[i], got);
                policy_done(&p);
        }
        print_message("%zu good policies\n", n);
        free_names(names, n);
}

static void test_bad(void **state) {
        char **names;
        size_t n = golden_list("policy/bad", ".json", NULL, false, &names);
        (void) state;

        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
                struct policy p = {};
                _cleanup_free_ char *error = NULL, *line = NULL;

                print_message("bad: %s\n", names[i]);
                assert_int_equal(policy_load_file(names[i], &p, &error), -EINVAL);
                assert_non_null(error);
                assert_null(strchr(error, '\n')); /* exactly one line */
                assert_null(p.name);              /* ret untouched on failure */
                assert_int_equal(asprintf(&line, "%s\n", error) > 0, 1);
                check_golden(names[i], line);

                /* Without ret_error the same failure, silently. */
                assert_int_equal(policy_load_file(names[i], &p, NULL), -EINVAL);
        }
        print_message("%zu bad policies\n", n);
        free_names(names, n);
}

/* parse -> policy_to_json -> dump -> parse gives the same policy. */
static void test_round_trip(void **state) {
        char **names;
        size_t n = golden_list("policy/good", ".json", NULL, false, &names);
        (void) state;

        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
                struct policy a = {}, b = {};
                _cleanup_free_ char *text = NULL, *error = NULL;

                assert_int_equal(policy_load_file(names[i], &a, NULL), 0);
                text = dump_policy(&a);
                if (policy_parse(names[i], text, strlen(text), &b, &error) < 0)
                        print_error("%s\n", error);
                assert_null(error);
                assert_policy_equal(&a, &b);
                policy_done(&a);
                policy_done(&b);
        }
        free_names(names, n);
}

/* The example policies shipped in policies/ all parse. */
static void test_shipped_policies(void **state) {
        char **names;
        size_t n = golden_list("../../policies", ".json", "schema.json", false, &names);
        (void) state;

        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
                struct policy p = {};
                _cleanup_free_ char *error = NULL;

                print_message("shipped: %s\n", names[i]);
                if (policy_load_file(names[i], &p, &error) < 0)
                        print_error("%s\n", error);
                assert_null(error);
                assert_non_null(p.cgroup);
                policy_done(&p);
        }
        free_names(names, n);
}

static void test_defaults(void **state) {
        const char *s = "{\"cgroup\": \"tenants/a/\"}";
        struct policy p = {};
        (void) state;

        assert_int_equal(policy_parse("/etc/commitd/policies/a.json", s, strlen(s), &p, NULL), 0);
        assert_string_equal(p.name, "a");
        assert_string_equal(p.cgroup, "/tenants/a");
        assert_null(p.description);
        assert_int_equal(p.budget.mode, COMMIT_MODE_NEVER);
        assert_int_equal(p.budget.formula, COMMIT_FORMULA_KERNEL);
        assert_int_equal(p.budget.ratio, 50);
        assert_false(p.budget.has_limit);
        assert_int_equal(p.budget.ram_bytes, 0);
        assert_false(p.has_ram || p.has_swap || p.has_hugetlb || p.has_admin_reserve || p.has_user_reserve);
        assert_true(p.enforce);
        policy_done(&p);

        /* The buffer need not be NUL-terminated: only len bytes are read. */
        s = "{\"cgroup\": \"/x\"}garbage";
        assert_int_equal(policy_parse("x", s, 16, &p, NULL), 0);
        assert_string_equal(p.name, "x");
        policy_done(&p);

        policy_done(&p); /* a zeroed struct */
        policy_done(NULL);
}

static void test_limits(void **state) {
        _cleanup_free_ char *big = NULL, *error = NULL;
        char path[] = "/tmp/test-policy-XXXXXX";
        struct policy p = {};
        size_t len = POLICY_MAX_FILE_BYTES + 1;
        int fd;
        (void) state;

        big = malloc(len);
        assert_non_null(big);
        /* 65536 bytes of a valid policy, then one blank too many. */
        memset(big, ' ', len);
        big[0] = '{';
        memcpy(big + len - 1 - 14, "\"cgroup\":\"/a\"}", 14);
        assert_int_equal(policy_parse("big.json", big, len - 1, &p, NULL), 0);
        policy_done(&p);
        assert_int_equal(policy_parse("big.json", big, len, &p, &error), -EINVAL);
        assert_string_equal(error, "big.json:1:1: the file is 65537 bytes, more than the 65536 a policy may hold: "
                                   "keep one small JSON object");
        free(error);
        error = NULL;

        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, big, len), (ssize_t) len);
        close(fd);
        assert_int_equal(policy_load_file(path, &p, &error), -EFBIG);
        assert_non_null(strstr(error, ": larger than 65536 bytes, the most a policy file may hold"));
        assert_int_equal(strncmp(error, path, strlen(path)), 0);
        free(error);
        error = NULL;
        assert_int_equal(unlink(path), 0);

        assert_int_equal(policy_load_file(path, &p, &error), -ENOENT);
        assert_non_null(strstr(error, ": No such file or directory"));
}

static void test_to_json(void **state) {
        struct policy p = {.name = (char *) "n", .cgroup = (char *) "/c", .enforce = false};
        json_auto_t *j = NULL;
        (void) state;

        p.budget.mode = COMMIT_MODE_ALWAYS;
        p.budget.formula = COMMIT_FORMULA_CLASSIC;
        p.budget.has_limit = true;
        p.budget.limit_bytes = UINT64_MAX; /* beyond json_int_t: written as a string of bytes */
        p.budget.ratio = 50;
        j = policy_to_json(&p);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "mode")), "always");
        assert_string_equal(json_string_value(json_object_get(j, "formula")), "classic");
        assert_string_equal(json_string_value(json_object_get(j, "limit")), "18446744073709551615");
        assert_null(json_object_get(j, "ratio"));
        assert_null(json_object_get(j, "ram"));
        assert_null(json_object_get(j, "description"));
        assert_true(json_is_false(json_object_get(j, "enforce")));

        p.budget.mode = _COMMIT_MODE_MAX;
        assert_null(policy_to_json(&p));
}

static void test_name_for_cgroup(void **state) {
        static const struct {
                const char *cgroup, *name;
        } cases[] = {
                {"/", "_root"},
                {"/root", "root"},
                {"/tenants/a", "tenants-a"}, /* as before: paths of letters and digits keep their names */
                {"/a/x-y", "a-x_2dy"},
                {"/a/x/y", "a-x-y"},
                {"/a-x/y", "a_2dx-y"},
                {"/a/x_2dy", "a-x_5f2dy"},
                {"/.hidden", "_2ehidden"}, /* a file named .x.json would be skipped */
                {"/a/.b", "a-.b"},
                {"/system.slice/foo@1.service", "system.slice-foo_401.service"},
                {"/caf\xc3\xa9", "caf_c3_a9"},
                {"/x y", "x_20y"},
        };
        char long_a[300], long_b[300];
        char *name, *other;
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(policy_name_for_cgroup(cases[i].cgroup, false, &name), 0);
                assert_string_equal(name, cases[i].name);
                free(name);
        }
        assert_int_equal(policy_name_for_cgroup("relative", false, &name), -EINVAL);

        /* Long paths: whole escapes up to 46 bytes, then "_h" and FNV-1a of the whole path (checked with Python). */
        snprintf(long_a, sizeof(long_a), "/%0200d/one", 0);
        snprintf(long_b, sizeof(long_b), "/%0200d/two", 0);
        assert_int_equal(policy_name_for_cgroup(long_a, false, &name), 0);
        assert_int_equal(policy_name_for_cgroup(long_b, false, &other), 0);
        assert_int_equal(strlen(name), POLICY_MAX_NAME);
        assert_int_equal(strncmp(name, "0000000000", 10), 0);
        assert_string_equal(name + POLICY_MAX_NAME - 18, "_hecd3cfe3b0b11a61");
        assert_string_not_equal(name, other);
        free(other);
        assert_int_equal(policy_name_for_cgroup(long_a, false, &other), 0); /* stable */
        assert_string_equal(name, other);
        free(name);
        free(other);
        assert_int_equal(policy_name_for_cgroup("/a/x-y", true, &name), 0); /* the hashed form of a short one */
        assert_int_equal(strncmp(name, "a-x_2dy_h", 9), 0);
        assert_int_equal(strlen(name), 7 + 18);
        free(name);
        /* An escape is never cut in half: 45 'a's, then '-' as "_2d" would end at 48. */
        snprintf(long_a, sizeof(long_a), "/%s-%0100d", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
        assert_int_equal(policy_name_for_cgroup(long_a, false, &name), 0);
        assert_int_equal(strncmp(name + 45, "_h", 2), 0);
        free(name);
}

int main(void) {
        const char *data = getenv("COMMITD_TEST_DATA");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),       cmocka_unit_test(test_bad),
                cmocka_unit_test(test_round_trip), cmocka_unit_test(test_shipped_policies),
                cmocka_unit_test(test_defaults),   cmocka_unit_test(test_limits),
                cmocka_unit_test(test_to_json),    cmocka_unit_test(test_name_for_cgroup),
        };

        if (!data || chdir(data) < 0) {
                fprintf(stderr, "COMMITD_TEST_DATA must name tests/data\n");
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
