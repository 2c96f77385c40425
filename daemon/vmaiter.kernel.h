/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's types vmaiter.bpf.c reads, each with only the fields it reads. preserve_access_index makes every
 * access a CO-RE relocation: libbpf finds the real offsets in the running kernel's BTF when it loads the
 * program, so the build needs no vmlinux.h (no /sys/kernel/btf of the build host) and nothing of its
 * architecture. vm_flags sits in an anonymous union from Linux 6.3; CO-RE finds it there by name. */
#ifndef COMMITD_VMAITER_KERNEL_H
#define COMMITD_VMAITER_KERNEL_H

/* What bpf_helper_defs.h names: the kernel's fixed-size types, as in <asm-generic/int-ll64.h>. */
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct seq_file;
struct task_struct;

struct super_block {
        unsigned int s_dev;
        unsigned long s_magic;
};

struct inode {
        unsigned long i_ino;
        struct super_block *i_sb;
};

struct file {
        struct inode *f_inode;
};

struct vm_area_struct {
        unsigned long vm_start, vm_end, vm_flags, vm_pgoff;
        struct file *vm_file;
};

struct bpf_iter_meta {
        struct seq_file *seq;
};

struct bpf_iter__task_vma {
        struct bpf_iter_meta *meta;
        struct task_struct *task;
        struct vm_area_struct *vma;
};

#pragma clang attribute pop

#endif
