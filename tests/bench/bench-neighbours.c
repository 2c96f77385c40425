/* SPDX-License-Identifier: MIT */
/* Neighbours (issue 10): one tenant's refusal storm must not slow another tenant, nor root's `status`.
 * Its own commitd with two strict budgets. Tenant A: STORM processes, each with MAPPINGS read-only file
 * mappings (not notified, so cheap to make; they make every exact measure of A long), asking again and again
 * for 1 GiB, which A's budget refuses, each refusal after a re-measure of A. Tenant B: one process mapping and
 * unmapping 64 KiB, CALLS times, timing each notified mmap. Root asks `status` of every budget, 2,000 times
 * back to back. B and root run alone first, then each (one after the other) during A's storm; the runs are
 * compared in this one invocation.
 *
 * Prints B's p50/p99/worst mmap alone and beside the storm, their ratio, root's status p50/p99/worst alone and
 * during the storm, and A's refusals per second. A benchmark: it asserts nothing (docs/performance.md has the
 * targets: B's worst <= 50 ms, B's p99 <= 1.2x alone, status worst <= 200 ms).
 *
 * Usage: bench-neighbours COMMITD COMMITCTL [--mappings N] [--storm N] [--calls N]   (as root) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "harness.h"
#include "macro.h"

#define MAX_STORM 16
#define MAX_CALLS 200000
#define MAX_POLLS 200000
#define CALL_LEN  (64u * 1024)
#define STORM_ASK (1ull << 30)
#define A_LIMIT   "256M"
#define B_LIMIT   "16G"

enum phase { P_IDLE, P_STORM, P_STOP };

struct shared {
        _Atomic int phase;
        _Atomic unsigned ready;          /* storm processes with their mappings made */
        _Atomic uint64_t storm_refused;  /* A's 1 GiB asks refused (ENOMEM) */
        _Atomic uint64_t storm_admitted; /* and admitted (not expected) */
        _Atomic unsigned neighbour_done;
        uint64_t n_calls;
        uint64_t call_ns[MAX_CALLS]; /* B's notified mmaps */
};

static struct shared *map_shared(const char *path) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
        struct shared *sh;

        if (fd < 0)
                return NULL;
        sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        return sh == MAP_FAILED ? NULL : sh;
}

/* Tenant A: many mappings, then 1 GiB asks until told to stop. */
static int storm_main(const char *path, unsigned mappings, const char *file) {
        struct shared *sh = map_shared(path);
        int fd = open(file, O_RDONLY | O_CLOEXEC);

        if (!sh || fd < 0)
                return 1;
        for (unsigned i = 0; i < mappings; i++)
                if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
                        return 1;
        atomic_fetch_add(&sh->ready, 1);
        while (atomic_load(&sh->phase) == P_IDLE)
                bench_sleep_ms(5);
        while (atomic_load(&sh->phase) == P_STORM) {
                void *p = mmap(NULL, STORM_ASK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        atomic_fetch_add(&sh->storm_refused, 1);
                } else {
                        atomic_fetch_add(&sh->storm_admitted, 1);
                        munmap(p, STORM_ASK);
                }
        }
        return 0;
}

/* Tenant B: n notified mmap+munmap pairs, each mmap timed. */
static int neighbour_main(const char *path, uint64_t n) {
        struct shared *sh = map_shared(path);

        if (!sh)
                return 1;
        for (uint64_t i = 0; i < n && i < MAX_CALLS; i++) {
                uint64_t t0 = bench_now_ns();
                void *p = mmap(NULL, CALL_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                sh->call_ns[i] = bench_now_ns() - t0;
                if (p == MAP_FAILED)
                        return 1;
                munmap(p, CALL_LEN);
        }
        sh->n_calls = n;
        atomic_store(&sh->neighbour_done, 1);
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return (x > y) - (x < y);
}

struct summary {
        uint64_t n, p50, p99, max;
};

static struct summary summarize(uint64_t *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_u64);
        return (struct summary){n, bench_percentile(v, n, 500), bench_percentile(v, n, 990), n ? v[n - 1] : 0};
}

/* Root's status of every budget, back to back: max polls, or until *done_flag. */
static size_t poll_status(const char *socket_path, uint64_t *samples, size_t max, _Atomic unsigned *done_flag) {
        size_t n = 0;

        while (n < max && !(done_flag && atomic_load(done_flag))) {
                uint64_t t0 = bench_now_ns();
                if (bench_call(socket_path, "status", NULL, NULL) < 0)
                        break;
                samples[n++] = bench_now_ns() - t0;
        }
        return n;
}

static int start_enrolled(const char *commitctl, const char *socket_path, const char *cgroup, char *const argv[],
                          pid_t *ret) {
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char *args[16] = {(char *) commitctl, "--socket", (char *) socket_path, "run", "--cgroup",
                                  (char *) cgroup,    "--"};
                size_t k = 7;
                for (size_t i = 0; argv[i] && k < ELEMENTSOF(args) - 1; i++)
                        args[k++] = argv[i];
                args[k] = NULL;
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                execv(commitctl, args);
                _exit(127);
        }
        *ret = pid;
        return 0;
}

static void print_summary(const char *what, const struct summary *s) {
        printf("%-34s n=%-7" PRIu64 " p50 %8.1f us  p99 %8.1f us  worst %9.1f us\n", what, s->n, s->p50 / 1e3,
               s->p99 / 1e3, s->max / 1e3);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"mappings", required_argument, NULL, 'm'},
                {"storm", required_argument, NULL, 's'},
                {"calls", required_argument, NULL, 'c'},
                {NULL, 0, NULL, 0},
        };
        unsigned mappings = 5000, n_storm = 4;
        uint64_t calls = 20000;
        char dir[64] = "/tmp/bench-neighbours.XXXXXX", path[128], self[4096], a[96], b[96], a_dir[600], b_dir[600];
        char policy[160], mappings_s[16], calls_s[24];
        struct cgroup_mounts mounts = {0};
        struct bench_daemon d = {0};
        pid_t storm[MAX_STORM] = {0}, neighbour = 0;
        static uint64_t polls[MAX_POLLS];
        struct summary alone, beside, st_alone, st_storm;
        struct shared *sh = NULL;
        uint64_t t0, refused0, storm_ns;
        int c, fd, rc = 1;
        FILE *f;

        if (argc == 5 && streq(argv[1], "--storm-process"))
                return storm_main(argv[2], (unsigned) atoi(argv[3]), argv[4]);
        if (argc == 4 && streq(argv[1], "--neighbour-process"))
                return neighbour_main(argv[2], strtoull(argv[3], NULL, 10));
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                if (c == 'm')
                        mappings = (unsigned) atoi(optarg);
                else if (c == 's')
                        n_storm = (unsigned) atoi(optarg);
                else if (c == 'c')
                        calls = strtoull(optarg, NULL, 10);
                else
                        return 2;
        }
        if (argc - optind != 2 || geteuid() != 0 || n_storm == 0 || n_storm > MAX_STORM || calls == 0 ||
            calls > MAX_CALLS) {
                fprintf(stderr,
                        "usage: bench-neighbours COMMITD COMMITCTL [--mappings N] [--storm N<=%d] "
                        "[--calls N<=%d]   (as root)\n",
                        MAX_STORM, MAX_CALLS);
                return 2;
        }
        if (cgroupfs_read_mountinfo("/proc/self/mountinfo", &mounts) < 0 || !mounts.v2_mount || !mkdtemp(dir) ||
            !realpath("/proc/self/exe", self)) {
                fprintf(stderr, "bench-neighbours: no cgroup2 mount, or no temporary directory\n");
                cgroup_mounts_done(&mounts);
                return 1;
        }
        snprintf(a, sizeof(a), "/commitd-neighbours-%d/a", (int) getpid());
        snprintf(b, sizeof(b), "/commitd-neighbours-%d/b", (int) getpid());
        snprintf(a_dir, sizeof(a_dir), "%s%s", mounts.v2_mount, a);
        snprintf(b_dir, sizeof(b_dir), "%s%s", mounts.v2_mount, b);
        cgroup_mounts_done(&mounts);

#define FAIL(...)                                                                                                      \
        do {                                                                                                           \
                fprintf(stderr, "bench-neighbours: " __VA_ARGS__);                                                     \
                goto out;                                                                                              \
        } while (0)

        snprintf(path, sizeof(path), "%s/policies", dir);
        if (mkdir(path, 0700) < 0)
                FAIL("cannot write to %s: %m\n", dir);
        snprintf(policy, sizeof(policy), "%s/policies/a.json", dir);
        if (!(f = fopen(policy, "we")))
                FAIL("cannot write %s: %m\n", policy);
        fprintf(f, "{\"cgroup\": \"%s\", \"mode\": \"strict\", \"limit\": \"" A_LIMIT "\"}\n", a);
        fclose(f);
        snprintf(policy, sizeof(policy), "%s/policies/b.json", dir);
        if (!(f = fopen(policy, "we")))
                FAIL("cannot write %s: %m\n", policy);
        fprintf(f, "{\"cgroup\": \"%s\", \"mode\": \"strict\", \"limit\": \"" B_LIMIT "\"}\n", b);
        fclose(f);
        snprintf(path, sizeof(path), "%s/shared", dir);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, sizeof(*sh)) < 0 ||
            (sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
                sh = NULL;
                FAIL("cannot map %s: %m\n", path);
        }
        close(fd);
        if (bench_daemon_start(argv[optind], dir, &d) < 0)
                FAIL("commitd did not start\n");

        /* A's processes, each with its mappings of the shared file. */
        snprintf(mappings_s, sizeof(mappings_s), "%u", mappings);
        for (unsigned i = 0; i < n_storm; i++) {
                char *args[] = {self, "--storm-process", path, mappings_s, self, NULL};
                if (start_enrolled(argv[optind + 1], d.socket_path, a, args, &storm[i]) < 0)
                        FAIL("cannot start storm process %u\n", i);
        }
        for (int i = 0; i < 3000 && atomic_load(&sh->ready) < n_storm; i++)
                bench_sleep_ms(10);
        if (atomic_load(&sh->ready) < n_storm)
                FAIL("the storm processes did not get ready\n");

        /* B alone, and root's status alone. */
        snprintf(calls_s, sizeof(calls_s), "%" PRIu64, calls);
        char *nargs[] = {self, "--neighbour-process", path, calls_s, NULL};
        if (start_enrolled(argv[optind + 1], d.socket_path, b, nargs, &neighbour) < 0)
                FAIL("cannot start the neighbour\n");
        bench_reap(&neighbour, bench_now_ns() + 600000000000ull, &c);
        if (c != 0 || !atomic_load(&sh->neighbour_done))
                FAIL("the neighbour failed alone (status %d)\n", c);
        alone = summarize(sh->call_ns, sh->n_calls);
        st_alone = summarize(polls, poll_status(d.socket_path, polls, 2000, NULL));

        /* The storm, then B and root beside it. */
        atomic_store(&sh->neighbour_done, 0);
        atomic_store(&sh->phase, P_STORM);
        for (int i = 0; i < 3000 && atomic_load(&sh->storm_refused) == 0; i++)
                bench_sleep_ms(10);
        if (atomic_load(&sh->storm_refused) == 0)
                FAIL("the storm was never refused\n");
        refused0 = atomic_load(&sh->storm_refused);
        t0 = bench_now_ns();
        if (start_enrolled(argv[optind + 1], d.socket_path, b, nargs, &neighbour) < 0)
                FAIL("cannot start the neighbour\n");
        bench_reap(&neighbour, bench_now_ns() + 600000000000ull, &c);
        if (c != 0 || !atomic_load(&sh->neighbour_done))
                FAIL("the neighbour failed beside the storm (status %d)\n", c);
        beside = summarize(sh->call_ns, sh->n_calls);
        /* Root's status during the storm, on its own (beside B, its polls would be B's neighbour too). */
        st_storm = summarize(polls, poll_status(d.socket_path, polls, 2000, NULL));
        storm_ns = bench_now_ns() - t0;

        printf("tenant A: %u processes x %u mappings, asking 1 GiB of a %s strict budget: %.0f refusals/s "
               "(%" PRIu64 " admitted)\n",
               n_storm, mappings, A_LIMIT, (double) (atomic_load(&sh->storm_refused) - refused0) * 1e9 / storm_ns,
               atomic_load(&sh->storm_admitted));
        print_summary("B's mmap alone", &alone);
        print_summary("B's mmap beside A's storm", &beside);
        print_summary("root's status alone", &st_alone);
        print_summary("root's status during the storm", &st_storm);
        printf("ratios: B p99 beside/alone %.2fx (target <= 1.2x); B worst beside %.1f ms (target <= 50 ms); "
               "status worst during the storm %.1f ms (target <= 200 ms)\n",
               alone.p99 ? (double) beside.p99 / alone.p99 : 0.0, beside.max / 1e6, st_storm.max / 1e6);
        rc = 0;
out:
        if (sh)
                atomic_store(&sh->phase, P_STOP);
        for (unsigned i = 0; i < n_storm; i++)
                bench_reap(&storm[i], bench_now_ns() + 5000000000ull, NULL);
        bench_reap(&neighbour, bench_now_ns() + 5000000000ull, NULL);
        bench_daemon_stop(&d, rc != 0);
        for (int i = 0; i < 100 && rmdir(a_dir) < 0 && errno == EBUSY; i++)
                bench_sleep_ms(20);
        for (int i = 0; i < 100 && rmdir(b_dir) < 0 && errno == EBUSY; i++)
                bench_sleep_ms(20);
        *strrchr(a_dir, '/') = '\0';
        rmdir(a_dir);
        if (sh)
                munmap(sh, sizeof(*sh));
        bench_remove_tree(dir);
        return rc;
}
