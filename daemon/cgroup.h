/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroupfs.h"

/* Operations on the cgroup v2 hierarchy: the one file that writes cgroupfs. libcgroup 2.0.2 (Debian 12)
 * cannot address a cgroup2 mount on a hybrid host (cgroup_create_cgroup() answers ECGROUPNOTMOUNTED for
 * /sys/fs/cgroup/unified, and cgroup_attach_task_pid() crashed in a probe), so commitd writes the files
 * itself; they are the kernel's stable interface. On hybrid hosts v1 memory cgroups are only read. */
struct cgroup_root {
        char *v2_mount;        /* where cgroup2 is mounted (or --cgroup-root) */
        char *v1_memory_mount; /* may be NULL */
};

int cgroup_root_discover(const char *override_v2, struct cgroup_root *ret);
void cgroup_root_done(struct cgroup_root *r);

/* "/a/b" below the v2 mount, as a filesystem path (caller frees). */
int cgroup_fs_path(const struct cgroup_root *r, const char *cgroup, char **ret);
/* mkdir -p of a canonical cgroup path below the v2 mount. */
int cgroup_create(const struct cgroup_root *r, const char *cgroup);
/* rmdir of a cgroup below the v2 mount: it must hold no process and no child (-EBUSY, -ENOTEMPTY). */
int cgroup_remove(const struct cgroup_root *r, const char *cgroup);
/* Removes every child of cgroup that is empty (rmdir, which the kernel refuses for one that holds a process or
 * a child of its own), except the one named keep (may be NULL). Returns how many went, or -errno. */
int cgroup_remove_empty_children(const struct cgroup_root *r, const char *cgroup,
                                 bool (*keep)(const char *child, void *userdata), void *userdata);
/* 1 when the cgroup or a cgroup below it holds a process other than pid, 0 when not, -errno. */
int cgroup_holds_others(const struct cgroup_root *r, const char *cgroup, pid_t pid);
/* 1 when uid owns the cgroup's v2 directory or that of an ancestor below the root (a delegated subtree),
 * 0 when not (or when no such directory exists), -errno on failure. */
int cgroup_owned_by(const struct cgroup_root *r, const char *cgroup, uid_t uid);
/* Moves pid into the cgroup (v2 only; its v1 memory cgroup stays where it started). */
int cgroup_attach(const struct cgroup_root *r, const char *cgroup, pid_t pid);
/* Every pid in the cgroup and its descendants (caller frees *ret). -ENOENT if the cgroup is gone. */
int cgroup_list_pids(const struct cgroup_root *r, const char *cgroup, pid_t **ret, size_t *ret_n);
/* The v2 path of pid (caller frees), from /proc/PID/cgroup. */
int cgroup_of_pid(pid_t pid, char **ret);
/* Memory and swap limits in force for the cgroup: v2 memory.max/memory.swap.max when present, else the v1
 * memory cgroup of pid. CGROUPFS_UNLIMITED when none. */
int cgroup_read_limits(const struct cgroup_root *r, const char *cgroup, pid_t pid, uint64_t *ret_ram,
                       uint64_t *ret_swap);
