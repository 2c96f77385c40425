/* SPDX-License-Identifier: MIT */
/* A workload for the enforcement tests: runs a sequence of operations given as arguments and prints one line
 * per operation, "OK op" or "ENOMEM op" (or another errno name), so a test sees exactly what a program sees.
 *   map:SIZE  map-noreserve:SIZE  map-shared:SIZE  map-ro:SIZE   anonymous mappings
 *   shm:SIZE            SysV segment (created, attached, marked for removal)
 *   mprotect:SIZE       map read-only, then add PROT_WRITE
 *   reprotect           remove PROT_WRITE from the last mapping, then add it back
 *   brk:SIZE            grow the heap by SIZE
 *   mremap:SIZE         map one page writable, grow it to SIZE
 *   dontfork            MADV_DONTFORK on the last mapping
 *   fork  vfork  thread  spawn  clone3    make a process or thread; the child exits at once
 *   arena               a thread that mallocs: glibc gives it an arena of its own, mapped MAP_NORESERVE
 *   steps:STEP:MAX      map STEP at a time until ENOMEM or MAX; prints "STEPS mapped=BYTES result=..."
 *   flood:N             N mappings of 1 GiB in a row; prints "FLOOD refused=K" (K of them failed)
 *   wait                print "WAITING" and read a line from stdin before going on
 *   sleep:SECONDS       hold everything mapped so far that long
 *   fill:SIZE           touch SIZE bytes of the last mapping (make it resident)
 *   race:N:SIZE         N threads (small stacks) released at once, each maps SIZE; keeps what was mapped and
 *                       prints "RACE admitted=K refused=R"
 *   seccomp-listener    install a filter of its own with SECCOMP_FILTER_FLAG_NEW_LISTENER (USER_NOTIF on mmap)
 *   seccomp-allow       install an allow-everything filter of its own (prctl(PR_SET_SECCOMP))
 *   seccomp-trace       install a filter of its own answering SECCOMP_RET_TRACE to mmap (no tracer attached)
 * SIZE takes K, M, G. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

extern char **environ;

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

static void *thread_main(void *arg) {
        return arg;
}

static void *arena_main(void *arg) {
        void *volatile p = malloc(64); /* volatile: the compiler may not elide the pair */
        free(p);
        return arg;
}

static int do_child(const char *how) {
        pid_t pid = -1;
        int status;

        if (strcmp(how, "fork") == 0)
                pid = fork();
        else if (strcmp(how, "vfork") == 0)
                pid = vfork();
        else if (strcmp(how, "clone3") == 0) {
                long r = syscall(SYS_clone3, NULL, 0);
                return r < 0 ? errno : 0;
        } else if (strcmp(how, "spawn") == 0) {
                char *argv[] = {"true", NULL};
                int r = posix_spawnp(&pid, "true", NULL, NULL, argv, environ);
                if (r != 0)
                        return r;
        } else {
                pthread_t t;
                int r = pthread_create(&t, NULL, strcmp(how, "arena") == 0 ? arena_main : thread_main, NULL);
                if (r != 0)
                        return r;
                return pthread_join(t, NULL);
        }
        if (pid < 0)
                return errno;
        if (pid == 0)
                _exit(0);
        return waitpid(pid, &status, 0) < 0 ? errno : 0;
}

static pthread_barrier_t race_start;
static size_t race_size;

static void *race_main(void *arg) {
        pthread_barrier_wait(&race_start);
        return mmap(NULL, race_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? NULL
                                                                                                               : arg;
}

/* N threads waiting on one barrier, so their mmaps reach commitd as close together as the kernel allows. */
static int do_race(const char *spec) {
        long n = atol(spec), admitted = 0;
        pthread_t t[256];
        pthread_attr_t attr;

        race_size = parse_size(strchr(spec, ':') ? strchr(spec, ':') + 1 : "0");
        if (n < 1 || n > 256)
                return EINVAL;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024); /* the stacks are mmaps too: keep them out of the way */
        pthread_barrier_init(&race_start, NULL, (unsigned) n);
        for (long i = 0; i < n; i++)
                if (pthread_create(&t[i], &attr, race_main, (void *) 1) != 0)
                        return EAGAIN;
        for (long i = 0; i < n; i++) {
                void *r;
                pthread_join(t[i], &r);
                admitted += r != NULL;
        }
        printf("RACE admitted=%ld refused=%ld\n", admitted, n - admitted);
        fflush(stdout);
        return 0;
}

/* A filter of the process's own on top of commitd's: mmap gets action, everything else is allowed. (No arch
 * check: the test makes only native calls.) */
static int do_seccomp(const char *how) {
        bool listener = strcmp(how, "seccomp-listener") == 0;
        uint32_t action = listener                            ? SECCOMP_RET_USER_NOTIF
                          : strcmp(how, "seccomp-trace") == 0 ? SECCOMP_RET_TRACE
                                                              : SECCOMP_RET_ALLOW;
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, action),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
        long r;

        /* Without CAP_SYS_ADMIN the kernel takes a filter only under no_new_privs. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return errno;
        if (listener)
                r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        else
                r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
        if (r >= 0 && listener)
                close((int) r); /* should not happen: the kernel allows one listener per filter chain */
        return r < 0 ? errno : 0;
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
        return err;
}

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                const char *op = argv[i], *arg = strchr(op, ':') ? strchr(op, ':') + 1 : "";
                int err = 0;

                if (strncmp(op, "map:", 4) == 0)
                        err = do_map(parse_size(arg), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
                else if (strncmp(op, "map-noreserve:", 14) == 0)
                        err = do_map(parse_size(arg), PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
                else if (strncmp(op, "map-shared:", 11) == 0)
                        err = do_map(parse_size(arg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
                else if (strncmp(op, "map-ro:", 7) == 0)
                        err = do_map(parse_size(arg), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
                else if (strncmp(op, "shm:", 4) == 0) {
                        int id = shmget(IPC_PRIVATE, parse_size(arg), IPC_CREAT | 0600);
                        if (id < 0)
                                err = errno;
                        else {
                                if (shmat(id, NULL, 0) == (void *) -1)
                                        err = errno;
                                shmctl(id, IPC_RMID, NULL);
                        }
                } else if (strncmp(op, "mprotect:", 9) == 0) {
                        err = do_map(parse_size(arg), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
                        if (!err && mprotect(last, last_len, PROT_READ | PROT_WRITE) < 0)
                                err = errno;
                } else if (strcmp(op, "reprotect") == 0) {
                        if (mprotect(last, last_len, PROT_READ) < 0 ||
                            mprotect(last, last_len, PROT_READ | PROT_WRITE) < 0)
                                err = errno;
                } else if (strncmp(op, "brk:", 4) == 0) {
                        if (sbrk((intptr_t) parse_size(arg)) == (void *) -1)
                                err = errno;
                } else if (strncmp(op, "mremap:", 7) == 0) {
                        err = do_map(4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
                        if (!err) {
                                void *p = mremap(last, 4096, parse_size(arg), MREMAP_MAYMOVE);
                                if (p == MAP_FAILED)
                                        err = errno;
                                else
                                        last = p, last_len = parse_size(arg);
                        }
                } else if (strcmp(op, "dontfork") == 0) {
                        if (madvise(last, last_len, MADV_DONTFORK) < 0)
                                err = errno;
                } else if (strncmp(op, "fill:", 5) == 0) {
                        memset(last, 1, parse_size(arg) < last_len ? parse_size(arg) : last_len);
                } else if (strncmp(op, "steps:", 6) == 0) {
                        do_steps(arg);
                        continue;
                } else if (strncmp(op, "flood:", 6) == 0) {
                        long refused = 0, n = atol(arg);
                        for (long k = 0; k < n; k++)
                                if (do_map((size_t) 1 << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS))
                                        refused++;
                                else
                                        munmap(last, last_len);
                        printf("FLOOD refused=%ld\n", refused);
                        fflush(stdout);
                        continue;
                } else if (strncmp(op, "race:", 5) == 0) {
                        if (do_race(arg) != 0)
                                report(op, EINVAL);
                        continue;
                } else if (strncmp(op, "seccomp-", 8) == 0) {
                        err = do_seccomp(op);
                } else if (strncmp(op, "sleep:", 6) == 0) {
                        sleep((unsigned) atoi(arg));
                        continue;
                } else if (strcmp(op, "wait") == 0) {
                        char line[64];
                        printf("WAITING\n");
                        fflush(stdout);
                        if (!fgets(line, sizeof(line), stdin))
                                return 0;
                        continue;
                } else if (strcmp(op, "fork") == 0 || strcmp(op, "vfork") == 0 || strcmp(op, "thread") == 0 ||
                           strcmp(op, "spawn") == 0 || strcmp(op, "clone3") == 0 || strcmp(op, "arena") == 0)
                        err = do_child(op);
                else {
                        fprintf(stderr, "workload: unknown operation '%s'\n", op);
                        return 2;
                }
                report(op, err);
        }
        return 0;
}
