/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "fileio.h"
#include "macro.h"

/* Like the procfs parsers, these walk the buffer once up to its NUL and range-check every number: they read
 * files of cgroups that tenants may own, and they are fuzzed. */

#define CGROUPFS_MAX_FILE (FILEIO_MAX_BYTES)

/* PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE pages; v1 prints it times PAGE_SIZE, which is LONG_MAX rounded
 * down to a page: at or above 2^63 - 2^16 for any page size up to 64 KiB. */
#define V1_UNLIMITED_THRESHOLD ((UINT64_C(1) << 63) - (UINT64_C(1) << 16))

struct span {
        const char *s;
        size_t n;
};

static bool line_next(const char **cursor, struct span *ret) {
        const char *p = *cursor, *e;

        if (!*p)
                return false;
        e = strchrnul(p, '\n');
        *ret = (struct span){p, (size_t) (e - p)};
        *cursor = *e ? e + 1 : e;
        return true;
}

static bool span_is(const struct span *s, const char *word) {
        size_t n = strlen(word);
        return s->n == n && memcmp(s->s, word, n) == 0;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static void trim(struct span *s) {
        while (s->n > 0 && is_blank(*s->s)) {
                s->s++;
                s->n--;
        }
        while (s->n > 0 && (is_blank(s->s[s->n - 1]) || s->s[s->n - 1] == '\n'))
                s->n--;
}

/* The next field separated by exactly `sep` (mountinfo and /proc/PID/cgroup do not pad). */
static bool field_next(struct span *rest, char sep, struct span *ret) {
        const char *e;

        if (!rest->s)
                return false;
        e = memchr(rest->s, sep, rest->n);
        if (!e) {
                *ret = *rest;
                *rest = (struct span){NULL, 0};
                return true;
        }
        *ret = (struct span){rest->s, (size_t) (e - rest->s)};
        rest->n -= ret->n + 1;
        rest->s = e + 1;
        return true;
}

static int parse_u64(const struct span *s, uint64_t *ret) {
        uint64_t v = 0;

        if (s->n == 0)
                return -EINVAL;
        for (size_t i = 0; i < s->n; i++) {
                if (s->s[i] < '0' || s->s[i] > '9')
                        return -EINVAL;
                if (__builtin_mul_overflow(v, UINT64_C(10), &v) ||
                    __builtin_add_overflow(v, (uint64_t) (s->s[i] - '0'), &v))
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

static int read_file(const char *path, char **ret) {
        return fileio_read_full(path, CGROUPFS_MAX_FILE, ret, NULL);
}

/* ---- limits ---- */

int cgroupfs_parse_limit(const char *buf, uint64_t *ret_bytes) {
        struct span s;
        uint64_t v;
        int r;

        if (!buf || !ret_bytes)
                return -EINVAL;
        s = (struct span){buf, strlen(buf)};
        trim(&s);
        if (span_is(&s, "max")) {
                *ret_bytes = CGROUPFS_UNLIMITED;
                return 0;
        }
        r = parse_u64(&s, &v);
        if (r < 0)
                return r;
        *ret_bytes = v >= V1_UNLIMITED_THRESHOLD ? CGROUPFS_UNLIMITED : v;
        return 0;
}

int cgroupfs_read_limit(const char *path, uint64_t *ret_bytes) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_file(path, &buf);
        if (r < 0)
                return r;
        return cgroupfs_parse_limit(buf, ret_bytes);
}

/* ---- memory.stat ---- */

enum stat_key {
        STAT_ANON,
        STAT_FILE,
        STAT_SHMEM,
        STAT_SLAB_RECLAIMABLE,
        STAT_TOTAL_RSS,
        STAT_TOTAL_CACHE,
        STAT_TOTAL_SHMEM,
        STAT_RSS,
        STAT_CACHE,
        _STAT_MAX,
};

int cgroupfs_parse_memory_stat(const char *buf, struct memory_stat *ret) {
        static const char *const keys[_STAT_MAX] = {
                [STAT_ANON] = "anon",
                [STAT_FILE] = "file",
                [STAT_SHMEM] = "shmem",
                [STAT_SLAB_RECLAIMABLE] = "slab_reclaimable",
                [STAT_TOTAL_RSS] = "total_rss",
                [STAT_TOTAL_CACHE] = "total_cache",
                [STAT_TOTAL_SHMEM] = "total_shmem",
                [STAT_RSS] = "rss",
                [STAT_CACHE] = "cache",
        };
        uint64_t v[_STAT_MAX] = {0};
        bool seen[_STAT_MAX] = {false};
        const char *cursor = buf;
        struct span l;
        int r;

        if (!buf || !ret)
                return -EINVAL;

        /* memory_stat_format() (v2) and memcg1_stat_format() (v1) print "key value\n", value in bytes for
         * the keys read here (v1 "shmem" and v2 "shmem" are the same key). */
        while (line_next(&cursor, &l)) {
                struct span key, value;
                size_t i;

                if (l.n == 0)
                        continue;
                if (!field_next(&l, ' ', &key) || !field_next(&l, ' ', &value) || l.s || key.n == 0)
                        return -EINVAL;
                for (i = 0; i < _STAT_MAX; i++)
                        if (span_is(&key, keys[i]))
                                break;
                if (i == _STAT_MAX)
                        continue;
                if (seen[i])
                        return -EINVAL;
                r = parse_u64(&value, &v[i]);
                if (r < 0)
                        return r;
                seen[i] = true;
        }

        /* v2 has no total_* keys and v1 no "anon"/"file": the first key present wins. The v1 total_* keys
         * include the descendants (use_hierarchy), as the v2 keys always do. */
        *ret = (struct memory_stat){
                .anon_bytes = seen[STAT_ANON]        ? v[STAT_ANON]
                              : seen[STAT_TOTAL_RSS] ? v[STAT_TOTAL_RSS]
                                                     : v[STAT_RSS],
                .file_bytes = seen[STAT_FILE]          ? v[STAT_FILE]
                              : seen[STAT_TOTAL_CACHE] ? v[STAT_TOTAL_CACHE]
                                                       : v[STAT_CACHE],
                .shmem_bytes = seen[STAT_TOTAL_SHMEM] ? v[STAT_TOTAL_SHMEM] : v[STAT_SHMEM],
                .slab_reclaimable_bytes = v[STAT_SLAB_RECLAIMABLE],
        };
        return 0;
}

int cgroupfs_read_memory_stat(const char *path, struct memory_stat *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_file(path, &buf);
        if (r < 0)
                return r;
        return cgroupfs_parse_memory_stat(buf, ret);
}

/* ---- cgroup.procs ---- */

static int pid_cmp(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

int cgroupfs_parse_procs(const char *buf, pid_t **ret_pids, size_t *ret_n) {
        _cleanup_free_ pid_t *pids = NULL;
        const char *cursor = buf;
        size_t n = 0, allocated = 0, u = 0;
        struct span l;
        int r;

        if (!buf || !ret_pids || !ret_n)
                return -EINVAL;

        while (line_next(&cursor, &l)) {
                uint64_t v;

                if (l.n == 0)
                        continue;
                r = parse_u64(&l, &v);
                if (r < 0)
                        return r;
                if (v == 0 || v > INT_MAX)
                        return -EINVAL;
                if (n == allocated) {
                        size_t want = allocated ? allocated * 2 : 64;
                        pid_t *bigger = reallocarray(pids, want, sizeof(*pids));
                        if (!bigger)
                                return -ENOMEM;
                        pids = bigger;
                        allocated = want;
                }
                pids[n++] = (pid_t) v;
        }

        if (!pids) {
                /* Empty: still hand back an allocation, so a caller never mistakes "none" for a failure. */
                pids = calloc(1, sizeof(*pids));
                if (!pids)
                        return -ENOMEM;
        }
        /* v1 cgroup.procs is built from the threads and may list a process more than once
         * (Documentation/admin-guide/cgroup-v1/cgroups.rst); charging it twice would double its commit. */
        if (n > 1)
                qsort(pids, n, sizeof(*pids), pid_cmp);
        for (size_t i = 0; i < n; i++)
                if (u == 0 || pids[u - 1] != pids[i])
                        pids[u++] = pids[i];

        *ret_pids = TAKE_PTR(pids);
        *ret_n = u;
        return 0;
}

int cgroupfs_read_procs(const char *path, pid_t **ret_pids, size_t *ret_n) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_file(path, &buf);
        if (r < 0)
                return r;
        return cgroupfs_parse_procs(buf, ret_pids, ret_n);
}

/* ---- mountinfo ---- */

void cgroup_mounts_done(struct cgroup_mounts *m) {
        if (!m)
                return;
        free(m->v2_mount);
        free(m->v2_root);
        free(m->v1_memory_mount);
        free(m->v1_memory_root);
        free(m->meminfo_fstype);
        free(m->meminfo_source);
        *m = (struct cgroup_mounts){0};
}

static bool is_octal(char c) {
        return c >= '0' && c <= '7';
}

/* mangle_path() / seq_path_root() escape ' ', '\t', '\n' and '\\' as \ooo: undo that. A NUL byte cannot be
 * a path, so \000 is malformed. */
static int unescape_octal(const struct span *s, char **ret) {
        char *out, *o;

        if (s->n == 0)
                return -EINVAL;
        out = malloc(s->n + 1);
        if (!out)
                return -ENOMEM;
        o = out;
        for (size_t i = 0; i < s->n; i++) {
                if (s->s[i] == '\\' && i + 3 < s->n && is_octal(s->s[i + 1]) && is_octal(s->s[i + 2]) &&
                    is_octal(s->s[i + 3])) {
                        int c = (s->s[i + 1] - '0') * 64 + (s->s[i + 2] - '0') * 8 + (s->s[i + 3] - '0');
                        if (c == 0 || c > 0377) {
                                free(out);
                                return -EINVAL;
                        }
                        *o++ = (char) c;
                        i += 3;
                } else
                        *o++ = s->s[i];
        }
        *o = '\0';
        *ret = out;
        return 0;
}

static bool options_contain(struct span opts, const char *word) {
        struct span o;

        while (field_next(&opts, ',', &o))
                if (span_is(&o, word))
                        return true;
        return false;
}

int cgroupfs_parse_mountinfo(const char *buf, struct cgroup_mounts *ret) {
        _cleanup_(cgroup_mounts_done) struct cgroup_mounts m = {0};
        const char *cursor = buf;
        struct span l;
        int r;

        if (!buf || !ret)
                return -EINVAL;

        /* show_mountinfo(): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER",
         * single spaces, with the fields that can hold spaces escaped. */
        while (line_next(&cursor, &l)) {
                struct span f[6], fstype, source, super, t;
                size_t i;

                if (l.n == 0)
                        continue;
                for (i = 0; i < ELEMENTSOF(f); i++)
                        if (!field_next(&l, ' ', &f[i]) || f[i].n == 0)
                                return -EINVAL;
                /* Optional fields ("shared:1", "master:7") up to the lone "-". The line bounds the loop. */
                for (;;) {
                        if (!field_next(&l, ' ', &t))
                                return -EINVAL;
                        if (span_is(&t, "-"))
                                break;
                        if (t.n == 0)
                                return -EINVAL;
                }
                if (!field_next(&l, ' ', &fstype) || !field_next(&l, ' ', &source) || !field_next(&l, ' ', &super) ||
                    fstype.n == 0)
                        return -EINVAL;

                if (span_is(&fstype, "cgroup2") && !m.v2_mount) {
                        r = unescape_octal(&f[4], &m.v2_mount);
                        if (r < 0)
                                return r;
                        r = unescape_octal(&f[3], &m.v2_root);
                        if (r < 0)
                                return r;
                } else if (span_is(&fstype, "cgroup") && !m.v1_memory_mount && options_contain(super, "memory")) {
                        /* The v1 controllers of a hierarchy are its super options: "rw,memory" or
                         * "rw,cpu,memory". */
                        r = unescape_octal(&f[4], &m.v1_memory_mount);
                        if (r < 0)
                                return r;
                        r = unescape_octal(&f[3], &m.v1_memory_root);
                        if (r < 0)
                                return r;
                } else if (span_is(&f[4], "/proc/meminfo")) {
                        /* a later line is a mount on top: the one readers see */
                        free(m.meminfo_fstype);
                        free(m.meminfo_source);
                        m.meminfo_fstype = m.meminfo_source = NULL;
                        r = unescape_octal(&fstype, &m.meminfo_fstype);
                        if (r < 0)
                                return r;
                        r = unescape_octal(&source, &m.meminfo_source);
                        if (r < 0)
                                return r;
                }
        }

        *ret = m;
        m = (struct cgroup_mounts){0};
        return 0;
}

int cgroupfs_read_mountinfo(const char *path, struct cgroup_mounts *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_file(path, &buf);
        if (r < 0)
                return r;
        return cgroupfs_parse_mountinfo(buf, ret);
}

/* ---- /proc/PID/cgroup ---- */

void proc_cgroup_done(struct proc_cgroup *c) {
        if (!c)
                return;
        free(c->v2_path);
        free(c->v1_memory_path);
        *c = (struct proc_cgroup){0};
}

static int span_strdup(const struct span *s, char **ret) {
        char *p = strndup(s->s, s->n);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int cgroupfs_parse_proc_cgroup(const char *buf, struct proc_cgroup *ret) {
        _cleanup_(proc_cgroup_done) struct proc_cgroup c = {0};
        const char *cursor = buf;
        struct span l;
        int r;

        if (!buf || !ret)
                return -EINVAL;

        /* proc_cgroup_show(): "ID:CONTROLLERS:PATH" per hierarchy; the path is the rest of the line (it may
         * hold ':'). The v2 hierarchy is "0::PATH". */
        while (line_next(&cursor, &l)) {
                struct span id, controllers, path;
                uint64_t v;

                if (l.n == 0)
                        continue;
                if (!field_next(&l, ':', &id) || !field_next(&l, ':', &controllers) || !l.s)
                        return -EINVAL;
                path = l;
                if (parse_u64(&id, &v) < 0 || v > INT_MAX || path.n == 0)
                        return -EINVAL;

                if (v == 0 && controllers.n == 0) {
                        if (c.v2_path)
                                return -EINVAL;
                        r = span_strdup(&path, &c.v2_path);
                        if (r < 0)
                                return r;
                } else if (options_contain(controllers, "memory")) {
                        if (c.v1_memory_path)
                                return -EINVAL;
                        r = span_strdup(&path, &c.v1_memory_path);
                        if (r < 0)
                                return r;
                }
        }

        *ret = c;
        c = (struct proc_cgroup){0};
        return 0;
}

int cgroupfs_read_proc_cgroup(const char *path, struct proc_cgroup *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_file(path, &buf);
        if (r < 0)
                return r;
        return cgroupfs_parse_proc_cgroup(buf, ret);
}

/* ---- cgroup names ---- */

int cgroupfs_path_normalize(const char *path, char **ret) {
        _cleanup_free_ char *out = NULL;
        const char *s;
        size_t len, o = 0;

        if (!path || !ret)
                return -EINVAL;
        len = strnlen(path, PATH_MAX);
        if (len >= PATH_MAX)
                return -EINVAL;
        out = malloc(len + 2);
        if (!out)
                return -ENOMEM;

        s = path[0] == '/' ? path + 1 : path;
        while (*s) {
                const char *e = strchrnul(s, '/');
                size_t n = (size_t) (e - s);

                /* "a//b", "//": an empty component is a typo, not the root. "." and ".." would let a tenant
                 * name a cgroup outside the subtree it is allowed to see. */
                if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                        return -EINVAL;
                out[o++] = '/';
                memcpy(out + o, s, n);
                o += n;
                if (!*e)
                        break;
                s = e + 1; /* a trailing "/" ends the loop here */
        }
        if (o == 0)
                out[o++] = '/';
        if (o >= PATH_MAX)
                return -EINVAL;
        out[o] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

int cgroupfs_path_child(const char *parent, const char *name, char **ret) {
        char *s;

        if (asprintf(&s, "%s/%s", streq(parent, "/") ? "" : parent, name) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int cgroupfs_path_is_below(const char *path, const char *ancestor) {
        size_t n;

        if (!path || !ancestor)
                return 0;
        if (streq(ancestor, "/"))
                return path[0] == '/';
        n = strlen(ancestor);
        return strncmp(path, ancestor, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
