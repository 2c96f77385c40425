/* SPDX-License-Identifier: MIT */
/* A hostile tenant for the enforce-hostile-*.sh tests (issue 9): each operation is one way a process could come
 * to hold more commit than its budget, and prints "OK op" or "ENOMEM op" (or another errno name) like the
 * workload, so a test sees what the program saw.
 *   map:SIZE  map-shared:SIZE   private writable, or shared anonymous, mapping
 *   trim                  unmap all of the last mapping but its first page
 *   steps:STEP:MAX        map STEP at a time until refused or MAX; prints "STEPS mapped=BYTES result=..."
 *   wait                  print "WAITING" and read a line from stdin before going on
 *   leader-exit           the rest of the operations run in a new thread; the main thread ends with SYS_exit
 *                         (not exit_group): a zombie leader, whose /proc/TGID/smaps is empty, and live threads
 *   t2:OP                 OP runs in a second thread (started at the first t2:, kept for the next ones)
 *   filemaps:PATH:N       N one-page read-only private mappings of PATH, each at offset 0 (no two can merge:
 *                         their offsets do not follow each other)
 *   shm-steps:SIZE:MAX    SysV segments of SIZE, never attached, until refused or MAX in all; prints
 *                         "SHM created=K result=..."; they outlive the process
 *   memfd:SIZE            memfd_create() and fallocate(): tmpfs pages held by an open fd
 *   shmfile:PATH:SIZE     a new file (in /dev/shm) fallocated and unlinked: held by an open fd only
 *   memfd-map:SIZE        a memfd fallocated, mapped MAP_SHARED and closed: held by the mapping only
 *   mremap-dontunmap:SIZE map SIZE private writable, then mremap() it to a new place at the same length with
 *                         MREMAP_MAYMOVE|MREMAP_DONTUNMAP (the old area stays, accountable)
 *   fork-hold:N           N forks; each child holds its copy of the process until the process exits (then a
 *                         pipe reaches EOF); one line per fork, then "FORKS admitted=K refused=R"
 *   fork-move:N:PROCS     the same, but each child first writes "0" into PROCS (a cgroup.procs file), before
 *                         any call commitd would see; a child that could not move prints "MOVE errno"
 *   race:ROUNDS:MAPPERS:SIZE:REFUSERS[:REPEAT[:idle]]   MAPPERS + REFUSERS threads (made once, small stacks)
 *                         released at once, ROUNDS times: each mapper maps SIZE, each refuser asks for 1 TiB up
 *                         to REPEAT times (refused: commitd measures again while the mappers' calls are in
 *                         flight). idle: every racer on one CPU and the mappers at SCHED_IDLE, so that an
 *                         admitted mapper waits behind the refusers before the kernel maps its area. After each
 *                         round the process reads its own smaps and prints "ROUND r admitted=K charged=BYTES"
 *                         (what the kernel charges it, mode 2's way: areas flagged ac, and private writable nr
 *                         ones), then unmaps what the round got
 * SIZE takes K, M, G. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

#define THREAD_STACK (256 * 1024) /* the stacks are accountable mappings too: keep them out of the way */
#define MAX_RACERS   256

static void *last;
static size_t last_len;

static int do_map(size_t len, int prot, int flags) {
        void *p = mmap(NULL, len, prot, flags, -1, 0);
        if (p == MAP_FAILED)
                return errno;
        last = p;
        last_len = len;
        return 0;
}

static int small_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
        pthread_attr_t attr;
        int r;

        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, THREAD_STACK);
        r = pthread_create(t, &attr, fn, arg);
        pthread_attr_destroy(&attr);
        return r;
}

/* What the kernel in mode 2 charges this process, from its own smaps (SPEC 3.1). */
static uint64_t self_charged(void) {
        FILE *f = fopen("/proc/self/smaps", "re");
        char line[512], perms[5] = "";
        uint64_t total = 0, size = 0;

        if (!f)
                return UINT64_MAX;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long kb;
                if (sscanf(line, "%*x-%*x %4s", perms) == 1)
                        size = 0;
                else if (sscanf(line, "Size: %llu kB", &kb) == 1)
                        size = kb * 1024;
                else if (strncmp(line, "VmFlags:", 8) == 0) {
                        bool ac = strstr(line, " ac") != NULL, nr = strstr(line, " nr") != NULL;
                        if (ac || (nr && perms[1] == 'w' && perms[3] == 'p'))
                                total += size;
                }
        }
        fclose(f);
        return total;
}

static int do_steps(const char *spec) {
        size_t step = parse_size(spec), max = parse_size(strchr(spec, ':') ? strchr(spec, ':') + 1 : "0"), total = 0;
        int err = 0;

        while (total < max) {
                err = do_map(step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
                if (err)
                        break;
                total += step;
        }
        printf("STEPS mapped=%zu result=%s\n", total, err ? strerrorname_np(err) : "max");
        fflush(stdout);
        return 0;
}

static int do_filemaps(const char *spec) {
        const char *colon = strrchr(spec, ':');
        char path[8192];
        long n;
        int fd;

        if (!colon || (size_t) (colon - spec) >= sizeof(path))
                return EINVAL;
        memcpy(path, spec, (size_t) (colon - spec));
        path[colon - spec] = '\0';
        n = atol(colon + 1);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        for (long i = 0; i < n; i++)
                if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED) {
                        int err = errno;
                        close(fd);
                        return err;
                }
        close(fd);
        return 0;
}

static int do_shm_steps(const char *spec) {
        size_t size = parse_size(spec), max = parse_size(strchr(spec, ':') ? strchr(spec, ':') + 1 : "0"), total = 0;
        int err = 0;
        long created = 0;

        while (total < max) {
                if (shmget(IPC_PRIVATE, size, IPC_CREAT | 0600) < 0) {
                        err = errno;
                        break;
                }
                created++;
                total += size;
        }
        printf("SHM created=%ld result=%s\n", created, err ? strerrorname_np(err) : "max");
        fflush(stdout);
        return 0;
}

/* The fd is left open on purpose: it is what holds the pages. */
static int do_tmpfs_file(const char *path, size_t size, bool map) {
        int fd = path ? open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : memfd_create("hostile", MFD_CLOEXEC);

        if (fd < 0)
                return errno;
        if (path)
                unlink(path);
        if (fallocate(fd, 0, 0, (off_t) size) < 0)
                return errno;
        if (map) {
                void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                int err = p == MAP_FAILED ? errno : 0;
                close(fd);
                return err;
        }
        return 0;
}

static int do_mremap_dontunmap(size_t size) {
        void *p;
        int err = do_map(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);

        if (err)
                return err;
        /* glibc reads new_address whenever MREMAP_DONTUNMAP is given: NULL, no hint. */
        p = mremap(last, size, size, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
        return p == MAP_FAILED ? errno : 0;
}

/* Children that hold their copy of the address space until the process exits: they wait for EOF on a pipe
 * whose write end only the parent holds. procs: a cgroup.procs file each child moves itself into first. */
static int do_forks(const char *spec, const char *procs) {
        static int hold[2] = {-1, -1};
        long n = atol(spec), admitted = 0;

        if (hold[0] < 0 && pipe2(hold, O_CLOEXEC) < 0)
                return errno;
        for (long i = 0; i < n; i++) {
                int ready[2];
                pid_t pid;
                char moved = 0;

                if (pipe2(ready, O_CLOEXEC) < 0)
                        return errno;
                fflush(stdout);
                pid = fork();
                if (pid == 0) {
                        char c;
                        close(hold[1]);
                        close(ready[0]);
                        if (procs) {
                                int fd = open(procs, O_WRONLY | O_CLOEXEC);
                                moved = fd >= 0 && write(fd, "0\n", 2) == 2 ? 'y' : (char) errno;
                        }
                        (void) !write(ready[1], procs ? &moved : "y", 1);
                        close(ready[1]);
                        while (read(hold[0], &c, 1) > 0 || errno == EINTR)
                                ;
                        _exit(0);
                }
                close(ready[1]);
                if (pid > 0 && read(ready[0], &moved, 1) == 1 && moved != 'y')
                        printf("MOVE %s\n", strerrorname_np(moved));
                close(ready[0]);
                admitted += pid > 0;
                report("fork", pid < 0 ? errno : 0);
        }
        printf("FORKS admitted=%ld refused=%ld\n", admitted, n - admitted);
        fflush(stdout);
        return 0;
}

/* ---- threads that race ---- */

static struct {
        pthread_barrier_t start, end;
        long rounds, mappers, repeat;
        size_t size;
        bool idle;
        cpu_set_t cpu;
        void *got[MAX_RACERS];
} race;

static void *racer_main(void *arg) {
        long i = (long) (intptr_t) arg;

        /* Every racer on one CPU, the mappers at SCHED_IDLE: a mapper commitd has admitted then waits behind the
         * refusers before the kernel maps its area, so its call stays in flight across their re-measures. */
        if (race.idle) {
                struct sched_param sp = {0};
                (void) sched_setaffinity(0, sizeof(race.cpu), &race.cpu);
                if (i < race.mappers)
                        (void) sched_setscheduler(0, SCHED_IDLE, &sp);
        }
        for (long r = 0; r < race.rounds; r++) {
                void *p = NULL;
                pthread_barrier_wait(&race.start);
                if (i < race.mappers)
                        p = mmap(NULL, race.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                else
                        for (long k = 0; k < race.repeat; k++) {
                                p = mmap(NULL, (size_t) 1 << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                         -1, 0);
                                if (p != MAP_FAILED) /* admitted: keep it for the count, ask no more */
                                        break;
                        }
                race.got[i] = p == MAP_FAILED ? NULL : p;
                pthread_barrier_wait(&race.end);
        }
        return NULL;
}

static int do_race(const char *spec) {
        long refusers;
        const char *s = spec;
        pthread_t t[MAX_RACERS];
        long n;

        race.rounds = atol(s);
        s = strchr(s, ':');
        race.mappers = s ? atol(++s) : 0;
        s = s ? strchr(s, ':') : NULL;
        race.size = s ? parse_size(++s) : 0;
        s = s ? strchr(s, ':') : NULL;
        refusers = s ? atol(++s) : 0;
        s = s ? strchr(s, ':') : NULL;
        race.repeat = s ? atol(++s) : 1;
        s = s ? strchr(s, ':') : NULL;
        race.idle = s && strcmp(s + 1, "idle") == 0;
        CPU_ZERO(&race.cpu);
        CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &race.cpu);
        n = race.mappers + refusers;
        if (race.rounds < 1 || race.mappers < 1 || refusers < 0 || n > MAX_RACERS || race.size == 0 || race.repeat < 1)
                return EINVAL;
        pthread_barrier_init(&race.start, NULL, (unsigned) n + 1);
        pthread_barrier_init(&race.end, NULL, (unsigned) n + 1);
        for (long i = 0; i < n; i++)
                if (small_thread(&t[i], racer_main, (void *) (intptr_t) i) != 0)
                        return EAGAIN; /* cannot happen in these tests; the threads made so far wait forever */
        for (long r = 0; r < race.rounds; r++) {
                long admitted = 0;
                pthread_barrier_wait(&race.start);
                pthread_barrier_wait(&race.end);
                for (long i = 0; i < n; i++)
                        admitted += race.got[i] != NULL;
                printf("ROUND %ld admitted=%ld charged=%llu\n", r, admitted, (unsigned long long) self_charged());
                fflush(stdout);
                for (long i = 0; i < n; i++)
                        if (race.got[i])
                                munmap(race.got[i], i < race.mappers ? race.size : (size_t) 1 << 40);
        }
        for (long i = 0; i < n; i++)
                pthread_join(t[i], NULL);
        return 0;
}

/* ---- the operations ---- */

static int run_ops(int n, char **ops);

/* One operation; rest: the operations after it (leader-exit runs them in another thread). */
static int run_op(const char *op, int rest_n, char **rest);

/* t2: one thread kept for every t2: operation, told by semaphores what to run. */
static struct {
        pthread_t thread;
        bool started;
        sem_t go, done;
        const char *op;
} t2;

static void *t2_main(void *arg) {
        for (;;) {
                sem_wait(&t2.go);
                (void) run_op(t2.op, 0, NULL);
                sem_post(&t2.done);
        }
        return arg;
}

struct rest {
        int n;
        char **ops;
};

static void *leader_successor(void *arg) {
        struct rest *r = arg;
        exit(run_ops(r->n, r->ops)); /* exit_group(): the last thread takes the process with it */
}

static int run_op(const char *op, int rest_n, char **rest) {
        const char *arg = strchr(op, ':') ? strchr(op, ':') + 1 : "";
        int err = 0;

        if (strncmp(op, "map:", 4) == 0)
                err = do_map(parse_size(arg), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        else if (strncmp(op, "map-shared:", 11) == 0)
                err = do_map(parse_size(arg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
        else if (strcmp(op, "trim") == 0) {
                if (!last || last_len <= 4096 || munmap((char *) last + 4096, last_len - 4096) < 0)
                        err = last ? errno : EINVAL;
                else
                        last_len = 4096;
        } else if (strncmp(op, "steps:", 6) == 0)
                return do_steps(arg);
        else if (strcmp(op, "wait") == 0) {
                char line[64];
                printf("WAITING\n");
                fflush(stdout);
                if (!fgets(line, sizeof(line), stdin))
                        exit(0);
                return 0;
        } else if (strcmp(op, "leader-exit") == 0) {
                static struct rest r;
                pthread_t t;
                r = (struct rest){rest_n, rest};
                report(op, 0); /* first: the successor prints too */
                err = small_thread(&t, leader_successor, &r);
                if (err == 0)
                        syscall(SYS_exit, 0); /* this thread only */
        } else if (strncmp(op, "t2:", 3) == 0) {
                if (!t2.started) {
                        sem_init(&t2.go, 0, 0);
                        sem_init(&t2.done, 0, 0);
                        err = small_thread(&t2.thread, t2_main, NULL);
                        if (err)
                                return report(op, err);
                        t2.started = true;
                }
                t2.op = arg;
                sem_post(&t2.go);
                while (sem_wait(&t2.done) < 0 && errno == EINTR)
                        ;
                return 0;
        } else if (strncmp(op, "filemaps:", 9) == 0)
                err = do_filemaps(arg);
        else if (strncmp(op, "shm-steps:", 10) == 0)
                return do_shm_steps(arg);
        else if (strncmp(op, "memfd:", 6) == 0)
                err = do_tmpfs_file(NULL, parse_size(arg), false);
        else if (strncmp(op, "memfd-map:", 10) == 0)
                err = do_tmpfs_file(NULL, parse_size(arg), true);
        else if (strncmp(op, "shmfile:", 8) == 0) {
                char path[4096];
                const char *colon = strrchr(arg, ':');
                if (!colon || (size_t) (colon - arg) >= sizeof(path))
                        return report(op, EINVAL);
                snprintf(path, sizeof(path), "%.*s", (int) (colon - arg), arg);
                err = do_tmpfs_file(path, parse_size(colon + 1), false);
        } else if (strncmp(op, "mremap-dontunmap:", 17) == 0)
                err = do_mremap_dontunmap(parse_size(arg));
        else if (strncmp(op, "fork-hold:", 10) == 0)
                err = do_forks(arg, NULL);
        else if (strncmp(op, "fork-move:", 10) == 0)
                err = strchr(arg, ':') ? do_forks(arg, strchr(arg, ':') + 1) : EINVAL;
        else if (strncmp(op, "race:", 5) == 0)
                err = do_race(arg);
        else {
                fprintf(stderr, "hostile: unknown operation '%s'\n", op);
                exit(2);
        }
        if (err || (strncmp(op, "fork-", 5) != 0 && strncmp(op, "race:", 5) != 0))
                report(op, err);
        return 0;
}

static int run_ops(int n, char **ops) {
        for (int i = 0; i < n; i++)
                run_op(ops[i], n - i - 1, ops + i + 1);
        return 0;
}

int main(int argc, char **argv) {
        return run_ops(argc - 1, argv + 1);
}
