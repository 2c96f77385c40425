/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* commitd-meminfo's view of /proc/meminfo for one reader (commitd-meminfo(8)): the host's file with the commit
 * lines of the reader's budget and, where the reader's memory cgroup limits memory, the memory and swap lines of
 * that limit (as LXCFS shows them). Pure: text and numbers in, text out; but meminfo_view_check(). */

/* Where commitd-meminfo mounts by default (--mount), its one file there, and how its mount shows in mountinfo
 * (fsname= and subtype= of its FUSE mount): commitd-meminfo, commitd-oci-runtime, commitctl run and doctor agree
 * through these. */
#define MEMINFO_VIEW_MOUNT_DEFAULT "/run/commitd/meminfo"
#define MEMINFO_VIEW_FILE_NAME     "meminfo"
#define MEMINFO_VIEW_FILE_DEFAULT  MEMINFO_VIEW_MOUNT_DEFAULT "/" MEMINFO_VIEW_FILE_NAME
#define MEMINFO_VIEW_FSNAME        "commitd-meminfo"
#define MEMINFO_VIEW_SUBTYPE       "commitd"
#define MEMINFO_VIEW_FSTYPE        "fuse." MEMINFO_VIEW_SUBTYPE

/* Whether a mount of type fstype from source (mountinfo's fields, as cgroup_mounts.meminfo_* holds them for
 * /proc/meminfo) is commitd-meminfo's view. Either may be NULL (nothing mounted there): false. */
bool meminfo_view_is(const char *fstype, const char *source);

/* Whether commitd-meminfo serves path now: a regular file on a FUSE mount whose server answers (statfs() and
 * stat(); a mount whose server died answers ENOTCONN at once, never hangs). 0, or -errno with *ret_error saying
 * what path is instead ("PATH: Transport endpoint is not connected", "PATH is not commitd-meminfo's file"). */
int meminfo_view_check(const char *path, char **ret_error);

/* One budget as commitd's `status` reports it (docs/protocol.md): a level when it has a policy. */
struct meminfo_level {
        const char *cgroup; /* canonical v2 path */
        bool has_policy;    /* false: enrolled processes without a policy of their own, no level */
        uint64_t commit_limit_bytes, committed_bytes;
};

/* The level whose numbers a reader in the v2 cgroup `cgroup` (canonical) sees: of the levels at or above it
 * (the ones a call of its would be judged against, SPEC 3.3), the one with the least room left
 * (commit_limit - committed, 0 when over), the innermost on a tie. Returns its index, or -ENOENT when no level
 * covers the cgroup (the reader sees the host's file). */
int meminfo_view_pick(const struct meminfo_level *levels, size_t n, const char *cgroup);

/* What replaces the host's lines. has_commit false: the commit lines stay the host's. The memory cgroup's
 * numbers: mem_limit_bytes is the tightest memory limit of the reader's memory cgroup and its ancestors
 * (CGROUPFS_UNLIMITED: none), mem_usage_bytes its usage, mem_file_bytes its page cache; swap the same with
 * swap_limit_bytes (CGROUPFS_UNLIMITED: none) and swap_usage_bytes. */
struct meminfo_view {
        bool has_commit;
        uint64_t commit_limit_bytes, committed_bytes;
        uint64_t mem_limit_bytes, mem_usage_bytes, mem_file_bytes;
        uint64_t swap_limit_bytes, swap_usage_bytes;
};

/* Renders the view from the host's /proc/meminfo text (NUL-terminated): every line as it is but
 *   CommitLimit, Committed_AS     the view's, when has_commit;
 *   MemTotal                      min(host, mem_limit); MemFree = MemTotal - usage (at least 0);
 *   MemAvailable                  min(MemTotal, MemFree + page cache), when the memory limit is below the host's;
 *   SwapTotal, SwapFree           min(host, swap_limit) and SwapTotal - swap usage, when a swap limit is below
 *                                 the host's SwapTotal;
 * each replaced line printed as the kernel prints it ("%-16s%8lu kB", meminfo_proc_show()). Returns 0 and the
 * text in *ret (caller frees), -EINVAL when host is not meminfo text, -ENOMEM. */
int meminfo_view_render(const char *host, const struct meminfo_view *v, char **ret);
