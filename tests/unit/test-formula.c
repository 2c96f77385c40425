/* SPDX-License-Identifier: MIT */
/* Formula tables: every mode of both families, reserves with and without CAP_SYS_ADMIN, ratio and limit,
 * hugetlb, swap, nesting and overflow edges. Expected values are worked out by hand from mm/util.c
 * (kernel family) and the seed's function (classic family), in 4 KiB pages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "formula.h"
#include "macro.h"

#define PAGE     4096u
#define KiB(n)   ((uint64_t) (n) << 10)
#define MiB(n)   ((uint64_t) (n) << 20)
#define GiB(n)   ((uint64_t) (n) << 30)
#define PAGES(n) ((uint64_t) (n) *PAGE)

static void test_commit_limit(void **state) {
        static const struct {
                const char *what;
                struct budget b;
                int ret;
                uint64_t limit;
        } cases[] = {
                /* The seed: MemTotal 12183700 kB, ratio 99, no swap, no huge pages: CommitLimit 12061860 kB. */
                {"seed", {.ram_bytes = KiB(12183700), .ratio = 99}, 0, KiB(12061860)},
                /* This CI machine: MemTotal 24684084 kB, ratio 50: CommitLimit 12342040 kB. */
                {"host", {.ram_bytes = KiB(24684084), .ratio = 50}, 0, KiB(12342040)},
                {"classic same",
                 {.formula = COMMIT_FORMULA_CLASSIC, .ram_bytes = KiB(12183700), .ratio = 99},
                 0,
                 KiB(12061860)},
                {"swap added", {.ram_bytes = GiB(4), .ratio = 50, .swap_bytes = MiB(512)}, 0, MiB(2560)},
                {"hugetlb out of ram", {.ram_bytes = GiB(4), .hugetlb_bytes = GiB(1), .ratio = 50}, 0, MiB(1536)},
                {"limit replaces ratio",
                 {.ram_bytes = GiB(4), .ratio = 50, .has_limit = true, .limit_bytes = GiB(1)},
                 0,
                 GiB(1)},
                {"limit plus swap", {.has_limit = true, .limit_bytes = GiB(1), .swap_bytes = MiB(512)}, 0, MiB(1536)},
                {"limit floors to pages", {.has_limit = true, .limit_bytes = 4097}, 0, 4096},
                {"ratio 0 leaves swap", {.ram_bytes = GiB(4), .ratio = 0, .swap_bytes = MiB(1)}, 0, MiB(1)},
                {"ratio above 100", {.ram_bytes = GiB(1), .ratio = 300}, 0, GiB(3)},
                {"ram floors to pages", {.ram_bytes = 4096 * 3 + 4095, .ratio = 100}, 0, 4096 * 3},
                {"whole-page ratio", {.ram_bytes = PAGES(3), .ratio = 50}, 0, PAGES(1)},
                {"hugetlb above ram", {.ram_bytes = GiB(1), .hugetlb_bytes = GiB(2), .ratio = 50}, -EINVAL, 0},
                {"ratio overflow", {.ram_bytes = UINT64_MAX, .ratio = 10000}, -ERANGE, 0},
                {"swap overflow", {.has_limit = true, .limit_bytes = UINT64_MAX, .swap_bytes = UINT64_MAX}, -ERANGE, 0},
                {"bytes overflow", {.has_limit = true, .limit_bytes = UINT64_MAX}, 0, UINT64_MAX - 4095},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t limit = 0;
                int r = formula_commit_limit(&cases[i].b, PAGE, &limit);
                print_message("commit limit: %s\n", cases[i].what);
                assert_int_equal(r, cases[i].ret);
                if (r == 0)
                        assert_int_equal(limit, cases[i].limit);
        }

        uint64_t limit;
        struct budget b = {.ram_bytes = GiB(1), .ratio = 50};
        assert_int_equal(formula_commit_limit(&b, 3000, &limit), -EINVAL);
        assert_int_equal(formula_commit_limit(&b, 65536, &limit), 0);
        assert_int_equal(limit, MiB(512));
}

/* 1 GiB of ram, ratio 50: CommitLimit 131072 pages; admin reserve 8 MiB (2048 pages), user reserve
 * 128 MiB (32768 pages). */
#define STRICT_1G(f)                                                                                                   \
        {                                                                                                              \
                .mode = COMMIT_MODE_NEVER, .formula = (f), .ram_bytes = GiB(1), .ratio = 50,                           \
                .admin_reserve_bytes = MiB(8), .user_reserve_bytes = MiB(128)                                          \
        }

struct judge_case {
        const char *what;
        struct budget b;
        uint64_t committed;
        const struct heuristic_state *h;
        struct formula_caller caller;
        uint64_t request;
        int ret;
        enum formula_verdict verdict;
        uint64_t allowed;
};

/* Classic heuristic state: file 25600 + slab 6400 pages = 32000; free 102400 pages, reserve 2400. */
static const struct heuristic_state heur = {
        .file_bytes = PAGES(25600),
        .slab_reclaimable_bytes = PAGES(6400),
        .free_bytes = PAGES(102400),
        .totalreserve_bytes = PAGES(2400),
};
static const struct heuristic_state heur_no_free = {
        .file_bytes = PAGES(25600),
        .slab_reclaimable_bytes = PAGES(6400),
        .free_bytes = PAGES(2400),
        .totalreserve_bytes = PAGES(2400),
};

static const struct formula_caller user64m = {.total_vm_bytes = MiB(64)}; /* total_vm/32 = 512 pages */
static const struct formula_caller admin64m = {.total_vm_bytes = MiB(64), .cap_sys_admin = true};
static const struct formula_caller user64g = {.total_vm_bytes = GiB(64)}; /* total_vm/32 = 524288 pages */
static const struct formula_caller user0 = {0};
static const struct formula_caller admin0 = {.cap_sys_admin = true};

static const struct judge_case judge_cases[] = {
        /* Kernel strict, non-admin: 131072 - 2048 - min(512, 32768) = 128512; admit iff committed+req < it. */
        {"kernel strict fits", STRICT_1G(COMMIT_FORMULA_KERNEL), PAGES(100000), NULL, user64m, PAGES(28511), 0,
         FORMULA_ADMIT, PAGES(128512)},
        {"kernel strict at bound", STRICT_1G(COMMIT_FORMULA_KERNEL), PAGES(100000), NULL, user64m, PAGES(28512), 0,
         FORMULA_REFUSE, PAGES(128512)},
        {"kernel strict partial page rounds up", STRICT_1G(COMMIT_FORMULA_KERNEL), PAGES(100000), NULL, user64m,
         PAGES(28511) + 1, 0, FORMULA_REFUSE, PAGES(128512)},
        /* CAP_SYS_ADMIN skips the admin reserve: 131072 - 512. */
        {"kernel strict admin", STRICT_1G(COMMIT_FORMULA_KERNEL), PAGES(100000), NULL, admin64m, PAGES(30559), 0,
         FORMULA_ADMIT, PAGES(130560)},
        {"kernel strict admin at bound", STRICT_1G(COMMIT_FORMULA_KERNEL), PAGES(100000), NULL, admin64m, PAGES(30560),
         0, FORMULA_REFUSE, PAGES(130560)},
        /* user_reserve caps total_vm/32: 131072 - 2048 - 32768. */
        {"kernel strict user reserve cap", STRICT_1G(COMMIT_FORMULA_KERNEL), 0, NULL, user64g, PAGES(96255), 0,
         FORMULA_ADMIT, PAGES(96256)},
        {"kernel strict no mm", STRICT_1G(COMMIT_FORMULA_KERNEL), 0, NULL, user0, PAGES(129023), 0, FORMULA_ADMIT,
         PAGES(129024)},
        /* Reserves above the limit: allowed is negative in the kernel's long, nothing fits. */
        {"kernel strict reserves exceed",
         {.mode = COMMIT_MODE_NEVER, .ram_bytes = MiB(16), .ratio = 50, .admin_reserve_bytes = MiB(16)},
         0,
         NULL,
         user0,
         PAGES(1),
         0,
         FORMULA_REFUSE,
         0},
        {"kernel strict reserves exceed, admin",
         {.mode = COMMIT_MODE_NEVER, .ram_bytes = MiB(16), .ratio = 50, .admin_reserve_bytes = MiB(16)},
         0,
         NULL,
         admin0,
         PAGES(1),
         0,
         FORMULA_ADMIT,
         PAGES(2048)},
        {"kernel strict with swap and limit",
         {.mode = COMMIT_MODE_NEVER, .has_limit = true, .limit_bytes = MiB(64), .swap_bytes = MiB(64)},
         PAGES(30000),
         NULL,
         admin0,
         PAGES(2767),
         0,
         FORMULA_ADMIT,
         PAGES(32768)},
        {"kernel strict committed overflow", STRICT_1G(COMMIT_FORMULA_KERNEL), UINT64_MAX - 4095, NULL, admin0,
         UINT64_MAX - 4095, 0, FORMULA_REFUSE, PAGES(131072)},

        /* Classic strict: 131072 - 131072/32 = 126976 for non-admin, + swap, - total_vm/32 uncapped. */
        {"classic strict", STRICT_1G(COMMIT_FORMULA_CLASSIC), PAGES(100000), NULL, user64m, PAGES(26463), 0,
         FORMULA_ADMIT, PAGES(126464)},
        {"classic strict at bound", STRICT_1G(COMMIT_FORMULA_CLASSIC), PAGES(100000), NULL, user64m, PAGES(26464), 0,
         FORMULA_REFUSE, PAGES(126464)},
        {"classic strict admin", STRICT_1G(COMMIT_FORMULA_CLASSIC), PAGES(100000), NULL, admin64m, PAGES(30559), 0,
         FORMULA_ADMIT, PAGES(130560)},
        {"classic strict swap not reduced",
         {.mode = COMMIT_MODE_NEVER,
          .formula = COMMIT_FORMULA_CLASSIC,
          .ram_bytes = GiB(1),
          .ratio = 50,
          .swap_bytes = MiB(256)},
         0,
         NULL,
         user64m,
         PAGES(192000),
         0,
         FORMULA_REFUSE,
         PAGES(192000)},
        {"classic strict total_vm uncapped", STRICT_1G(COMMIT_FORMULA_CLASSIC), 0, NULL, user64g, PAGES(1), 0,
         FORMULA_REFUSE, 0},

        /* Kernel heuristic: refuse only a request larger than ram + swap, whatever is committed. */
        {"kernel guess fits",
         {.mode = COMMIT_MODE_GUESS, .ram_bytes = GiB(1), .swap_bytes = MiB(4)},
         UINT64_MAX,
         NULL,
         user0,
         GiB(1) + MiB(4),
         0,
         FORMULA_ADMIT,
         GiB(1) + MiB(4)},
        {"kernel guess too big",
         {.mode = COMMIT_MODE_GUESS, .ram_bytes = GiB(1), .swap_bytes = MiB(4)},
         0,
         NULL,
         user0,
         GiB(1) + MiB(4) + 1,
         0,
         FORMULA_REFUSE,
         GiB(1) + MiB(4)},

        /* Classic heuristic, non-admin: stage 1 free = 32000 - 1000 = 31000; stage 2 adds
         * (102400 - 2400) - 100000/32 = 96875, total 127875. Admin: 32000 + 100000 = 132000. */
        {"classic guess stage 1",
         {.mode = COMMIT_MODE_GUESS, .formula = COMMIT_FORMULA_CLASSIC},
         0,
         &heur,
         user0,
         PAGES(30999),
         0,
         FORMULA_ADMIT,
         PAGES(31000)},
        {"classic guess stage 2",
         {.mode = COMMIT_MODE_GUESS, .formula = COMMIT_FORMULA_CLASSIC},
         0,
         &heur,
         user0,
         PAGES(127874),
         0,
         FORMULA_ADMIT,
         PAGES(127875)},
        {"classic guess refused",
         {.mode = COMMIT_MODE_GUESS, .formula = COMMIT_FORMULA_CLASSIC},
         0,
         &heur,
         user0,
         PAGES(127875),
         0,
         FORMULA_REFUSE,
         PAGES(127875)},
        {"classic guess admin",
         {.mode = COMMIT_MODE_GUESS, .formula = COMMIT_FORMULA_CLASSIC},
         0,
         &heur,
         admin0,
         PAGES(131999),
         0,
         FORMULA_ADMIT,
         PAGES(132000)},
        {"classic guess admin refused",
         {.mode = COMMIT_MODE_GUESS, .formula = COMMIT_FORMULA_CLASSIC},
         0,
         &heur,
         admin0,
         PAGES(132000),
         0,
         FORMULA_REFUSE,
         PAGES(132000)},
        {"classic guess free within reserve",
         {.mode = COMMIT_MODE_GUESS, .formula = COMMIT_FORMULA_CLASSIC},
         0,
         &heur_no_free,
         user0,
         PAGES(40000),
         0,
         FORMULA_REFUSE,
         PAGES(31000)},
        {"classic guess needs state",
         {.mode = COMMIT_MODE_GUESS, .formula = COMMIT_FORMULA_CLASSIC},
         0,
         NULL,
         user0,
         PAGES(1),
         -EINVAL,
         0,
         0},

        /* Always admits, in both families. */
        {"always",
         {.mode = COMMIT_MODE_ALWAYS, .ram_bytes = MiB(1)},
         UINT64_MAX,
         NULL,
         user0,
         UINT64_MAX / 2,
         0,
         FORMULA_ADMIT,
         0},
        {"classic always",
         {.mode = COMMIT_MODE_ALWAYS, .formula = COMMIT_FORMULA_CLASSIC},
         UINT64_MAX,
         NULL,
         user0,
         UINT64_MAX / 2,
         0,
         FORMULA_ADMIT,
         0},
        {"bad mode", {.mode = _COMMIT_MODE_MAX}, 0, NULL, user0, 1, -EINVAL, 0, 0},
        {"bad formula", {.mode = COMMIT_MODE_NEVER, .formula = _COMMIT_FORMULA_MAX}, 0, NULL, user0, 1, -EINVAL, 0, 0},
        {"strict hugetlb above ram",
         {.mode = COMMIT_MODE_NEVER, .ram_bytes = MiB(1), .hugetlb_bytes = MiB(2), .ratio = 50},
         0,
         NULL,
         user0,
         1,
         -EINVAL,
         0,
         0},
};

static void test_judge(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(judge_cases); i++) {
                const struct judge_case *c = &judge_cases[i];
                struct formula_level level = {
                        .name = "/t", .budget = &c->b, .committed_bytes = c->committed, .heuristic = c->h};
                struct formula_result res = {0};

                print_message("judge: %s\n", c->what);
                assert_int_equal(formula_judge(&level, &c->caller, c->request, PAGE, &res), c->ret);
                if (c->ret < 0)
                        continue;
                assert_int_equal(res.verdict, c->verdict);
                assert_int_equal(res.level, 0);
                if (c->b.mode != COMMIT_MODE_ALWAYS)
                        assert_int_equal(res.allowed_bytes, c->allowed);
        }
}

static void test_judge_reports_pages(void **state) {
        struct budget b = STRICT_1G(COMMIT_FORMULA_KERNEL);
        struct formula_level level = {.budget = &b, .committed_bytes = PAGES(10) + 1};
        struct formula_result res;
        (void) state;

        assert_int_equal(formula_judge(&level, &admin0, 1, PAGE, &res), 0);
        assert_int_equal(res.request_bytes, PAGE);
        assert_int_equal(res.committed_bytes, PAGES(11));
        assert_int_equal(formula_judge(&level, &admin0, 1, 1000, &res), -EINVAL);
}

static void test_nested(void **state) {
        /* /tenants/a: ratio 100 of 1 GiB (262144 pages). /tenants: limit 256 MiB (65536 pages), 60000 used. */
        struct budget inner = {.mode = COMMIT_MODE_NEVER, .ram_bytes = GiB(1), .ratio = 100};
        struct budget outer = {.mode = COMMIT_MODE_NEVER, .has_limit = true, .limit_bytes = MiB(256)};
        struct budget always = {.mode = COMMIT_MODE_ALWAYS};
        struct formula_level levels[] = {
                {.name = "/tenants/a", .budget = &inner, .committed_bytes = PAGES(1000)},
                {.name = "/tenants", .budget = &outer, .committed_bytes = PAGES(60000)},
        };
        struct formula_result res;
        (void) state;

        assert_int_equal(formula_judge_nested(levels, 2, &admin0, PAGES(5535), PAGE, &res), 0);
        assert_int_equal(res.verdict, FORMULA_ADMIT);

        assert_int_equal(formula_judge_nested(levels, 2, &admin0, PAGES(5536), PAGE, &res), 0);
        assert_int_equal(res.verdict, FORMULA_REFUSE);
        assert_int_equal(res.level, 1); /* the tighter ancestor refused, and is named */
        assert_string_equal(levels[res.level].name, "/tenants");
        assert_int_equal(res.committed_bytes, PAGES(60000));
        assert_int_equal(res.allowed_bytes, PAGES(65536));

        /* The inner level refuses first when it is the tighter one. */
        levels[0].committed_bytes = PAGES(262000);
        levels[1].committed_bytes = 0;
        assert_int_equal(formula_judge_nested(levels, 2, &admin0, PAGES(200), PAGE, &res), 0);
        assert_int_equal(res.verdict, FORMULA_REFUSE);
        assert_int_equal(res.level, 0);

        /* Each level in its own mode: a lenient child does not lift a strict parent. */
        levels[0] = (struct formula_level){.name = "/tenants/a", .budget = &always, .committed_bytes = 0};
        levels[1].committed_bytes = PAGES(65535);
        assert_int_equal(formula_judge_nested(levels, 2, &admin0, PAGES(1), PAGE, &res), 0);
        assert_int_equal(res.verdict, FORMULA_REFUSE);
        assert_int_equal(res.level, 1);
        assert_int_equal(formula_judge_nested(levels, 1, &admin0, PAGES(1), PAGE, &res), 0);
        assert_int_equal(res.verdict, FORMULA_ADMIT);

        assert_int_equal(formula_judge_nested(levels, 0, &admin0, PAGES(1), PAGE, &res), -EINVAL);
}

static void test_default_reserves(void **state) {
        (void) state;
        assert_int_equal(formula_default_admin_reserve(GiB(1)), MiB(8));
        assert_int_equal(formula_default_admin_reserve(MiB(64)), MiB(2));
        assert_int_equal(formula_default_user_reserve(GiB(24)), MiB(128));
        assert_int_equal(formula_default_user_reserve(MiB(64)), MiB(2));
}

static void test_names(void **state) {
        static const struct {
                const char *s;
                int mode;
        } modes[] = {
                {"0", COMMIT_MODE_GUESS},
                {"heuristic", COMMIT_MODE_GUESS},
                {"guess", COMMIT_MODE_GUESS},
                {"1", COMMIT_MODE_ALWAYS},
                {"always", COMMIT_MODE_ALWAYS},
                {"2", COMMIT_MODE_NEVER},
                {"strict", COMMIT_MODE_NEVER},
                {"never", COMMIT_MODE_NEVER},
                {"3", -EINVAL},
                {"", -EINVAL},
                {"Strict", -EINVAL},
                {"2 ", -EINVAL},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                assert_int_equal(commit_mode_from_string(modes[i].s), modes[i].mode);
        assert_int_equal(commit_mode_from_string(NULL), -EINVAL);
        assert_string_equal(commit_mode_to_string(COMMIT_MODE_GUESS), "heuristic");
        assert_string_equal(commit_mode_to_string(COMMIT_MODE_ALWAYS), "always");
        assert_string_equal(commit_mode_to_string(COMMIT_MODE_NEVER), "strict");
        assert_null(commit_mode_to_string(_COMMIT_MODE_MAX));
        assert_int_equal(commit_formula_from_string("kernel"), COMMIT_FORMULA_KERNEL);
        assert_int_equal(commit_formula_from_string("classic"), COMMIT_FORMULA_CLASSIC);
        assert_int_equal(commit_formula_from_string("modern"), -EINVAL);
        assert_string_equal(commit_formula_to_string(COMMIT_FORMULA_CLASSIC), "classic");
        assert_null(commit_formula_to_string(_COMMIT_FORMULA_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_commit_limit),        cmocka_unit_test(test_judge),
                cmocka_unit_test(test_judge_reports_pages), cmocka_unit_test(test_nested),
                cmocka_unit_test(test_default_reserves),    cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
