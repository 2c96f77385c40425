/* SPDX-License-Identifier: MIT */
/* lib/procfs.c's parsers over arbitrary text, each input through all of them: meminfo, smaps (the commit
 * charge, a group's merge, mprotect's charge), /proc/PID/stat, /proc/PID/status and a sysctl value. A
 * process that can write its comm or map a file of its choosing shapes what these read. */
#include <inttypes.h>

#include "fuzz.h"
#include "macro.h"
#include "procfs.h"

static void smaps(const char *text) {
        _cleanup_(smaps_charge_done) struct smaps_charge c = {0}, group = {0};
        uint64_t start, end, plain, noreserve;
        static const uint64_t ranges[][2] = {
                {0, 0}, {0, UINT64_MAX}, {UINT64_MAX - 0xfff, 0x1000}, {0x400000, 0x1000}, {0x7f0000000000, 1u << 30},
        };

        if (smaps_parse(text, &c) < 0)
                return;
        for (size_t i = 1; i < c.n_shmem; i++)
                fuzz_check(c.shmem[i - 1].dev < c.shmem[i].dev ||
                           (c.shmem[i - 1].dev == c.shmem[i].dev && c.shmem[i - 1].inode < c.shmem[i].inode));
        (void) smaps_charge_bytes(&c, COMMIT_MODE_NEVER);
        (void) smaps_charge_bytes(&c, COMMIT_MODE_GUESS);
        /* The group of a process with itself: each shmem object still once. */
        if (smaps_charge_merge(&group, &c) == 0 && smaps_charge_merge(&group, &c) == 0)
                fuzz_check(group.n_shmem == c.n_shmem && group.shmem_bytes == c.shmem_bytes);

        for (size_t i = 0; i < ELEMENTSOF(ranges); i++)
                (void) smaps_mprotect_charge(text, ranges[i][0], ranges[i][1], &plain, &noreserve);
        /* And a range cut from the first area the input names, wherever that is. */
        if (sscanf(text, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && end > start)
                (void) smaps_mprotect_charge(text, start + (end - start) / 3, (end - start) / 2, &plain, &noreserve);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_text(data, size);
        struct meminfo m;
        struct proc_stat st;
        struct proc_status s;
        uint64_t v;

        (void) meminfo_parse(text, &m);
        smaps(text);
        (void) proc_stat_parse(text, &st);
        if (proc_status_parse(text, &s) == 0)
                fuzz_check(memchr(s.name, '\0', sizeof(s.name)));
        (void) procfs_parse_uint64(text, &v);
        return 0;
}
