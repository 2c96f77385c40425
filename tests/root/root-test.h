/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Root tests need the real kernel and root. Elsewhere they skip with 77 (meson's SKIP); under CI=true a
 * skip would hide a missing check, so it fails instead. */
#define ROOT_TEST_SKIP 77

static inline int root_test_skip(const char *why) {
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0) {
                fprintf(stderr, "FAIL: cannot run under CI=true: %s\n", why);
                return 1;
        }
        fprintf(stderr, "SKIP: %s\n", why);
        return ROOT_TEST_SKIP;
}

/* Returns -1 when the test may run, else the exit code to leave with. */
static inline int root_test_require_root(void) {
        if (geteuid() != 0)
                return root_test_skip("needs root (reads every process's smaps)");
        return -1;
}

/* The checks of a C root test: each failure is printed with its place and counted; the test exits 1 when
 * root_test_failures is not 0. */
static int root_test_failures;

#define CHECK(cond, ...)                                                                                               \
        do {                                                                                                           \
                if (!(cond)) {                                                                                         \
                        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                \
                        fprintf(stderr, __VA_ARGS__);                                                                  \
                        fputc('\n', stderr);                                                                           \
                        root_test_failures++;                                                                          \
                }                                                                                                      \
        } while (0)
