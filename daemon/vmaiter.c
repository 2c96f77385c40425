/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "macro.h"
#include "vmaiter.h"
#include "vmaiter.skel.h"

/* vm_flags bits, as show_smap_vma_flags() prints them (include/linux/mm.h) */
#define VM_READ      0x00000001ull
#define VM_WRITE     0x00000002ull
#define VM_EXEC      0x00000004ull
#define VM_MAYSHARE  0x00000080ull
#define VM_DONTCOPY  0x00020000ull
#define VM_ACCOUNT   0x00100000ull
#define VM_NORESERVE 0x00200000ull
#define VM_HUGETLB   0x00400000ull
#define TMPFS_MAGIC  0x01021994u /* shmem: tmpfs, /dev/shm, memfd, shared anonymous and SysV objects */

struct vmaiter_record {
        uint64_t start, end, flags, pgoff, inode;
        uint32_t dev, magic;
};

struct vmaiter {
        struct vmaiter_bpf *skel;
        uint64_t page_size;
};

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap) {
        (void) level, (void) fmt, (void) ap;
        return 0;
}

int vmaiter_open(struct vmaiter **ret) {
        struct vmaiter *v = calloc(1, sizeof(*v));
        int r;

        *ret = NULL;
        if (!v)
                return -ENOMEM;
        libbpf_set_print(silent); /* why it does not load is said once by the caller */
        v->skel = vmaiter_bpf__open_and_load();
        if (!v->skel) {
                r = -errno ?: -EOPNOTSUPP;
                free(v);
                return r;
        }
        v->page_size = (uint64_t) sysconf(_SC_PAGESIZE);
        *ret = v;
        return 0;
}

void vmaiter_close(struct vmaiter *v) {
        if (!v)
                return;
        vmaiter_bpf__destroy(v->skel);
        free(v);
}

/* At most this many records: more than the kernel lets one mm map (vm.max_map_count, 65530 by default) many
 * times over. An iterator that gave more (a tid target made this kernel's task_vma iterator go round forever:
 * test-vmaiter's first run grew to 24 GB) is not believed: smaps instead. */
#define VMAITER_MAX_RECORDS (1u << 21)

/* All records of process pid's mm, read whole before any is used (the caller must not see half a process).
 * pid is a thread group's id: the iterator walks its threads and gives each mm once. */
static int read_records(struct vmaiter *v, pid_t pid, struct vmaiter_record **ret, size_t *ret_n) {
        LIBBPF_OPTS(bpf_iter_attach_opts, opts);
        union bpf_iter_link_info info = {.task.pid = (uint32_t) pid};
        _cleanup_free_ struct vmaiter_record *recs = NULL;
        size_t n = 0, allocated = 0;
        struct bpf_link *link;
        int fd, r = 0;

        opts.link_info = &info;
        opts.link_info_len = sizeof(info);
        link = bpf_program__attach_iter(v->skel->progs.vmaiter, &opts);
        if (!link)
                return -EOPNOTSUPP; /* gone, or a thread's id (its leader exited): smaps tells which */
        fd = bpf_iter_create(bpf_link__fd(link));
        if (fd < 0) {
                bpf_link__destroy(link);
                return -EOPNOTSUPP;
        }
        for (;;) {
                ssize_t k;
                if (n >= VMAITER_MAX_RECORDS) {
                        r = -EOPNOTSUPP;
                        break;
                }
                if (n == allocated) {
                        struct vmaiter_record *more =
                                reallocarray(recs, allocated ? allocated * 2 : 1024, sizeof(*more));
                        if (!more) {
                                r = -ENOMEM;
                                break;
                        }
                        recs = more;
                        allocated = allocated ? allocated * 2 : 1024;
                }
                k = read(fd, recs + n, (allocated - n) * sizeof(*recs));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -EOPNOTSUPP; /* the reader's own failure: smaps can still tell */
                        break;
                }
                if (k == 0)
                        break;
                if ((size_t) k % sizeof(*recs) != 0) {
                        r = -EOPNOTSUPP;
                        break;
                }
                n += (size_t) k / sizeof(*recs);
        }
        close(fd);
        bpf_link__destroy(link);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(recs);
        *ret_n = n;
        return 0;
}

int vmaiter_areas(void *data, pid_t pid, smaps_area_fn fn, void *userdata) {
        struct vmaiter *v = data;
        _cleanup_free_ struct vmaiter_record *recs = NULL;
        size_t n = 0;
        int r;

        if (!v)
                return -EOPNOTSUPP;
        r = read_records(v, pid, &recs, &n);
        if (r < 0)
                return r;
        if (n == 0)
                return -EOPNOTSUPP; /* no mm, or gone meanwhile: smaps tells which */
        for (size_t i = 0; i < n; i++)
                if (recs[i].magic == TMPFS_MAGIC)
                        return -EOPNOTSUPP; /* a shmem object: smaps names its kind */
        for (size_t i = 0; i < n; i++) {
                const struct vmaiter_record *x = &recs[i];
                struct smaps_area a = {
                        .start = x->start,
                        .end = x->end,
                        .offset = x->pgoff * v->page_size,
                        /* The kernel's dev_t: major in the top 12 bits, minor in the low 20 (MINORBITS). */
                        .dev = x->inode ? makedev(x->dev >> 20, x->dev & 0xfffff) : 0,
                        .inode = x->inode,
                        .perms = {x->flags & VM_READ ? 'r' : '-', x->flags & VM_WRITE ? 'w' : '-',
                                  x->flags & VM_EXEC ? 'x' : '-', x->flags & VM_MAYSHARE ? 's' : 'p'},
                        .name = SMAPS_NAME_OTHER,
                        .size = x->end - x->start,
                        .ac = x->flags & VM_ACCOUNT,
                        .dc = x->flags & VM_DONTCOPY,
                        .nr = x->flags & VM_NORESERVE,
                        .ht = x->flags & VM_HUGETLB,
                };
                r = fn(&a, userdata);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return 0;
}
