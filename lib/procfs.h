/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "formula.h"

/* Parsers take a NUL-terminated buffer and fill a struct; readers take a path (so tests feed fixtures)
 * and call the parser. All sizes in bytes. Returns 0 or -errno (-EINVAL for a malformed buffer). */

/* /proc/meminfo. A field the kernel does not print stays 0. */
struct meminfo {
        uint64_t mem_total, mem_free, mem_available, buffers, cached, swap_total, swap_free, shmem;
        uint64_t sreclaimable, commit_limit, committed_as;
        uint64_t hugepages_total, hugepagesize, hugetlb;
};
int meminfo_parse(const char *buf, struct meminfo *ret);
int meminfo_read(const char *path, struct meminfo *ret);

/* /proc/sys/vm: overcommit_memory, overcommit_ratio, overcommit_kbytes, admin_reserve_kbytes,
 * user_reserve_kbytes. sysctl_dir is "/proc/sys/vm" outside tests. */
struct overcommit {
        enum commit_mode mode;
        uint32_t ratio;
        uint64_t kbytes_bytes; /* overcommit_kbytes in bytes; 0 = unset, the ratio applies */
        uint64_t admin_reserve_bytes;
        uint64_t user_reserve_bytes;
};
int overcommit_read(const char *sysctl_dir, struct overcommit *ret);
/* One decimal unsigned integer followed by optional white space (a sysctl or cgroup value file). */
int procfs_parse_uint64(const char *buf, uint64_t *ret);

/* A shmem object (shared anonymous mapping or SysV segment) seen in smaps. The kernel charges the object
 * once, at its full size, however many processes or areas map it; (dev, inode) names it. */
struct shmem_object {
        uint64_t dev; /* makedev(major, minor) of the smaps header */
        uint64_t inode;
        uint64_t bytes; /* largest mapping seen of it */
};

/* The commit charge of one process, read from /proc/PID/smaps (see SPEC 3.1). */
struct smaps_charge {
        uint64_t accountable_bytes;          /* areas with VmFlags "ac" (VM_ACCOUNT) */
        uint64_t dontcopy_accountable_bytes; /* of those, areas also "dc" (VM_DONTCOPY): fork does not copy them */
        uint64_t noreserve_bytes;   /* private writable non-hugetlb areas with "nr": charged only in strict mode,
                                       where the kernel would have ignored MAP_NORESERVE */
        uint64_t shmem_bytes;       /* sum of shmem[].bytes */
        struct shmem_object *shmem; /* each object once, sorted by (dev, inode) */
        size_t n_shmem;
};
int smaps_parse(const char *buf, struct smaps_charge *ret);
int smaps_read(const char *path, struct smaps_charge *ret);
void smaps_charge_done(struct smaps_charge *c);
/* What the kernel in `mode` charges for this process: accountable + shmem, plus noreserve in strict mode. */
uint64_t smaps_charge_bytes(const struct smaps_charge *c, enum commit_mode mode);
/* Adds b's shmem objects to a (a set union by (dev, inode), keeping the larger size) and its other sums:
 * the charge of a group of processes, where a shared object is charged once. */
int smaps_charge_merge(struct smaps_charge *a, const struct smaps_charge *b);

/* What mprotect(addr, len, ... | PROT_WRITE) charges (mm/mprotect.c mprotect_fixup()), from the smaps of the
 * process before the call: the private areas of the range not yet accountable, clipped to it; hugetlb and
 * shared areas nothing. *ret_noreserve is the part only a strict mode charges (read-only MAP_NORESERVE). */
int smaps_mprotect_charge(const char *buf, uint64_t addr, uint64_t len, uint64_t *ret_plain, uint64_t *ret_noreserve);

/* /proc/PID/stat, the two fields commitd needs: starttime (field 22, clock ticks since boot: with the pid it
 * names one process, so it tells a reused pid) and start_brk (field 47, Linux 3.5+: the program break of a
 * process that has no [heap] area yet). Fields are counted after the last ')': the comm may hold spaces and
 * parentheses. */
struct proc_stat {
        uint64_t start_time;
        uint64_t start_brk;
};
int proc_stat_parse(const char *buf, struct proc_stat *ret);
int proc_stat_read(const char *path, struct proc_stat *ret);

/* /proc/PID/status. has_mm is false for kernel threads (no VmSize line). */
struct proc_status {
        char name[64];         /* Name:, comm, unescaped as the kernel prints it */
        pid_t pid, tgid, ppid; /* of a thread's /proc/TID/status: pid is the thread's, tgid its process's */
        uid_t uid_real, uid_effective;
        bool has_mm;
        uint64_t vm_size_bytes; /* VmSize: mm->total_vm */
        uint64_t cap_effective; /* CapEff: bitmask */
};
int proc_status_parse(const char *buf, struct proc_status *ret);
int proc_status_read(const char *path, struct proc_status *ret);
