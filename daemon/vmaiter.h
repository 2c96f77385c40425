/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "procfs.h"

/* A process's areas from a BPF task_vma iterator (vmaiter.bpf.c) instead of its smaps text: the same areas
 * with the same flags, without the kernel's page walk per area, so an exact measure of 20,000 areas takes
 * milliseconds, not the 50-200 ms of smaps (docs/performance.md). Loaded at setup, while commitd still has
 * CAP_BPF and CAP_PERFMON; attaching it to a pid and reading it need neither afterwards. Where it does not load
 * (no BTF, an older kernel, a filter on bpf()), commitd measures with smaps alone. */
struct vmaiter;

/* Loads the program. Returns 0, or -errno (*ret is NULL): measure with smaps. */
int vmaiter_open(struct vmaiter **ret);
void vmaiter_close(struct vmaiter *v);
/* measure_ctx.areas (measure.h): the areas of process pid's mm in address order, as smaps_area (no name: smaps
 * would name none that matters here); -EOPNOTSUPP, having called fn for none, when the mm maps a shmem or tmpfs
 * file (its object is told by smaps' name), pid is gone or names a thread whose leader exited, or the iterator
 * cannot run: smaps then decides. */
int vmaiter_areas(void *v, pid_t pid, smaps_area_fn fn, void *userdata);
