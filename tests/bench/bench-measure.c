/* SPDX-License-Identifier: MIT */
/* How long an exact measure of one large process takes (docs/performance.md, Measure). A child makes N
 * mappings (default 20,000) of one kind and waits; measure_process() and smaps_read() of it are timed, best
 * and median of R runs (default 7), and smaps_parse() alone over a copy of its smaps in memory (the parser's
 * share; the rest is the kernel writing smaps).
 *   anon      private anonymous pages, read-write and read-only alternating (so no two areas merge)
 *   longpath  shared read-only pages of one file whose path is ~4,000 bytes long: ~4.9 KiB of smaps per area,
 *             98 MB at 20,000, past the 64 MiB a whole-file read allowed
 * Run: build/tests/bench/bench-measure [anon|longpath] [N] [R]   (no root needed: it measures its own child) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "measure.h"

#define PAGE 4096

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return (x > y) - (x < y);
}

/* A file under a chain of 250-byte directory names, ~4,000 bytes of path. Returns the fd; *ret_dir is the
 * top directory to remove. */
static int long_path_file(char *ret_dir, size_t len) {
        char path[4600], component[251];
        int fd;

        snprintf(ret_dir, len, "/tmp/bench-measure-%d", (int) getpid());
        memset(component, 'd', 250);
        component[250] = '\0';
        snprintf(path, sizeof(path), "%s", ret_dir);
        if (mkdir(path, 0700) < 0)
                return -errno;
        for (int i = 0; i < 15; i++) {
                size_t l = strlen(path);
                snprintf(path + l, sizeof(path) - l, "/%s", component);
                if (mkdir(path, 0700) < 0)
                        return -errno;
        }
        strncat(path, "/file", sizeof(path) - strlen(path) - 1);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, 3 * PAGE) < 0)
                return -errno;
        return fd;
}

static void remove_tree(const char *dir) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
}

/* The child: n mappings, then a byte on `ready`, then it waits to be killed. */
static void child(const char *kind, size_t n, int fd, int ready) {
        char *base;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* One reservation, then each page mapped over it: areas side by side, kept apart by their protection
         * (anon) or their file offsets (longpath: offsets 0 and 2 pages alternate, so none continues another). */
        base = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED)
                _exit(2);
        for (size_t i = 0; i < n; i++) {
                void *p;
                if (strcmp(kind, "anon") == 0)
                        p = mmap(base + i * PAGE, PAGE, PROT_READ | (i % 2 ? PROT_WRITE : 0),
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                else
                        p = mmap(base + i * PAGE, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
                                 (off_t) ((i % 2) * 2 * PAGE));
                if (p == MAP_FAILED)
                        _exit(3);
        }
        if (write(ready, &base, sizeof(base)) != sizeof(base))
                _exit(4);
        for (;;)
                pause();
}

int main(int argc, char **argv) {
        const char *kind = argc > 1 ? argv[1] : "anon";
        size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000, runs = argc > 3 ? strtoul(argv[3], NULL, 10) : 7;
        uint64_t *t_measure = calloc(runs, sizeof(uint64_t)), *t_smaps = calloc(runs, sizeof(uint64_t));
        uint64_t *t_parse = calloc(runs, sizeof(uint64_t));
        char *text = NULL;
        size_t text_len = 0;
        char dir[256] = "", smaps_path[64], *base = NULL;
        uint64_t t_mprotect[2] = {UINT64_MAX, UINT64_MAX}, rss_kb = 0;
        struct measure_ctx ctx;
        int fd = -1, pipefd[2], r = 0;
        pid_t pid;

        if ((strcmp(kind, "anon") != 0 && strcmp(kind, "longpath") != 0) || n == 0 || runs == 0 || !t_measure ||
            !t_smaps || !t_parse) {
                fprintf(stderr, "usage: %s [anon|longpath] [N] [RUNS]\n", argv[0]);
                return 2;
        }
        if (strcmp(kind, "longpath") == 0 && (fd = long_path_file(dir, sizeof(dir))) < 0) {
                fprintf(stderr, "cannot make the long-path file: %s\n", strerror(-fd));
                remove_tree(dir);
                return 1;
        }
        if (measure_ctx_init(&ctx, "/proc") < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
                return 1;
        pid = fork();
        if (pid == 0)
                child(kind, n, fd, pipefd[1]);
        if (pid < 0 || read(pipefd[0], &base, sizeof(base)) != sizeof(base)) {
                fprintf(stderr, "the child did not make its mappings (vm.max_map_count?)\n");
                r = 1;
                goto out;
        }
        snprintf(smaps_path, sizeof(smaps_path), "/proc/%d/smaps", (int) pid);

        for (size_t i = 0; i < runs && r == 0; i++) {
                struct process_commit p;
                struct smaps_charge sc;
                uint64_t t0 = now_usec(), plain, noreserve, t;

                r = measure_process(&ctx, pid, &p);
                t_measure[i] = now_usec() - t0;
                if (r < 0) {
                        fprintf(stderr, "measure_process: %s\n", strerror(-r));
                        break;
                }
                process_commit_done(&p);
                t0 = now_usec();
                r = smaps_read(smaps_path, &sc);
                t_smaps[i] = now_usec() - t0;
                if (r < 0) {
                        fprintf(stderr, "smaps_read: %s\n", strerror(-r));
                        break;
                }
                smaps_charge_done(&sc);

                /* The exact mprotect charge the daemon computes before a refusal: the first of the child's
                 * areas (the reader stops right after it) and its last (read to there). */
                for (int k = 0; k < 2 && r >= 0; k++) {
                        char *at = base + (k == 0 ? 0 : (n - 1) * PAGE);
                        t0 = now_usec();
                        r = smaps_mprotect_charge_read(smaps_path, (uint64_t) at, PAGE, &plain, &noreserve);
                        t = now_usec() - t0;
                        t_mprotect[k] = t < t_mprotect[k] ? t : t_mprotect[k];
                }
                if (r < 0)
                        fprintf(stderr, "smaps_mprotect_charge_read: %s\n", strerror(-r));
        }
        {
                /* Before the copy below: what reading smaps cost in memory. */
                struct rusage ru;
                if (getrusage(RUSAGE_SELF, &ru) == 0)
                        rss_kb = (uint64_t) ru.ru_maxrss;
        }

        /* The parser alone, over a copy in memory. */
        if (r == 0 && (r = fileio_read_full(smaps_path, SIZE_MAX - 2, &text, &text_len)) < 0)
                fprintf(stderr, "reading %s: %s\n", smaps_path, strerror(-r));
        for (size_t i = 0; i < runs && r == 0; i++) {
                struct smaps_charge sc;
                uint64_t t0 = now_usec();

                r = smaps_parse(text, &sc);
                t_parse[i] = now_usec() - t0;
                if (r < 0)
                        fprintf(stderr, "smaps_parse: %s\n", strerror(-r));
                smaps_charge_done(&sc);
        }
        if (r == 0) {
                qsort(t_measure, runs, sizeof(uint64_t), cmp_u64);
                qsort(t_smaps, runs, sizeof(uint64_t), cmp_u64);
                qsort(t_parse, runs, sizeof(uint64_t), cmp_u64);
                printf("%s, %zu mappings, smaps %zu bytes: measure_process best %" PRIu64 " us, median %" PRIu64
                       " us; smaps_read best %" PRIu64 " us, median %" PRIu64
                       " us; smaps_parse (in memory) best %" PRIu64 " us, median %" PRIu64 " us\n",
                       kind, n, text_len, t_measure[0], t_measure[runs / 2], t_smaps[0], t_smaps[runs / 2], t_parse[0],
                       t_parse[runs / 2]);
                printf("%s: mprotect charge at the first area best %" PRIu64 " us, at the last %" PRIu64
                       " us; peak RSS while measuring %" PRIu64 " kB\n",
                       kind, t_mprotect[0], t_mprotect[1], rss_kb);
        }
out:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
        if (*dir)
                remove_tree(dir);
        free(t_measure);
        free(t_smaps);
        free(t_parse);
        free(text);
        return r == 0 ? 0 : 1;
}
