/* SPDX-License-Identifier: MIT */
/* cgroupfs parsers: golden files captured on the hybrid host and hand-written v2 ones (tests/data/cgroupfs/
 * README), tables of malformed input, and the cgroup name rules of SPEC 5.
 * COMMITD_UPDATE_GOLDEN=1 rewrites the .ok files from what the parsers return now. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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
#include "golden.h"
#include "macro.h"

static char *data_path(const char *name) {
        return test_data_path("cgroupfs", name);
}

/* cgroupfs/NAME.ok */
static void check_golden(const char *name, const char *text) {
        _cleanup_free_ char *ok = NULL, *path = NULL;

        assert_true(asprintf(&ok, "%s.ok", name) > 0);
        path = data_path(ok);
        golden_check(path, text);
}

static const char *str_or_null(const char *s) {
        return s ? s : "(null)";
}

static void print_limit(FILE *f, uint64_t v) {
        if (v == CGROUPFS_UNLIMITED)
                fprintf(f, "limit unlimited\n");
        else
                fprintf(f, "limit %" PRIu64 "\n", v);
}

enum fixture_kind {
        FIXTURE_LIMIT,
        FIXTURE_MEMORY_STAT,
        FIXTURE_PROCS,
        FIXTURE_MOUNTINFO,
        FIXTURE_PROC_CGROUP,
};

static void fixture_print(enum fixture_kind kind, const char *name, FILE *f) {
        _cleanup_free_ char *in = NULL, *path = NULL;

        assert_true(asprintf(&in, "%s.in", name) > 0);
        path = data_path(in);
        switch (kind) {
        case FIXTURE_LIMIT: {
                uint64_t v;
                assert_int_equal(cgroupfs_read_limit(path, &v), 0);
                print_limit(f, v);
                break;
        }
        case FIXTURE_MEMORY_STAT: {
                struct memory_stat s;
                assert_int_equal(cgroupfs_read_memory_stat(path, &s), 0);
                fprintf(f, "anon_bytes %" PRIu64 "\n", s.anon_bytes);
                fprintf(f, "file_bytes %" PRIu64 "\n", s.file_bytes);
                fprintf(f, "shmem_bytes %" PRIu64 "\n", s.shmem_bytes);
                fprintf(f, "slab_reclaimable_bytes %" PRIu64 "\n", s.slab_reclaimable_bytes);
                break;
        }
        case FIXTURE_PROCS: {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n;
                assert_int_equal(cgroupfs_read_procs(path, &pids, &n), 0);
                assert_non_null(pids);
                fprintf(f, "n %zu\n", n);
                for (size_t i = 0; i < n; i++)
                        fprintf(f, "pid %d\n", (int) pids[i]);
                break;
        }
        case FIXTURE_MOUNTINFO: {
                struct cgroup_mounts m;
                assert_int_equal(cgroupfs_read_mountinfo(path, &m), 0);
                fprintf(f, "v2_mount %s\n", str_or_null(m.v2_mount));
                fprintf(f, "v2_root %s\n", str_or_null(m.v2_root));
                fprintf(f, "v1_memory_mount %s\n", str_or_null(m.v1_memory_mount));
                fprintf(f, "v1_memory_root %s\n", str_or_null(m.v1_memory_root));
                cgroup_mounts_done(&m);
                break;
        }
        case FIXTURE_PROC_CGROUP: {
                struct proc_cgroup c;
                assert_int_equal(cgroupfs_read_proc_cgroup(path, &c), 0);
                fprintf(f, "v2_path %s\n", str_or_null(c.v2_path));
                fprintf(f, "v1_memory_path %s\n", str_or_null(c.v1_memory_path));
                proc_cgroup_done(&c);
                break;
        }
        default:
                fail();
        }
}

static void test_golden(void **state) {
        static const struct {
                enum fixture_kind kind;
                const char *name;
        } fixtures[] = {
                {FIXTURE_LIMIT, "limit-v1-unlimited"},
                {FIXTURE_LIMIT, "limit-v1-memsw-unlimited"},
                {FIXTURE_LIMIT, "limit-v2-max"},
                {FIXTURE_LIMIT, "limit-v2-512m"},
                {FIXTURE_MEMORY_STAT, "memory-stat-v1"},
                {FIXTURE_MEMORY_STAT, "memory-stat-v2"},
                {FIXTURE_PROCS, "procs-host"},
                {FIXTURE_PROCS, "procs-empty"},
                {FIXTURE_MOUNTINFO, "mountinfo-host"},
                {FIXTURE_MOUNTINFO, "mountinfo-v2"},
                {FIXTURE_MOUNTINFO, "mountinfo-escaped"},
                {FIXTURE_PROC_CGROUP, "proc-cgroup-host"},
                {FIXTURE_PROC_CGROUP, "proc-cgroup-v2"},
                {FIXTURE_PROC_CGROUP, "proc-cgroup-v1-list"},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                _cleanup_free_ char *text = NULL;
                size_t len;
                FILE *f = open_memstream(&text, &len);

                assert_non_null(f);
                print_message("golden: %s\n", fixtures[i].name);
                fixture_print(fixtures[i].kind, fixtures[i].name, f);
                assert_int_equal(fclose(f), 0);
                check_golden(fixtures[i].name, text);
        }
}

/* What the hybrid host's fixtures must say, independent of the golden files. */
static void test_host_facts(void **state) {
        _cleanup_free_ char *mi = data_path("mountinfo-host.in"), *pc = data_path("proc-cgroup-host.in");
        struct cgroup_mounts m;
        struct proc_cgroup c;
        (void) state;

        assert_int_equal(cgroupfs_read_mountinfo(mi, &m), 0);
        assert_string_equal(m.v2_mount, "/sys/fs/cgroup/unified"); /* never assume /sys/fs/cgroup is v2 */
        assert_string_equal(m.v2_root, "/");
        assert_string_equal(m.v1_memory_mount, "/sys/fs/cgroup/memory");
        cgroup_mounts_done(&m);
        cgroup_mounts_done(&m);
        cgroup_mounts_done(NULL);

        assert_int_equal(cgroupfs_read_proc_cgroup(pc, &c), 0);
        assert_string_equal(c.v2_path, "/");
        assert_non_null(c.v1_memory_path);
        assert_true(strncmp(c.v1_memory_path, "/process_api/", 13) == 0);
        proc_cgroup_done(&c);
        proc_cgroup_done(NULL);
}

static void test_limit(void **state) {
        static const struct {
                const char *buf;
                int ret;
                uint64_t v;
        } cases[] = {
                {"max\n", 0, CGROUPFS_UNLIMITED},
                {"max", 0, CGROUPFS_UNLIMITED},
                {"0\n", 0, 0},
                {"536870912\n", 0, 536870912},
                {"9223372036854771712\n", 0, CGROUPFS_UNLIMITED},  /* v1, 4 KiB pages */
                {"9223372036854710272\n", 0, CGROUPFS_UNLIMITED},  /* v1, 64 KiB pages */
                {"9223372036854710271\n", 0, 9223372036854710271}, /* just below the threshold */
                {"18446744073709551615\n", 0, CGROUPFS_UNLIMITED},
                {"18446744073709551616\n", -EINVAL, 0},
                {"", -EINVAL, 0},
                {"\n", -EINVAL, 0},
                {"Max\n", -EINVAL, 0},
                {"maxx\n", -EINVAL, 0},
                {"-1\n", -EINVAL, 0},
                {"12 34\n", -EINVAL, 0},
                {"1k\n", -EINVAL, 0},
                {"1\n2\n", -EINVAL, 0},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 7;
                print_message("limit: \"%s\"\n", cases[i].buf);
                assert_int_equal(cgroupfs_parse_limit(cases[i].buf, &v), cases[i].ret);
                assert_int_equal(v, cases[i].ret == 0 ? cases[i].v : 7);
        }
        assert_int_equal(cgroupfs_read_limit("/nonexistent/memory.max", &(uint64_t){0}), -ENOENT);
}

static void test_memory_stat(void **state) {
        static const struct {
                const char *what;
                const char *buf;
                int ret;
                struct memory_stat s;
        } cases[] = {
                {"empty", "", 0, {0}},
                {"v2", "anon 1\nfile 2\nshmem 3\nslab_reclaimable 4\nslab 9\n", 0, {1, 2, 3, 4}},
                {"v1 hierarchical wins",
                 "cache 1\nrss 2\nshmem 3\ntotal_cache 10\ntotal_rss 20\ntotal_shmem 30\n",
                 0,
                 {20, 10, 30, 0}},
                {"v1 local only", "cache 1\nrss 2\nshmem 3\n", 0, {2, 1, 3, 0}},
                {"unknown keys", "pgfault 5\nfuture_key 6\n", 0, {0}},
                {"no value", "anon\n", -EINVAL, {0}},
                {"empty value", "anon \n", -EINVAL, {0}},
                {"not a number", "anon 12a\n", -EINVAL, {0}},
                {"negative", "anon -1\n", -EINVAL, {0}},
                {"overflow", "anon 18446744073709551616\n", -EINVAL, {0}},
                {"extra field", "anon 1 2\n", -EINVAL, {0}},
                {"tab separated", "anon\t1\n", -EINVAL, {0}},
                {"leading space", " anon 1\n", -EINVAL, {0}},
                {"duplicate", "anon 1\nanon 2\n", -EINVAL, {0}},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct memory_stat s = {.anon_bytes = 99};
                print_message("memory.stat: %s\n", cases[i].what);
                assert_int_equal(cgroupfs_parse_memory_stat(cases[i].buf, &s), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_int_equal(s.anon_bytes, 99);
                        continue;
                }
                assert_int_equal(s.anon_bytes, cases[i].s.anon_bytes);
                assert_int_equal(s.file_bytes, cases[i].s.file_bytes);
                assert_int_equal(s.shmem_bytes, cases[i].s.shmem_bytes);
                assert_int_equal(s.slab_reclaimable_bytes, cases[i].s.slab_reclaimable_bytes);
        }
}

static void test_procs(void **state) {
        static const struct {
                const char *what;
                const char *buf;
                int ret;
                size_t n;
                pid_t first, last;
        } cases[] = {
                {"empty", "", 0, 0, 0, 0},
                {"one", "42\n", 0, 1, 42, 42},
                {"no trailing newline", "42\n7", 0, 2, 7, 42},
                {"v1 duplicates and order", "30\n10\n30\n20\n10\n", 0, 3, 10, 30},
                {"largest pid", "2147483647\n", 0, 1, INT_MAX, INT_MAX},
                {"zero", "0\n", -EINVAL, 0, 0, 0},
                {"above pid_t", "2147483648\n", -EINVAL, 0, 0, 0},
                {"negative", "-5\n", -EINVAL, 0, 0, 0},
                {"space", "5 \n", -EINVAL, 0, 0, 0},
                {"two on a line", "5 6\n", -EINVAL, 0, 0, 0},
                {"text", "init\n", -EINVAL, 0, 0, 0},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                pid_t *pids = NULL;
                size_t n = 99;
                print_message("procs: %s\n", cases[i].what);
                assert_int_equal(cgroupfs_parse_procs(cases[i].buf, &pids, &n), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_null(pids);
                        assert_int_equal(n, 99);
                        continue;
                }
                assert_non_null(pids);
                assert_int_equal(n, cases[i].n);
                if (n > 0) {
                        assert_int_equal(pids[0], cases[i].first);
                        assert_int_equal(pids[n - 1], cases[i].last);
                }
                free(pids);
        }

        /* Many pids: the array grows. */
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t len, n;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        for (int i = 1000; i >= 1; i--)
                fprintf(f, "%d\n", i);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(cgroupfs_parse_procs(buf, &pids, &n), 0);
        assert_int_equal(n, 1000);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(pids[i], (pid_t) i + 1);
}

static void test_mountinfo(void **state) {
        static const struct {
                const char *what;
                const char *buf;
                int ret;
                const char *v2_mount, *v2_root, *v1_mount, *v1_root;
        } cases[] = {
                {"empty", "", 0, NULL, NULL, NULL, NULL},
                {"pure v1", "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n", 0, NULL, NULL,
                 "/sys/fs/cgroup/memory", "/"},
                {"co-mounted controllers",
                 "35 31 0:32 / /sys/fs/cgroup/cpu,memory rw shared:5 - cgroup cgroup rw,cpu,memory\n", 0, NULL, NULL,
                 "/sys/fs/cgroup/cpu,memory", "/"},
                {"name=systemd is not memory",
                 "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd,xattr\n", 0, NULL, NULL, NULL,
                 NULL},
                {"memory in the mount options only", "40 31 0:37 / /sys/fs/cgroup/x rw,memory - cgroup cgroup rw,cpu\n",
                 0, NULL, NULL, NULL, NULL},
                {"memory_recursiveprot is not memory",
                 "26 24 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n", 0,
                 "/sys/fs/cgroup", "/", NULL, NULL},
                {"container: v2 root below the hierarchy root",
                 "700 600 0:27 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n", 0, "/sys/fs/cgroup",
                 "/kubepods/pod1", NULL, NULL},
                {"first cgroup2 mount wins",
                 "1 0 0:27 / /a rw - cgroup2 cgroup2 rw\n2 0 0:27 / /b rw - cgroup2 cgroup2 rw\n", 0, "/a", "/", NULL,
                 NULL},
                {"escaped tab and backslash", "1 0 0:27 /x\\011y /m\\134n rw - cgroup2 cgroup2 rw\n", 0, "/m\\n",
                 "/x\ty", NULL, NULL},
                {"backslash without octal stays", "1 0 0:27 / /m\\9 rw - cgroup2 cgroup2 rw\n", 0, "/m\\9", "/", NULL,
                 NULL},
                {"escaped NUL", "1 0 0:27 / /m\\000 rw - cgroup2 cgroup2 rw\n", -EINVAL, NULL, NULL, NULL, NULL},
                {"escape above a byte", "1 0 0:27 / /m\\777 rw - cgroup2 cgroup2 rw\n", -EINVAL, NULL, NULL, NULL,
                 NULL},
                {"no separator", "1 0 0:27 / /sys/fs/cgroup rw cgroup2 cgroup2 rw\n", -EINVAL, NULL, NULL, NULL, NULL},
                {"truncated before separator", "1 0 0:27 / /sys/fs/cgroup\n", -EINVAL, NULL, NULL, NULL, NULL},
                {"truncated after separator", "1 0 0:27 / /sys/fs/cgroup rw -\n", -EINVAL, NULL, NULL, NULL, NULL},
                {"truncated super options", "1 0 0:27 / /sys/fs/cgroup rw - cgroup2\n", -EINVAL, NULL, NULL, NULL,
                 NULL},
                {"double space", "1 0 0:27 /  /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", -EINVAL, NULL, NULL, NULL,
                 NULL},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct cgroup_mounts m = {0};
                print_message("mountinfo: %s\n", cases[i].what);
                assert_int_equal(cgroupfs_parse_mountinfo(cases[i].buf, &m), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_null(m.v2_mount);
                        continue;
                }
                assert_string_equal(str_or_null(m.v2_mount), str_or_null(cases[i].v2_mount));
                assert_string_equal(str_or_null(m.v2_root), str_or_null(cases[i].v2_root));
                assert_string_equal(str_or_null(m.v1_memory_mount), str_or_null(cases[i].v1_mount));
                assert_string_equal(str_or_null(m.v1_memory_root), str_or_null(cases[i].v1_root));
                cgroup_mounts_done(&m);
        }
}

static void test_proc_cgroup(void **state) {
        static const struct {
                const char *what;
                const char *buf;
                int ret;
                const char *v2, *v1;
        } cases[] = {
                {"empty", "", 0, NULL, NULL},
                {"v2 only", "0::/user.slice/user-0.slice\n", 0, "/user.slice/user-0.slice", NULL},
                {"v1 memory alone", "4:memory:/a\n", 0, NULL, "/a"},
                {"v1 memory in a list", "5:cpu,memory:/x\n", 0, NULL, "/x"},
                {"memory last", "5:cpu,cpuacct,memory:/x\n", 0, NULL, "/x"},
                {"not memory", "5:memory_x,cpu:/x\n1:name=systemd:/y\n", 0, NULL, NULL},
                {"colon in the path", "0::/a:b\n4:memory:/c:d\n", 0, "/a:b", "/c:d"},
                {"v2 outside the namespace root", "0::/../../x\n", 0, "/../../x", NULL},
                {"no trailing newline", "0::/a", 0, "/a", NULL},
                {"truncated", "0:\n", -EINVAL, NULL, NULL},
                {"no path", "0::\n", -EINVAL, NULL, NULL},
                {"id not a number", "x::/a\n", -EINVAL, NULL, NULL},
                {"id empty", "::/a\n", -EINVAL, NULL, NULL},
                {"id overflow", "99999999999999999999::/a\n", -EINVAL, NULL, NULL},
                {"two v2 lines", "0::/a\n0::/b\n", -EINVAL, NULL, NULL},
                {"two memory lines", "4:memory:/a\n5:cpu,memory:/b\n", -EINVAL, NULL, NULL},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct proc_cgroup c = {0};
                print_message("proc cgroup: %s\n", cases[i].what);
                assert_int_equal(cgroupfs_parse_proc_cgroup(cases[i].buf, &c), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_null(c.v2_path);
                        assert_null(c.v1_memory_path);
                        continue;
                }
                assert_string_equal(str_or_null(c.v2_path), str_or_null(cases[i].v2));
                assert_string_equal(str_or_null(c.v1_memory_path), str_or_null(cases[i].v1));
                proc_cgroup_done(&c);
        }
}

static void test_path_normalize(void **state) {
        static const struct {
                const char *in;
                int ret;
                const char *out;
        } cases[] = {
                {"tenants/a", 0, "/tenants/a"},
                {"/tenants/a", 0, "/tenants/a"},
                {"/tenants/a/", 0, "/tenants/a"},
                {"tenants/a/", 0, "/tenants/a"},
                {"", 0, "/"},
                {"/", 0, "/"},
                {"a", 0, "/a"},
                {"system.slice/postgresql.service", 0, "/system.slice/postgresql.service"},
                {"a/.b/c..", 0, "/a/.b/c.."},
                {"a b/c", 0, "/a b/c"},
                {"//", -EINVAL, NULL},
                {"//a", -EINVAL, NULL},
                {"a//b", -EINVAL, NULL},
                {"a/b//", -EINVAL, NULL},
                {".", -EINVAL, NULL},
                {"..", -EINVAL, NULL},
                {"/a/./b", -EINVAL, NULL},
                {"/a/../b", -EINVAL, NULL},
                {"a/..", -EINVAL, NULL},
                {"../a", -EINVAL, NULL},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = NULL;
                print_message("normalize: \"%s\"\n", cases[i].in);
                assert_int_equal(cgroupfs_path_normalize(cases[i].in, &out), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_null(out);
                        continue;
                }
                assert_string_equal(out, cases[i].out);
                free(out);
        }

        /* PATH_MAX counts the terminating NUL: the longest name the kernel could take is PATH_MAX - 1 bytes. */
        char long_path[PATH_MAX + 1];
        char *out = NULL;
        memset(long_path, 'a', sizeof(long_path));
        long_path[PATH_MAX] = '\0';
        assert_int_equal(cgroupfs_path_normalize(long_path, &out), -EINVAL);
        long_path[PATH_MAX - 1] = '\0';
        assert_int_equal(cgroupfs_path_normalize(long_path, &out), -EINVAL); /* "/" + 4095 bytes */
        long_path[0] = '/';
        assert_int_equal(cgroupfs_path_normalize(long_path, &out), 0);
        assert_int_equal(strlen(out), PATH_MAX - 1);
        free(out);
        out = NULL;
        long_path[PATH_MAX - 2] = '\0';
        assert_int_equal(cgroupfs_path_normalize(long_path + 1, &out), 0);
        assert_int_equal(strlen(out), PATH_MAX - 2);
        free(out);
        assert_int_equal(cgroupfs_path_normalize(NULL, &out), -EINVAL);
}

static void test_path_is_below(void **state) {
        static const struct {
                const char *path, *ancestor;
                int ret;
        } cases[] = {
                {"/tenants/a", "/tenants/a", 1},
                {"/tenants/a/b", "/tenants/a", 1},
                {"/tenants/a", "/tenants", 1},
                {"/tenants/a", "/", 1},
                {"/", "/", 1},
                {"/tenants/ab", "/tenants/a", 0},
                {"/tenants", "/tenants/a", 0},
                {"/", "/tenants", 0},
                {"/other/a", "/tenants", 0},
                {"/tenants-b", "/tenants", 0},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                print_message("is_below: %s under %s\n", cases[i].path, cases[i].ancestor);
                assert_int_equal(cgroupfs_path_is_below(cases[i].path, cases[i].ancestor), cases[i].ret);
        }
        assert_int_equal(cgroupfs_path_is_below(NULL, "/"), 0);
        assert_int_equal(cgroupfs_path_is_below("/", NULL), 0);
}

static void test_path_child(void **state) {
        char *p = NULL;
        (void) state;

        assert_int_equal(cgroupfs_path_child("/", "commitd-containers", &p), 0);
        assert_string_equal(p, "/commitd-containers");
        free(p);
        assert_int_equal(cgroupfs_path_child("/a/b", "c", &p), 0);
        assert_string_equal(p, "/a/b/c");
        free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden),        cmocka_unit_test(test_host_facts),
                cmocka_unit_test(test_limit),         cmocka_unit_test(test_memory_stat),
                cmocka_unit_test(test_procs),         cmocka_unit_test(test_mountinfo),
                cmocka_unit_test(test_proc_cgroup),   cmocka_unit_test(test_path_normalize),
                cmocka_unit_test(test_path_is_below), cmocka_unit_test(test_path_child),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
