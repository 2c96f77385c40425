/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cgroupfs.h"
#include "macro.h"
#include "measure.h"

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

static int read_cgroup_of(const char *proc_root, pid_t pid, char **ret) {
        char path[PATH_MAX];
        struct proc_cgroup pc = {0};
        int r;

        snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int) pid);
        r = cgroupfs_read_proc_cgroup(path, &pc);
        if (r < 0)
                return r;
        *ret = pc.v2_path ? TAKE_PTR(pc.v2_path) : TAKE_PTR(pc.v1_memory_path);
        proc_cgroup_done(&pc);
        return 0;
}

int measure_process(const char *proc_root, pid_t pid, struct process_commit *ret) {
        struct process_commit p = {.pid = pid};
        struct proc_status st;
        char path[PATH_MAX];
        int r;

        snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int) pid);
        r = proc_status_read(path, &st);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (!st.has_mm)
                return -ESRCH;
        snprintf(p.comm, sizeof(p.comm), "%s", st.name);
        p.tgid = st.tgid;
        p.vm_size_bytes = st.vm_size_bytes;
        p.cap_sys_admin = st.cap_effective & (UINT64_C(1) << 21); /* CAP_SYS_ADMIN */

        snprintf(path, sizeof(path), "%s/%d/smaps", proc_root, (int) pid);
        r = smaps_read(path, &p.charge);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        (void) read_cgroup_of(proc_root, pid, &p.cgroup); /* best effort: the process may just have exited */
        *ret = p;
        return 0;
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

static int by_charge_desc(const void *a, const void *b, void *userdata) {
        enum commit_mode mode = *(const enum commit_mode *) userdata;
        uint64_t x = smaps_charge_bytes(&((const struct process_commit *) a)->charge, mode);
        uint64_t y = smaps_charge_bytes(&((const struct process_commit *) b)->charge, mode);
        if (x != y)
                return x < y ? 1 : -1;
        return ((const struct process_commit *) a)->pid - ((const struct process_commit *) b)->pid;
}

int measure_host(const char *proc_root, enum commit_mode mode, struct process_commit **ret, size_t *ret_n,
                 struct smaps_charge *ret_total) {
        struct smaps_charge total = {0};
        struct process_commit *list = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = opendir(proc_root);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                pid_t pid;
                if (parse_pid(de->d_name, &pid) < 0)
                        continue;
                if (n == allocated) {
                        size_t want = allocated ? allocated * 2 : 256;
                        struct process_commit *bigger = reallocarray(list, want, sizeof(*list));
                        if (!bigger) {
                                r = -ENOMEM;
                                break;
                        }
                        list = bigger;
                        allocated = want;
                }
                r = measure_process(proc_root, pid, &list[n]);
                if (r == -ESRCH || r == -ENOENT || r == -EACCES || r == -EPERM) {
                        r = 0; /* gone, kernel thread, or not ours to read */
                        continue;
                }
                if (r < 0)
                        break;
                r = smaps_charge_merge(&total, &list[n].charge);
                n++;
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0) {
                process_commits_free(list, n);
                smaps_charge_done(&total);
                return r;
        }
        if (n > 0)
                qsort_r(list, n, sizeof(*list), by_charge_desc, &mode);
        *ret = list;
        *ret_n = n;
        *ret_total = total;
        return 0;
}

int measure_pids(const char *proc_root, const pid_t *pids, size_t n, struct smaps_charge *ret, size_t *ret_found) {
        struct smaps_charge total = {0};
        size_t found = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                struct process_commit p;
                r = measure_process(proc_root, pids[i], &p);
                if (r == -ESRCH)
                        continue;
                if (r < 0) {
                        smaps_charge_done(&total);
                        return r;
                }
                r = smaps_charge_merge(&total, &p.charge);
                process_commit_done(&p);
                if (r < 0) {
                        smaps_charge_done(&total);
                        return r;
                }
                found++;
        }
        *ret = total;
        if (ret_found)
                *ret_found = found;
        return 0;
}
