/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "macro.h"
#include "measure.h"

static const struct measure_ctx default_ctx = {.proc_root = "/proc"};

int measure_ctx_init(struct measure_ctx *ctx, const char *proc_root) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (!ctx || !proc_root)
                return -EINVAL;
        /* memfd_create() makes its file on the internal shm mount (shm_mnt), as shmem_zero_setup() and newseg()
         * make theirs: its st_dev is theirs. */
        fd = memfd_create("commitd-shm-dev", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        *ctx = (struct measure_ctx){.proc_root = proc_root, .shm_dev = st.st_dev};
        return 0;
}

void process_commit_done(struct process_commit *p) {
        if (!p)
                return;
        free(p->cgroup);
        smaps_charge_done(&p->charge);
        *p = (struct process_commit){0};
}

void process_commits_free(struct process_commit *p, size_t n) {
        for (size_t i = 0; p && i < n; i++)
                process_commit_done(&p[i]);
        free(p);
}

void measure_report_done(struct measure_report *r) {
        if (!r)
                return;
        free(r->unreadable);
        *r = (struct measure_report){0};
}

const struct measure_skip *measure_report_blocking(const struct measure_report *r, const pid_t *judged, size_t n) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_unreadable; i++)
                for (size_t j = 0; j < n; j++)
                        if (r->unreadable[i].pid == judged[j])
                                return &r->unreadable[i];
        return NULL;
}

_printf_(2, 3) static int path_format(char path[static PATH_MAX], const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vsnprintf(path, PATH_MAX, fmt, ap);
        va_end(ap);
        return r < 0 || r >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* A vanished process's files are ENOENT; to the caller it is gone. */
static int gone_as_esrch(int r) {
        return r == -ENOENT ? -ESRCH : r;
}

static int parse_pid(const char *s, pid_t *ret) {
        long v = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > INT_MAX / 10)
                        return -EINVAL;
                v = v * 10 + (*s - '0');
        }
        if (v <= 0 || v > INT_MAX)
                return -EINVAL;
        *ret = (pid_t) v;
        return 0;
}

static int read_status_in(const char *dir, struct proc_status *ret) {
        char path[PATH_MAX];
        int r;

        r = path_format(path, "%s/status", dir);
        return r < 0 ? r : proc_status_read(path, ret);
}

/* Where pid's mm is read from. */
struct mm_dir {
        char dir[PATH_MAX]; /* ROOT/PID, or ROOT/PID/task/TID */
        pid_t tid;          /* 0, or TID */
        struct proc_status st;
};

static int find_mm_dir(const struct measure_ctx *ctx, pid_t pid, struct mm_dir *ret) {
        char task[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int r;

        r = path_format(ret->dir, "%s/%d", ctx->proc_root, (int) pid);
        if (r < 0)
                return r;
        r = read_status_in(ret->dir, &ret->st);
        if (r < 0)
                return gone_as_esrch(r);
        ret->tid = 0;
        if (ret->st.has_mm)
                return 0;

        /* No mm: a kernel thread (Threads: 1), or a thread that has exited, such as a leader that called SYS_exit
         * while others live. Its status then has no Vm* lines and its smaps, fd/ and map_files/ are empty, yet
         * the process holds its whole mm (and cgroup.procs lists the leader): /proc/PID/task/TID of a live
         * thread shows it. */
        if (ret->st.threads <= 1)
                return -ESRCH;
        r = path_format(task, "%s/task", ret->dir);
        if (r < 0)
                return r;
        d = opendir(task);
        if (!d)
                return gone_as_esrch(-errno);
        r = -ESRCH;
        while ((de = readdir(d))) {
                pid_t tid;

                if (parse_pid(de->d_name, &tid) < 0 || tid == pid)
                        continue;
                r = path_format(ret->dir, "%s/%d", task, (int) tid);
                if (r >= 0)
                        r = read_status_in(ret->dir, &ret->st);
                if (r == -ENOENT || (r >= 0 && !ret->st.has_mm)) {
                        r = -ESRCH; /* that thread has exited too */
                        continue;
                }
                if (r >= 0)
                        ret->tid = tid;
                break;
        }
        closedir(d);
        return r;
}

/* The inode of the IPC namespace: SysV shm ids are per namespace. 0 when it cannot be read. */
static uint64_t read_ipc_ns(const char *dir) {
        char path[PATH_MAX];
        struct stat st;

        if (path_format(path, "%s/ns/ipc", dir) < 0 || stat(path, &st) < 0)
                return 0;
        return st.st_ino;
}

/* Which devices are tmpfs (statfs() f_type TMPFS_MAGIC; hugetlbfs is not): asked once per device. */
struct dev_class {
        uint64_t dev;
        bool tmpfs;
};

struct measure_state {
        const struct measure_ctx *ctx;
        struct smaps_origin origin;
        struct smaps_charge charge;
        size_t n_areas;
        struct smaps_area *shared; /* shared areas of files: shmem objects, if their file system is tmpfs */
        size_t n_shared, shared_allocated;
        struct dev_class *devs;
        size_t n_devs, devs_allocated;
        bool unsure; /* a shared file mapping whose file system could not be asked */
};

static void measure_state_done(struct measure_state *s) {
        smaps_charge_done(&s->charge);
        free(s->shared);
        free(s->devs);
}

static int grow(void **array, size_t *allocated, size_t n, size_t size) {
        size_t want;
        void *bigger;

        if (n < *allocated)
                return 0;
        if (__builtin_mul_overflow(MAX(n, (size_t) 8), (size_t) 2, &want))
                return -ENOMEM;
        bigger = reallocarray(*array, want, size);
        if (!bigger)
                return -ENOMEM;
        *array = bigger;
        *allocated = want;
        return 0;
}

/* 1 tmpfs, 0 not, < 0 could not ask (-EPERM: map_files without CAP_CHECKPOINT_RESTORE). path names a file
 * on dev (statfs() follows /proc's magic links to it). */
static int dev_is_tmpfs(struct measure_state *s, uint64_t dev, const char *path) {
        struct statfs sf;

        for (size_t i = 0; i < s->n_devs; i++)
                if (s->devs[i].dev == dev)
                        return s->devs[i].tmpfs;
        if (!path)
                return -ENOENT;
        if (statfs(path, &sf) < 0)
                return -errno;
        if (grow((void **) &s->devs, &s->devs_allocated, s->n_devs, sizeof(*s->devs)) < 0)
                return -ENOMEM;
        s->devs[s->n_devs++] = (struct dev_class){dev, sf.f_type == TMPFS_MAGIC};
        return sf.f_type == TMPFS_MAGIC;
}

/* The object's own sizes from stat() of the file: what the kernel charges is in whole pages (VM_ACCT()). */
static int object_measured(struct shmem_object *obj, const struct stat *st) {
        uint64_t page = (uint64_t) sysconf(_SC_PAGESIZE), size = (uint64_t) st->st_size;

        if (st->st_size < 0 || st->st_blocks < 0 || size > UINT64_MAX - (page - 1) ||
            __builtin_mul_overflow((uint64_t) st->st_blocks, UINT64_C(512), &obj->allocated_bytes))
                return -EOVERFLOW;
        obj->size_bytes = (size + page - 1) / page * page;
        obj->estimated = false;
        return 0;
}

static int visit_area(const struct smaps_area *a, void *userdata) {
        struct measure_state *s = userdata;
        int r;

        s->n_areas++;
        r = smaps_charge_add_area(&s->charge, a, &s->origin);
        if (r < 0 || s->ctx->private_only || a->perms[3] != 's' || a->inode == 0 || a->ht)
                return r;
        r = grow((void **) &s->shared, &s->shared_allocated, s->n_shared, sizeof(*s->shared));
        if (r < 0)
                return r;
        s->shared[s->n_shared++] = *a;
        return 0;
}

/* The tmpfs files pid has open: memfd, /dev/shm, a tmpfs file (SHMEM_PAGES), charged as long as they live,
 * mapped or not. stat() of /proc/PID/fd/N follows to the file and needs only ptrace read access. */
static int walk_fds(struct measure_state *s, const char *dir) {
        char fd_dir[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int r;

        r = path_format(fd_dir, "%s/fd", dir);
        if (r < 0)
                return r;
        d = opendir(fd_dir);
        if (!d) {
                r = -errno;
                if (r == -EACCES || r == -EPERM)
                        s->unsure = true;
                return r == -ENOENT || r == -EACCES || r == -EPERM ? 0 : r;
        }
        r = 0;
        while ((de = readdir(d))) {
                char path[PATH_MAX], name[SMAPS_LINE_MAX];
                struct smaps_area a = {.perms = "rw-s"};
                struct shmem_object obj;
                struct stat st;
                ssize_t n;

                if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue; /* closed meanwhile, or a socket, pipe, device */
                if (path_format(path, "%s/%s", fd_dir, de->d_name) < 0 || dev_is_tmpfs(s, st.st_dev, path) <= 0)
                        continue;
                a.dev = st.st_dev;
                a.inode = st.st_ino;
                if (s->origin.shm_dev == 0 || st.st_dev == s->origin.shm_dev) {
                        /* On the internal shm mount the name tells shared anonymous and SysV from memfd. */
                        n = readlinkat(dirfd(d), de->d_name, name, sizeof(name));
                        if (n < 0)
                                continue;
                        a.name = smaps_name_of(name, (size_t) n, (size_t) n == sizeof(name));
                }
                if (!smaps_area_shmem(&a, &s->origin, true, &obj))
                        continue;
                r = object_measured(&obj, &st);
                if (r >= 0)
                        r = smaps_charge_add_object(&s->charge, &obj);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

static int area_cmp(const void *x, const void *y) {
        const struct smaps_area *a = x, *b = y;

        if (a->dev != b->dev)
                return a->dev < b->dev ? -1 : 1;
        if (a->inode != b->inode)
                return a->inode < b->inode ? -1 : 1;
        return a->start < b->start ? -1 : a->start > b->start;
}

/* The objects behind the shared file mappings: each one's own size and pages from stat() of
 * /proc/PID/map_files/START-END (which follows to the object; st_size is a shmem object's i_size, st_blocks
 * its allocated pages), once per (dev, inode). Where that cannot be read, the estimate from the mappings
 * stays (for names smaps_charge_add_area() knew, and for files on a device known to be tmpfs). */
static int resolve_shared(struct measure_state *s, pid_t pid) {
        bool denied = false;
        size_t i, j;
        int r;

        if (s->n_shared > 1)
                qsort(s->shared, s->n_shared, sizeof(*s->shared), area_cmp);
        for (i = 0; i < s->n_shared; i = j) {
                const struct smaps_area *a = &s->shared[i];
                char path[PATH_MAX];
                struct shmem_object obj;
                struct stat st;
                int tmpfs;

                for (j = i + 1; j < s->n_shared && s->shared[j].dev == a->dev && s->shared[j].inode == a->inode; j++)
                        ;
                r = path_format(path, "%s/%d/map_files/%" PRIx64 "-%" PRIx64, s->ctx->proc_root, (int) pid, a->start,
                                a->end);
                if (r < 0)
                        return r;
                tmpfs = dev_is_tmpfs(s, a->dev, denied ? NULL : path);
                if (tmpfs == -EPERM || tmpfs == -EACCES)
                        denied = true;
                if (tmpfs == 0)
                        continue;
                if (tmpfs > 0 && !denied) {
                        if (stat(path, &st) == 0) {
                                if (!S_ISREG(st.st_mode) || !smaps_area_shmem(a, &s->origin, true, &obj))
                                        continue;
                                r = object_measured(&obj, &st);
                                if (r >= 0)
                                        r = smaps_charge_add_object(&s->charge, &obj);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (errno == EPERM || errno == EACCES)
                                denied = true;
                }
                /* Not measured: each mapping's estimate (folded into one object by smaps_charge_finish()). */
                if (tmpfs < 0 && !smaps_area_shmem(a, &s->origin, false, &obj))
                        s->unsure = true; /* a file system we could not ask: tmpfs pages may be missing */
                for (size_t k = i; k < j; k++)
                        if (smaps_area_shmem(&s->shared[k], &s->origin, tmpfs > 0, &obj)) {
                                r = smaps_charge_add_object(&s->charge, &obj);
                                if (r < 0)
                                        return r;
                        }
        }
        return 0;
}

static int read_cgroup_in(const char *dir, char **ret) {
        char path[PATH_MAX];
        struct proc_cgroup pc = {0};
        int r;

        r = path_format(path, "%s/cgroup", dir);
        if (r >= 0)
                r = cgroupfs_read_proc_cgroup(path, &pc);
        if (r < 0)
                return r;
        *ret = pc.v2_path ? TAKE_PTR(pc.v2_path) : TAKE_PTR(pc.v1_memory_path);
        proc_cgroup_done(&pc);
        return 0;
}

/* One try; -EAGAIN when the thread read had exited meanwhile (its smaps came back empty). */
static int measure_once(const struct measure_ctx *ctx, pid_t pid, struct process_commit *ret) {
        _cleanup_(measure_state_done) struct measure_state s = {.ctx = ctx};
        struct process_commit p = {.pid = pid};
        struct mm_dir where;
        char path[PATH_MAX];
        int r;

        r = find_mm_dir(ctx, pid, &where);
        if (r < 0)
                return r;
        s.origin = (struct smaps_origin){ctx->shm_dev, read_ipc_ns(where.dir)};
        r = ctx->areas ? ctx->areas(ctx->areas_data, where.tid != 0 ? where.tid : pid, visit_area, &s) : -EOPNOTSUPP;
        if (r == -EOPNOTSUPP && (r = path_format(path, "%s/smaps", where.dir)) >= 0)
                r = smaps_scan_file(path, visit_area, &s);
        if (r < 0)
                return gone_as_esrch(r);
        if (s.n_areas == 0) {
                /* An mm has areas: empty smaps means the thread lost its mm after its status was read. */
                r = read_status_in(where.dir, &where.st);
                if (r < 0)
                        return gone_as_esrch(r);
                if (!where.st.has_mm)
                        return -EAGAIN;
        }
        if (!ctx->private_only) {
                r = walk_fds(&s, where.dir);
                if (r < 0)
                        return gone_as_esrch(r);
                /* map_files/ is not in /proc/PID/task/TID, and the exited leader's is empty; the thread's own
                 * top-level entry, /proc/TID (hidden from readdir), has it. */
                r = resolve_shared(&s, where.tid != 0 ? where.tid : pid);
                if (r < 0)
                        return gone_as_esrch(r);
        }
        r = smaps_charge_finish(&s.charge);
        if (r < 0)
                return r;

        snprintf(p.comm, sizeof(p.comm), "%s", where.st.name);
        p.tgid = where.st.tgid;
        p.read_tid = where.tid;
        p.vm_size_bytes = where.st.vm_size_bytes;
        p.cap_sys_admin = where.st.cap_effective & (UINT64_C(1) << 21); /* CAP_SYS_ADMIN */
        p.objects_estimated = s.unsure;
        for (size_t i = 0; i < s.charge.n_shmem; i++)
                p.objects_estimated |= s.charge.shmem[i].estimated;
        p.charge = s.charge;
        s.charge = (struct smaps_charge){0};
        (void) read_cgroup_in(where.dir, &p.cgroup); /* best effort: the process may just have exited */
        *ret = p;
        return 0;
}

int measure_process(const struct measure_ctx *ctx, pid_t pid, struct process_commit *ret) {
        if (!ret || pid <= 0)
                return -EINVAL;
        ctx = ctx ? ctx : &default_ctx;
        if (!ctx->proc_root)
                return -EINVAL;
        /* Each retry follows a thread that exited between two reads; threads are finite, tries too. */
        for (int i = 0; i < 4; i++) {
                int r = measure_once(ctx, pid, ret);
                if (r != -EAGAIN)
                        return r;
        }
        return -ESRCH;
}

/* Files measure_process()'s answer r for pid (p: what it measured, when r >= 0): 1 measured, 0 skipped (gone or
 * unreadable), < 0 fail the call. */
static int report_outcome(struct measure_report *rep, pid_t pid, int r, const struct process_commit *p) {
        if (r == -ESRCH || r == -ENOENT) {
                rep->gone++;
                return 0;
        }
        if (r == -EACCES || r == -EPERM) {
                /* Not ours to read (PID 1's smaps is EACCES even to root here): the caller decides. */
                struct measure_skip *bigger = reallocarray(rep->unreadable, rep->n_unreadable + 1, sizeof(*bigger));
                if (!bigger)
                        return -ENOMEM;
                rep->unreadable = bigger;
                rep->unreadable[rep->n_unreadable++] = (struct measure_skip){pid, r};
                return 0;
        }
        if (r < 0)
                return r;
        rep->measured++;
        if (p->objects_estimated)
                rep->estimated++;
        return 1;
}

static int pid_cmp(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

int measure_pids(const struct measure_ctx *ctx, const pid_t *pids, size_t n, struct smaps_charge *ret,
                 struct measure_report *ret_report) {
        _cleanup_(measure_report_done) struct measure_report rep = {0};
        _cleanup_(smaps_charge_done) struct smaps_charge total = {0};
        _cleanup_free_ pid_t *tgids = NULL;
        size_t n_tgids = 0;
        int r;

        if ((!pids && n > 0) || !ret)
                return -EINVAL;
        ctx = ctx ? ctx : &default_ctx;
        if (!ctx->proc_root)
                return -EINVAL;

        /* Each thread group once: the daemon's pids are thread ids, and two threads show one mm. */
        tgids = reallocarray(NULL, MAX(n, (size_t) 1), sizeof(*tgids));
        if (!tgids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char dir[PATH_MAX];
                struct proc_status st;

                r = path_format(dir, "%s/%d", ctx->proc_root, (int) pids[i]);
                if (r >= 0)
                        r = read_status_in(dir, &st);
                if (r < 0) {
                        r = report_outcome(&rep, pids[i], gone_as_esrch(r), NULL);
                        if (r < 0)
                                return r;
                        continue;
                }
                tgids[n_tgids++] = st.tgid > 0 ? st.tgid : pids[i];
        }
        if (n_tgids > 1)
                qsort(tgids, n_tgids, sizeof(*tgids), pid_cmp);

        for (size_t i = 0; i < n_tgids; i++) {
                struct process_commit p;

                if (i > 0 && tgids[i] == tgids[i - 1])
                        continue;
                r = measure_process(ctx, tgids[i], &p);
                r = report_outcome(&rep, tgids[i], r, &p);
                if (r > 0) {
                        r = smaps_charge_merge(&total, &p.charge);
                        process_commit_done(&p);
                }
                if (r < 0)
                        return r;
        }
        *ret = total;
        total = (struct smaps_charge){0};
        if (ret_report) {
                *ret_report = rep;
                rep = (struct measure_report){0};
        }
        return 0;
}

static int by_charge_desc(const void *a, const void *b, void *userdata) {
        enum commit_mode mode = *(const enum commit_mode *) userdata;
        uint64_t x = smaps_charge_bytes(&((const struct process_commit *) a)->charge, mode);
        uint64_t y = smaps_charge_bytes(&((const struct process_commit *) b)->charge, mode);
        if (x != y)
                return x < y ? 1 : -1;
        return ((const struct process_commit *) a)->pid - ((const struct process_commit *) b)->pid;
}

int measure_host(const struct measure_ctx *ctx, enum commit_mode mode, struct process_commit **ret, size_t *ret_n,
                 struct smaps_charge *ret_total, struct measure_report *ret_report) {
        struct measure_report rep = {0};
        struct smaps_charge total = {0};
        struct process_commit *list = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (!ret || !ret_n || !ret_total)
                return -EINVAL;
        ctx = ctx ? ctx : &default_ctx;
        if (!ctx->proc_root)
                return -EINVAL;
        d = opendir(ctx->proc_root);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                pid_t pid;
                if (parse_pid(de->d_name, &pid) < 0)
                        continue;
                r = grow((void **) &list, &allocated, n, sizeof(*list));
                if (r < 0)
                        break;
                r = measure_process(ctx, pid, &list[n]);
                r = report_outcome(&rep, pid, r, &list[n]);
                if (r < 0)
                        break;
                if (r == 0)
                        continue;
                r = smaps_charge_merge(&total, &list[n].charge);
                n++;
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0) {
                process_commits_free(list, n);
                smaps_charge_done(&total);
                measure_report_done(&rep);
                return r;
        }
        if (n > 0)
                qsort_r(list, n, sizeof(*list), by_charge_desc, &mode);
        *ret = list;
        *ret_n = n;
        *ret_total = total;
        if (ret_report)
                *ret_report = rep;
        else
                measure_report_done(&rep);
        return 0;
}
