/* SPDX-License-Identifier: MIT */
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

/* ---- /proc/PID/smaps ---- */

void smaps_charge_done(struct smaps_charge *c) {
        if (!c)
                return;
        free(c->shmem);
        *c = (struct smaps_charge){0};
}

static int shmem_object_cmp(const void *a, const void *b) {
        const struct shmem_object *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->inode != y->inode)
                return x->inode < y->inode ? -1 : 1;
        return 0;
}

/* The area being read: its header fields, and what its Size: and VmFlags: lines said. */
struct smaps_area {
        char perms[4];
        uint64_t start, end;
        uint64_t dev, inode;
        bool shmem_name; /* a shared anonymous mapping or a SysV segment, by the name show_map_vma() prints */
        bool has_size, has_flags;
        uint64_t size;
        bool ac, dc, nr, ht;
};

/* "start-end perms offset major:minor inode [name]", as show_map_vma() prints it. */
static int smaps_parse_header(struct line l, struct smaps_area *ret) {
        struct smaps_area a = {0};
        struct line range, perms, offset, dev, inode, name;
        struct line start, end, major, minor;
        const char *sep;
        uint64_t v_start, v_end, v_off, v_major, v_minor;
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

        if (parse_u64_base(&start, 16, &v_start) < 0 || parse_u64_base(&end, 16, &v_end) < 0 || v_end < v_start)
                return -EINVAL;
        if (parse_u64_base(&offset, 16, &v_off) < 0)
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
        a.start = v_start;
        a.end = v_end;
        a.dev = makedev((unsigned) v_major, (unsigned) v_minor);

        /* Shared anonymous memory is a shmem file made by shmem_zero_setup(), which smaps names
         * "/dev/zero (deleted)" (Linux 6.18 here); kernels that let such memory be named print
         * "[anon_shmem]" or "[anon_shmem:NAME]". SysV segments are shmem files named "SYSV%08x" by newseg(),
         * and their inode is the shm id. Both live on the internal shm mount, so (dev, inode) is unique. */
        a.shmem_name = line_is(&name, "/dev/zero (deleted)") || starts_with(&name, "/SYSV") ||
                       (starts_with(&name, "[anon_shmem") && name.s[name.n - 1] == ']');
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

static int add_u64(uint64_t *sum, uint64_t v) {
        return __builtin_add_overflow(*sum, v, sum) ? -EINVAL : 0;
}

struct smaps_builder {
        struct smaps_charge c;
        size_t allocated;
        /* smaps_mprotect_charge(): only the range [lo, hi) is looked at, by mprotect's rule */
        bool mprotect;
        uint64_t lo, hi, plain, noreserve;
};

/* mm/mprotect.c mprotect_fixup(): a private area that gains write is charged unless it already carries
 * VM_ACCOUNT (written before, made read-only, made writable again: charged once) or is hugetlb. A writable
 * MAP_NORESERVE area is already in a strict level's count; a read-only one is what mode 2 would charge. */
static int mprotect_area(struct smaps_builder *b, const struct smaps_area *a) {
        uint64_t lo = MAX(a->start, b->lo), hi = MIN(a->end, b->hi);

        if (hi <= lo || a->perms[3] != 'p' || a->ac || a->ht)
                return 0;
        if (!a->nr)
                return add_u64(&b->plain, hi - lo);
        return a->perms[1] == 'w' ? 0 : add_u64(&b->noreserve, hi - lo);
}

/* Files the finished area under the rules of SPEC 3.1. */
static int smaps_area_finish(struct smaps_builder *b, const struct smaps_area *a) {
        if (!a->has_size || !a->has_flags)
                return -EINVAL;
        if (b->mprotect)
                return mprotect_area(b, a);

        if (a->ac) {
                /* accountable_mapping() set VM_ACCOUNT: the kernel charged it at mmap/mprotect/brk time. */
                if (add_u64(&b->c.accountable_bytes, a->size) < 0)
                        return -EINVAL;
                if (a->dc && add_u64(&b->c.dontcopy_accountable_bytes, a->size) < 0)
                        return -EINVAL;
                return 0;
        }
        if (a->nr && a->perms[3] == 'p' && a->perms[1] == 'w' && !a->ht) {
                /* MAP_NORESERVE honoured because the host is not in mode 2: mode 2 would have charged it. */
                return add_u64(&b->c.noreserve_bytes, a->size) < 0 ? -EINVAL : 0;
        }
        if (a->perms[3] == 's' && a->shmem_name && !a->nr && !a->ht) {
                /* shmem_acct_size() charged the whole object when it was created, once. A SysV segment made
                 * with SHM_NORESERVE cannot be told apart here (shmat() maps it without VM_NORESERVE) and
                 * is counted: an overestimate, never an underestimate. */
                if (b->c.n_shmem == b->allocated) {
                        size_t want = b->allocated ? b->allocated * 2 : 16;
                        struct shmem_object *bigger = reallocarray(b->c.shmem, want, sizeof(*bigger));
                        if (!bigger)
                                return -ENOMEM;
                        b->c.shmem = bigger;
                        b->allocated = want;
                }
                b->c.shmem[b->c.n_shmem++] = (struct shmem_object){a->dev, a->inode, a->size};
        }
        return 0;
}

/* Sorts the objects and folds repeated (dev, inode) into one, keeping the largest mapping of it. */
static int shmem_normalize(struct smaps_charge *c) {
        size_t n = 0;

        if (c->n_shmem > 1)
                qsort(c->shmem, c->n_shmem, sizeof(*c->shmem), shmem_object_cmp);
        for (size_t i = 0; i < c->n_shmem; i++) {
                if (n > 0 && shmem_object_cmp(&c->shmem[n - 1], &c->shmem[i]) == 0)
                        c->shmem[n - 1].bytes = MAX(c->shmem[n - 1].bytes, c->shmem[i].bytes);
                else
                        c->shmem[n++] = c->shmem[i];
        }
        c->n_shmem = n;
        c->shmem_bytes = 0;
        for (size_t i = 0; i < n; i++)
                if (add_u64(&c->shmem_bytes, c->shmem[i].bytes) < 0)
                        return -EINVAL;
        return 0;
}

static bool smaps_line_is_header(const struct line *l) {
        /* Addresses are printed in lower-case hex; field names start with a capital letter. */
        return l->n > 0 && ((l->s[0] >= '0' && l->s[0] <= '9') || (l->s[0] >= 'a' && l->s[0] <= 'f'));
}

static int smaps_parse_into(const char *buf, struct smaps_builder *b) {
        struct smaps_area a = {0};
        bool in_area = false;
        const char *cursor = buf;
        struct line l;
        int r;

        while (line_next(&cursor, &l)) {
                struct line key, value;

                if (l.n == 0)
                        continue;
                if (smaps_line_is_header(&l)) {
                        if (in_area) {
                                r = smaps_area_finish(b, &a);
                                if (r < 0)
                                        return r;
                        }
                        r = smaps_parse_header(l, &a);
                        if (r < 0)
                                return r;
                        in_area = true;
                        continue;
                }
                if (!in_area || !line_split_key(&l, &key, &value))
                        return -EINVAL;
                if (line_is(&key, "Size")) {
                        if (a.has_size)
                                return -EINVAL;
                        r = parse_kb_value(value, &a.size);
                        if (r < 0)
                                return r;
                        a.has_size = true;
                } else if (line_is(&key, "VmFlags")) {
                        if (a.has_flags)
                                return -EINVAL;
                        r = smaps_parse_flags(value, &a);
                        if (r < 0)
                                return r;
                        a.has_flags = true;
                }
        }
        if (in_area) {
                r = smaps_area_finish(b, &a);
                if (r < 0)
                        return r;
        }
        return shmem_normalize(&b->c);
}

int smaps_parse(const char *buf, struct smaps_charge *ret) {
        struct smaps_builder b = {0};
        int r;

        if (!buf || !ret)
                return -EINVAL;
        /* A kernel thread has no mm: its smaps is empty, and it charges nothing. */
        r = smaps_parse_into(buf, &b);
        if (r < 0) {
                smaps_charge_done(&b.c);
                return r;
        }
        *ret = b.c;
        return 0;
}

int smaps_mprotect_charge(const char *buf, uint64_t addr, uint64_t len, uint64_t *ret_plain, uint64_t *ret_noreserve) {
        struct smaps_builder b = {.mprotect = true, .lo = addr};
        int r;

        if (!buf || __builtin_add_overflow(addr, len, &b.hi))
                return -EINVAL;
        r = smaps_parse_into(buf, &b);
        smaps_charge_done(&b.c);
        if (r < 0)
                return r;
        *ret_plain = b.plain;
        *ret_noreserve = b.noreserve;
        return 0;
}

int smaps_read(const char *path, struct smaps_charge *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = fileio_read_full(path, FILEIO_MAX_BYTES, &buf, NULL);
        if (r < 0)
                return r;
        return smaps_parse(buf, ret);
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
        uint64_t s;
        return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

uint64_t smaps_charge_bytes(const struct smaps_charge *c, enum commit_mode mode) {
        uint64_t sum;

        if (!c)
                return 0;
        sum = add_sat(c->accountable_bytes, c->shmem_bytes);
        /* Only strict mode ignores MAP_NORESERVE (mm/mmap.c do_mmap()). */
        if (mode == COMMIT_MODE_NEVER)
                sum = add_sat(sum, c->noreserve_bytes);
        return sum;
}

int smaps_charge_merge(struct smaps_charge *a, const struct smaps_charge *b) {
        struct smaps_charge m = {0};
        size_t i = 0, j = 0, n = 0, total;

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
        }
        /* Both sides are sorted by (dev, inode): a merge walk gives the sorted union. */
        while (i < a->n_shmem || j < b->n_shmem) {
                int c;
                if (i == a->n_shmem)
                        c = 1;
                else if (j == b->n_shmem)
                        c = -1;
                else
                        c = shmem_object_cmp(&a->shmem[i], &b->shmem[j]);
                if (c < 0)
                        m.shmem[n] = a->shmem[i++];
                else if (c > 0)
                        m.shmem[n] = b->shmem[j++];
                else {
                        m.shmem[n] = a->shmem[i++];
                        m.shmem[n].bytes = MAX(m.shmem[n].bytes, b->shmem[j].bytes);
                        j++;
                }
                if (__builtin_add_overflow(m.shmem_bytes, m.shmem[n].bytes, &m.shmem_bytes)) {
                        free(m.shmem);
                        return -EOVERFLOW;
                }
                n++;
        }
        m.n_shmem = n;
        if (n == 0) {
                free(m.shmem);
                m.shmem = NULL;
        }

        free(a->shmem);
        *a = m;
        return 0;
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
             seen_cap = false;
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
                } else if (line_is(&key, "VmSize")) {
                        /* task_mem() prints the Vm* lines only when the task has an mm. */
                        if (st.has_mm)
                                return -EINVAL;
                        r = parse_kb_value(value, &st.vm_size_bytes);
                        if (r < 0)
                                return r;
                        st.has_mm = true;
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

int proc_status_read(const char *path, struct proc_status *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = fileio_read_full(path, FILEIO_MAX_BYTES, &buf, NULL);
        if (r < 0)
                return r;
        return proc_status_parse(buf, ret);
}
