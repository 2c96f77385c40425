/* SPDX-License-Identifier: MIT */
/* lib/procfs.c's parsers over arbitrary text, each input through all of them: meminfo, smaps (the commit
 * charge, a group's merge, mprotect's charge, the area at an address), /proc/PID/stat, /proc/PID/status,
 * /proc/sysvipc/shm and a sysvctl value. A process that can write its comm or map a file of its choosing shapes
 * what these read. smaps is read as a stream: the same text cut into pieces of any size (chosen from the input
 * itself) must give what the whole buffer gives. */
#include <inttypes.h>

#include "fuzz.h"
#include "macro.h"
#include "procfs.h"

/* The order smaps_charge_finish() promises: by device, SysV segments after the rest, then namespace, inode;
 * each name once. */
static bool strictly_before(const struct shmem_object *x, const struct shmem_object *y) {
        bool xs = x->kind == SHMEM_SYSV, ys = y->kind == SHMEM_SYSV;

        if (x->dev != y->dev)
                return x->dev < y->dev;
        if (xs != ys)
                return ys;
        if (x->ipc_ns != y->ipc_ns)
                return x->ipc_ns < y->ipc_ns;
        return x->inode < y->inode;
}

/* The text fed to the parser in pieces whose sizes come from a generator seeded by the text. */
static int parse_in_pieces(const char *text, size_t len, struct smaps_charge *ret) {
        struct smaps_charge_parser p;
        uint64_t seed = 0x9e3779b97f4a7c15u;

        for (size_t i = 0; i < len && i < 64; i++)
                seed = (seed ^ (unsigned char) text[i]) * 0x100000001b3u;
        smaps_charge_parser_init(&p);
        for (size_t off = 0, n; off < len; off += n) {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                /* Mostly short pieces, now and then one past SMAPS_LINE_MAX. */
                n = MIN(1 + (size_t) (seed % ((seed >> 60) == 0 ? 3 * SMAPS_LINE_MAX : 40)), len - off);
                if (smaps_charge_parser_feed(&p, text + off, n) != 0)
                        break;
        }
        return smaps_charge_parser_finish(&p, ret);
}

static void smaps(const char *text, size_t len) {
        _cleanup_(smaps_charge_done) struct smaps_charge c = {0}, group = {0}, pieces = {0};
        uint64_t start, end, plain, noreserve;
        struct smaps_area a;
        static const uint64_t ranges[][2] = {
                {0, 0}, {0, UINT64_MAX}, {UINT64_MAX - 0xfff, 0x1000}, {0x400000, 0x1000}, {0x7f0000000000, 1u << 30},
        };
        int r = smaps_parse(text, &c);

        fuzz_check(parse_in_pieces(text, len, &pieces) == r);
        if (r < 0)
                return;
        fuzz_check(smaps_charge_equal(&c, &pieces));
        for (size_t i = 1; i < c.n_shmem; i++)
                fuzz_check(strictly_before(&c.shmem[i - 1], &c.shmem[i]));
        fuzz_check(c.shmem_strict_bytes >= c.shmem_bytes);
        fuzz_check(smaps_charge_bytes(&c, COMMIT_MODE_NEVER) >= smaps_charge_bytes(&c, COMMIT_MODE_GUESS));
        /* The group of a process with itself: each shmem object still once. */
        if (smaps_charge_merge(&group, &c) == 0 && smaps_charge_merge(&group, &c) == 0)
                fuzz_check(group.n_shmem == c.n_shmem && group.shmem_bytes == c.shmem_bytes &&
                           group.shmem_strict_bytes == c.shmem_strict_bytes);

        for (size_t i = 0; i < ELEMENTSOF(ranges); i++) {
                (void) smaps_mprotect_charge(text, ranges[i][0], ranges[i][1], &plain, &noreserve);
                if (smaps_area_at(text, ranges[i][0], &a) == 0)
                        fuzz_check(a.start <= ranges[i][0] && ranges[i][0] < a.end);
        }
        /* And a range cut from the first area the input names, wherever that is. */
        if (sscanf(text, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && end > start) {
                (void) smaps_mprotect_charge(text, start + (end - start) / 3, (end - start) / 2, &plain, &noreserve);
                if (smaps_area_at(text, start, &a) == 0)
                        fuzz_check(a.start == start && a.end == end);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_text(data, size);
        _cleanup_free_ struct sysv_segment *segs = NULL;
        struct meminfo m;
        struct proc_stat st;
        struct proc_status s;
        size_t n;
        uint64_t v;

        (void) meminfo_parse(text, &m);
        smaps(text, strlen(text));
        (void) proc_stat_parse(text, &st);
        if (proc_status_parse(text, &s) == 0)
                fuzz_check(memchr(s.name, '\0', sizeof(s.name)));
        if (sysv_shm_parse(text, &segs, &n) == 0)
                for (size_t i = 0; i < n; i++)
                        fuzz_check(segs[i].shmid >= 0 && segs[i].cpid >= 0 && segs[i].lpid >= 0);
        (void) procfs_parse_uint64(text, &v);
        return 0;
}
