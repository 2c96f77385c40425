/* SPDX-License-Identifier: MIT */
/* A signal while commitd judges a call (tests/root/enforce-signals.sh).
 *   sigcall AREAS CALLS [restart]
 * Maps AREAS one-page areas (every other one writable, so that none merge and each refusal's exact measure
 * walks them all) and a page of shared memory (commitd then reads smaps: tens of milliseconds per measure,
 * against a signal every millisecond), then catches SIGALRM from a 1 ms timer with a
 * handler installed without SA_RESTART ("restart": with it) and asks CALLS times for more than a 64 MiB budget
 * holds, by mmap and by brk in turns. The kernel's strict mode answers each with ENOMEM (brk: the old break),
 * never EINTR (commitd's refused brk may answer 0: counted as ENOMEM); a caught signal may interrupt a call only
 * before commitd has received it.
 * Prints "SIGCALL calls=N enomem=N eintr=N other=N signals=N zero=N" (zero: refused brk answered 0, not the
 * break); exits 0. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "report.h"

#define PAGE     4096
#define TOO_MUCH (256ul << 20)

static volatile sig_atomic_t signals;

static void on_alarm(int sig) {
        (void) sig;
        signals++;
}

int main(int argc, char **argv) {
        struct itimerval every = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
        struct sigaction sa = {.sa_handler = on_alarm};
        unsigned long areas, calls, enomem = 0, eintr = 0, other = 0, zero = 0;
        uintptr_t brk0;

        if (argc < 3) {
                fprintf(stderr, "usage: sigcall AREAS CALLS [restart]\n");
                return 2;
        }
        areas = strtoul(argv[1], NULL, 10);
        calls = strtoul(argv[2], NULL, 10);
        if (argc > 3 && strcmp(argv[3], "restart") == 0)
                sa.sa_flags = SA_RESTART;
        for (unsigned long i = 0; i < areas; i++) {
                int prot = i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
                if (mmap(NULL, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
                        return report("map areas", errno), 1;
        }
        /* Shared memory makes commitd read this process's smaps (docs/design.md): tens of milliseconds per measure */
        if (mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
                return report("map shared", errno), 1;
        brk0 = (uintptr_t) syscall(SYS_brk, 0);
        if (sigaction(SIGALRM, &sa, NULL) < 0 || setitimer(ITIMER_REAL, &every, NULL) < 0)
                return report("timer", errno), 1;
        for (unsigned long i = 0; i < calls; i++) {
                int err;
                if (i % 2) {
                        /* The raw call: glibc's brk() would store a -EINTR as its break. A refusal answers the
                         * old break, as the kernel does; or 0 when commitd cannot name it (daemon/judge.c
                         * refused_brk()), which glibc takes for a failure too, counted apart (zero=). */
                        long r = syscall(SYS_brk, brk0 + TOO_MUCH);
                        err = r == -1 ? errno : (uintptr_t) r == brk0 || r == 0 ? ENOMEM : 0;
                        zero += r == 0;
                } else {
                        void *p = mmap(NULL, TOO_MUCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        err = p == MAP_FAILED ? errno : 0;
                        if (p != MAP_FAILED)
                                munmap(p, TOO_MUCH);
                }
                if (err == ENOMEM)
                        enomem++;
                else if (err == EINTR)
                        eintr++;
                else
                        other++;
        }
        setitimer(ITIMER_REAL, &off, NULL);
        printf("SIGCALL calls=%lu enomem=%lu eintr=%lu other=%lu signals=%ld zero=%lu\n", calls, enomem, eintr, other,
               (long) signals, zero);
        return 0;
}
