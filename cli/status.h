/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Output of status entries (docs/protocol.md, "status"), shared by status and the set-* verbs. */

/* An unsigned integer field; false when it is missing, null or negative. */
bool status_get_u64(const json_t *o, const char *key, uint64_t *ret);
/* committed_bytes over commit_limit_bytes in whole percent, rounded down; integer arithmetic, no overflow for any
 * 64-bit pair. False when either is missing or the limit is 0. */
bool status_use_percent(const json_t *o, uint64_t *ret);
/* "/tenants/a: strict, ratio 75%, CommitLimit 3.0Gi, committed 1.2Gi (40%), 3 processes" */
void status_print_line(FILE *f, const json_t *entry);
/* The table: CGROUP MODE LIMIT COMMITTED USE% PROCS ADMITTED REFUSED, "audit" after a policy not enforced. */
void status_print_table(FILE *f, const json_t *cgroups);
