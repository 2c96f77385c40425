/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "macro.h"

#define MAX_CGROUP_DEPTH 32
#define MAX_PIDS         (1u << 20)

int cgroup_root_discover(const char *override_v2, struct cgroup_root *ret) {
        struct cgroup_mounts m = {0};
        int r;

        r = cgroupfs_read_mountinfo("/proc/self/mountinfo", &m);
        if (r < 0)
                return r;
        *ret = (struct cgroup_root){0};
        ret->v2_mount = override_v2 ? strdup(override_v2) : TAKE_PTR(m.v2_mount);
        ret->v1_memory_mount = TAKE_PTR(m.v1_memory_mount);
        cgroup_mounts_done(&m);
        if (!ret->v2_mount) {
                cgroup_root_done(ret);
                return -ENOMEDIUM; /* no cgroup2 mount: commitd names cgroups by their v2 path */
        }
        return 0;
}

void cgroup_root_done(struct cgroup_root *r) {
        free(r->v2_mount);
        free(r->v1_memory_mount);
        *r = (struct cgroup_root){0};
}

int cgroup_fs_path(const struct cgroup_root *r, const char *cgroup, char **ret) {
        if (asprintf(ret, "%s%s", r->v2_mount, streq(cgroup, "/") ? "" : cgroup) < 0)
                return -ENOMEM;
        return 0;
}

int cgroup_create(const struct cgroup_root *r, const char *cgroup) {
        _cleanup_free_ char *path = NULL;
        size_t base;
        int ret;

        ret = cgroup_fs_path(r, cgroup, &path);
        if (ret < 0)
                return ret;
        base = strlen(r->v2_mount);
        /* mkdir each component in turn; the canonical path has no "." or ".." (cgroupfs_path_normalize). */
        for (char *p = path + base + 1; p && *p; p = strchr(p + 1, '/')) {
                char saved = *p;
                if (saved != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                        ret = -errno;
                        *p = saved;
                        return ret;
                }
                *p = saved;
        }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int cgroup_owned_by(const struct cgroup_root *r, const char *cgroup, uid_t uid) {
        _cleanup_free_ char *path = NULL;
        size_t base = strlen(r->v2_mount);
        struct stat st;
        int ret;

        ret = cgroup_fs_path(r, cgroup, &path);
        if (ret < 0)
                return ret;
        /* The cgroup or an ancestor below the root: delegation (systemd's Delegate=) chowns the top of a subtree
         * to its user, and what is made inside it belongs to the same tenant. The root is nobody's. lstat: the
         * canonical path has no "..", and cgroupfs has no symlinks to follow anyway. */
        while (strlen(path) > base) {
                if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid)
                        return 1;
                *strrchr(path, '/') = '\0';
        }
        return 0;
}

int cgroup_remove(const struct cgroup_root *r, const char *cgroup) {
        _cleanup_free_ char *path = NULL;
        int ret;

        if (streq(cgroup, "/"))
                return -EBUSY;
        ret = cgroup_fs_path(r, cgroup, &path);
        if (ret < 0)
                return ret;
        return rmdir(path) < 0 ? -errno : 0;
}

int cgroup_remove_empty_children(const struct cgroup_root *r, const char *cgroup,
                                 bool (*keep)(const char *child, void *userdata), void *userdata) {
        _cleanup_free_ char *path = NULL;
        struct dirent *de;
        int ret, n = 0;
        DIR *dir;

        ret = cgroup_fs_path(r, cgroup, &path);
        if (ret < 0)
                return ret;
        dir = opendir(path);
        if (!dir)
                return -errno;
        while ((de = readdir(dir))) {
                _cleanup_free_ char *child = NULL;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                if (cgroupfs_path_child(cgroup, de->d_name, &child) < 0) {
                        closedir(dir);
                        return -ENOMEM;
                }
                if ((!keep || !keep(child, userdata)) && cgroup_remove(r, child) == 0)
                        n++;
        }
        closedir(dir);
        return n;
}

int cgroup_holds_others(const struct cgroup_root *r, const char *cgroup, pid_t pid) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int ret;

        ret = cgroup_list_pids(r, cgroup, &pids, &n);
        if (ret < 0)
                return ret;
        for (size_t i = 0; i < n; i++)
                if (pids[i] != pid)
                        return 1;
        return 0;
}

static int write_string(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        size_t len = strlen(s);

        if (fd < 0)
                return -errno;
        if (write(fd, s, len) != (ssize_t) len)
                return errno ? -errno : -EIO;
        return 0;
}

int cgroup_attach(const struct cgroup_root *r, const char *cgroup, pid_t pid) {
        _cleanup_free_ char *path = NULL, *procs = NULL;
        char buf[32];
        int ret;

        ret = cgroup_fs_path(r, cgroup, &path);
        if (ret < 0)
                return ret;
        if (asprintf(&procs, "%s/cgroup.procs", path) < 0)
                return -ENOMEM;
        snprintf(buf, sizeof(buf), "%d", (int) pid);
        return write_string(procs, buf);
}

static int append_pids(const char *dir, int depth, pid_t **pids, size_t *n) {
        _cleanup_free_ char *procs = NULL;
        _cleanup_free_ pid_t *these = NULL;
        size_t n_these = 0;
        DIR *d;
        struct dirent *de;
        int r;

        if (depth > MAX_CGROUP_DEPTH)
                return -ELOOP;
        if (asprintf(&procs, "%s/cgroup.procs", dir) < 0)
                return -ENOMEM;
        r = cgroupfs_read_procs(procs, &these, &n_these);
        if (r < 0)
                return r;
        if (n_these > 0) {
                pid_t *bigger;
                if (*n + n_these > MAX_PIDS)
                        return -E2BIG;
                bigger = reallocarray(*pids, *n + n_these, sizeof(pid_t));
                if (!bigger)
                        return -ENOMEM;
                memcpy(bigger + *n, these, n_these * sizeof(pid_t));
                *pids = bigger;
                *n += n_these;
        }
        d = opendir(dir);
        if (!d)
                return -errno;
        r = 0;
        while ((de = readdir(d)) && r >= 0) {
                _cleanup_free_ char *sub = NULL;
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                        r = -ENOMEM;
                else {
                        r = append_pids(sub, depth + 1, pids, n);
                        if (r == -ENOENT)
                                r = 0; /* removed while we walked */
                }
        }
        closedir(d);
        return r;
}

int cgroup_list_pids(const struct cgroup_root *r, const char *cgroup, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *path = NULL;
        pid_t *pids = NULL;
        size_t n = 0;
        int e;

        e = cgroup_fs_path(r, cgroup, &path);
        if (e < 0)
                return e;
        e = append_pids(path, 0, &pids, &n);
        if (e < 0) {
                free(pids);
                return e;
        }
        *ret = pids;
        *ret_n = n;
        return 0;
}

int cgroup_of_pid(pid_t pid, char **ret) {
        struct proc_cgroup pc = {0};
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        r = cgroupfs_read_proc_cgroup(path, &pc);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (!pc.v2_path) {
                proc_cgroup_done(&pc);
                return -ENOMEDIUM;
        }
        *ret = TAKE_PTR(pc.v2_path);
        proc_cgroup_done(&pc);
        return 0;
}

static uint64_t read_limit_or_unlimited(const char *dir, const char *file) {
        _cleanup_free_ char *path = NULL;
        uint64_t v;

        if (asprintf(&path, "%s/%s", dir, file) < 0 || cgroupfs_read_limit(path, &v) < 0)
                return CGROUPFS_UNLIMITED;
        return v;
}

int cgroup_read_limits(const struct cgroup_root *r, const char *cgroup, pid_t pid, uint64_t *ret_ram,
                       uint64_t *ret_swap) {
        _cleanup_free_ char *path = NULL;
        uint64_t ram, swap;
        int e;

        e = cgroup_fs_path(r, cgroup, &path);
        if (e < 0)
                return e;
        ram = read_limit_or_unlimited(path, "memory.max");
        swap = read_limit_or_unlimited(path, "memory.swap.max");
        if (ram == CGROUPFS_UNLIMITED && r->v1_memory_mount && pid > 0) {
                /* Hybrid host: the memory controller is on v1; read the v1 cgroup the process started in. */
                struct proc_cgroup pc = {0};
                char proc[64];
                snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int) pid);
                if (cgroupfs_read_proc_cgroup(proc, &pc) >= 0 && pc.v1_memory_path) {
                        _cleanup_free_ char *v1 = NULL;
                        if (asprintf(&v1, "%s%s", r->v1_memory_mount, pc.v1_memory_path) >= 0) {
                                uint64_t memsw;
                                ram = read_limit_or_unlimited(v1, "memory.limit_in_bytes");
                                memsw = read_limit_or_unlimited(v1, "memory.memsw.limit_in_bytes");
                                /* v1 limits memory+swap together: swap is what memsw allows beyond ram. */
                                if (ram != CGROUPFS_UNLIMITED && memsw != CGROUPFS_UNLIMITED)
                                        swap = memsw > ram ? memsw - ram : 0;
                        }
                }
                proc_cgroup_done(&pc);
        }
        *ret_ram = ram;
        *ret_swap = swap;
        return 0;
}
