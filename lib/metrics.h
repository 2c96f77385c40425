/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* The Prometheus text exposition (format 0.0.4) of commitd's numbers: the one place that names the metrics,
 * their types, units and help. m is the result of the control method "metrics" (docs/protocol.md) with the
 * "budgets" of all its pages joined: {"version", "host", "daemon" (absent for a tenant), "budgets": [...]}.
 * Sizes are in bytes and durations, kept in microseconds on the wire, are written in seconds (base units).
 * A field that is missing or null leaves its sample out; a family with no sample is left out whole.
 * Returns 0, or -EIO when f fails. */
int metrics_write(FILE *f, const json_t *m);

/* commitd_up, the gauge an exporter adds to say whether it could read commitd's numbers (1) or not (0): what a
 * textfile collector shows when commitd is down, rather than the last numbers it was given. Returns as
 * metrics_write() does. */
int metrics_write_up(FILE *f, bool up);

/* One label value as the format quotes it: backslash, double quote and line feed escaped. */
void metrics_write_label_value(FILE *f, const char *s);
