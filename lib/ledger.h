/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The commit of one cgroup as commitd believes it: the last exact measure (from /proc/PID/smaps of every
 * process in the cgroup) plus the charges admitted since. Frees (munmap, exit) are not intercepted, so the
 * ledger only grows between measures: it can overstate, never understate, what the kernel charged after
 * admitted calls. That is why a refusal always re-measures first (SPEC 3.3). A re-measure keeps the charges
 * the kernel may not have acted on yet (ledger_remeasure()). */
struct ledger {
        uint64_t measured_bytes;
        uint64_t admitted_bytes;   /* charged since the measure, and what it kept (in flight) */
        uint64_t kept_bytes;       /* what the last measure kept of admitted_bytes: beyond it, the ledger grew */
        uint64_t measured_at_usec; /* CLOCK_MONOTONIC of the measure; 0 = never measured */
        uint64_t generation;       /* bumped on every measure put in */
        uint64_t charged_ever;     /* every charge ever admitted, saturating: what was admitted between two points */
        uint64_t began, applied;   /* measures begun, and the begin number of the one in the ledger */
};

/* The commit the ledger answers with: measured + admitted, saturating. */
uint64_t ledger_committed(const struct ledger *l);
/* Whether calls were admitted since the last measure. */
bool ledger_grew(const struct ledger *l);

/* Records an admitted charge. Returns 0, or -EOVERFLOW (the ledger is left saturated). */
int ledger_charge(struct ledger *l, uint64_t bytes);

/* A measure runs while calls go on being admitted, and two measures of one ledger may overlap (each reads /proc
 * without the daemon's lock). Its mark, taken when it begins, says what was charged until then and in which
 * order it began. */
struct ledger_mark {
        uint64_t charged_ever;
        uint64_t seq;
};
struct ledger_mark ledger_measure_begin(struct ledger *l);
/* Replaces the belief by the exact measure that began at mark, finished at now_usec. The measure cannot see
 * what the kernel has not done yet: inflight_bytes are the admitted charges it may have missed (calls answered
 * CONTINUE whose caller has not been seen past them, forks whose child was not found), and they stay; so do the
 * charges admitted since it began. A measure that began before the one in the ledger is older news: dropped
 * (returns false). */
bool ledger_remeasure(struct ledger *l, const struct ledger_mark *mark, uint64_t measured_bytes,
                      uint64_t inflight_bytes, uint64_t now_usec);
