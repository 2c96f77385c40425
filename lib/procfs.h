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

/* ---- /proc/PID/smaps ----
 *
 * smaps is read as a stream (a process chooses how many mappings it has, and how long their paths are): one
 * line-level state machine, struct smaps_scanner, turns text fed in pieces of any size into areas, and the
 * consumers below (the commit charge, mprotect's charge, the area at an address) each look at the areas.
 * smaps_parse() and the *_read() functions are that machine over a buffer and over a file; they give the same
 * result for the same text, however it is cut. */

/* Bytes of a line the scanner looks at. Only a header's name can be longer (a path), and only its start
 * matters; the rest of a longer line is skipped and the line marked truncated. */
#define SMAPS_LINE_MAX 512

/* What the name of a mapping says it is, by the names show_map_vma() prints. */
enum smaps_name {
        SMAPS_NAME_OTHER,       /* anything else, or no name */
        SMAPS_NAME_SHARED_ANON, /* "/dev/zero (deleted)" (shmem_zero_setup()) or "[anon_shmem...]" */
        SMAPS_NAME_SYSV,        /* "/SYSV%08x..." (ipc/shm.c newseg()): the inode is the shm id */
        SMAPS_NAME_MEMFD,       /* "/memfd:..." */
};

/* What a mapping's name (as smaps prints it, n bytes, truncated if the line was cut) says it is. */
enum smaps_name smaps_name_of(const char *name, size_t n, bool truncated);

/* One area of smaps: its header and the two fields that matter. */
struct smaps_area {
        uint64_t start, end; /* [start, end) */
        uint64_t offset;     /* of the mapping in its file, bytes (vm_pgoff << PAGE_SHIFT) */
        uint64_t dev;        /* makedev(major, minor) */
        uint64_t inode;      /* 0: anonymous */
        char perms[4];       /* "rw-p": r/w/x or '-', then 'p' private or 's' shared */
        enum smaps_name name;
        uint64_t size;       /* Size:, bytes */
        bool ac, dc, nr, ht; /* VmFlags: VM_ACCOUNT, VM_DONTCOPY, VM_NORESERVE, VM_HUGETLB */
};

/* Called for each complete area in file (address) order. Returns 0 to go on, > 0 to stop the scan (the
 * caller found what it wanted: the scan returns that value), < 0 to fail it. */
typedef int (*smaps_area_fn)(const struct smaps_area *a, void *userdata);

/* The line-level state machine. Fields are private; it holds no allocation (no cleanup needed). */
struct smaps_scanner {
        smaps_area_fn fn;
        void *userdata;
        int state; /* 0 running, > 0 stopped by fn, < 0 failed */
        bool in_area, has_size, has_flags;
        struct smaps_area area;
        bool pending, pending_truncated; /* a line begun in an earlier piece, not yet ended */
        size_t pending_len;
        char pending_line[SMAPS_LINE_MAX];
};
void smaps_scanner_init(struct smaps_scanner *s, smaps_area_fn fn, void *userdata);
/* Feeds the next n bytes (no NUL needed, any cut). Returns 0, fn's stop value (> 0; further feeds are
 * ignored), or -EINVAL for malformed text / fn's error. */
int smaps_scanner_feed(struct smaps_scanner *s, const char *data, size_t n);
/* Ends the input: the last line and the last area. Same returns as smaps_scanner_feed(). */
int smaps_scanner_finish(struct smaps_scanner *s);
/* The scanner over a NUL-terminated buffer, and over a file read in FILEIO_CHUNK_BYTES pieces (no size
 * limit). Same returns, plus -errno of the file (-ENOENT: the process is gone). */
int smaps_scan(const char *buf, smaps_area_fn fn, void *userdata);
int smaps_scan_file(const char *path, smaps_area_fn fn, void *userdata);

/* The kernel charges shmem objects once per object, not per mapping, however many processes or areas map
 * them (mm/shmem.c):
 *   SHMEM_WHOLE            shmem_acct_size() at creation, the full size (i_size), in every mode: a shared
 *                          anonymous mapping (shmem_zero_setup()) or a SysV segment (newseg()). Cutting the
 *                          mapping with munmap() does not give it back; only the object's end does.
 *   SHMEM_WHOLE_IN_STRICT  a shared anonymous mapping made with MAP_NORESERVE outside strict mode: a
 *                          VM_NORESERVE inode, charged per allocated page (shmem_acct_blocks()); strict mode
 *                          ignores MAP_NORESERVE (do_mmap()), so a strict level charges the full size.
 *   SHMEM_PAGES            VM_NORESERVE inodes: memfd, tmpfs and /dev/shm files; each allocated page is
 *                          charged when it is allocated (fault, write, fallocate), in every mode.
 * In this order each charges at least as much as the one before (for pages within the size); one object seen
 * two ways keeps the later. */
enum shmem_accounting {
        SHMEM_PAGES,
        SHMEM_WHOLE_IN_STRICT,
        SHMEM_WHOLE,
};

enum shmem_kind {
        SHMEM_FILE,        /* memfd, a tmpfs file */
        SHMEM_SHARED_ANON, /* MAP_SHARED|MAP_ANONYMOUS */
        SHMEM_SYSV,        /* shmget() */
};

/* One shmem object, named by (dev, inode), and for a SysV segment also by its IPC namespace: newseg() sets the
 * inode to the shm id, which is per namespace and small, like the inode numbers of the internal shm mount
 * (both were 16..1100 here), so a segment and a memfd can share (dev, inode). */
struct shmem_object {
        uint64_t dev;    /* st_dev: the internal shm mount for shared anonymous, SysV and memfd; a tmpfs's own */
        uint64_t inode;  /* st_ino; a SysV segment's shm id */
        uint64_t ipc_ns; /* SHMEM_SYSV: inode of the IPC namespace (/proc/PID/ns/ipc), 0 unknown; others 0 */
        enum shmem_kind kind;
        enum shmem_accounting accounting;
        uint64_t size_bytes;      /* i_size: what SHMEM_WHOLE charges */
        uint64_t allocated_bytes; /* st_blocks * 512: what SHMEM_PAGES charges */
        bool estimated;           /* sizes from the mappings, not the object: size_bytes is the furthest end a mapping
                                     reaches (offset + size, a lower bound of i_size), allocated_bytes the largest mapping */
};
/* What the kernel in `mode` has charged for the object. */
uint64_t shmem_object_charge(const struct shmem_object *o, enum commit_mode mode);

/* The commit charge of one process or a group (see SPEC 3.1). */
struct smaps_charge {
        uint64_t accountable_bytes;          /* areas with VmFlags "ac" (VM_ACCOUNT) */
        uint64_t dontcopy_accountable_bytes; /* of those, areas also "dc" (VM_DONTCOPY): fork does not copy them */
        uint64_t noreserve_bytes;    /* private writable non-hugetlb areas with "nr": charged only in strict mode,
                                        where the kernel would have ignored MAP_NORESERVE */
        uint64_t shmem_bytes;        /* the objects' charge in modes 0 and 1 */
        uint64_t shmem_strict_bytes; /* the objects' charge in mode 2 (>= shmem_bytes) */
        struct shmem_object *shmem;  /* each object once, sorted by its name */
        size_t n_shmem;
        size_t shmem_allocated; /* private: room in shmem */
};

/* How shmem areas are told apart: shm_dev is the internal shm mount's st_dev (from fstat() of a memfd; 0:
 * unknown, names decide on any device), ipc_ns the process's IPC namespace inode (0 unknown). On shm_dev,
 * "/dev/zero (deleted)" and "[anon_shmem" are shared anonymous, "/SYSV" SysV, anything else a memfd. */
struct smaps_origin {
        uint64_t shm_dev;
        uint64_t ipc_ns;
};

/* The shmem object area a maps, as far as its name and device tell (struct smaps_origin's rules), or with on_tmpfs
 * (the caller asked statfs() about a->dev) any file there: dev, inode, ipc_ns, kind and accounting filled, the
 * sizes estimated from the mapping (estimated set; the caller may put the object's own). false: none
 * (hugetlb, a file elsewhere, a name that says nothing). Looks at the name, not at private or shared. */
bool smaps_area_shmem(const struct smaps_area *a, const struct smaps_origin *o, bool on_tmpfs,
                      struct shmem_object *ret);
/* Files one area into c under SPEC 3.1; shmem areas become estimated objects (sizes from the mapping), one per
 * area until smaps_charge_finish() folds them. o may be NULL (both unknown). */
int smaps_charge_add_area(struct smaps_charge *c, const struct smaps_area *a, const struct smaps_origin *o);
/* Adds an object (as is, not estimated, or estimated) to c; smaps_charge_finish() folds it with the others. */
int smaps_charge_add_object(struct smaps_charge *c, const struct shmem_object *obj);
/* Sorts the objects, folds each name into one (smaps_charge_merge()'s rule) and sums them. */
int smaps_charge_finish(struct smaps_charge *c);

/* The charge of smaps text fed in pieces of any size, with an unknown origin: smaps_parse() and smaps_read()
 * are this over a buffer and over a file. Fields are private; p must not move once initialized. Feed (a
 * failure sticks), then always finish: it hands the charge over (0) or frees it (< 0; -EINVAL: malformed). */
struct smaps_charge_parser {
        struct smaps_scanner scanner;
        struct smaps_charge charge;
};
void smaps_charge_parser_init(struct smaps_charge_parser *p);
int smaps_charge_parser_feed(struct smaps_charge_parser *p, const char *data, size_t n);
int smaps_charge_parser_finish(struct smaps_charge_parser *p, struct smaps_charge *ret);

/* The charge of the whole text / file, with an unknown origin. A kernel thread's smaps is empty: charge 0. */
int smaps_parse(const char *buf, struct smaps_charge *ret);
int smaps_read(const char *path, struct smaps_charge *ret);
void smaps_charge_done(struct smaps_charge *c);
/* What the kernel in `mode` charges for this process or group: accountable + its objects' charge in that mode,
 * plus noreserve in strict mode. Saturates. */
uint64_t smaps_charge_bytes(const struct smaps_charge *c, enum commit_mode mode);
/* Whether two finished charges are the same: every sum, and every object field by field. */
bool smaps_charge_equal(const struct smaps_charge *a, const struct smaps_charge *b);
/* Adds b to a: the sums, and b's objects as a set union by name, where one object seen twice is kept once:
 * a measured object (not estimated) over an estimated one, else the larger sizes and accounting. The charge of
 * a group of processes, where a shared object is charged once. */
int smaps_charge_merge(struct smaps_charge *a, const struct smaps_charge *b);

/* What mprotect(addr, len, ... | PROT_WRITE) charges (mm/mprotect.c mprotect_fixup()), from the smaps of the
 * process before the call: the private areas of the range not yet accountable, clipped to it; hugetlb and
 * shared areas nothing. *ret_noreserve is the part only a strict mode charges (read-only MAP_NORESERVE).
 * The _read variant streams the file and stops past the range. */
int smaps_mprotect_charge(const char *buf, uint64_t addr, uint64_t len, uint64_t *ret_plain, uint64_t *ret_noreserve);
int smaps_mprotect_charge_read(const char *path, uint64_t addr, uint64_t len, uint64_t *ret_plain,
                               uint64_t *ret_noreserve);

/* The area containing addr (start <= addr < end), for the exact charge of an mremap(): whether it is
 * accountable (ac), private, writable, MAP_NORESERVE (nr), hugetlb (ht), and its size. -EFAULT when no area
 * contains addr (what mremap() itself answers). The _read variant streams the file and stops at the area. */
int smaps_area_at(const char *buf, uint64_t addr, struct smaps_area *ret);
int smaps_area_at_read(const char *path, uint64_t addr, struct smaps_area *ret);

/* ---- /proc/sysvipc/shm ----
 * The SysV segments of the reader's IPC namespace, attached or not: a segment nobody maps is still charged
 * (until IPC_RMID and the last detach) and smaps cannot show it. Columns are found by the header's names
 * (key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap, as sysvipc_shm_proc_show()
 * prints them); rss and swap are optional (older kernels). */
struct sysv_segment {
        int key; /* printed signed */
        int shmid;
        unsigned perms; /* the mode's low 9 bits and SHM_DEST/SHM_LOCKED bits, as printed (octal) */
        uint64_t size_bytes;
        pid_t cpid, lpid;
        uint64_t nattch;
        uid_t uid, cuid;
        gid_t gid, cgid;
        uint64_t atime, dtime, ctime; /* seconds since the epoch */
        uint64_t rss_bytes, swap_bytes;
};
/* *ret is the caller's to free(); *ret_n may be 0 (no segment: the header alone). */
int sysv_shm_parse(const char *buf, struct sysv_segment **ret, size_t *ret_n);
int sysv_shm_read(const char *path, struct sysv_segment **ret, size_t *ret_n);

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
/* The start time of process or thread pid (PROC_ROOT/PID/stat): what tells it apart from a later holder of its
 * pid. -ESRCH when pid is not positive or its stat cannot be read (gone). */
int proc_start_time_read(const char *proc_root, pid_t pid, uint64_t *ret);

/* /proc/PID/status. has_mm is false for kernel threads (no VmSize line) and for a thread that has exited
 * (a leader that called SYS_exit while other threads live is a zombie: no Vm* lines, its smaps empty). */
struct proc_status {
        char name[64];         /* Name:, comm, unescaped as the kernel prints it */
        pid_t pid, tgid, ppid; /* of a thread's /proc/TID/status: pid is the thread's, tgid its process's */
        uid_t uid_real, uid_effective;
        bool has_mm;
        uint64_t threads;         /* Threads: of the thread group (a zombie leader counts itself until reaped) */
        uint64_t vm_size_bytes;   /* VmSize: mm->total_vm */
        uint64_t cap_effective;   /* CapEff: bitmask */
        uint64_t seccomp_filters; /* Seccomp_filters: filters attached (Linux 5.9+; 0 when not printed) */
};
int proc_status_parse(const char *buf, struct proc_status *ret);
int proc_status_read(const char *path, struct proc_status *ret);
