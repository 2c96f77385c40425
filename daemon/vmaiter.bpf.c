/* SPDX-License-Identifier: GPL-2.0 */
/* One record per area of the iterated task's mm, for vmaiter.c: what smaps shows of it but the page counts
 * (no page walk: the cost of an exact measure falls from the kernel writing smaps to a few µs per area). GPL:
 * the kernel's BPF helpers this uses are GPL-only. */
#include "vmaiter.kernel.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct vmaiter_record {
        __u64 start, end, flags, pgoff, inode;
        __u32 dev, magic; /* the file's st_dev (kernel encoding) and its file system's magic; 0 for anonymous */
};

SEC("iter/task_vma")
int vmaiter(struct bpf_iter__task_vma *ctx) {
        struct vm_area_struct *vma = ctx->vma;
        struct vmaiter_record r = {};
        struct file *f;

        if (!vma || !ctx->task)
                return 0;
        r.start = vma->vm_start;
        r.end = vma->vm_end;
        r.flags = vma->vm_flags;
        r.pgoff = vma->vm_pgoff;
        f = vma->vm_file;
        if (f) {
                r.inode = BPF_CORE_READ(f, f_inode, i_ino);
                r.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
                r.magic = (__u32) BPF_CORE_READ(f, f_inode, i_sb, s_magic);
        }
        bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
        return 0;
}
