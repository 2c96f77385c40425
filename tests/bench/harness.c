/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "harness.h"
#include "macro.h"

uint64_t bench_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}

void bench_sleep_ms(unsigned ms) {
        struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
}

void bench_reap(pid_t *pid, uint64_t deadline_ns, int *ret_status) {
        int status = -1;

        if (*pid <= 0)
                return;
        while (waitpid(*pid, &status, WNOHANG) == 0) {
                if (bench_now_ns() > deadline_ns) {
                        kill(*pid, SIGKILL);
                        waitpid(*pid, &status, 0);
                        status = -1;
                        break;
                }
                bench_sleep_ms(10);
        }
        if (ret_status)
                *ret_status = status;
        *pid = 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st, (void) type, (void) ftw;
        return remove(path) < 0 ? -1 : 0;
}

void bench_remove_tree(const char *dir) {
        if (dir && dir[0])
                nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int bench_call(const char *socket_path, const char *method, json_t *params, json_t **ret_result) {
        _cleanup_free_ char *error = NULL;
        json_t *ignored = NULL;
        int fd = -1, r;

        r = client_connect(socket_path, &fd);
        if (r < 0) {
                json_decref(params);
                return r;
        }
        r = client_call(fd, method, params, ret_result ? ret_result : &ignored, &error);
        close(fd);
        json_decref(ignored);
        if (r < 0)
                fprintf(stderr, "bench: %s: %s\n", method, error ? error : strerror(-r));
        return r;
}

int bench_daemon_start(const char *commitd, const char *dir, struct bench_daemon *ret) {
        char policies[160], state[160], oci[160];

        snprintf(ret->socket_path, sizeof(ret->socket_path), "%s/commitd.sock", dir);
        snprintf(ret->log_path, sizeof(ret->log_path), "%s/commitd.log", dir);
        snprintf(policies, sizeof(policies), "%s/policies", dir);
        snprintf(state, sizeof(state), "%s/state", dir);
        snprintf(oci, sizeof(oci), "%s/oci.sock", dir);
        if ((mkdir(policies, 0700) < 0 && errno != EEXIST) || (mkdir(state, 0700) < 0 && errno != EEXIST))
                return -errno;
        ret->pid = fork();
        if (ret->pid < 0)
                return -errno;
        if (ret->pid == 0) {
                int log = open(ret->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (log >= 0)
                        dup2(log, STDERR_FILENO);
                execl(commitd, commitd, "--foreground", "--socket", ret->socket_path, "--oci-socket", oci,
                      "--policy-dir", policies, "--state-dir", state, "--log-level", "warning", (char *) NULL);
                _exit(127);
        }
        for (int i = 0; i < 200; i++) {
                json_t *result = NULL;
                int fd = -1;
                if (client_connect(ret->socket_path, &fd) >= 0) {
                        int r = client_call(fd, "status", NULL, &result, NULL);
                        close(fd);
                        json_decref(result);
                        if (r >= 0)
                                return 0;
                }
                if (waitpid(ret->pid, NULL, WNOHANG) == ret->pid) {
                        ret->pid = 0;
                        return -ECHILD;
                }
                bench_sleep_ms(50);
        }
        return -ETIMEDOUT;
}

void bench_daemon_stop(struct bench_daemon *d, bool show_log) {
        if (d->pid > 0) {
                kill(d->pid, SIGTERM);
                bench_reap(&d->pid, bench_now_ns() + 5000000000ull, NULL);
        }
        if (show_log && d->log_path[0]) {
                char cmd[256];
                fprintf(stderr, "--- commitd log (last lines) ---\n");
                fflush(stderr);
                snprintf(cmd, sizeof(cmd), "tail -20 %s >&2", d->log_path);
                (void) !system(cmd);
        }
}

uint64_t bench_percentile(const uint64_t *sorted, size_t n, unsigned permille) {
        size_t i;

        if (n == 0)
                return 0;
        i = (n * permille) / 1000;
        return sorted[i < n ? i : n - 1];
}
