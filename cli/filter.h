/* SPDX-License-Identifier: MIT */
#pragma once

#include <seccomp.h>

/* commitd's seccomp filter (SPEC 4): SCMP_ACT_NOTIFY on the calls that can add commit, with argument
 * conditions so that nothing else leaves the kernel; clone3 gets ENOSYS; x86_64, x32 and i386 covered.
 * daemon/notify.c judges exactly these calls. Returns 0 and a context to seccomp_load(), or -errno. */
int filter_build(scmp_filter_ctx *ret);

/* Installs the filter on the calling thread with a new listener (*ret_listener) and, where the kernel has it
 * (5.19), SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV. Frees nothing once the filter is in. Returns 0 or -errno. */
int filter_load(scmp_filter_ctx ctx, int *ret_listener);
