/* SPDX-License-Identifier: MIT */
/* A churning tenant for the restart test: maps, unmaps, grows and shrinks its heap and forks as fast as it can
 * near its strict budget, and checks every answer itself.
 *   churn LIMIT_BYTES
 * Prints "READY base=BYTES" (its accountable size before churning, from /proc/self/smaps), then "ERROR ..." for
 * any answer other than success or ENOMEM, "VIOLATION ..." whenever what it holds passes LIMIT_BYTES (an
 * allocation admitted past the strict budget). On SIGUSR1 it stops, prints
 * "DONE calls=N enomem=N errors=N violations=N max_us=N" and holds what it has until SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 64
#define MIB      (1024 * 1024)

static volatile sig_atomic_t stop;
static uint64_t calls, enomem, errors, violations, max_us;

static void on_usr1(int sig) {
        (void) sig;
        stop = 1;
}

static uint64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* The kernel's word for this process: areas flagged ac (VM_ACCOUNT) in smaps. */
static uint64_t accountable_bytes(void) {
        FILE *f = fopen("/proc/self/smaps", "re");
        char line[512];
        uint64_t total = 0, size = 0;

        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long kb;
                if (sscanf(line, "Size: %llu kB", &kb) == 1)
                        size = kb * 1024;
                else if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " ac"))
                        total += size;
        }
        fclose(f);
        return total;
}

/* One answered call: a success, the intended ENOMEM, or an error (ENOSYS would mean a lost listener). */
static void account(const char *op, uint64_t started, int err) {
        uint64_t took = now_us() - started;

        calls++;
        if (took > max_us)
                max_us = took;
        if (err == ENOMEM)
                enomem++;
        else if (err != 0) {
                errors++;
                printf("ERROR %s %s\n", op, strerror(err));
        }
}

int main(int argc, char **argv) {
        struct {
                void *p;
                size_t len;
        } held[MAX_HELD] = {{0}};
        uint64_t limit, base, in_use = 0, brk_grown = 0;
        unsigned seed = (unsigned) getpid();
        size_t n = 0;

        if (argc != 2)
                return 2;
        limit = strtoull(argv[1], NULL, 10);
        static char out[4096]; /* a static buffer: no allocation of stdio's after the base is measured */
        setvbuf(stdout, out, _IOLBF, sizeof(out));
        signal(SIGUSR1, on_usr1);
        base = accountable_bytes();
        printf("READY base=%llu\n", (unsigned long long) base);

        while (!stop) {
                unsigned dice = (unsigned) rand_r(&seed) % 100;
                uint64_t t = now_us();
                int err = 0;

                if (dice < 55 && n < MAX_HELD) {
                        size_t len = (size_t) (1 + rand_r(&seed) % 8) * MIB;
                        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        err = p == MAP_FAILED ? errno : 0;
                        account("mmap", t, err);
                        if (!err) {
                                held[n].p = p, held[n++].len = len;
                                in_use += len;
                        }
                } else if (dice < 85 && n > 0) {
                        size_t i = (size_t) rand_r(&seed) % n;
                        munmap(held[i].p, held[i].len); /* never notified: frees are not judged */
                        in_use -= held[i].len;
                        held[i] = held[--n];
                } else if (dice < 92) {
                        int grow = brk_grown == 0;
                        err = sbrk(grow ? MIB : -MIB) == (void *) -1 ? errno : 0;
                        if (grow) {
                                account("brk", t, err);
                                brk_grown = err ? 0 : MIB;
                        } else if (!err)
                                brk_grown = 0;
                } else {
                        pid_t pid = fork();
                        err = pid < 0 ? errno : 0;
                        account("fork", t, err);
                        if (pid == 0)
                                _exit(0);
                        if (pid > 0)
                                (void) waitpid(pid, NULL, 0);
                }
                if (base + in_use + brk_grown > limit) {
                        violations++;
                        printf("VIOLATION base=%llu held=%llu limit=%llu\n", (unsigned long long) base,
                               (unsigned long long) (in_use + brk_grown), (unsigned long long) limit);
                }
        }
        printf("DONE calls=%llu enomem=%llu errors=%llu violations=%llu max_us=%llu\n", (unsigned long long) calls,
               (unsigned long long) enomem, (unsigned long long) errors, (unsigned long long) violations,
               (unsigned long long) max_us);
        for (;;)
                pause(); /* hold everything for the final comparison with the kernel; SIGTERM ends it */
}
