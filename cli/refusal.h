/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Words for one refusal event (docs/protocol.md, "events": EVENT), shared by events and top. */

/* s with every control byte as '?', cut to fit size: comm and cgroup names come from other users' processes, and
 * no terminal escape of theirs may reach the reader's screen. Returns buf. */
const char *refusal_clean(const char *s, char *buf, size_t size);

/* ISO 8601 in local time with milliseconds and offset: 2026-11-26T10:15:02.123+01:00 */
#define REFUSAL_TIME_MAX 40
const char *refusal_format_time(uint64_t usec, char buf[static REFUSAL_TIME_MAX]);

/* "pid 42 (postgres) mmap 1.0Gi: committed 3.9Gi of 4.0Gi, strict: refused", then " by /tenants" when the level
 * that refused is an ancestor's budget; for a call commitd could not judge, "pid 42 (postgres) mmap: refused, cannot
 * judge: ...". Cleaned, cut to fit size. Returns buf. */
const char *refusal_describe(const json_t *ev, char *buf, size_t size);
