/* SPDX-License-Identifier: MIT */
/* OCI bundles: golden files under tests/data/ocispec. X.in.json is a config.json; X.ok.json holds the config
 * after ocispec_add_commitd(), or {"error", "message"} when it is refused. Adding a file adds a case. Each
 * accepted case is also applied twice (same result), and its seccomp profile evaluated the way libseccomp
 * builds it, before and after, over a grid of arguments: commitd hears exactly the calls cli/filter.c
 * notifies among those the profile allowed, and every other call keeps its fate. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "golden.h"
#include "macro.h"
#include "ocispec.h"

#define LISTENER "/run/commitd/oci.sock"
#define SUFFIX   ".in.json"

static json_t *load(const char *base) {
        _cleanup_free_ char *path = NULL;
        json_error_t err;
        json_t *j;

        assert_int_equal(asprintf(&path, "%s%s", base, SUFFIX) > 0, 1);
        j = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
        if (!j)
                print_error("%s:%d: %s\n", path, err.line, err.text);
        assert_non_null(j);
        return j;
}

static char *dump(const json_t *j) {
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY), *line;

        assert_non_null(s);
        assert_int_equal(asprintf(&line, "%s\n", s) > 0, 1);
        free(s);
        return line;
}

/* The wrapper's sequence: the policy annotation, then the edit. */
static int apply(json_t *config, char **ret_error) {
        const char *policy = NULL;
        int r = ocispec_policy_annotation(config, &policy, ret_error);

        return r < 0 ? r : ocispec_add_commitd(config, LISTENER, policy, ret_error);
}

/* The calls commitd's rules name (SPEC 4), written out again here rather than taken from lib/. */
static const char *const notified[] = {"mmap", "mmap2", "brk",    "mremap", "mprotect", "pkey_mprotect",
                                       "fork", "clone", "shmget", "ipc",    "madvise",  "memfd_create"};
static const char *const others[] = {"clone3", "vfork", "read", "write", "close", "unshare", "personality", "socket"};

static bool is_notified(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(notified); i++)
                if (streq(name, notified[i]))
                        return true;
        return false;
}

/* cli/filter.c's conditions. */
static bool filter_notifies(const char *name, const uint64_t a[6]) {
        if (streq(name, "mmap") || streq(name, "mmap2"))
                return ((a[2] & PROT_WRITE) && (a[3] & (MAP_SHARED | MAP_PRIVATE)) == MAP_PRIVATE) ||
                       (a[3] & (MAP_SHARED | MAP_ANONYMOUS)) == (MAP_SHARED | MAP_ANONYMOUS);
        if (streq(name, "mprotect") || streq(name, "pkey_mprotect"))
                return a[2] & PROT_WRITE;
        if (streq(name, "clone"))
                return !(a[0] & CLONE_VM);
        if (streq(name, "ipc")) /* ksys_ipc() reads the low 16 bits; the rest is a version */
                return (a[0] & 0xffff) == 23;
        if (streq(name, "madvise"))
                return a[2] == MADV_DOFORK;
        return is_notified(name);
}

struct verdict {
        const char *action;
        json_int_t errno_ret; /* -1: none given */
        bool ambiguous;       /* two matching rules with conditions disagree */
};

static bool arg_holds(const json_t *arg, const uint64_t a[6]) {
        uint64_t x = a[json_integer_value(json_object_get(arg, "index"))];
        uint64_t v = (uint64_t) json_integer_value(json_object_get(arg, "value"));
        uint64_t v2 = (uint64_t) json_integer_value(json_object_get(arg, "valueTwo"));
        const char *op = json_string_value(json_object_get(arg, "op"));

        if (streq(op, "SCMP_CMP_NE"))
                return x != v;
        if (streq(op, "SCMP_CMP_LT"))
                return x < v;
        if (streq(op, "SCMP_CMP_LE"))
                return x <= v;
        if (streq(op, "SCMP_CMP_EQ"))
                return x == v;
        if (streq(op, "SCMP_CMP_GE"))
                return x >= v;
        if (streq(op, "SCMP_CMP_GT"))
                return x > v;
        assert_string_equal(op, "SCMP_CMP_MASKED_EQ");
        return (x & v) == v2;
}

/* As runc builds the rules: args on distinct indices are one rule (all must hold); with an index twice,
 * each arg is a rule of its own (any may hold). */
static bool rule_holds(const json_t *args, const uint64_t a[6]) {
        bool dup = false, all = true, any = false;
        unsigned seen = 0;

        for (size_t i = 0; i < json_array_size(args); i++) {
                const json_t *arg = json_array_get(args, i);
                unsigned bit = 1u << json_integer_value(json_object_get(arg, "index"));
                bool h = arg_holds(arg, a);

                dup |= (seen & bit) != 0;
                seen |= bit;
                all &= h;
                any |= h;
        }
        return dup ? any : all;
}

static bool names_has(const json_t *entry, const char *name) {
        const json_t *names = json_object_get(entry, "names");

        for (size_t i = 0; i < json_array_size(names); i++)
                if (streq(json_string_value(json_array_get(names, i)), name))
                        return true;
        return false;
}

static struct verdict verdict_of(const json_t *entry) {
        const json_t *e = json_object_get(entry, "errnoRet");

        return (struct verdict){json_string_value(json_object_get(entry, "action")), e ? json_integer_value(e) : -1,
                                false};
}

/* libseccomp's reading of a profile (2.5: the first rule without conditions decides alone). */
static struct verdict evaluate(const json_t *config, const char *name, const uint64_t a[6]) {
        const json_t *seccomp = json_object_get(json_object_get(config, "linux"), "seccomp");
        const json_t *syscalls = json_object_get(seccomp, "syscalls");
        struct verdict v = {};
        bool matched = false;

        if (!seccomp)
                return (struct verdict){"SCMP_ACT_ALLOW", -1, false};
        for (size_t i = 0; i < json_array_size(syscalls); i++) {
                const json_t *e = json_array_get(syscalls, i);
                if (names_has(e, name) && json_array_size(json_object_get(e, "args")) == 0)
                        return verdict_of(e);
        }
        for (size_t i = 0; i < json_array_size(syscalls); i++) {
                const json_t *e = json_array_get(syscalls, i);
                struct verdict w;

                if (!names_has(e, name) || !rule_holds(json_object_get(e, "args"), a))
                        continue;
                w = verdict_of(e);
                if (!matched)
                        v = w;
                else if (!streq(v.action, w.action) || v.errno_ret != w.errno_ret)
                        v.ambiguous = true;
                matched = true;
        }
        if (matched)
                return v;
        {
                const json_t *e = json_object_get(seccomp, "defaultErrnoRet");
                return (struct verdict){json_string_value(json_object_get(seccomp, "defaultAction")),
                                        e ? json_integer_value(e) : -1, false};
        }
}

/* The input's own notify rules (listener-path) stay; they reach commitd now, which lets unknown calls run. */
static bool profile_notifies(const json_t *config, const char *name) {
        const json_t *syscalls =
                json_object_get(json_object_get(json_object_get(config, "linux"), "seccomp"), "syscalls");

        for (size_t i = 0; i < json_array_size(syscalls); i++) {
                const json_t *e = json_array_get(syscalls, i);
                if (names_has(e, name) && streq(json_string_value(json_object_get(e, "action")), "SCMP_ACT_NOTIFY"))
                        return true;
        }
        return false;
}

static bool allows(const char *action) {
        return streq(action, "SCMP_ACT_ALLOW") || streq(action, "SCMP_ACT_LOG");
}

static void check_call(const char *base, const json_t *in, const json_t *out, const char *name, const uint64_t a[6]) {
        struct verdict before = evaluate(in, name, a), after = evaluate(out, name, a);
        bool ok;

        assert_false(before.ambiguous);
        if (after.ambiguous)
                print_error("%s: %s(%#lx, %#lx, %#lx, %#lx): rules disagree\n", base, name, (unsigned long) a[0],
                            (unsigned long) a[1], (unsigned long) a[2], (unsigned long) a[3]);
        assert_false(after.ambiguous);
        if (streq(name, "clone3") && allows(before.action))
                ok = streq(after.action, "SCMP_ACT_ERRNO") && after.errno_ret == ENOSYS;
        else if (allows(before.action) && filter_notifies(name, a))
                ok = streq(after.action, "SCMP_ACT_NOTIFY");
        else
                ok = streq(before.action, after.action) && before.errno_ret == after.errno_ret;
        if (!ok)
                print_error("%s: %s(%#lx, %#lx, %#lx, %#lx): %s/%d before, %s/%d after\n", base, name,
                            (unsigned long) a[0], (unsigned long) a[1], (unsigned long) a[2], (unsigned long) a[3],
                            before.action, (int) before.errno_ret, after.action, (int) after.errno_ret);
        assert_true(ok);
}

static void check_semantics(const char *base, const json_t *in, const json_t *out) {
        static const uint64_t values[] = {0,
                                          PROT_READ,
                                          PROT_WRITE,
                                          PROT_READ | PROT_WRITE | PROT_EXEC,
                                          MAP_SHARED,
                                          MAP_PRIVATE,
                                          MAP_SHARED | MAP_PRIVATE,
                                          MAP_SHARED | MAP_ANONYMOUS,
                                          MAP_PRIVATE | MAP_ANONYMOUS,
                                          MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                                          MADV_DOFORK,
                                          23,
                                          23 | (1u << 16),
                                          23 | (1u << 4),
                                          CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD,
                                          CLONE_VM | CLONE_VFORK | 17,
                                          17,
                                          CLONE_NEWUSER | 17,
                                          CLONE_NEWUSER | CLONE_VM};
        static const uint64_t sizes[] = {0, 8192};
        const json_t *seccomp = json_object_get(json_object_get(out, "linux"), "seccomp");
        const json_t *syscalls = json_object_get(seccomp, "syscalls");

        /* Notify only on commitd's calls, never as the default (runc and crun refuse that). */
        assert_string_not_equal(json_string_value(json_object_get(seccomp, "defaultAction")), "SCMP_ACT_NOTIFY");
        for (size_t i = 0; i < json_array_size(syscalls); i++) {
                const json_t *e = json_array_get(syscalls, i), *names = json_object_get(e, "names");
                if (!streq(json_string_value(json_object_get(e, "action")), "SCMP_ACT_NOTIFY"))
                        continue;
                for (size_t j = 0; j < json_array_size(names); j++) {
                        const char *name = json_string_value(json_array_get(names, j));
                        if (!is_notified(name) && !profile_notifies(in, name))
                                fail_msg("%s: notify on %s", base, name);
                }
        }

        for (size_t c = 0; c < ELEMENTSOF(notified) + ELEMENTSOF(others); c++) {
                const char *name = c < ELEMENTSOF(notified) ? notified[c] : others[c - ELEMENTSOF(notified)];
                for (size_t i0 = 0; i0 < ELEMENTSOF(values); i0++)
                        for (size_t i1 = 0; i1 < ELEMENTSOF(sizes); i1++)
                                for (size_t i2 = 0; i2 < ELEMENTSOF(values); i2++)
                                        for (size_t i3 = 0; i3 < ELEMENTSOF(values); i3++) {
                                                uint64_t a[6] = {values[i0], sizes[i1], values[i2], values[i3]};
                                                check_call(base, in, out, name, a);
                                        }
        }
}

static const char *errno_name(int r) {
        switch (r) {
        case -EINVAL:
                return "EINVAL";
        case -EOPNOTSUPP:
                return "EOPNOTSUPP";
        default:
                fail_msg("unexpected return %d", r);
                return NULL;
        }
}

static void test_golden(void **state) {
        char **names;
        size_t n = golden_list("ocispec", SUFFIX, NULL, true, &names);
        (void) state;

        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
                json_auto_t *in = load(names[i]), *config = load(names[i]), *result = NULL;
                _cleanup_free_ char *error = NULL, *got = NULL, *ok = NULL;
                int r;

                print_message("ocispec: %s\n", names[i]);
                r = apply(config, &error);
                if (r < 0) {
                        json_auto_t *again = load(names[i]);

                        assert_non_null(error);
                        assert_null(strchr(error, '\n'));
                        result = json_pack("{s:s, s:s}", "error", errno_name(r), "message", error);
                        assert_int_equal(apply(again, NULL), r); /* the same without a message */
                } else {
                        json_auto_t *twice = json_deep_copy(config);
                        _cleanup_free_ char *once_text = dump(config), *twice_text = NULL;

                        assert_null(error);
                        assert_int_equal(apply(twice, NULL), 0);
                        twice_text = dump(twice);
                        assert_string_equal(twice_text, once_text); /* idempotent */
                        check_semantics(names[i], in, config);
                        result = json_incref(config);
                }
                got = dump(result);
                assert_int_equal(asprintf(&ok, "%s.ok.json", names[i]) > 0, 1);
                golden_check(ok, got);
        }
        print_message("%zu configs\n", n);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

static void test_metadata(void **state) {
        json_auto_t *c = json_object();
        const char *policy = "unset";
        json_t *seccomp;
        (void) state;

        assert_int_equal(ocispec_policy_annotation(c, &policy, NULL), 0);
        assert_null(policy);
        assert_int_equal(ocispec_add_commitd(c, "/x.sock", NULL, NULL), 0);
        seccomp = json_object_get(json_object_get(c, "linux"), "seccomp");
        assert_string_equal(json_string_value(json_object_get(seccomp, "listenerPath")), "/x.sock");
        assert_string_equal(json_string_value(json_object_get(seccomp, "listenerMetadata")), "");
        assert_int_equal(ocispec_add_commitd(c, "/y.sock", "redis", NULL), 0);
        assert_string_equal(json_string_value(json_object_get(seccomp, "listenerPath")), "/y.sock");
        assert_string_equal(json_string_value(json_object_get(seccomp, "listenerMetadata")), "redis");

        /* An explicit null is no profile, as runtimes read it. */
        json_object_set_new(json_object_get(c, "linux"), "seccomp", json_null());
        assert_int_equal(ocispec_add_commitd(c, "/x.sock", NULL, NULL), 0);
        assert_true(json_is_object(json_object_get(json_object_get(c, "linux"), "seccomp")));
}

/* The container process state the agent socket receives. */
static void test_state(void **state) {
        static const struct {
                const char *s;
                int ret;
                const char *id, *policy;
                pid_t pid;
                size_t n_fds, seccomp_index;
        } cases[] = {
                {"{\"fds\":[\"seccompFd\"],\"pid\":42,\"metadata\":\"m\",\"state\":{\"id\":\"c\",\"annotations\":{"
                 "\"io.commitd.policy\":\"pg\"}}}",
                 0, "c", "pg", 42, 1, 0},
                /* an empty annotation names none: the bundle's metadata does */
                {"{\"fds\":[\"x\",\"seccompFd\"],\"pid\":7,\"metadata\":\"m\",\"state\":{\"id\":\"c\",\"annotations\":{"
                 "\"io.commitd.policy\":\"\"}}}",
                 0, "c", "m", 7, 2, 1},
                {"{\"fds\":[\"seccompFd\"],\"pid\":7,\"metadata\":\"\",\"state\":{\"id\":\"c\"}}", 0, "c", NULL, 7, 1,
                 0},
                /* a pid past pid_t would have wrapped around to pid 1 */
                {"{\"fds\":[\"seccompFd\"],\"pid\":4294967297,\"state\":{\"id\":\"c\"}}", -EBADMSG, NULL, NULL, 0, 0,
                 0},
                /* an exec: runc and crun send pid 0 */
                {"{\"fds\":[\"seccompFd\"],\"pid\":0,\"state\":{\"id\":\"c\"}}", 0, "c", NULL, 0, 1, 0},
                {"{\"fds\":[\"seccompFd\"],\"pid\":-1,\"state\":{\"id\":\"c\"}}", -EBADMSG, NULL, NULL, 0, 0, 0},
                {"{\"fds\":[\"other\"],\"pid\":7,\"state\":{\"id\":\"c\"}}", -EBADMSG, NULL, NULL, 0, 0, 0},
                {"{\"fds\":[\"seccompFd\"],\"pid\":7,\"state\":{\"id\":1}}", -EBADMSG, NULL, NULL, 0, 0, 0},
                {"{\"fds\":[\"seccompFd\"],\"pid\":7,\"pid\":8,\"state\":{\"id\":\"c\"}}", -EBADMSG, NULL, NULL, 0, 0,
                 0},
                {"[1]", -EBADMSG, NULL, NULL, 0, 0, 0},
                {"{\"fds\":[\"seccompFd\"],\"pid\":7,\"state\":{\"id\":\"c\"", -EBADMSG, NULL, NULL, 0, 0, 0},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct ocispec_state st = {0};
                const char *why = NULL;

                print_message("state: %s\n", cases[i].s);
                assert_int_equal(ocispec_parse_state(cases[i].s, strlen(cases[i].s), &st, &why), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_non_null(why);
                        assert_null(st.id);
                        continue;
                }
                assert_string_equal(st.id, cases[i].id);
                if (cases[i].policy)
                        assert_string_equal(st.policy, cases[i].policy);
                else
                        assert_null(st.policy);
                assert_int_equal(st.pid, cases[i].pid);
                assert_int_equal(st.n_fds, cases[i].n_fds);
                assert_int_equal(st.seccomp_index, cases[i].seccomp_index);
                ocispec_state_done(&st);
        }
}

/* The view's bind mount: appended after the bundle's mounts, once; a bundle that mounts something else over
 * /proc/meminfo (LXCFS) keeps it. */
static void test_meminfo(void **state) {
        json_auto_t *c = json_loads("{\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"}]}", 0, NULL);
        json_auto_t *none = json_object(), *bad = json_loads("{\"mounts\": {}}", 0, NULL);
        _cleanup_free_ char *text = NULL, *error = NULL;
        (void) state;

        assert_int_equal(ocispec_add_meminfo(c, "/run/commitd/meminfo/meminfo", NULL), 0);
        assert_int_equal(ocispec_add_meminfo(c, "/run/commitd/meminfo/meminfo", NULL), 0);
        text = json_dumps(c, JSON_COMPACT);
        assert_string_equal(text,
                            "{\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
                            "{\"destination\":\"/proc/meminfo\",\"type\":\"bind\",\"source\":"
                            "\"/run/commitd/meminfo/meminfo\",\"options\":[\"bind\",\"ro\",\"nosuid\",\"nodev\"]}]}");
        assert_int_equal(ocispec_add_meminfo(c, "/var/lib/lxcfs/proc/meminfo", &error), -EEXIST);
        assert_string_equal(error, "mounts[1] mounts /proc/meminfo already (LXCFS?)");
        assert_int_equal(ocispec_add_meminfo(none, "/m", NULL), 0);
        assert_int_equal(json_array_size(json_object_get(none, "mounts")), 1);
        assert_int_equal(ocispec_add_meminfo(bad, "/m", NULL), -EINVAL);
}

/* linux.seccomp.flags: the wait-killable flag added, crun's implicit one kept, the profile's own flags kept. */
static void test_seccomp_flag(void **state) {
        static const struct {
                const char *in, *implicit, *out;
                int ret;
        } cases[] = {
                {"{}", "S", "[\"S\", \"W\"]", 0},
                {"{}", NULL, "[\"W\"]", 0},
                {"{\"flags\": null}", "S", "[\"S\", \"W\"]", 0},
                /* the profile's flags are what the runtime loads: crun's implicit one is not added to them */
                {"{\"flags\": []}", "S", "[\"W\"]", 0},
                {"{\"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"]}", "S", "[\"SECCOMP_FILTER_FLAG_LOG\", \"W\"]", 0},
                {"{\"flags\": [\"W\", \"L\"]}", "S", "[\"W\", \"L\"]", 0},
                {"{\"flags\": \"W\"}", "S", NULL, -EINVAL},
                {"{\"flags\": [1]}", "S", NULL, -EINVAL},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_auto_t *c = json_pack("{s:{s:o}}", "linux", "seccomp", json_loads(cases[i].in, 0, NULL));
                json_auto_t *want = cases[i].out ? json_loads(cases[i].out, 0, NULL) : NULL;
                char *error = NULL;
                json_t *seccomp;

                print_message("flags: %s\n", cases[i].in);
                assert_non_null(c);
                assert_int_equal(ocispec_add_seccomp_flag(c, "W", cases[i].implicit, &error), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_non_null(error);
                        free(error);
                        continue;
                }
                /* twice: the same */
                assert_int_equal(ocispec_add_seccomp_flag(c, "W", cases[i].implicit, NULL), 0);
                seccomp = json_object_get(json_object_get(c, "linux"), "seccomp");
                assert_true(json_equal(json_object_get(seccomp, "flags"), want));
        }
        {
                json_auto_t *c = json_object();
                char *error = NULL;

                assert_int_equal(ocispec_add_seccomp_flag(c, "W", NULL, &error), -EINVAL);
                free(error);
        }
}

int main(void) {
        const char *data = getenv("COMMITD_TEST_DATA");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden),  cmocka_unit_test(test_metadata),     cmocka_unit_test(test_state),
                cmocka_unit_test(test_meminfo), cmocka_unit_test(test_seccomp_flag),
        };

        if (!data || chdir(data) < 0) {
                fprintf(stderr, "COMMITD_TEST_DATA must name tests/data\n");
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
