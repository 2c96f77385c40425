/* SPDX-License-Identifier: MIT */
/* lib/cgroupfs.c's parsers over arbitrary text, each input through all of them: limits, memory.stat,
 * cgroup.procs, mountinfo, /proc/PID/cgroup, and the cgroup path users write (policies, commitctl), whose
 * canonical form must be a fixed point. A container's mount namespace and cgroup names shape these. */
#include <errno.h>

#include "cgroupfs.h"
#include "fuzz.h"
#include "macro.h"

static void path(const char *text) {
        _cleanup_free_ char *canonical = NULL, *again = NULL;

        if (cgroupfs_path_normalize(text, &canonical) < 0)
                return;
        fuzz_check(canonical[0] == '/');
        fuzz_check(cgroupfs_path_normalize(canonical, &again) == 0 && streq(again, canonical));
        fuzz_check(cgroupfs_path_is_below(canonical, canonical) > 0);
        fuzz_check(cgroupfs_path_is_below(canonical, "/") > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_text(data, size);
        _cleanup_(cgroup_mounts_done) struct cgroup_mounts mounts = {0};
        _cleanup_(proc_cgroup_done) struct proc_cgroup pc = {0};
        _cleanup_free_ pid_t *pids = NULL;
        struct memory_stat ms;
        uint64_t bytes;
        size_t n;

        (void) cgroupfs_parse_limit(text, &bytes);
        (void) cgroupfs_parse_memory_stat(text, &ms);
        if (cgroupfs_parse_procs(text, &pids, &n) == 0)
                for (size_t i = 0; i < n; i++)
                        fuzz_check(pids[i] > 0);
        (void) cgroupfs_parse_mountinfo(text, &mounts);
        (void) cgroupfs_parse_proc_cgroup(text, &pc);
        path(text);
        return 0;
}
