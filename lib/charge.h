/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "calls.h"

/* The commit charge of one intercepted call (SPEC 3.1), from its scalar arguments and what commitd knows of
 * the calling process: a pure function of its inputs, as the kernel's own accounting is of the mm. Sizes are
 * rounded to whole pages as the kernel rounds them. */

/* What the charge of some calls depends on, gathered by the daemon before it asks. */
struct charge_caller {
        uint64_t fork_bytes;           /* what dup_mmap() charges: VM_ACCOUNT areas not VM_DONTCOPY */
        uint64_t fork_noreserve_bytes; /* private writable MAP_NORESERVE areas: a strict level charges their copy */
        uint64_t heap_end;             /* CALL_BRK: PAGE_ALIGN(mm->brk) now, the end of the [heap] area */
};

struct call_charge {
        uint64_t plain;      /* charged in every mode */
        uint64_t noreserve;  /* charged only by strict levels (MAP_NORESERVE, SHM_NORESERVE: mode 2 ignores them) */
        bool copied_by_fork; /* a private accountable area: the next fork copies it */
        bool grows_vm;       /* the caller's total_vm grows by plain + noreserve */
};

/* The charge of kind called with args (seccomp_data's, as the ABI passed them: i386 ipc's shmget arguments
 * start at args[1]). Calls that charge nothing (CALL_DOFORK, CALL_MEMFD, brk(0), shrinking) give zeros. */
void charge_of_call(enum call_kind kind, const uint64_t args[6], const struct charge_caller *caller, uint64_t page_size,
                    struct call_charge *ret);

/* The area a call acts on, as smaps shows it (for the exact charge before a refusal). */
struct charge_area {
        bool found;       /* an area contains the address */
        bool accountable; /* VmFlags "ac" */
        bool private_;    /* perms "p" */
        bool writable;    /* perms "w" */
        bool noreserve;   /* VmFlags "nr" */
};

/* mremap's exact charge (mm/mremap.c vma_to_resize(), move_vma()): only a VM_ACCOUNT area is charged; a private
 * writable MAP_NORESERVE one would have been in mode 2, so its charge is a strict level's only. Replaces what
 * charge_of_call() assumed (that the area was accountable). */
void charge_mremap_exact(const uint64_t args[6], const struct charge_area *area, uint64_t page_size,
                         struct call_charge *ret);

/* PAGE_ALIGN() that saturates instead of wrapping. */
uint64_t charge_page_up(uint64_t v, uint64_t page_size);
