/* SPDX-License-Identifier: MIT */
#pragma once

/* Golden files of the unit suite: $COMMITD_TEST_DATA/SUBDIR/NAME.in is parsed, the parse printed as text,
 * and the text compared with NAME.ok. COMMITD_UPDATE_GOLDEN=1 rewrites the .ok files instead (for
 * maintenance, after reading the diff; never in a test run). Include after <cmocka.h>. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"

/* $COMMITD_TEST_DATA/SUBDIR/NAME (caller frees). */
static inline char *test_data_path(const char *subdir, const char *name) {
        const char *dir = getenv("COMMITD_TEST_DATA");
        char *p;

        assert_true(dir && *dir);
        assert_true(asprintf(&p, "%s/%s/%s", dir, subdir, name) > 0);
        return p;
}

static inline bool golden_update(void) {
        const char *e = getenv("COMMITD_UPDATE_GOLDEN");
        return e && streq(e, "1");
}

/* Compares got with the file at ok_path, or rewrites it under COMMITD_UPDATE_GOLDEN=1. */
static inline void golden_check(const char *ok_path, const char *got) {
        _cleanup_free_ char *want = NULL;

        if (golden_update()) {
                FILE *f = fopen(ok_path, "we");
                assert_non_null(f);
                assert_true(fputs(got, f) >= 0);
                assert_int_equal(fclose(f), 0);
                print_message("golden: rewrote %s\n", ok_path);
                return;
        }
        assert_int_equal(fileio_read_full(ok_path, FILEIO_MAX_BYTES, &want, NULL), 0);
        if (!streq(want, got))
                print_error("golden: %s differs (COMMITD_UPDATE_GOLDEN=1 rewrites it):\n--- want\n%s--- got\n%s",
                            ok_path, want, got);
        assert_string_equal(got, want);
}

static inline int golden_cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The files in dir whose names end with suffix (except `except`, may be NULL), sorted, as "dir/name", or
 * "dir/name-without-suffix" when strip_suffix. The case lists of the golden tests: adding a file adds a case.
 * Returns the count; *ret (and each name) is the caller's to free. */
static inline size_t golden_list(const char *dir, const char *suffix, const char *except, bool strip_suffix,
                                 char ***ret) {
        size_t n = 0, ls = strlen(suffix);
        char **names = NULL;
        struct dirent *de;
        DIR *d = opendir(dir);

        assert_non_null(d);
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l <= ls || !streq(de->d_name + l - ls, suffix) || (except && streq(de->d_name, except)))
                        continue;
                names = reallocarray(names, n + 1, sizeof(char *));
                assert_non_null(names);
                assert_true(asprintf(&names[n++], "%s/%.*s", dir, (int) (strip_suffix ? l - ls : l), de->d_name) > 0);
        }
        closedir(d);
        qsort(names, n, sizeof(char *), golden_cmp_names);
        *ret = names;
        return n;
}
