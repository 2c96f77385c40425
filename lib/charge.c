/* SPDX-License-Identifier: MIT */
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "charge.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4 /* Linux 5.7 */
#endif

uint64_t charge_page_up(uint64_t v, uint64_t page) {
        return v > UINT64_MAX - (page - 1) ? UINT64_MAX & ~(page - 1) : (v + page - 1) & ~(page - 1);
}

/* The size a mapping call reserves: MAP_NORESERVE makes it a strict level's only. */
static void reserve(struct call_charge *c, uint64_t bytes, bool noreserve) {
        *(noreserve ? &c->noreserve : &c->plain) = bytes;
}

/* mremap(old_addr, old_len, new_len, flags, new_addr): growth charges the difference; MREMAP_DONTUNMAP keeps
 * the old area accounted and charges the new one whole (the kernel insists old_len == new_len there). */
static uint64_t mremap_growth(const uint64_t a[6], uint64_t page) {
        uint64_t old_len = charge_page_up(a[1], page), new_len = charge_page_up(a[2], page);

        if (a[3] & MREMAP_DONTUNMAP)
                return new_len;
        return new_len > old_len ? new_len - old_len : 0;
}

void charge_of_call(enum call_kind kind, const uint64_t a[6], const struct charge_caller *caller, uint64_t page,
                    struct call_charge *c) {
        *c = (struct call_charge){0};
        switch (kind) {
        case CALL_MMAP: {
                uint64_t len = charge_page_up(a[1], page), flags = a[3];
                if (flags & MAP_HUGETLB) /* hugetlbfs is reserved from its own pool, not committed */
                        break;
                if ((flags & MAP_SHARED) && (flags & MAP_ANONYMOUS)) {
                        /* shmem_zero_setup(): the object is charged at full size, once. */
                        reserve(c, len, flags & MAP_NORESERVE);
                        c->grows_vm = true;
                } else if ((flags & (MAP_SHARED | MAP_PRIVATE)) == MAP_PRIVATE && (a[2] & PROT_WRITE)) {
                        reserve(c, len, flags & MAP_NORESERVE); /* accountable_mapping() */
                        c->copied_by_fork = c->grows_vm = true;
                }
                break;
        }
        case CALL_BRK: {
                uint64_t want = charge_page_up(a[0], page);
                if (a[0] != 0 && want > caller->heap_end) {
                        c->plain = want - caller->heap_end; /* do_brk_flags(): the new pages, VM_ACCOUNT */
                        c->copied_by_fork = c->grows_vm = true;
                }
                break;
        }
        case CALL_MREMAP:
                /* Assumes an accountable area; charge_mremap_exact() knows better, from smaps. */
                c->plain = mremap_growth(a, page);
                c->copied_by_fork = c->grows_vm = c->plain > 0;
                break;
        case CALL_MPROTECT:
                /* mprotect_fixup() charges a private area that becomes writable and was not accountable; without
                 * reading /proc the area's flags are unknown, so the whole range is charged, and smaps settles it
                 * before a refusal (smaps_mprotect_charge()). */
                c->plain = charge_page_up(a[1], page);
                c->copied_by_fork = true;
                break;
        case CALL_FORK:
        case CALL_CLONE: /* the filter only notifies clone() without CLONE_VM: dup_mmap() */
                c->plain = caller->fork_bytes;
                c->noreserve = caller->fork_noreserve_bytes;
                break;
        case CALL_SHMGET:
        case CALL_IPC: {
                /* shmget(key, size, flags), or ipc(SHMGET, key, size, flags) on i386 */
                const uint64_t *s = kind == CALL_IPC ? a + 1 : a;
                if (!calls_is_shmget(kind, a))
                        break;
                if ((key_t) s[0] != IPC_PRIVATE && !(s[2] & IPC_CREAT))
                        break; /* attaches an existing segment: nothing new */
                if (s[2] & SHM_HUGETLB)
                        break;
                reserve(c, charge_page_up(s[1], page), s[2] & SHM_NORESERVE); /* newseg() */
                break;
        }
        case CALL_NONE:
        case CALL_OLD_MMAP:
        case CALL_CLONE3:
        case CALL_DOFORK:
        case CALL_MEMFD:
        case _CALL_KIND_MAX:
        default:
                break;
        }
}

void charge_mremap_exact(const uint64_t a[6], const struct charge_area *area, uint64_t page, struct call_charge *c) {
        uint64_t growth = mremap_growth(a, page);

        *c = (struct call_charge){0};
        if (!area->found || growth == 0)
                return; /* no area at old_addr: the kernel fails it (EFAULT) */
        if (area->accountable)
                c->plain = growth;
        else if (area->private_ && area->writable && area->noreserve)
                c->noreserve = growth;
        else
                return;
        c->copied_by_fork = c->grows_vm = true;
}
