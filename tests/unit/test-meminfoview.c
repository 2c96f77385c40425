/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroupfs.h"
#include "fileio.h"
#include "macro.h"
#include "meminfoview.h"

static char *host_text(void) {
        _cleanup_free_ char *path = NULL;
        char *buf = NULL;

        assert_true(asprintf(&path, "%s/procfs/meminfo-host.in", getenv("COMMITD_TEST_DATA")) > 0);
        assert_int_equal(fileio_read_full(path, 1 << 20, &buf, NULL), 0);
        return buf;
}

/* The line of key in text, without its newline. */
static void assert_line(const char *text, const char *line) {
        const char *p = strstr(text, line);

        if (!p || (p != text && p[-1] != '\n') || p[strlen(line)] != '\n')
                fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void test_pick(void **state) {
        const struct meminfo_level levels[] = {
                {"/tenants", true, 1000, 100},    /* room 900 */
                {"/tenants/a", true, 500, 0},     /* room 500: tighter */
                {"/tenants/a/c", false, 10, 10},  /* no policy: no level */
                {"/tenants/b", true, 2000, 1500}, /* room 500, but not above /tenants/a */
                {"/tenants/ab", true, 1, 1},      /* a sibling whose name starts alike */
                {"/other", true, 100, 200},       /* over its limit: room 0 */
        };
        (void) state;
        assert_int_equal(meminfo_view_pick(levels, ELEMENTSOF(levels), "/tenants/a/c/d"), 1);
        assert_int_equal(meminfo_view_pick(levels, ELEMENTSOF(levels), "/tenants/a"), 1);
        assert_int_equal(meminfo_view_pick(levels, ELEMENTSOF(levels), "/tenants/b/x"), 3);
        assert_int_equal(meminfo_view_pick(levels, ELEMENTSOF(levels), "/tenants"), 0);
        assert_int_equal(meminfo_view_pick(levels, ELEMENTSOF(levels), "/other"), 5);
        assert_int_equal(meminfo_view_pick(levels, ELEMENTSOF(levels), "/"), -ENOENT);
        assert_int_equal(meminfo_view_pick(levels, ELEMENTSOF(levels), "/elsewhere"), -ENOENT);
        assert_int_equal(meminfo_view_pick(levels, 0, "/tenants"), -ENOENT);
        /* A tie goes to the innermost level: it is the one that names the reader's own budget. */
        const struct meminfo_level tie[] = {{"/t", true, 100, 50}, {"/t/u", true, 50, 0}};
        assert_int_equal(meminfo_view_pick(tie, 2, "/t/u/v"), 1);
}

static void test_render(void **state) {
        _cleanup_free_ char *host = host_text(), *out = NULL;
        struct meminfo_view v = {
                .mem_limit_bytes = CGROUPFS_UNLIMITED,
                .swap_limit_bytes = CGROUPFS_UNLIMITED,
        };
        (void) state;

        /* Nothing to replace: the host's text, byte for byte. */
        assert_int_equal(meminfo_view_render(host, &v, &out), 0);
        assert_string_equal(out, host);
        free(TAKE_PTR(out));

        /* The commit lines only, in the kernel's layout. */
        v.has_commit = true;
        v.commit_limit_bytes = UINT64_C(64) << 20;
        v.committed_bytes = UINT64_C(40000) << 10;
        assert_int_equal(meminfo_view_render(host, &v, &out), 0);
        assert_line(out, "CommitLimit:       65536 kB");
        assert_line(out, "Committed_AS:      40000 kB");
        assert_int_equal(strlen(out), strlen(host));
        assert_non_null(strstr(out, "MemTotal:       24684084 kB\n"));
        free(TAKE_PTR(out));

        /* A memory limit below the host's: MemTotal, MemFree, MemAvailable follow it. */
        v.mem_limit_bytes = UINT64_C(256) << 20;
        v.mem_usage_bytes = UINT64_C(100) << 20;
        v.mem_file_bytes = UINT64_C(60) << 20;
        assert_int_equal(meminfo_view_render(host, &v, &out), 0);
        assert_line(out, "MemTotal:         262144 kB");
        assert_line(out, "MemFree:          159744 kB");
        assert_line(out, "MemAvailable:     221184 kB");
        free(TAKE_PTR(out));

        /* Usage past the limit (v1 counts a little over it): free is 0, never wraps; available never passes total. */
        v.mem_usage_bytes = UINT64_C(300) << 20;
        v.mem_file_bytes = UINT64_C(1) << 40;
        assert_int_equal(meminfo_view_render(host, &v, &out), 0);
        assert_line(out, "MemFree:               0 kB");
        assert_line(out, "MemAvailable:     262144 kB");
        free(TAKE_PTR(out));

        /* A limit above the host's memory changes nothing of it. */
        v.mem_limit_bytes = UINT64_C(1) << 50;
        assert_int_equal(meminfo_view_render(host, &v, &out), 0);
        assert_non_null(strstr(out, "MemTotal:       24684084 kB\n"));
        free(TAKE_PTR(out));

        assert_int_equal(meminfo_view_render("no colon here\n", &v, &out), -EINVAL);
}

static void test_render_swap(void **state) {
        const char *host = "MemTotal:        1000000 kB\nSwapTotal:       2097148 kB\nSwapFree:        2097148 kB\n";
        _cleanup_free_ char *out = NULL;
        struct meminfo_view v = {
                .mem_limit_bytes = CGROUPFS_UNLIMITED,
                .swap_limit_bytes = UINT64_C(64) << 20,
                .swap_usage_bytes = UINT64_C(4) << 20,
        };
        (void) state;
        assert_int_equal(meminfo_view_render(host, &v, &out), 0);
        assert_string_equal(out,
                            "MemTotal:        1000000 kB\nSwapTotal:         65536 kB\nSwapFree:          61440 kB\n");
}

/* What doctor sees in /proc/self/mountinfo: the view over /proc/meminfo (a container's bind of it, commitctl run
 * --meminfo's), LXCFS's, none, and the view under a later mount. */
static void test_mounted(void **state) {
        static const struct {
                const char *what, *mountinfo;
                bool view;
        } cases[] = {
                {"the view bound over it",
                 "95 76 0:40 /meminfo /proc/meminfo ro,nosuid,nodev,relatime - fuse.commitd commitd-meminfo "
                 "ro,user_id=0,group_id=0,allow_other\n",
                 true},
                {"LXCFS", "95 76 0:40 /proc/meminfo /proc/meminfo rw - fuse.lxcfs lxcfs rw,user_id=0\n", false},
                {"nothing over it", "22 1 0:21 / /proc rw,nosuid - proc proc rw\n", false},
                {"another fuse.commitd", "95 76 0:40 / /proc/meminfo ro - fuse.commitd other ro\n", false},
                {"the view, then LXCFS on top",
                 "95 76 0:40 /meminfo /proc/meminfo ro - fuse.commitd commitd-meminfo ro\n"
                 "96 76 0:41 /proc/meminfo /proc/meminfo rw - fuse.lxcfs lxcfs rw\n",
                 false},
                {"the view's own mount elsewhere",
                 "95 76 0:40 / /run/commitd/meminfo ro - fuse.commitd commitd-meminfo ro\n", false},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(cgroup_mounts_done) struct cgroup_mounts m = {0};

                print_message("mounted: %s\n", cases[i].what);
                assert_int_equal(cgroupfs_parse_mountinfo(cases[i].mountinfo, &m), 0);
                assert_int_equal(meminfo_view_is(m.meminfo_fstype, m.meminfo_source), cases[i].view);
        }
        assert_false(meminfo_view_is(NULL, NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mounted),
                cmocka_unit_test(test_pick),
                cmocka_unit_test(test_render),
                cmocka_unit_test(test_render_swap),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
