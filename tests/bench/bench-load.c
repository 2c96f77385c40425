/* SPDX-License-Identifier: MIT */
/* commitd under load: its own commitd with a strict budget, WORKERS processes enrolled with `commitctl run`
 * that map and unmap as fast as they can (some brk, a fork now and then, and now and then a large mapping
 * that the budget sometimes refuses: the intended ENOMEM), and POLLERS clients asking `status` over the
 * control socket, for DURATION seconds after a warm-up. Each worker times every notified call around the
 * syscall and keeps a histogram in a file mapped MAP_SHARED (calls the filter does not notify).
 *
 * A benchmark: it prints numbers. But it exits 1 when its invariants break: a notified call that returned
 * anything but success or ENOMEM, or took over 2 s (a hang); a status poll that failed; commitd's fd count
 * grown under the same load, or not back to its idle count once the workers are gone; its RSS grown by
 * more than RSS_TOLERANCE between the start (after the warm-up) and the end of the measured period.
 *
 * Usage: bench-load COMMITD COMMITCTL [--duration S] [--warmup S] [--workers N] [--pollers N]   (as root) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cgroupfs.h"
#include "client.h"
#include "fileio.h"
#include "harness.h"
#include "macro.h"

#define MAX_WORKERS 256
#define MAX_POLLERS 16
#define SLOTS       16           /* live small mappings per worker */
#define SMALL_MAX   (64u * 1024) /* small mappings: 4 KiB to 64 KiB */
#define BRK_STEP    (64u * 1024) /* every BRK_EVERY iterations: grow the heap, shrink it back */
#define BRK_EVERY   64
#define BIG_EVERY   4096          /* every BIG_EVERY iterations: a mapping of 1 MiB to big_max */
#define FORK_EVERY  1024          /* every FORK_EVERY iterations: fork, the child exits at once */
#define HEADROOM    (64ull << 20) /* budget above what the workers can hold in small mappings */
#define HANG_NS     2000000000ull /* a call or a poll this slow counts as a hang */
#define SUB_BITS    3             /* histogram: 8 buckets per power of two (12.5% wide) */
#define N_BUCKETS   (64 << SUB_BITS)
/* RSS may move without a leak: glibc keeps up to M_TRIM_THRESHOLD (128 KiB) free at the top of each arena
 * it does not trim, and listener threads that re-measure get arenas of their own. After the warm-up those
 * high-water marks are reached; 1 MiB is a few arenas' slack, and far below what a leak of even a few
 * bytes per call or per poll adds over millions of them (the verdict prints that bound). */
#define RSS_TOLERANCE (1ull << 20)
/* Under load commitd's RSS climbs for about 30 s before it flattens: 64 listener threads' stacks and malloc
 * arenas reach their high-water marks (a heaptrack trace of a 120 s run: no allocation site's live count grows
 * after 20 s). The RSS verdict compares after that. */
#define WARMUP_SEC   30
#define RSS_EVERY_NS 30000000000ull /* the RSS series printed with the verdict */
#define RSS_SAMPLES  64
#define READER_FDS   2 /* what one read of /proc holds open at once: a task_vma iterator's link and its fd */

enum call { C_MMAP, C_BIG, C_BRK, C_FORK, _C_MAX };
static const char *const call_names[] = {"mmap <= 64 KiB", "mmap >= 1 MiB", "brk", "fork"};

enum phase { P_WAIT, P_WARMUP, P_MEASURE, P_STOP };

struct stats {
        uint64_t calls[_C_MAX], enomem[_C_MAX], max_ns[_C_MAX];
        uint64_t errors, hangs, hist[N_BUCKETS];
        int first_errno; /* of the first error, with its call */
        int first_error_call;
};

struct slot {
        _Atomic uint64_t in_call_since_ns; /* 0 outside a call: the parent sees a call that never returns */
        atomic_int ready, done;
        struct stats s;
};

struct shared {
        atomic_int phase;
        uint64_t big_max_bytes;
        uint64_t deadline_ns; /* a worker whose parent vanished stops by itself */
        struct slot workers[MAX_WORKERS], pollers[MAX_POLLERS];
};

static unsigned bucket_of(uint64_t ns) {
        unsigned msb;

        if (ns < (1u << SUB_BITS))
                return (unsigned) ns;
        msb = 63 - (unsigned) __builtin_clzll(ns);
        return ((msb - SUB_BITS + 1) << SUB_BITS) | (unsigned) ((ns >> (msb - SUB_BITS)) & ((1u << SUB_BITS) - 1));
}

/* The largest value that falls in bucket b: a percentile is never reported lower than it was. */
static uint64_t bucket_top(unsigned b) {
        unsigned shift;

        if (b < (1u << SUB_BITS))
                return b;
        shift = (b >> SUB_BITS) - 1;
        return ((((uint64_t) 1 << SUB_BITS) | (b & ((1u << SUB_BITS) - 1))) << shift) + ((uint64_t) 1 << shift) - 1;
}

static uint64_t percentile(const uint64_t *hist, uint64_t total, unsigned permille) {
        uint64_t want = (total * permille + 999) / 1000, seen = 0;

        for (unsigned b = 0; b < N_BUCKETS; b++) {
                seen += hist[b];
                if (seen >= want && seen > 0)
                        return bucket_top(b);
        }
        return 0;
}

/* A hang, said when it happens with the time of day, to be set beside the logs of whatever else ran then. */
static void say_hang(const char *what, uint64_t ns) {
        time_t now = time(NULL);
        char when[16];

        char pressure[256] = "", line[128];

        /* What the host went through (PSI "some" over the last 10 s): CPU, memory or I/O stalls of everything, or
         * commitd's alone. */
        for (const char *const *r = (const char *const[]){"cpu", "memory", "io", NULL}; *r; r++) {
                char path[64];
                FILE *f;
                snprintf(path, sizeof(path), "/proc/pressure/%s", *r);
                f = fopen(path, "re");
                if (f && fgets(line, sizeof(line), f)) { /* the "some" line */
                        char *avg = strstr(line, "avg10=");
                        if (avg)
                                snprintf(pressure + strlen(pressure), sizeof(pressure) - strlen(pressure), " %s %.*s",
                                         *r, (int) strcspn(avg, " "), avg);
                }
                if (f)
                        fclose(f);
        }
        strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
        fprintf(stderr, "bench-load: hang at %s: %s took %.0f ms; pressure:%s\n", when, what, (double) ns / 1e6,
                pressure[0] ? pressure : " (no /proc/pressure)");
}

/* One small /proc file of task tid of pid, its newlines made spaces; "-" when it cannot be read. */
static void task_file(pid_t pid, const char *tid, const char *name, char *buf, size_t size) {
        _cleanup_free_ char *text = NULL;
        char path[128];
        size_t len;

        snprintf(path, sizeof(path), "/proc/%d/task/%s/%s", (int) pid, tid, name);
        if (fileio_read_full(path, 4096, &text, &len) < 0 || len == 0) {
                snprintf(buf, size, "-");
                return;
        }
        for (size_t i = 0; i < len; i++)
                if (text[i] == '\n')
                        text[i] = ' ';
        snprintf(buf, size, "%.*s", (int) len, text);
}

/* Where pid's threads wait, said beside a hang: each thread's name, state, kernel wait channel and the top of
 * its kernel stack (root reads it), so that a hang says whether commitd was judging, waiting on its lock or
 * reading /proc, and whether the worker still waits in seccomp for commitd's answer. */
static void say_threads(pid_t pid, const char *who) {
        char dir[64];
        struct dirent *de;
        DIR *d;

        snprintf(dir, sizeof(dir), "/proc/%d/task", (int) pid);
        d = opendir(dir);
        if (!d)
                return;
        while ((de = readdir(d))) {
                char comm[32], wchan[64], stack[320], stat[512], *state;
                if (de->d_name[0] == '.')
                        continue;
                task_file(pid, de->d_name, "comm", comm, sizeof(comm));
                task_file(pid, de->d_name, "wchan", wchan, sizeof(wchan));
                task_file(pid, de->d_name, "stat", stat, sizeof(stat));
                task_file(pid, de->d_name, "stack", stack, sizeof(stack));
                state = strrchr(stat, ')');
                fprintf(stderr, "bench-load:   %s thread %s (%s) state %c wchan %s stack: %s\n", who, de->d_name, comm,
                        state && state[1] && state[2] ? state[2] : '?', wchan, stack);
        }
        closedir(d);
}

static void note(struct stats *s, bool counting, enum call k, uint64_t ns, int err) {
        bool bad = err != 0 && err != ENOMEM;

        if (ns > HANG_NS)
                s->hangs++;
        if (bad || ns > HANG_NS) {
                if (s->errors++ == 0)
                        s->first_errno = bad ? err : ETIMEDOUT, s->first_error_call = k;
        }
        if (!counting)
                return;
        s->calls[k]++;
        s->enomem[k] += err == ENOMEM;
        s->hist[bucket_of(ns)]++;
        if (ns > s->max_ns[k])
                s->max_ns[k] = ns;
}

/* ---- worker: enrolled, exec'd by commitctl run ---- */

struct timed {
        struct shared *sh;
        struct slot *slot;
        uint64_t t0;
};

static void begin(struct timed *t) {
        t->t0 = bench_now_ns();
        atomic_store_explicit(&t->slot->in_call_since_ns, t->t0, memory_order_relaxed);
}

static void end(struct timed *t, enum call k, int err) {
        uint64_t ns = bench_now_ns() - t->t0;
        atomic_store_explicit(&t->slot->in_call_since_ns, 0, memory_order_relaxed);
        if (ns > HANG_NS)
                say_hang(call_names[k], ns);
        note(&t->slot->s, atomic_load_explicit(&t->sh->phase, memory_order_relaxed) == P_MEASURE, k, ns, err);
}

static uint64_t next_random(uint64_t *x) {
        *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
        return *x;
}

static void *map_timed(struct timed *t, enum call k, size_t len) {
        void *p;
        int err;

        begin(t);
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        err = p == MAP_FAILED ? errno : 0;
        end(t, k, err);
        return p;
}

/* No malloc and no stdio in the loop: the calls made are exactly the ones timed. */
static int worker_main(const char *path, unsigned index) {
        void *small[SLOTS] = {0};
        size_t small_len[SLOTS] = {0};
        uint64_t rng = 0x9e3779b97f4a7c15ull * (index + 1);
        struct timed t;
        struct shared *sh;
        int fd, phase;

        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 || index >= MAX_WORKERS)
                return 1;
        sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0); /* not notified: shared file */
        close(fd);
        if (sh == MAP_FAILED)
                return 1;
        t = (struct timed){.sh = sh, .slot = &sh->workers[index]};
        atomic_store(&t.slot->ready, 1);
        while ((phase = atomic_load(&sh->phase)) == P_WAIT && bench_now_ns() < sh->deadline_ns)
                bench_sleep_ms(1);
        for (uint64_t it = 1; phase != P_STOP; it++) {
                unsigned i = (unsigned) (next_random(&rng) % SLOTS);
                if (small[i])
                        munmap(small[i], small_len[i]);
                small_len[i] = (size_t) 4096 << (next_random(&rng) % 5);
                small[i] = map_timed(&t, C_MMAP, small_len[i]);
                if (small[i] == MAP_FAILED)
                        small[i] = NULL;
                if (it % BRK_EVERY == 0) {
                        void *b;
                        int err;
                        begin(&t);
                        b = sbrk(BRK_STEP);
                        err = b == (void *) -1 ? errno : 0;
                        end(&t, C_BRK, err);
                        if (!err) {
                                begin(&t);
                                err = sbrk(-(intptr_t) BRK_STEP) == (void *) -1 ? errno : 0;
                                end(&t, C_BRK, err);
                        }
                }
                if (it % BIG_EVERY == 0) {
                        size_t len = ((1u << 20) + next_random(&rng) % sh->big_max_bytes) & ~(size_t) 4095;
                        void *p = map_timed(&t, C_BIG, len);
                        if (p != MAP_FAILED)
                                munmap(p, len);
                }
                if (it % FORK_EVERY == 0) {
                        pid_t pid;
                        int err;
                        begin(&t);
                        pid = fork();
                        if (pid == 0)
                                _exit(0);
                        err = pid < 0 ? errno : 0;
                        end(&t, C_FORK, err);
                        if (pid > 0)
                                (void) waitpid(pid, NULL, 0);
                }
                phase = atomic_load_explicit(&sh->phase, memory_order_relaxed);
                if (it % 1024 == 0 && bench_now_ns() > sh->deadline_ns)
                        break;
        }
        atomic_store(&t.slot->done, 1);
        return 0;
}

/* ---- poller: a control client asking status as fast as commitd answers ---- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
        (void) sig;
        interrupted = 1;
}

static bool status_ok(const json_t *result, const char *cgroup) {
        const json_t *first = json_array_get(json_object_get(result, "cgroups"), 0);
        const char *name = json_string_value(json_object_get(first, "cgroup"));

        return name && streq(name, cgroup) && json_is_integer(json_object_get(first, "committed_bytes"));
}

static int poller_main(struct shared *sh, struct slot *slot, const char *socket_path, const char *cgroup) {
        struct timeval tv = {HANG_NS / 1000000000, 0};
        int fd = -1, phase;

        if (client_connect(socket_path, &fd) < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
                slot->s.errors++, slot->s.first_errno = ECONNREFUSED;
                return 1;
        }
        atomic_store(&slot->ready, 1);
        while ((phase = atomic_load(&sh->phase)) != P_STOP && !interrupted) {
                json_t *result = NULL;
                uint64_t t0 = bench_now_ns();
                int r;
                atomic_store_explicit(&slot->in_call_since_ns, t0, memory_order_relaxed);
                r = client_call(fd, "status", json_pack("{s:s}", "cgroup", cgroup), &result, NULL);
                atomic_store_explicit(&slot->in_call_since_ns, 0, memory_order_relaxed);
                if (r >= 0 && !status_ok(result, cgroup))
                        r = -EBADMSG;
                json_decref(result);
                if (bench_now_ns() - t0 > HANG_NS)
                        say_hang("status", bench_now_ns() - t0);
                note(&slot->s, phase == P_MEASURE, 0, bench_now_ns() - t0, r < 0 ? -r : 0);
                if (r < 0 && r != -EREMOTE && r != -EBADMSG)
                        break; /* the connection is gone: counted, and nothing more to ask on it */
        }
        close(fd);
        atomic_store(&slot->done, 1);
        return 0;
}

/* ---- the parent ---- */

struct bench {
        char dir[64], shared_path[128], cgroup[64], cgroup_dir[512];
        const char *commitd, *commitctl;
        char self[4096];
        struct bench_daemon daemon; /* the harness's commitd under dir */
        pid_t workers[MAX_WORKERS], pollers[MAX_POLLERS];
        unsigned n_workers, n_pollers;
        struct shared *sh;
};

static void cleanup(struct bench *b, bool show_log) {
        uint64_t soon = bench_now_ns() + 5000000000ull;

        if (b->sh)
                atomic_store(&b->sh->phase, P_STOP);
        for (unsigned i = 0; i < b->n_workers; i++)
                bench_reap(&b->workers[i], soon, NULL);
        for (unsigned i = 0; i < b->n_pollers; i++)
                bench_reap(&b->pollers[i], soon, NULL);
        if (b->cgroup_dir[0]) {
                /* Whatever is still in the scratch cgroup is a worker's fork child: ours too. */
                char path[600];
                pid_t *pids = NULL;
                size_t n = 0;
                snprintf(path, sizeof(path), "%s/cgroup.procs", b->cgroup_dir);
                if (cgroupfs_read_procs(path, &pids, &n) >= 0)
                        for (size_t i = 0; i < n; i++)
                                kill(pids[i], SIGKILL);
                free(pids);
        }
        bench_daemon_stop(&b->daemon, show_log);
        for (int i = 0; b->cgroup_dir[0] && i < 100 && rmdir(b->cgroup_dir) < 0 && errno == EBUSY; i++)
                bench_sleep_ms(20); /* the killed children leave the cgroup asynchronously */
        if (b->sh)
                munmap(b->sh, sizeof(*b->sh));
        if (b->dir[0])
                bench_remove_tree(b->dir);
}

struct sample {
        uint64_t rss_bytes;
        unsigned fds;
};

static int sample_once(pid_t pid, struct sample *ret) {
        char path[64];
        _cleanup_free_ char *buf = NULL;
        const char *rss;
        struct dirent *de;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        if (fileio_read_full(path, FILEIO_MAX_BYTES, &buf, NULL) < 0 || !(rss = strstr(buf, "\nVmRSS:")))
                return -ESRCH;
        ret->rss_bytes = strtoull(rss + 7, NULL, 10) * 1024;
        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        d = opendir(path);
        if (!d)
                return -ESRCH;
        ret->fds = 0;
        while ((de = readdir(d)))
                ret->fds += de->d_name[0] != '.';
        closedir(d);
        return 0;
}

/* commitd opens /proc and cgroupfs files while it measures, and a client's socket lives until the loop reads
 * its end: the fewest fds of a few samples 20 ms apart is what it holds, a leaked fd stays in every sample. */
static int sample_daemon(pid_t pid, struct sample *ret) {
        struct sample s, best = {.fds = UINT32_MAX};

        for (int i = 0; i < 5; i++) {
                if (i > 0)
                        bench_sleep_ms(20);
                if (sample_once(pid, &s) < 0)
                        return -ESRCH;
                best.fds = MIN(best.fds, s.fds);
                best.rss_bytes = s.rss_bytes; /* not transient: the last one */
        }
        *ret = best;
        return 0;
}

static int call(const struct bench *b, const char *method, json_t *params, json_t **ret_result) {
        return bench_call(b->daemon.socket_path, method, params, ret_result);
}

/* One worker at a time: each `commitctl run` holds a control connection until it execs, and commitd allows
 * 16 per uid. A worker is ready once it has exec'd and mapped the shared file. */
static int start_worker(struct bench *b, unsigned i) {
        char index[16];
        pid_t pid;

        snprintf(index, sizeof(index), "%u", i);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(null, STDOUT_FILENO);
                execl(b->commitctl, b->commitctl, "--socket", b->daemon.socket_path, "run", "--cgroup", b->cgroup, "--",
                      b->self, "--worker", b->shared_path, index, (char *) NULL);
                _exit(127);
        }
        b->workers[i] = pid;
        b->n_workers = i + 1;
        for (int k = 0; k < 6000 && !interrupted; k++) { /* a minute: the host may be busy with other work */
                if (atomic_load(&b->sh->workers[i].ready))
                        return 0;
                if (waitpid(pid, NULL, WNOHANG) == pid) {
                        b->workers[i] = 0;
                        return -ECHILD;
                }
                bench_sleep_ms(10);
        }
        return -ETIMEDOUT;
}

static int start_poller(struct bench *b, unsigned i) {
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                _exit(poller_main(b->sh, &b->sh->pollers[i], b->daemon.socket_path, b->cgroup));
        }
        b->pollers[i] = pid;
        b->n_pollers = i + 1;
        return 0;
}

/* The budget: what the workers hold now, plus all their small mappings and a heap step, plus HEADROOM. A
 * large mapping draws from 1 MiB to twice what is left, so about half of them are refused: the intended
 * ENOMEM of a workload at its limit, each one after commitd's exact re-measure. */
static int set_budget(struct bench *b, uint64_t *ret_limit) {
        json_t *result = NULL;
        const json_t *first;
        uint64_t now, small;
        int r;

        r = call(b, "status", json_pack("{s:s}", "cgroup", b->cgroup), &result);
        if (r < 0)
                return r;
        first = json_array_get(json_object_get(result, "cgroups"), 0);
        now = (uint64_t) json_integer_value(json_object_get(first, "committed_bytes"));
        json_decref(result);
        small = (uint64_t) b->n_workers * (SLOTS * SMALL_MAX + BRK_STEP);
        *ret_limit = now + small + HEADROOM;
        b->sh->big_max_bytes = 2 * (small + HEADROOM);
        r = call(b, "set-limit", json_pack("{s:s,s:I}", "cgroup", b->cgroup, "limit", (json_int_t) *ret_limit),
                 &result);
        json_decref(result);
        return r;
}

static void sum(struct stats *to, const struct stats *from) {
        for (int k = 0; k < _C_MAX; k++) {
                to->calls[k] += from->calls[k];
                to->enomem[k] += from->enomem[k];
                to->max_ns[k] = MAX(to->max_ns[k], from->max_ns[k]);
        }
        for (unsigned i = 0; i < N_BUCKETS; i++)
                to->hist[i] += from->hist[i];
        if (from->errors && !to->errors)
                to->first_errno = from->first_errno, to->first_error_call = from->first_error_call;
        to->errors += from->errors;
        to->hangs += from->hangs;
}

static uint64_t total_of(const uint64_t *v, int n) {
        uint64_t t = 0;
        for (int i = 0; i < n; i++)
                t += v[i];
        return t;
}

static void usage(void) {
        fprintf(stderr, "usage (as root): bench-load COMMITD COMMITCTL [--duration S] [--warmup S] [--workers N] "
                        "[--pollers N]\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"duration", required_argument, NULL, 'd'},
                {"warmup", required_argument, NULL, 'w'},
                {"workers", required_argument, NULL, 'n'},
                {"pollers", required_argument, NULL, 'p'},
                {NULL, 0, NULL, 0},
        };
        static struct bench b; /* static: cleanup() may run from any exit path */
        char policy_dir[128], policy[256];
        unsigned duration = 60, warmup = WARMUP_SEC, hung_workers = 0, dead = 0;
        struct sample idle, start, end, after;
        struct cgroup_mounts mounts = {0};
        struct stats w = {0}, p = {0};
        uint64_t limit, t_start, t_end;
        struct sigaction sa = {.sa_handler = on_signal};
        bool failed = false, fd_grew, rss_grew, fd_leak;
        int c, fd;
        FILE *f;

        if (argc == 4 && streq(argv[1], "--worker"))
                return worker_main(argv[2], (unsigned) atoi(argv[3]));
        b.n_workers = 64, b.n_pollers = 8;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        duration = (unsigned) atoi(optarg);
                        break;
                case 'w':
                        warmup = (unsigned) atoi(optarg);
                        break;
                case 'n':
                        b.n_workers = (unsigned) atoi(optarg);
                        break;
                case 'p':
                        b.n_pollers = (unsigned) atoi(optarg);
                        break;
                default:
                        usage();
                        return 2;
                }
        }
        if (argc - optind != 2 || geteuid() != 0 || duration == 0 || b.n_workers == 0 || b.n_workers > MAX_WORKERS ||
            b.n_pollers > MAX_POLLERS) {
                usage();
                return 2;
        }
        b.commitd = argv[optind];
        b.commitctl = argv[optind + 1];
        unsigned want_workers = b.n_workers, want_pollers = b.n_pollers;
        b.n_workers = b.n_pollers = 0;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);

        if (cgroupfs_read_mountinfo("/proc/self/mountinfo", &mounts) < 0 || !mounts.v2_mount) {
                fprintf(stderr, "bench-load: no cgroup2 mount in /proc/self/mountinfo\n");
                return 1;
        }
        snprintf(b.dir, sizeof(b.dir), "/tmp/bench-load.XXXXXX");
        if (!mkdtemp(b.dir) || !realpath("/proc/self/exe", b.self)) {
                b.dir[0] = '\0';
                cgroup_mounts_done(&mounts);
                return 1;
        }
        snprintf(b.shared_path, sizeof(b.shared_path), "%s/shared", b.dir);
        snprintf(policy_dir, sizeof(policy_dir), "%s/policies", b.dir);
        snprintf(policy, sizeof(policy), "%s/load.json", policy_dir);
        snprintf(b.cgroup, sizeof(b.cgroup), "/commitd-load-%d", (int) getpid());
        snprintf(b.cgroup_dir, sizeof(b.cgroup_dir), "%s%s", mounts.v2_mount, b.cgroup);
        cgroup_mounts_done(&mounts);

#define FAIL(...)                                                                                                      \
        do {                                                                                                           \
                fprintf(stderr, "bench-load: " __VA_ARGS__);                                                           \
                cleanup(&b, true);                                                                                     \
                return 1;                                                                                              \
        } while (0)

        if (mkdir(policy_dir, 0700) < 0 || !(f = fopen(policy, "we")))
                FAIL("cannot write to %s: %m\n", b.dir);
        /* Strict and far from its limit while the workers enroll; set_budget() brings the limit near. */
        fprintf(f, "{\"cgroup\": \"%s\", \"mode\": \"strict\", \"limit\": \"64G\"}\n", b.cgroup);
        fclose(f);
        fd = open(b.shared_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, sizeof(*b.sh)) < 0 ||
            (b.sh = mmap(NULL, sizeof(*b.sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
                b.sh = NULL;
                FAIL("cannot map %s: %m\n", b.shared_path);
        }
        close(fd);
        b.sh->deadline_ns = bench_now_ns() + (uint64_t) (warmup + duration + 600) * 1000000000;

        if (bench_daemon_start(b.commitd, b.dir, &b.daemon) < 0)
                FAIL("commitd did not start\n");
        bench_sleep_ms(100); /* the loop closes bench_daemon_start()'s probe connection */
        if (sample_daemon(b.daemon.pid, &idle) < 0)
                FAIL("cannot read /proc/%d\n", (int) b.daemon.pid);
        for (unsigned i = 0; i < want_workers; i++)
                if (start_worker(&b, i) < 0)
                        FAIL("worker %u did not enroll\n", i);
        if (set_budget(&b, &limit) < 0)
                FAIL("cannot set the budget\n");
        for (unsigned i = 0; i < want_pollers; i++)
                if (start_poller(&b, i) < 0)
                        FAIL("cannot start poller %u: %m\n", i);

        /* Warm-up, then the measured period. Every 100 ms: a call stuck past HANG_NS, a worker gone. */
        atomic_store(&b.sh->phase, P_WARMUP);
        t_start = bench_now_ns() + (uint64_t) warmup * 1000000000;
        t_end = t_start + (uint64_t) duration * 1000000000;
        bool measuring = false;
        bool hung[MAX_WORKERS] = {0}, slow_status_said = false;
        /* commitd's RSS every RSS_EVERY_NS of the measured period: whether a growth levels off or keeps on */
        uint64_t rss_kib[RSS_SAMPLES], next_rss = 0;
        unsigned n_rss = 0;
        while (!interrupted) {
                uint64_t t = bench_now_ns();
                if (!measuring && t >= t_start) {
                        if (sample_daemon(b.daemon.pid, &start) < 0)
                                FAIL("commitd is gone\n");
                        t_start = t;
                        t_end = t + (uint64_t) duration * 1000000000;
                        atomic_store(&b.sh->phase, P_MEASURE);
                        measuring = true;
                        next_rss = t + RSS_EVERY_NS;
                }
                if (measuring && t >= next_rss && n_rss < RSS_SAMPLES) {
                        struct sample now;
                        if (sample_once(b.daemon.pid, &now) == 0)
                                rss_kib[n_rss++] = now.rss_bytes >> 10;
                        next_rss += RSS_EVERY_NS;
                }
                if (measuring && t >= t_end) {
                        if (sample_daemon(b.daemon.pid, &end) < 0)
                                FAIL("commitd is gone\n");
                        atomic_store(&b.sh->phase, P_STOP);
                        t_end = bench_now_ns();
                        break;
                }
                for (unsigned i = 0; i < b.n_workers; i++) {
                        uint64_t since = atomic_load(&b.sh->workers[i].in_call_since_ns);
                        if (!hung[i] && since && t > since && t - since > HANG_NS) {
                                hung[i] = true, hung_workers++;
                                fprintf(stderr, "bench-load: worker %u (pid %d) has waited %.1f s for an answer\n", i,
                                        (int) b.workers[i], (double) (t - since) / 1e9);
                                if (hung_workers == 1) { /* the first of a round: enough to see where it waits */
                                        say_threads(b.workers[i], "worker");
                                        say_threads(b.daemon.pid, "commitd");
                                }
                        }
                }
                /* A status poll still unanswered after half the hang limit: commitd's threads now, while it waits
                 * (the poll itself gives up at the limit, too late to see where commitd was). Once a round. */
                for (unsigned i = 0; i < b.n_pollers && !slow_status_said; i++) {
                        uint64_t since = atomic_load(&b.sh->pollers[i].in_call_since_ns);
                        if (since && t > since && t - since > HANG_NS / 2) {
                                slow_status_said = true;
                                fprintf(stderr, "bench-load: poller %u has waited %.1f s for status\n", i,
                                        (double) (t - since) / 1e9);
                                say_threads(b.daemon.pid, "commitd");
                        }
                }
                bench_sleep_ms(100);
        }
        if (interrupted)
                FAIL("interrupted\n");
        /* A worker finishes the call it is in; one that cannot within 5 s hangs, and is killed. */
        for (unsigned i = 0; i < b.n_workers; i++) {
                int status;
                bench_reap(&b.workers[i], bench_now_ns() + 5000000000ull, &status);
                if (!atomic_load(&b.sh->workers[i].done) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        dead++;
                sum(&w, &b.sh->workers[i].s);
        }
        for (unsigned i = 0; i < b.n_pollers; i++) {
                bench_reap(&b.pollers[i], bench_now_ns() + 5000000000ull, NULL);
                sum(&p, &b.sh->pollers[i].s);
        }
        /* Every listener released, every client closed: commitd's fds are its idle ones again. */
        after = (struct sample){0};
        for (int i = 0; i < 100 && sample_daemon(b.daemon.pid, &after) >= 0 && after.fds > idle.fds; i++)
                bench_sleep_ms(50);

        double secs = (double) (t_end - t_start) / 1e9;
        uint64_t calls = total_of(w.calls, _C_MAX), enomem = total_of(w.enomem, _C_MAX);
        uint64_t polls = p.calls[0];
        printf("commitd under load: %u workers, %u status pollers, %.1f s measured after a %u s warm-up\n",
               want_workers, want_pollers, secs, warmup);
        printf("budget: strict, limit %" PRIu64 " MiB (large mappings 1 MiB to %" PRIu64 " MiB)\n", limit >> 20,
               b.sh->big_max_bytes >> 20);
        printf("notified calls: %" PRIu64 " (%.0f/s), answer latency p50 %.1f us, p99 %.1f us, max %.1f ms\n", calls,
               (double) calls / secs, (double) percentile(w.hist, calls, 500) / 1e3,
               (double) percentile(w.hist, calls, 990) / 1e3,
               (double) MAX(MAX(w.max_ns[0], w.max_ns[1]), MAX(w.max_ns[2], w.max_ns[3])) / 1e6);
        for (int k = 0; k < _C_MAX; k++)
                printf("  %-15s %10" PRIu64 " calls  %8" PRIu64 " ENOMEM  max %.1f ms\n", call_names[k], w.calls[k],
                       w.enomem[k], (double) w.max_ns[k] / 1e6);
        printf("ENOMEM (intended): %" PRIu64 "\n", enomem);
        printf("errors: %" PRIu64 " (hangs over 2 s: %" PRIu64
               ", stuck at the end: %u, workers that did not finish: %u)",
               w.errors, w.hangs, hung_workers, dead);
        if (w.errors)
                printf(", first: %s on %s", strerrorname_np(w.first_errno), call_names[w.first_error_call]);
        printf("\n");
        printf("status polls: %" PRIu64 " (%.0f/s), latency p50 %.1f us, p99 %.1f us, max %.1f ms; errors %" PRIu64
               "%s%s\n",
               polls, (double) polls / secs, (double) percentile(p.hist, polls, 500) / 1e3,
               (double) percentile(p.hist, polls, 990) / 1e3, (double) p.max_ns[0] / 1e6, p.errors,
               p.errors ? ", first: " : "", p.errors ? strerrorname_np(p.first_errno) : "");
        printf("commitd: idle before %u fds, %" PRIu64 " KiB; under load at start %u fds, %" PRIu64
               " KiB RSS; at end %u fds, %" PRIu64 " KiB RSS; idle after %u fds\n",
               idle.fds, idle.rss_bytes >> 10, start.fds, start.rss_bytes >> 10, end.fds, end.rss_bytes >> 10,
               after.fds);
        if (n_rss > 0) {
                printf("commitd RSS every %llu s (KiB):", RSS_EVERY_NS / 1000000000);
                for (unsigned i = 0; i < n_rss; i++)
                        printf(" %" PRIu64, rss_kib[i]);
                printf("\n");
        }
        /* Each listener thread (one per worker) and the upkeep's measure thread may be in the middle of a read of
         * /proc when sampled: up to READER_FDS each more is not growth (a leak per call or per refusal passes
         * that within a second). A leak also shows once the workers are gone (fd_leak: back to idle, exactly). */
        fd_grew = end.fds > start.fds + READER_FDS * (b.n_workers + 1);
        fd_leak = after.fds > idle.fds;
        rss_grew = end.rss_bytes > start.rss_bytes + RSS_TOLERANCE;
        printf("verdict: fds %s, RSS %s (%+" PRId64 " KiB, tolerance %llu KiB: a leak of %.2f bytes per call or "
               "%.1f per poll would pass it)\n",
               fd_grew   ? "GREW"
               : fd_leak ? "NOT BACK TO IDLE"
                         : "steady",
               rss_grew ? "GREW" : "steady", ((int64_t) end.rss_bytes - (int64_t) start.rss_bytes) / 1024,
               RSS_TOLERANCE >> 10, calls ? (double) RSS_TOLERANCE / (double) calls : 0.0,
               polls ? (double) RSS_TOLERANCE / (double) polls : 0.0);
        failed = w.errors || hung_workers || dead || p.errors || fd_grew || fd_leak || rss_grew || calls == 0;
        printf("%s\n", failed ? "FAIL" : "PASS");
        cleanup(&b, failed);
        return failed ? 1 : 0;
}
