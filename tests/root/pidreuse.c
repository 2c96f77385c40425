/* SPDX-License-Identifier: MIT */
/* Forces the kernel to give a dead enrolled process's pid to a new one, for the pid-reuse test: pids are
 * spent with vfork() (never notified) until the next one is the dead process's.
 *   pidreuse victim            fork a child that maps 1 MiB (commitd learns it) and exits; print "PID <its pid>";
 *                              then hold (read stdin) so that the listener stays alive
 *   pidreuse same MAP          in one process: a child maps 1 MiB and exits (pid P); map MAP; fork until the
 *                              child gets P; that child (MAP inherited) forks
 *   pidreuse other P MAP       fork until the child gets P; that child maps MAP and forks
 * Each call prints "OK map", "ENOMEM fork" and so on (report.h).
 * "REUSED <pid>" says the reuse happened; without it the run proves nothing and exits 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

#define TRIES 6 /* turns of the pid space (pid_max 32768 here): another process may take the pid first */

static pid_t last_pid(void) {
        FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "re");
        int v = -1;

        if (f) {
                if (fscanf(f, "%d", &v) != 1)
                        v = -1;
                fclose(f);
        }
        return (pid_t) v;
}

static int map(size_t len) {
        return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? errno : 0;
}

/* A child that maps 1 MiB (a notified call: commitd keeps a record of it) and exits; returns its pid. */
static pid_t learned_child(void) {
        pid_t pid = fork();

        if (pid == 0)
                _exit(map(1 << 20) ? 1 : 0);
        if (pid > 0)
                (void) waitpid(pid, NULL, 0);
        return pid;
}

static void report_fork(void) {
        pid_t pid = fork();

        if (pid == 0)
                _exit(0);
        report("fork", pid < 0 ? errno : 0);
        if (pid > 0)
                (void) waitpid(pid, NULL, 0);
}

/* One pid used up: vfork() notifies nothing and costs little. Its own function: nothing of the caller's
 * frame lives across it. */
__attribute__((noinline)) static void spend_pid(void) {
        pid_t v = vfork();

        if (v == 0)
                _exit(0);
        if (v > 0)
                (void) waitpid(v, NULL, 0);
}

/* Forks until the child's pid is want; in that child runs then() and exits. Returns 0 once it ran. Far from
 * want, pids are spent with vfork(); close below it (the pids just under it may be in use, and are
 * skipped by the kernel) each one is a fork() whose child runs then() only if it got want. */
static int fork_as(pid_t want, void (*then)(size_t), size_t arg) {
        for (long n = 0; n < TRIES * 64 * 1024L; n++) {
                pid_t last = last_pid(), pid;
                int status = 0;

                if (last < want - 64 || last >= want) {
                        spend_pid();
                        continue;
                }
                pid = fork();
                if (pid == 0) {
                        if (getpid() != want)
                                _exit(3);
                        printf("REUSED %d\n", (int) want);
                        then(arg);
                        fflush(stdout);
                        _exit(0);
                }
                if (pid < 0 || waitpid(pid, &status, 0) < 0)
                        return -1;
                if (pid == want)
                        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
        }
        return -1;
}

static void then_fork(size_t unused) {
        (void) unused;
        report_fork();
}

static void then_map_and_fork(size_t len) {
        report("map", map(len));
        report_fork();
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IONBF, 0);
        if (argc == 2 && strcmp(argv[1], "victim") == 0) {
                char line[16];
                printf("PID %d\n", (int) learned_child());
                printf("WAITING\n");
                return fgets(line, sizeof(line), stdin) ? 0 : 0;
        }
        if (argc == 3 && strcmp(argv[1], "same") == 0) {
                pid_t p = learned_child();
                report("map", map(parse_size(argv[2])));
                return fork_as(p, then_fork, 0) < 0 ? 1 : 0;
        }
        if (argc == 4 && strcmp(argv[1], "other") == 0)
                return fork_as((pid_t) atoi(argv[2]), then_map_and_fork, parse_size(argv[3])) < 0 ? 1 : 0;
        fprintf(stderr, "usage: pidreuse victim | same MAP | other PID MAP\n");
        return 2;
}
