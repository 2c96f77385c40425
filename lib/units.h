/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* Longest string units_format_size() writes, with its NUL: "18446744073709551615B" */
#define UNITS_FORMAT_MAX 24

/* Parses a size: plain bytes ("4096") or a number with a binary unit, as the kernel's memparse() and
 * systemd read them: K, M, G, T, P, E, each optionally followed by "i" and/or "B" ("512M", "4G",
 * "4GiB", "64KB" all mean powers of 1024). No fractions, no signs, no spaces. Returns 0, or -EINVAL
 * for anything else, or -ERANGE when the value does not fit 64 bits. */
int units_parse_size(const char *s, uint64_t *ret_bytes);

/* Parses a count given on a command line (an interval's seconds, a number of rows): decimal digits only, no sign,
 * no spaces, no unit, from min to max. Returns 0, -EINVAL for anything else, or -ERANGE outside [min, max];
 * *ret written only on success. */
int units_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Formats like `free -h`: "0B", "1023B", "1.0Ki", "3.4Gi", "12Gi". One decimal below 10 units. */
const char *units_format_size(uint64_t bytes, char buf[static UNITS_FORMAT_MAX]);
