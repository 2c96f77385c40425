/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroupfs.h"
#include "charge.h"
#include "commitd.h"
#include "log.h"
#include "macro.h"
#include "records.h"
#include "sysv.h"

#define SYSV_SHM_PATH "/proc/sysvipc/shm"

uint64_t sysv_ipc_ns(void) {
        struct stat st;
        return stat("/proc/self/ns/ipc", &st) < 0 ? 0 : st.st_ino;
}

static void claim_free(struct sysv_claim *c) {
        free(c->cgroup);
        free(c);
}

static const struct sysv_segment *segment_of(const struct sysv_claim *c, const struct sysv_segment *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i].shmid == c->shmid && s[i].cpid == c->cpid)
                        return &s[i];
        return NULL;
}

static bool claimed(const struct daemon *d, const struct sysv_segment *s) {
        for (const struct sysv_claim *c = d->sysv_claims; c; c = c->next)
                if (c->shmid == s->shmid && c->cpid == s->cpid)
                        return true;
        return false;
}

int sysv_refresh(struct daemon *d) {
        _cleanup_free_ struct sysv_segment *segs = NULL;
        size_t n = 0;
        int r;

        if (d->sysv_makers == 0 && !d->sysv_claims)
                return 0;
        r = sysv_shm_read(SYSV_SHM_PATH, &segs, &n);
        if (r < 0)
                return r;
        for (struct sysv_claim **pc = &d->sysv_claims; *pc;) {
                struct sysv_claim *c = *pc;
                const struct sysv_segment *s = segment_of(c, segs, n);
                if (s) {
                        c->size_bytes = s->size_bytes;
                        pc = &c->next;
                        continue;
                }
                log_debug("SysV segment %d of pid %d is gone: %s no longer carries it", c->shmid, (int) c->cpid,
                          c->cgroup);
                *pc = c->next;
                claim_free(c);
        }
        for (size_t i = 0; i < n; i++) {
                const struct process *p = records_process(d, segs[i].cpid);
                struct sysv_claim *c;
                if (!p || !p->made_sysv || claimed(d, &segs[i]))
                        continue;
                c = calloc(1, sizeof(*c));
                if (!c || !(c->cgroup = strdup(p->entry->cgroup))) {
                        free(c);
                        return -ENOMEM;
                }
                c->shmid = segs[i].shmid;
                c->cpid = segs[i].cpid;
                c->size_bytes = segs[i].size_bytes;
                c->next = d->sysv_claims;
                d->sysv_claims = c;
                log_debug("SysV segment %d (%" PRIu64 " bytes) made by pid %d: charged to %s until destroyed", c->shmid,
                          c->size_bytes, (int) c->cpid, c->cgroup);
        }
        return 0;
}

int sysv_add_objects(struct daemon *d, const char *cgroup, struct smaps_charge *c) {
        for (const struct sysv_claim *s = d->sysv_claims; s; s = s->next) {
                uint64_t size = charge_page_up(s->size_bytes, d->page_size); /* shmem_acct_size(): whole pages */
                int r;
                if (!streq(s->cgroup, cgroup) && cgroupfs_path_is_below(s->cgroup, cgroup) <= 0)
                        continue;
                /* newseg() names the segment's inode by its id, on the internal shm mount. Whole: strict mode
                 * ignores SHM_NORESERVE, and the flag is not in the table (a lenient level may see more than the
                 * kernel charged for a SHM_NORESERVE segment). */
                r = smaps_charge_add_object(c, &(struct shmem_object){.dev = d->measure.shm_dev,
                                                                      .inode = (uint64_t) s->shmid,
                                                                      .ipc_ns = d->ipc_ns,
                                                                      .kind = SHMEM_SYSV,
                                                                      .accounting = SHMEM_WHOLE,
                                                                      .size_bytes = size,
                                                                      .allocated_bytes = size});
                if (r < 0)
                        return r;
        }
        return 0;
}

void sysv_free(struct daemon *d) {
        while (d->sysv_claims) {
                struct sysv_claim *c = d->sysv_claims;
                d->sysv_claims = c->next;
                claim_free(c);
        }
}
