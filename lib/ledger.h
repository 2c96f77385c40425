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
        uint64_t generation;       /* bumped on every measure */
};

/* The commit the ledger answers with: measured + admitted, saturating. */
uint64_t ledger_committed(const struct ledger *l);
/* Whether calls were admitted since the last measure. */
bool ledger_grew(const struct ledger *l);

/* Records an admitted charge. Returns 0, or -EOVERFLOW (the ledger is left saturated). */
int ledger_charge(struct ledger *l, uint64_t bytes);

/* Replaces the belief by an exact measure taken at now_usec. The measure cannot see what the kernel has not done
 * yet: inflight_bytes are the admitted charges it may have missed (calls answered CONTINUE whose caller has not
 * been seen past them, forks whose child was not found), and they stay; so do the charges admitted while the
 * measure ran (admitted_bytes beyond admitted_at_start, the value read when it began). */
void ledger_remeasure(struct ledger *l, uint64_t measured_bytes, uint64_t inflight_bytes, uint64_t admitted_at_start,
                      uint64_t now_usec);
