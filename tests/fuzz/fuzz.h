/* SPDX-License-Identifier: MIT */
#pragma once

/* What the libFuzzer targets share. A target only feeds lib/'s parsers and checks what their headers
 * promise; a broken promise aborts, which libFuzzer reports as a crash with the input that caused it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): it must hold in every build type. */
#define fuzz_check(cond)                                                                                               \
        do {                                                                                                           \
                if (!(cond)) {                                                                                         \
                        fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);                     \
                        abort();                                                                                       \
                }                                                                                                      \
        } while (0)

/* The input as the NUL-terminated buffer the text parsers take (what fileio_read_full() hands them). */
static inline char *fuzz_text(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        fuzz_check(s);
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}
