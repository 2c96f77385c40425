/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "macro.h"
#include "procfs.h"

/* Every parser here reads bytes the kernel wrote, but they are also fuzzed: each walks the buffer once, up
 * to its NUL, and every number is range-checked before it is used. */

struct line {
        const char *s;
        size_t n;
};

/* The next line of *cursor (without its '\n'); false at the NUL. */
static bool line_next(const char **cursor, struct line *ret) {
        const char *p = *cursor, *e;

        if (!*p)
                return false;
        e = strchrnul(p, '\n');
        *ret = (struct line){p, (size_t) (e - p)};
        *cursor = *e ? e + 1 : e;
        return true;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static void skip_blanks(struct line *l) {
        while (l->n > 0 && is_blank(*l->s)) {
                l->s++;
                l->n--;
        }
}

static void trim_trailing_blanks(struct line *l) {
        while (l->n > 0 && is_blank(l->s[l->n - 1]))
                l->n--;
}

static bool line_is(const struct line *l, const char *word) {
        size_t n = strlen(word);
        return l->n == n && memcmp(l->s, word, n) == 0;
}

static bool starts_with(const struct line *l, const char *prefix) {
        size_t n = strlen(prefix);
        return l->n >= n && memcmp(l->s, prefix, n) == 0;
}

/* Splits "Key:rest" at the first ':'; false when there is none. */
static bool line_split_key(const struct line *l, struct line *ret_key, struct line *ret_value) {
        const char *colon = memchr(l->s, ':', l->n);

        if (!colon)
                return false;
        *ret_key = (struct line){l->s, (size_t) (colon - l->s)};
        *ret_value = (struct line){colon + 1, l->n - (size_t) (colon - l->s) - 1};
        return true;
}

static int digit_value(char c, unsigned base) {
        int v;

        if (c >= '0' && c <= '9')
                v = c - '0';
        else if (c >= 'a' && c <= 'f')
                v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
                v = c - 'A' + 10;
        else
                return -1;
        return (unsigned) v < base ? v : -1;
}

/* The whole of l is one unsigned number in base 10 or 16 (no sign, no prefix, no blanks). */
static int parse_u64_base(const struct line *l, unsigned base, uint64_t *ret) {
        uint64_t v = 0;

        if (l->n == 0)
                return -EINVAL;
        for (size_t i = 0; i < l->n; i++) {
                int d = digit_value(l->s[i], base);
                if (d < 0)
                        return -EINVAL;
                if (__builtin_mul_overflow(v, (uint64_t) base, &v) || __builtin_add_overflow(v, (uint64_t) d, &v))
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* Takes the leading run of non-blank characters off l as a token. */
static struct line token_next(struct line *l) {
        struct line t;

        skip_blanks(l);
        t.s = l->s;
        t.n = 0;
        while (t.n < l->n && !is_blank(l->s[t.n]))
                t.n++;
        l->s += t.n;
        l->n -= t.n;
        return t;
}

/* "   12345 kB" (the value part of a meminfo, status or smaps line) in bytes. */
static int parse_kb_value(struct line v, uint64_t *ret) {
        struct line num, unit;
        uint64_t kb;
        int r;

        num = token_next(&v);
        unit = token_next(&v);
        skip_blanks(&v);
        if (!line_is(&unit, "kB") || v.n != 0)
                return -EINVAL;
        r = parse_u64_base(&num, 10, &kb);
        if (r < 0)
                return r;
        if (__builtin_mul_overflow(kb, UINT64_C(1024), ret))
                return -EINVAL;
        return 0;
}

/* "   12345" (a count). */
static int parse_plain_value(struct line v, uint64_t *ret) {
        skip_blanks(&v);
        trim_trailing_blanks(&v);
        return parse_u64_base(&v, 10, ret);
}

int procfs_parse_uint64(const char *buf, uint64_t *ret) {
        struct line l;
        uint64_t v;
        int r;

        if (!buf || !ret)
                return -EINVAL;
        l = (struct line){buf, strlen(buf)};
        while (l.n > 0 && (is_blank(l.s[l.n - 1]) || l.s[l.n - 1] == '\n'))
                l.n--;
        r = parse_u64_base(&l, 10, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

/* ---- /proc/meminfo ---- */

int meminfo_parse(const char *buf, struct meminfo *ret) {
        static const struct {
                const char *key;
                size_t offset;
                bool kb;
        } fields[] = {
                {"MemTotal", offsetof(struct meminfo, mem_total), true},
                {"MemFree", offsetof(struct meminfo, mem_free), true},
                {"MemAvailable", offsetof(struct meminfo, mem_available), true},
                {"Buffers", offsetof(struct meminfo, buffers), true},
                {"Cached", offsetof(struct meminfo, cached), true},
                {"SwapTotal", offsetof(struct meminfo, swap_total), true},
                {"SwapFree", offsetof(struct meminfo, swap_free), true},
                {"Shmem", offsetof(struct meminfo, shmem), true},
                {"SReclaimable", offsetof(struct meminfo, sreclaimable), true},
                {"CommitLimit", offsetof(struct meminfo, commit_limit), true},
                {"Committed_AS", offsetof(struct meminfo, committed_as), true},
                {"HugePages_Total", offsetof(struct meminfo, hugepages_total), false},
                {"Hugepagesize", offsetof(struct meminfo, hugepagesize), true},
                {"Hugetlb", offsetof(struct meminfo, hugetlb), true},
        };
        struct meminfo m = {0};
        bool seen[ELEMENTSOF(fields)] = {false};
        const char *cursor = buf;
        struct line l;
        int r;

        if (!buf || !ret)
                return -EINVAL;

        while (line_next(&cursor, &l)) {
                struct line key, value;
                size_t i;

                if (l.n == 0)
                        continue;
                if (!line_split_key(&l, &key, &value))
                        return -EINVAL;
                for (i = 0; i < ELEMENTSOF(fields); i++)
                        if (line_is(&key, fields[i].key))
                                break;
                if (i == ELEMENTSOF(fields))
                        continue; /* a field we do not need (or one a newer kernel added) */
                if (seen[i])
                        return -EINVAL;
                seen[i] = true;
                uint64_t *field = (uint64_t *) ((char *) &m + fields[i].offset);
                r = fields[i].kb ? parse_kb_value(value, field) : parse_plain_value(value, field);
                if (r < 0)
                        return r;
        }

        /* Every kernel prints MemTotal first: a buffer without it is not meminfo. */
        if (!seen[0])
                return -EINVAL;
        /* "Hugetlb:" (Linux 4.16+) is hugetlb_total_pages() over every pool size, the figure vm_commit_limit()
         * subtracts. Older kernels print only the default pool; that is the best they offer. */
        if (!seen[ELEMENTSOF(fields) - 1] && __builtin_mul_overflow(m.hugepages_total, m.hugepagesize, &m.hugetlb))
                return -EINVAL;

        *ret = m;
        return 0;
}

int meminfo_read(const char *path, struct meminfo *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = fileio_read_full(path, FILEIO_MAX_BYTES, &buf, NULL);
        if (r < 0)
                return r;
        return meminfo_parse(buf, ret);
}

/* ---- /proc/sys/vm ---- */

static int read_sysctl(const char *dir, const char *name, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[PATH_MAX];
        int r;

        r = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (r < 0 || (size_t) r >= sizeof(path))
                return -ENAMETOOLONG;
        r = fileio_read_full(path, 4096, &buf, NULL);
        if (r < 0)
                return r;
        return procfs_parse_uint64(buf, ret);
}

static int kbytes_to_bytes(uint64_t kb, uint64_t *ret) {
        if (__builtin_mul_overflow(kb, UINT64_C(1024), ret))
                return -EINVAL;
        return 0;
}

int overcommit_read(const char *sysctl_dir, struct overcommit *ret) {
        struct overcommit oc = {0};
        uint64_t mode, ratio, kbytes, admin, user;
        int r;

        if (!sysctl_dir || !ret)
                return -EINVAL;

        r = read_sysctl(sysctl_dir, "overcommit_memory", &mode);
        if (r < 0)
                return r;
        r = read_sysctl(sysctl_dir, "overcommit_ratio", &ratio);
        if (r < 0)
                return r;
        r = read_sysctl(sysctl_dir, "overcommit_kbytes", &kbytes);
        if (r < 0)
                return r;
        r = read_sysctl(sysctl_dir, "admin_reserve_kbytes", &admin);
        if (r < 0)
                return r;
        r = read_sysctl(sysctl_dir, "user_reserve_kbytes", &user);
        if (r < 0)
                return r;

        if (mode >= _COMMIT_MODE_MAX || ratio > UINT32_MAX)
                return -EINVAL;
        oc.mode = (enum commit_mode) mode;
        oc.ratio = (uint32_t) ratio;
        r = kbytes_to_bytes(kbytes, &oc.kbytes_bytes);
        if (r < 0)
                return r;
        r = kbytes_to_bytes(admin, &oc.admin_reserve_bytes);
        if (r < 0)
                return r;
        r = kbytes_to_bytes(user, &oc.user_reserve_bytes);
        if (r < 0)
                return r;

        *ret = oc;
        return 0;
}

/* ---- /proc/PID/smaps: the line-level state machine ---- */

enum smaps_name smaps_name_of(const char *name, size_t n, bool truncated) {
        struct line l = {name, n};

        /* Shared anonymous memory is a shmem file made by shmem_zero_setup(), which smaps names
         * "/dev/zero (deleted)" (Linux 6.18 here); kernels that let such memory be named print
         * "[anon_shmem]" or "[anon_shmem:NAME]". SysV segments are shmem files named "SYSV%08x" by newseg(),
         * memfds "memfd:NAME" by memfd_create(); d_path() adds the "/" and " (deleted)". */
        if (!name)
                return SMAPS_NAME_OTHER;
        if (!truncated &&
            (line_is(&l, "/dev/zero (deleted)") || (starts_with(&l, "[anon_shmem") && name[n - 1] == ']')))
                return SMAPS_NAME_SHARED_ANON;
        if (starts_with(&l, "/SYSV"))
                return SMAPS_NAME_SYSV;
        if (starts_with(&l, "/memfd:"))
                return SMAPS_NAME_MEMFD;
        return SMAPS_NAME_OTHER;
}

/* "start-end perms offset major:minor inode [name]", as show_map_vma() prints it. truncated: the line went on
 * past SMAPS_LINE_MAX, so the name is only a prefix of itself. */
static int smaps_parse_header(struct line l, bool truncated, struct smaps_area *ret) {
        struct smaps_area a = {0};
        struct line range, perms, offset, dev, inode, name;
        struct line start, end, major, minor;
        const char *sep;
        uint64_t v_major, v_minor;
        int r;

        range = token_next(&l);
        perms = token_next(&l);
        offset = token_next(&l);
        dev = token_next(&l);
        inode = token_next(&l);
        skip_blanks(&l);
        name = l;

        sep = memchr(range.s, '-', range.n);
        if (!sep)
                return -EINVAL;
        start = (struct line){range.s, (size_t) (sep - range.s)};
        end = (struct line){sep + 1, range.n - start.n - 1};
        sep = memchr(dev.s, ':', dev.n);
        if (!sep)
                return -EINVAL;
        major = (struct line){dev.s, (size_t) (sep - dev.s)};
        minor = (struct line){sep + 1, dev.n - major.n - 1};

        if (parse_u64_base(&start, 16, &a.start) < 0 || parse_u64_base(&end, 16, &a.end) < 0 || a.end < a.start)
                return -EINVAL;
        if (parse_u64_base(&offset, 16, &a.offset) < 0)
                return -EINVAL;
        if (parse_u64_base(&major, 16, &v_major) < 0 || parse_u64_base(&minor, 16, &v_minor) < 0 ||
            v_major > UINT32_MAX || v_minor > UINT32_MAX)
                return -EINVAL;
        r = parse_u64_base(&inode, 10, &a.inode);
        if (r < 0)
                return r;
        if (perms.n != 4 || (perms.s[0] != 'r' && perms.s[0] != '-') || (perms.s[1] != 'w' && perms.s[1] != '-') ||
            (perms.s[2] != 'x' && perms.s[2] != '-') || (perms.s[3] != 'p' && perms.s[3] != 's'))
                return -EINVAL;
        memcpy(a.perms, perms.s, 4);
        a.dev = makedev((unsigned) v_major, (unsigned) v_minor);

        a.name = smaps_name_of(name.s, name.n, truncated);
        *ret = a;
        return 0;
}

static bool is_flag_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int smaps_parse_flags(struct line v, struct smaps_area *a) {
        /* show_smap_vma_flags() prints two-letter mnemonics separated by one space. */
        for (;;) {
                struct line t = token_next(&v);
                if (t.n == 0)
                        break;
                if (t.n != 2 || !is_flag_char(t.s[0]) || !is_flag_char(t.s[1]))
                        return -EINVAL;
                if (line_is(&t, "ac"))
                        a->ac = true; /* VM_ACCOUNT */
                else if (line_is(&t, "dc"))
                        a->dc = true; /* VM_DONTCOPY */
                else if (line_is(&t, "nr"))
                        a->nr = true; /* VM_NORESERVE */
                else if (line_is(&t, "ht"))
                        a->ht = true; /* VM_HUGETLB */
        }
        return 0;
}

void smaps_scanner_init(struct smaps_scanner *s, smaps_area_fn fn, void *userdata) {
        assert(s && fn);
        *s = (struct smaps_scanner){.fn = fn, .userdata = userdata};
}

static int scanner_emit(struct smaps_scanner *s) {
        if (!s->has_size || !s->has_flags)
                return -EINVAL;
        s->in_area = false;
        return s->fn(&s->area, s->userdata);
}

/* One line. Only three kinds matter: the header (addresses, printed in lower-case hex), Size: and VmFlags:;
 * every other field (their names start with a capital letter) is skipped after one byte's look. */
static int scanner_line(struct smaps_scanner *s, struct line l, bool truncated) {
        int r;

        if (l.n == 0)
                return 0;
        if ((l.s[0] >= '0' && l.s[0] <= '9') || (l.s[0] >= 'a' && l.s[0] <= 'f')) {
                if (s->in_area) {
                        r = scanner_emit(s);
                        if (r != 0)
                                return r;
                }
                r = smaps_parse_header(l, truncated, &s->area);
                if (r < 0)
                        return r;
                s->in_area = true;
                s->has_size = s->has_flags = false;
                return 0;
        }
        if (!s->in_area || l.s[0] < 'A' || l.s[0] > 'Z')
                return -EINVAL;
        if (l.s[0] == 'S' && starts_with(&l, "Size:")) {
                if (s->has_size)
                        return -EINVAL;
                r = parse_kb_value((struct line){l.s + 5, l.n - 5}, &s->area.size);
                if (r < 0)
                        return r;
                s->has_size = true;
        } else if (l.s[0] == 'V' && starts_with(&l, "VmFlags:")) {
                if (s->has_flags)
                        return -EINVAL;
                r = smaps_parse_flags((struct line){l.s + 8, l.n - 8}, &s->area);
                if (r < 0)
                        return r;
                s->has_flags = true;
        }
        return 0;
}

static void scanner_pend(struct smaps_scanner *s, const char *p, size_t n) {
        size_t room = SMAPS_LINE_MAX - s->pending_len;

        if (n > room) {
                n = room;
                s->pending_truncated = true;
        }
        memcpy(s->pending_line + s->pending_len, p, n);
        s->pending_len += n;
}

static int scanner_pending_line(struct smaps_scanner *s) {
        s->pending = false;
        return scanner_line(s, (struct line){s->pending_line, s->pending_len}, s->pending_truncated);
}

int smaps_scanner_feed(struct smaps_scanner *s, const char *data, size_t n) {
        const char *p = data, *end = data + n;
        int r;

        if (s->state != 0 || n == 0)
                return s->state;
        if (s->pending) {
                const char *nl = memchr(p, '\n', n);
                scanner_pend(s, p, (size_t) ((nl ? nl : end) - p));
                if (!nl)
                        return 0;
                p = nl + 1;
                r = scanner_pending_line(s);
                if (r != 0)
                        return s->state = r;
        }
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len;

                if (!nl) {
                        /* The start of a line the next piece ends: kept, up to SMAPS_LINE_MAX. */
                        s->pending = true;
                        s->pending_len = 0;
                        s->pending_truncated = false;
                        scanner_pend(s, p, (size_t) (end - p));
                        break;
                }
                len = (size_t) (nl - p);
                r = scanner_line(s, (struct line){p, MIN(len, (size_t) SMAPS_LINE_MAX)}, len > SMAPS_LINE_MAX);
                if (r != 0)
                        return s->state = r;
                p = nl + 1;
        }
        return 0;
}

int smaps_scanner_finish(struct smaps_scanner *s) {
        int r;

        if (s->state != 0)
                return s->state;
        if (s->pending) {
                r = scanner_pending_line(s);
                if (r != 0)
                        return s->state = r;
        }
        if (s->in_area) {
                r = scanner_emit(s);
                if (r != 0)
                        return s->state = r;
        }
        return 0;
}

static int scanner_chunk(const char *data, size_t n, void *userdata) {
        return smaps_scanner_feed(userdata, data, n);
}

/* The scanner over a NUL-terminated buffer, or (buf NULL) over the file at path. */
static int scan_any(const char *buf, const char *path, smaps_area_fn fn, void *userdata) {
        struct smaps_scanner s;
        int r;

        if (!fn)
                return -EINVAL;
        smaps_scanner_init(&s, fn, userdata);
        r = buf ? smaps_scanner_feed(&s, buf, strlen(buf))
                : fileio_read_chunks(path, FILEIO_CHUNK_BYTES, scanner_chunk, &s);
        return r != 0 ? r : smaps_scanner_finish(&s);
}

int smaps_scan(const char *buf, smaps_area_fn fn, void *userdata) {
        return buf ? scan_any(buf, NULL, fn, userdata) : -EINVAL;
}

int smaps_scan_file(const char *path, smaps_area_fn fn, void *userdata) {
        return path ? scan_any(NULL, path, fn, userdata) : -EINVAL;
}

/* ---- smaps: the commit charge ---- */

static int add_u64(uint64_t *sum, uint64_t v) {
        return __builtin_add_overflow(*sum, v, sum) ? -EINVAL : 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
        uint64_t s;
        return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

uint64_t shmem_object_charge(const struct shmem_object *o, enum commit_mode mode) {
        if (!o)
                return 0;
        switch (o->accounting) {
        case SHMEM_WHOLE:
                return o->size_bytes;
        case SHMEM_WHOLE_IN_STRICT:
                return mode == COMMIT_MODE_NEVER ? o->size_bytes : o->allocated_bytes;
        case SHMEM_PAGES:
        default:
                return o->allocated_bytes;
        }
}

bool smaps_charge_equal(const struct smaps_charge *a, const struct smaps_charge *b) {
        if (a->accountable_bytes != b->accountable_bytes ||
            a->dontcopy_accountable_bytes != b->dontcopy_accountable_bytes ||
            a->noreserve_bytes != b->noreserve_bytes || a->shmem_bytes != b->shmem_bytes ||
            a->shmem_strict_bytes != b->shmem_strict_bytes || a->n_shmem != b->n_shmem)
                return false;
        for (size_t i = 0; i < a->n_shmem; i++) {
                const struct shmem_object *x = &a->shmem[i], *y = &b->shmem[i];
                if (x->dev != y->dev || x->inode != y->inode || x->ipc_ns != y->ipc_ns || x->kind != y->kind ||
                    x->accounting != y->accounting || x->size_bytes != y->size_bytes ||
                    x->allocated_bytes != y->allocated_bytes || x->estimated != y->estimated)
                        return false;
        }
        return true;
}

void smaps_charge_done(struct smaps_charge *c) {
        if (!c)
                return;
        free(c->shmem);
        *c = (struct smaps_charge){0};
}

/* The name of an object: (dev, inode), and for a SysV segment its namespace, in a space of its own. */
static int shmem_object_cmp(const void *a, const void *b) {
        const struct shmem_object *x = a, *y = b;
        bool xs = x->kind == SHMEM_SYSV, ys = y->kind == SHMEM_SYSV;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (xs != ys)
                return xs ? 1 : -1;
        if (x->ipc_ns != y->ipc_ns)
                return x->ipc_ns < y->ipc_ns ? -1 : 1;
        if (x->inode != y->inode)
                return x->inode < y->inode ? -1 : 1;
        return 0;
}

/* One object seen twice (two areas, two processes): what the object is measured to be beats what a mapping
 * suggests; between two of a kind, the larger, so a group is never undercounted. */
static void shmem_object_fold(struct shmem_object *into, const struct shmem_object *o) {
        if (into->estimated != o->estimated) {
                if (into->estimated)
                        *into = *o;
                return;
        }
        into->size_bytes = MAX(into->size_bytes, o->size_bytes);
        into->allocated_bytes = MAX(into->allocated_bytes, o->allocated_bytes);
        into->accounting = MAX(into->accounting, o->accounting);
}

int smaps_charge_add_object(struct smaps_charge *c, const struct shmem_object *obj) {
        if (!c || !obj)
                return -EINVAL;
        if (c->n_shmem >= c->shmem_allocated) {
                size_t want;
                struct shmem_object *bigger;

                if (__builtin_mul_overflow(MAX(c->n_shmem, (size_t) 8), (size_t) 2, &want))
                        return -ENOMEM;
                bigger = reallocarray(c->shmem, want, sizeof(*bigger));
                if (!bigger)
                        return -ENOMEM;
                c->shmem = bigger;
                c->shmem_allocated = want;
        }
        c->shmem[c->n_shmem++] = *obj;
        return 0;
}

bool smaps_area_shmem(const struct smaps_area *a, const struct smaps_origin *o, bool on_tmpfs,
                      struct shmem_object *ret) {
        static const struct smaps_origin unknown = {0};
        struct shmem_object obj = {.dev = a->dev, .inode = a->inode, .estimated = true};
        bool on_shm;

        o = o ? o : &unknown;
        on_shm = o->shm_dev == 0 || a->dev == o->shm_dev;
        if (a->ht || (!on_shm && !on_tmpfs))
                return false;
        switch (on_shm ? a->name : SMAPS_NAME_OTHER) {
        case SMAPS_NAME_SHARED_ANON:
                obj.kind = SHMEM_SHARED_ANON;
                obj.accounting = a->nr ? SHMEM_WHOLE_IN_STRICT : SHMEM_WHOLE;
                break;
        case SMAPS_NAME_SYSV:
                /* A segment made with SHM_NORESERVE cannot be told apart (shmat() maps it without
                 * VM_NORESERVE) and is counted whole: an overestimate, never an underestimate. */
                obj.kind = SHMEM_SYSV;
                obj.accounting = SHMEM_WHOLE;
                obj.ipc_ns = o->ipc_ns;
                break;
        case SMAPS_NAME_MEMFD:
        case SMAPS_NAME_OTHER:
        default:
                /* On the internal shm mount any other name is a memfd-like file; elsewhere a name says
                 * nothing, only the file system does (on_tmpfs). */
                if (a->name != SMAPS_NAME_MEMFD && o->shm_dev == 0 && !on_tmpfs)
                        return false;
                obj.kind = SHMEM_FILE;
                obj.accounting = SHMEM_PAGES;
                break;
        }
        /* The mapping shows [offset, offset + size) of the object, so i_size is at least offset + size: an
         * object cut to its last page by munmap() is still seen whole. */
        obj.size_bytes = add_sat(a->offset, a->size);
        obj.allocated_bytes = a->size;
        *ret = obj;
        return true;
}

int smaps_charge_add_area(struct smaps_charge *c, const struct smaps_area *a, const struct smaps_origin *o) {
        struct shmem_object obj;

        if (!c || !a)
                return -EINVAL;
        if (a->ac) {
                /* accountable_mapping() set VM_ACCOUNT: the kernel charged it at mmap/mprotect/brk time. */
                if (add_u64(&c->accountable_bytes, a->size) < 0)
                        return -EINVAL;
                if (a->dc && add_u64(&c->dontcopy_accountable_bytes, a->size) < 0)
                        return -EINVAL;
                return 0;
        }
        if (a->nr && a->perms[3] == 'p' && a->perms[1] == 'w' && !a->ht) {
                /* MAP_NORESERVE honoured because the host is not in mode 2: mode 2 would have charged it. */
                return add_u64(&c->noreserve_bytes, a->size);
        }
        if (a->perms[3] == 's' && smaps_area_shmem(a, o, false, &obj))
                return smaps_charge_add_object(c, &obj);
        return 0;
}

int smaps_charge_finish(struct smaps_charge *c) {
        uint64_t sum = 0, strict = 0;
        size_t n = 0;

        if (!c)
                return -EINVAL;
        if (c->n_shmem > 1)
                qsort(c->shmem, c->n_shmem, sizeof(*c->shmem), shmem_object_cmp);
        for (size_t i = 0; i < c->n_shmem; i++) {
                if (n > 0 && shmem_object_cmp(&c->shmem[n - 1], &c->shmem[i]) == 0)
                        shmem_object_fold(&c->shmem[n - 1], &c->shmem[i]);
                else
                        c->shmem[n++] = c->shmem[i];
        }
        for (size_t i = 0; i < n; i++)
                if (add_u64(&sum, shmem_object_charge(&c->shmem[i], COMMIT_MODE_GUESS)) < 0 ||
                    add_u64(&strict, shmem_object_charge(&c->shmem[i], COMMIT_MODE_NEVER)) < 0)
                        return -EINVAL;
        c->n_shmem = n;
        c->shmem_bytes = sum;
        c->shmem_strict_bytes = strict;
        return 0;
}

static int charge_area(const struct smaps_area *a, void *userdata) {
        return smaps_charge_add_area(userdata, a, NULL);
}

void smaps_charge_parser_init(struct smaps_charge_parser *p) {
        assert(p);
        p->charge = (struct smaps_charge){0};
        smaps_scanner_init(&p->scanner, charge_area, &p->charge);
}

int smaps_charge_parser_feed(struct smaps_charge_parser *p, const char *data, size_t n) {
        return smaps_scanner_feed(&p->scanner, data, n);
}

int smaps_charge_parser_finish(struct smaps_charge_parser *p, struct smaps_charge *ret) {
        int r = smaps_scanner_finish(&p->scanner);

        if (r == 0 && !ret)
                r = -EINVAL;
        if (r == 0)
                r = smaps_charge_finish(&p->charge);
        if (r != 0) {
                smaps_charge_done(&p->charge);
                return r < 0 ? r : -EINVAL;
        }
        *ret = p->charge;
        p->charge = (struct smaps_charge){0};
        return 0;
}

int smaps_parse(const char *buf, struct smaps_charge *ret) {
        struct smaps_charge_parser p;

        if (!buf || !ret)
                return -EINVAL;
        smaps_charge_parser_init(&p);
        (void) smaps_charge_parser_feed(&p, buf, strlen(buf)); /* an error sticks: finish returns it */
        return smaps_charge_parser_finish(&p, ret);
}

static int parser_chunk(const char *data, size_t n, void *userdata) {
        return smaps_charge_parser_feed(userdata, data, n);
}

int smaps_read(const char *path, struct smaps_charge *ret) {
        struct smaps_charge_parser p;
        int r;

        if (!path || !ret)
                return -EINVAL;
        smaps_charge_parser_init(&p);
        r = fileio_read_chunks(path, FILEIO_CHUNK_BYTES, parser_chunk, &p);
        if (r < 0) {
                smaps_charge_done(&p.charge);
                return r;
        }
        return smaps_charge_parser_finish(&p, ret);
}

uint64_t smaps_charge_bytes(const struct smaps_charge *c, enum commit_mode mode) {
        if (!c)
                return 0;
        /* Only strict mode ignores MAP_NORESERVE (mm/mmap.c do_mmap()). */
        if (mode == COMMIT_MODE_NEVER)
                return add_sat(add_sat(c->accountable_bytes, c->shmem_strict_bytes), c->noreserve_bytes);
        return add_sat(c->accountable_bytes, c->shmem_bytes);
}

int smaps_charge_merge(struct smaps_charge *a, const struct smaps_charge *b) {
        struct smaps_charge m = {0};
        size_t i = 0, j = 0, total;
        int r;

        if (!a || !b)
                return -EINVAL;
        if (__builtin_add_overflow(a->accountable_bytes, b->accountable_bytes, &m.accountable_bytes) ||
            __builtin_add_overflow(a->dontcopy_accountable_bytes, b->dontcopy_accountable_bytes,
                                   &m.dontcopy_accountable_bytes) ||
            __builtin_add_overflow(a->noreserve_bytes, b->noreserve_bytes, &m.noreserve_bytes) ||
            __builtin_add_overflow(a->n_shmem, b->n_shmem, &total))
                return -EOVERFLOW;

        if (total > 0) {
                m.shmem = reallocarray(NULL, total, sizeof(*m.shmem));
                if (!m.shmem)
                        return -ENOMEM;
                m.shmem_allocated = total;
        }
        /* Both sides are sorted: a merge walk gives the sorted union, and finish folds the pairs. */
        while (i < a->n_shmem || j < b->n_shmem) {
                if (j == b->n_shmem || (i < a->n_shmem && shmem_object_cmp(&a->shmem[i], &b->shmem[j]) <= 0))
                        m.shmem[m.n_shmem++] = a->shmem[i++];
                else
                        m.shmem[m.n_shmem++] = b->shmem[j++];
        }
        r = smaps_charge_finish(&m);
        if (r < 0) {
                smaps_charge_done(&m);
                return -EOVERFLOW;
        }
        free(a->shmem);
        *a = m;
        return 0;
}

/* ---- smaps: mprotect's charge, the area at an address ---- */

struct mprotect_visit {
        uint64_t lo, hi, plain, noreserve;
};

/* mm/mprotect.c mprotect_fixup(): a private area that gains write is charged unless it already carries
 * VM_ACCOUNT (written before, made read-only, made writable again: charged once) or is hugetlb. A writable
 * MAP_NORESERVE area is already in a strict level's count; a read-only one is what mode 2 would charge. */
static int mprotect_area(const struct smaps_area *a, void *userdata) {
        struct mprotect_visit *v = userdata;
        uint64_t lo = MAX(a->start, v->lo), hi = MIN(a->end, v->hi);

        if (a->start >= v->hi)
                return 1; /* areas come in address order: the range is behind us */
        if (hi <= lo || a->perms[3] != 'p' || a->ac || a->ht)
                return 0;
        if (!a->nr)
                return add_u64(&v->plain, hi - lo);
        return a->perms[1] == 'w' ? 0 : add_u64(&v->noreserve, hi - lo);
}

static int mprotect_charge(const char *buf, const char *path, uint64_t addr, uint64_t len, uint64_t *ret_plain,
                           uint64_t *ret_noreserve) {
        struct mprotect_visit v = {.lo = addr};
        int r;

        if (!ret_plain || !ret_noreserve || __builtin_add_overflow(addr, len, &v.hi))
                return -EINVAL;
        r = scan_any(buf, path, mprotect_area, &v);
        if (r < 0)
                return r;
        *ret_plain = v.plain;
        *ret_noreserve = v.noreserve;
        return 0;
}

int smaps_mprotect_charge(const char *buf, uint64_t addr, uint64_t len, uint64_t *ret_plain, uint64_t *ret_noreserve) {
        return buf ? mprotect_charge(buf, NULL, addr, len, ret_plain, ret_noreserve) : -EINVAL;
}

int smaps_mprotect_charge_read(const char *path, uint64_t addr, uint64_t len, uint64_t *ret_plain,
                               uint64_t *ret_noreserve) {
        return path ? mprotect_charge(NULL, path, addr, len, ret_plain, ret_noreserve) : -EINVAL;
}

struct area_at_visit {
        uint64_t addr;
        struct smaps_area *ret;
};

enum { AREA_FOUND = 1, AREA_PASSED = 2 };

static int area_at(const struct smaps_area *a, void *userdata) {
        struct area_at_visit *v = userdata;

        if (a->start > v->addr)
                return AREA_PASSED;
        if (v->addr >= a->end)
                return 0;
        *v->ret = *a;
        return AREA_FOUND;
}

static int area_at_scan(const char *buf, const char *path, uint64_t addr, struct smaps_area *ret) {
        struct smaps_area a;
        struct area_at_visit v = {addr, &a};
        int r;

        if (!ret)
                return -EINVAL;
        r = scan_any(buf, path, area_at, &v);
        if (r < 0)
                return r;
        if (r != AREA_FOUND)
                return -EFAULT;
        *ret = a;
        return 0;
}

int smaps_area_at(const char *buf, uint64_t addr, struct smaps_area *ret) {
        return buf ? area_at_scan(buf, NULL, addr, ret) : -EINVAL;
}

int smaps_area_at_read(const char *path, uint64_t addr, struct smaps_area *ret) {
        return path ? area_at_scan(NULL, path, addr, ret) : -EINVAL;
}

/* ---- /proc/PID/status ---- */

static int parse_id(struct line v, uint64_t max, uint64_t *ret) {
        uint64_t x;
        int r;

        r = parse_plain_value(v, &x);
        if (r < 0)
                return r;
        if (x > max)
                return -EINVAL;
        *ret = x;
        return 0;
}

int proc_status_parse(const char *buf, struct proc_status *ret) {
        struct proc_status st = {0};
        bool seen_name = false, seen_pid = false, seen_tgid = false, seen_ppid = false, seen_uid = false,
             seen_cap = false, seen_threads = false;
        const char *cursor = buf;
        struct line l;
        uint64_t v;
        int r;

        if (!buf || !ret)
                return -EINVAL;

        while (line_next(&cursor, &l)) {
                struct line key, value;

                if (l.n == 0)
                        continue;
                if (!line_split_key(&l, &key, &value))
                        return -EINVAL;

                if (line_is(&key, "Name")) {
                        /* proc_task_name() escapes only '\n' and '\\' of the comm (seq_escape_str() with
                         * only = "\n\\"), so the name is one line; it is kept as printed. Other control bytes
                         * (a tab, an ESC) pass through raw: they become '?' here, so the name is safe to log
                         * and to print. Kernel threads' full names may exceed 63 bytes and are cut. */
                        if (seen_name)
                                return -EINVAL;
                        seen_name = true;
                        if (value.n > 0 && value.s[0] == '\t') {
                                value.s++;
                                value.n--;
                        }
                        size_t n = MIN(value.n, sizeof(st.name) - 1);
                        for (size_t i = 0; i < n; i++) {
                                unsigned char ch = (unsigned char) value.s[i];
                                st.name[i] = ch < 0x20 || ch == 0x7f ? '?' : (char) ch;
                        }
                        st.name[n] = '\0';
                } else if (line_is(&key, "Pid")) {
                        if (seen_pid || parse_id(value, INT_MAX, &v) < 0 || v == 0)
                                return -EINVAL;
                        st.pid = (pid_t) v;
                        seen_pid = true;
                } else if (line_is(&key, "Tgid")) {
                        if (seen_tgid || parse_id(value, INT_MAX, &v) < 0 || v == 0)
                                return -EINVAL;
                        st.tgid = (pid_t) v;
                        seen_tgid = true;
                } else if (line_is(&key, "PPid")) {
                        if (seen_ppid || parse_id(value, INT_MAX, &v) < 0)
                                return -EINVAL;
                        st.ppid = (pid_t) v;
                        seen_ppid = true;
                } else if (line_is(&key, "Uid")) {
                        /* "Uid:\treal\teffective\tsaved\tfs" */
                        struct line real = token_next(&value), eff = token_next(&value);
                        uint64_t ur, ue;
                        if (seen_uid || parse_id(real, UINT32_MAX, &ur) < 0 || parse_id(eff, UINT32_MAX, &ue) < 0)
                                return -EINVAL;
                        st.uid_real = (uid_t) ur;
                        st.uid_effective = (uid_t) ue;
                        seen_uid = true;
                } else if (line_is(&key, "Threads")) {
                        if (seen_threads || parse_plain_value(value, &st.threads) < 0)
                                return -EINVAL;
                        seen_threads = true;
                } else if (line_is(&key, "VmSize")) {
                        /* task_mem() prints the Vm* lines only when the task has an mm. */
                        if (st.has_mm)
                                return -EINVAL;
                        r = parse_kb_value(value, &st.vm_size_bytes);
                        if (r < 0)
                                return r;
                        st.has_mm = true;
                } else if (line_is(&key, "Seccomp_filters")) {
                        if (parse_plain_value(value, &st.seccomp_filters) < 0)
                                return -EINVAL;
                } else if (line_is(&key, "CapEff")) {
                        if (seen_cap)
                                return -EINVAL;
                        skip_blanks(&value);
                        trim_trailing_blanks(&value);
                        r = parse_u64_base(&value, 16, &st.cap_effective);
                        if (r < 0)
                                return r;
                        seen_cap = true;
                }
        }

        if (!seen_name || !seen_pid || !seen_ppid || !seen_uid || !seen_cap)
                return -EINVAL;
        *ret = st;
        return 0;
}

int proc_stat_parse(const char *buf, struct proc_stat *ret) {
        struct proc_stat st = {0};
        const char *p;
        int field = 2;

        if (!buf || !ret || !(p = strrchr(buf, ')')))
                return -EINVAL;
        for (p++; field < 47;) {
                const char *start;
                while (*p == ' ')
                        p++;
                if (*p == '\0' || *p == '\n')
                        return -EINVAL; /* fewer than 47 fields */
                field++;
                start = p;
                while (*p && *p != ' ' && *p != '\n')
                        p++;
                if (field == 22 || field == 47) {
                        struct line l = {start, (size_t) (p - start)};
                        if (parse_u64_base(&l, 10, field == 22 ? &st.start_time : &st.start_brk) < 0)
                                return -EINVAL;
                }
        }
        *ret = st;
        return 0;
}

int proc_stat_read(const char *path, struct proc_stat *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = fileio_read_full(path, 4096, &buf, NULL);
        if (r < 0)
                return r;
        return proc_stat_parse(buf, ret);
}

int proc_start_time_read(const char *proc_root, pid_t pid, uint64_t *ret) {
        struct proc_stat st;
        char path[PATH_MAX];

        if (pid <= 0 || snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int) pid) >= (int) sizeof(path) ||
            proc_stat_read(path, &st) < 0)
                return -ESRCH;
        *ret = st.start_time;
        return 0;
}

int proc_status_read(const char *path, struct proc_status *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = fileio_read_full(path, FILEIO_MAX_BYTES, &buf, NULL);
        if (r < 0)
                return r;
        return proc_status_parse(buf, ret);
}

/* ---- /proc/sysvipc/shm ---- */

enum sysv_column_type {
        SYSV_INT,    /* key: printed "%10d", may be negative */
        SYSV_ID,     /* shmid: >= 0 */
        SYSV_OCTAL,  /* perms */
        SYSV_U64,    /* sizes, counts, times */
        SYSV_PID,    /* cpid, lpid: 0 .. INT_MAX */
        SYSV_UINT32, /* uid, gid, cuid, cgid */
};

static const struct sysv_column {
        const char *name;
        size_t offset;
        enum sysv_column_type type;
        bool optional;
} sysv_columns[] = {
        {"key", offsetof(struct sysv_segment, key), SYSV_INT, false},
        {"shmid", offsetof(struct sysv_segment, shmid), SYSV_ID, false},
        {"perms", offsetof(struct sysv_segment, perms), SYSV_OCTAL, false},
        {"size", offsetof(struct sysv_segment, size_bytes), SYSV_U64, false},
        {"cpid", offsetof(struct sysv_segment, cpid), SYSV_PID, false},
        {"lpid", offsetof(struct sysv_segment, lpid), SYSV_PID, false},
        {"nattch", offsetof(struct sysv_segment, nattch), SYSV_U64, false},
        {"uid", offsetof(struct sysv_segment, uid), SYSV_UINT32, false},
        {"gid", offsetof(struct sysv_segment, gid), SYSV_UINT32, false},
        {"cuid", offsetof(struct sysv_segment, cuid), SYSV_UINT32, false},
        {"cgid", offsetof(struct sysv_segment, cgid), SYSV_UINT32, false},
        {"atime", offsetof(struct sysv_segment, atime), SYSV_U64, false},
        {"dtime", offsetof(struct sysv_segment, dtime), SYSV_U64, false},
        {"ctime", offsetof(struct sysv_segment, ctime), SYSV_U64, false},
        {"rss", offsetof(struct sysv_segment, rss_bytes), SYSV_U64, true},
        {"swap", offsetof(struct sysv_segment, swap_bytes), SYSV_U64, true},
};

/* Up to this many columns in the header; a newer kernel's extra ones are skipped. */
#define SYSV_MAX_COLUMNS 32

static int sysv_store(const struct sysv_column *c, struct line t, struct sysv_segment *seg) {
        static const uint64_t max[] = {
                [SYSV_INT] = INT_MAX,    [SYSV_ID] = INT_MAX,  [SYSV_OCTAL] = UINT32_MAX,
                [SYSV_U64] = UINT64_MAX, [SYSV_PID] = INT_MAX, [SYSV_UINT32] = UINT32_MAX,
        };
        char *field = (char *) seg + c->offset;
        bool negative = c->type == SYSV_INT && t.n > 0 && t.s[0] == '-';
        uint32_t v32;
        uint64_t v;

        if (negative) {
                t.s++;
                t.n--;
        }
        /* A negative int reaches one further: INT_MIN. */
        if (parse_u64_base(&t, c->type == SYSV_OCTAL ? 8 : 10, &v) < 0 || v > max[c->type] + negative)
                return -EINVAL;
        if (c->type == SYSV_U64) {
                memcpy(field, &v, sizeof(v));
                return 0;
        }
        /* Every other field is 32 bits wide (int, pid_t, uid_t, gid_t, unsigned): two's complement. */
        v32 = (uint32_t) (negative ? -v : v);
        memcpy(field, &v32, sizeof(v32));
        return 0;
}

int sysv_shm_parse(const char *buf, struct sysv_segment **ret, size_t *ret_n) {
        _cleanup_free_ struct sysv_segment *segs = NULL;
        const struct sysv_column *cols[SYSV_MAX_COLUMNS] = {NULL}; /* per header column; NULL: skipped */
        bool seen[ELEMENTSOF(sysv_columns)] = {false};
        size_t n_cols = 0, n = 0, allocated = 0;
        const char *cursor = buf;
        struct line l;

        if (!buf || !ret || !ret_n)
                return -EINVAL;

        /* The header names the columns: find each one we know by name, whatever the order. */
        do
                if (!line_next(&cursor, &l))
                        return -EINVAL;
        while (l.n == 0);
        for (struct line t = token_next(&l); t.n > 0; t = token_next(&l)) {
                if (n_cols == SYSV_MAX_COLUMNS)
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(sysv_columns); i++)
                        if (line_is(&t, sysv_columns[i].name)) {
                                if (seen[i])
                                        return -EINVAL;
                                seen[i] = true;
                                cols[n_cols] = &sysv_columns[i];
                        }
                n_cols++;
        }
        for (size_t i = 0; i < ELEMENTSOF(sysv_columns); i++)
                if (!seen[i] && !sysv_columns[i].optional)
                        return -EINVAL;

        while (line_next(&cursor, &l)) {
                struct sysv_segment seg = {0};
                size_t col = 0;

                if (l.n == 0)
                        continue;
                for (struct line t = token_next(&l); t.n > 0; t = token_next(&l), col++)
                        if (col >= n_cols || (cols[col] && sysv_store(cols[col], t, &seg) < 0))
                                return -EINVAL;
                if (col != n_cols)
                        return -EINVAL;
                if (n == allocated) {
                        size_t want = allocated ? allocated * 2 : 16;
                        struct sysv_segment *bigger = reallocarray(segs, want, sizeof(*bigger));
                        if (!bigger)
                                return -ENOMEM;
                        segs = bigger;
                        allocated = want;
                }
                segs[n++] = seg;
        }
        *ret = TAKE_PTR(segs);
        *ret_n = n;
        return 0;
}

int sysv_shm_read(const char *path, struct sysv_segment **ret, size_t *ret_n) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = fileio_read_full(path, FILEIO_MAX_BYTES, &buf, NULL);
        if (r < 0)
                return r;
        return sysv_shm_parse(buf, ret, ret_n);
}
