/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* What the benchmarks that run their own commitd share: time, children, the daemon, control calls. */

/* CLOCK_MONOTONIC through the vDSO: no system call, nothing notified. */
uint64_t bench_now_ns(void);
void bench_sleep_ms(unsigned ms);
/* Waits for *pid (a child of ours) until deadline_ns, then kills it; *pid becomes 0. */
void bench_reap(pid_t *pid, uint64_t deadline_ns, int *ret_status);
/* Removes dir and everything below it. */
void bench_remove_tree(const char *dir);

/* A commitd of the benchmark's own under dir: DIR/commitd.sock, DIR/oci.sock, DIR/policies (made, with the
 * policy files the caller wrote there), DIR/state, its log in DIR/commitd.log. Returns once it answers status. */
struct bench_daemon {
        pid_t pid;
        char socket_path[160], log_path[160];
};
int bench_daemon_start(const char *commitd, const char *dir, struct bench_daemon *ret);
void bench_daemon_stop(struct bench_daemon *d, bool show_log);
/* One call on a fresh connection; *ret_result is the caller's (json_decref). Prints the error. */
int bench_call(const char *socket_path, const char *method, json_t *params, json_t **ret_result);

/* The permille-th value of n sorted values (0 when n is 0). */
uint64_t bench_percentile(const uint64_t *sorted, size_t n, unsigned permille);
