/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A limit file that says "no limit": v2 "max", or v1's PAGE_COUNTER_MAX * PAGE_SIZE. */
#define CGROUPFS_UNLIMITED UINT64_MAX

/* v2 memory.max / memory.swap.max ("max" or bytes), v1 memory.limit_in_bytes /
 * memory.memsw.limit_in_bytes (bytes; v1 prints PAGE_COUNTER_MAX * PAGE_SIZE, 9223372036854771712 with
 * 4 KiB pages, for "no limit": any value at or above 2^63 - 2^16 counts as unlimited, whatever the page
 * size). Returns 0 and bytes or CGROUPFS_UNLIMITED, or -EINVAL. */
int cgroupfs_parse_limit(const char *buf, uint64_t *ret_bytes);
int cgroupfs_read_limit(const char *path, uint64_t *ret_bytes);

/* memory.stat of either version, normalized to what the classic heuristic and doctor need. v2 keys
 * "anon", "file", "shmem", "slab_reclaimable"; v1 keys "total_rss", "total_cache", "total_shmem"
 * (hierarchical) or, failing those, "rss", "cache", "shmem". Missing keys stay 0. */
struct memory_stat {
        uint64_t anon_bytes;
        uint64_t file_bytes;
        uint64_t shmem_bytes;
        uint64_t slab_reclaimable_bytes;
};
int cgroupfs_parse_memory_stat(const char *buf, struct memory_stat *ret);
int cgroupfs_read_memory_stat(const char *path, struct memory_stat *ret);

/* cgroup.procs: one pid per line. *ret_pids is allocated (caller frees); an empty file gives n = 0. */
int cgroupfs_parse_procs(const char *buf, pid_t **ret_pids, size_t *ret_n);
int cgroupfs_read_procs(const char *path, pid_t **ret_pids, size_t *ret_n);

/* Where the hierarchies are mounted, from /proc/self/mountinfo (octal escapes such as \040 undone).
 * Either may be NULL when absent: a pure v1 host has no v2 mount, a pure v2 host no v1 memory mount.
 * The same file says what is mounted over /proc/meminfo (commitd-meminfo's view, LXCFS): the type and source of
 * the last mount there (the one a reader sees), NULL when none. */
struct cgroup_mounts {
        char *v2_mount;        /* mount point of cgroup2, e.g. "/sys/fs/cgroup/unified" */
        char *v2_root;         /* the root of that mount inside the hierarchy, usually "/" */
        char *v1_memory_mount; /* mount point of the v1 hierarchy with the memory controller */
        char *v1_memory_root;
        char *meminfo_fstype, *meminfo_source; /* over /proc/meminfo, e.g. "fuse.commitd" "commitd-meminfo" */
};
int cgroupfs_parse_mountinfo(const char *buf, struct cgroup_mounts *ret);
int cgroupfs_read_mountinfo(const char *path, struct cgroup_mounts *ret);
void cgroup_mounts_done(struct cgroup_mounts *m);

/* /proc/PID/cgroup: the v2 path (the "0::" line) and the v1 memory path. Either may be NULL. */
struct proc_cgroup {
        char *v2_path;
        char *v1_memory_path;
};
int cgroupfs_parse_proc_cgroup(const char *buf, struct proc_cgroup *ret);
int cgroupfs_read_proc_cgroup(const char *path, struct proc_cgroup *ret);
void proc_cgroup_done(struct proc_cgroup *c);

/* A cgroup as users name it (SPEC 5): below the v2 root, with or without the leading "/". Returns the
 * canonical form "/a/b" ("/" for the root) in *ret (caller frees), or -EINVAL for empty components
 * other than a trailing "/", ".", "..", or a path longer than PATH_MAX. */
int cgroupfs_path_normalize(const char *path, char **ret);
/* "PARENT/NAME" in *ret (caller frees), parent canonical: "/NAME" below the root. 0 or -ENOMEM. */
int cgroupfs_path_child(const char *parent, const char *name, char **ret);
/* True when ancestor is path or one of its ancestors (both canonical). */
int cgroupfs_path_is_below(const char *path, const char *ancestor);
