/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "formula.h"

/* Hard limits on what a policy file may hold (a policy directory is operator input, still bounded). */
#define POLICY_MAX_FILE_BYTES (64u * 1024)
#define POLICY_MAX_NAME       64
#define POLICY_MAX_RATIO      10000u /* vm.overcommit_ratio takes any int; 100x overcommit is plenty */
/* What a policy file does not say, and a policy made by a live change starts from: strict, the kernel's
 * formula, the kernel's default ratio. */
#define POLICY_DEFAULT_RATIO 50u
#define POLICY_DEFAULT_BUDGET                                                                                          \
        { .mode = COMMIT_MODE_NEVER, .formula = COMMIT_FORMULA_KERNEL, .ratio = POLICY_DEFAULT_RATIO }

/* One policy file (SPEC 5, policies/schema.json). The budget's sizes that the file does not name are
 * discovered per cgroup (SPEC 3.2): has_* says which ones the file set. */
struct policy {
        char *name;        /* "name" key, else the file name without ".json" */
        char *cgroup;      /* canonical v2 path, "/tenants/a" */
        char *description; /* may be NULL */
        struct budget budget;
        bool has_ram, has_swap, has_hugetlb, has_admin_reserve, has_user_reserve;
        bool enforce; /* false: audit, decide and log but admit */
        /* "meminfo": whether a container's /proc/meminfo is commitd-meminfo's view of its budget (the runtime
         * wrapper's bind mount, commitd-meminfo(8)); default true. `commitctl run` does not read it: it asks
         * with --meminfo. */
        bool meminfo;
};

/* Parses one policy. filename is used in messages and for the default name. On failure returns -EINVAL
 * (or -ENOMEM) and, when ret_error is not NULL, a message "FILE:LINE:COLUMN: what is wrong" (caller
 * frees). Unknown keys, wrong types, out-of-range values, duplicate keys, "ratio" with "limit", and a
 * missing "cgroup" are errors. Defaults: mode strict, formula kernel, ratio 50, enforce true, meminfo true. */
int policy_parse(const char *filename, const char *buf, size_t len, struct policy *ret, char **ret_error);
/* Reads path (at most POLICY_MAX_FILE_BYTES) and parses it. I/O errors are reported the same way and return
 * their own -errno (-ENOENT, -EFBIG, ...), so a caller tells a vanished file from a bad one (-EINVAL). */
int policy_load_file(const char *path, struct policy *ret, char **ret_error);
void policy_done(struct policy *p);
/* A policy name: 1 to POLICY_MAX_NAME bytes of [A-Za-z0-9_.-], not "." or ".." (it names files). */
bool policy_name_valid(const char *name);

/* A name for the policy of a cgroup that has none (a live change creates it, and persists it as NAME.json): the
 * path below the root with '/' as '-', ASCII letters, digits and '.' as they are, and every other byte (each '-'
 * and '_' of the path too, and a leading '.', which would hide the file) as '_' and two hex digits, so that no
 * two cgroups share a name: "/a/x-y" is "a-x_2dy", "/a/x/y" is "a-x-y". "/" is "_root". When that would pass
 * POLICY_MAX_NAME, or when hashed is set, the name is its first whole escapes up to POLICY_MAX_NAME - 18 bytes,
 * then "_h" and 16 hex digits of a hash (FNV-1a) of the path: stable across restarts and builds, and never
 * another cgroup's plain name ('_' followed by 'r' or 'h' is no escape). cgroup is canonical
 * (cgroupfs_path_normalize()). Returns 0 and *ret (caller frees), -EINVAL or -ENOMEM. */
int policy_name_for_cgroup(const char *cgroup, bool hashed, char **ret);

/* The policy as a JSON object in the file format (sizes as byte counts), for `policy show` and state. */
json_t *policy_to_json(const struct policy *p);
