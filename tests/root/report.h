/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the root suite's test programs: sizes on the command line, and one line per operation with
 * what the call returned, so a shell test sees exactly what a program sees. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "64M", "1G", "4K", "4096" */
static inline size_t parse_size(const char *s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);

        switch (*end) {
        case 'G':
                v <<= 10;
                __attribute__((fallthrough));
        case 'M':
                v <<= 10;
                __attribute__((fallthrough));
        case 'K':
                v <<= 10;
                break;
        default:
                break;
        }
        return (size_t) v;
}

/* "OK op", "ENOMEM op", or the errno's name. */
static inline int report(const char *op, int err) {
        printf("%s %s\n", err == 0 ? "OK" : err == ENOMEM ? "ENOMEM" : strerrorname_np(err), op);
        fflush(stdout);
        return err;
}
