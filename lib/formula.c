/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "formula.h"
#include "macro.h"

/* All decisions run in whole pages, as the kernel keeps its counters: sizes in bytes are floored to pages
 * (totalram_pages(), `kbytes >> (PAGE_SHIFT - 10)`), requests and charges rounded up (a mapping's length
 * is page-aligned before it is charged). */

static bool page_size_valid(uint64_t page_size) {
        return page_size >= 512 && (page_size & (page_size - 1)) == 0;
}

static uint64_t pages_down(uint64_t bytes, uint64_t page_size) {
        return bytes / page_size;
}

static uint64_t pages_up(uint64_t bytes, uint64_t page_size) {
        return bytes / page_size + (bytes % page_size != 0);
}

static uint64_t sub_floor0(uint64_t a, uint64_t b) {
        return a > b ? a - b : 0;
}

/* Bytes of a page count, saturating: only used to report a bound, never to decide. */
static uint64_t pages_to_bytes(uint64_t pages, uint64_t page_size) {
        uint64_t r;

        if (__builtin_mul_overflow(pages, page_size, &r))
                return UINT64_MAX;
        return r;
}

uint64_t formula_default_admin_reserve(uint64_t ram_bytes) {
        return MIN(ram_bytes / 32, UINT64_C(8) << 20);
}

uint64_t formula_default_user_reserve(uint64_t ram_bytes) {
        return MIN(ram_bytes / 32, UINT64_C(128) << 20);
}

/* mm/util.c vm_commit_limit(): the kernel-family and the classic-family CommitLimit are the same. */
static int commit_limit_pages(const struct budget *b, uint64_t page_size, uint64_t *ret) {
        uint64_t ram = pages_down(b->ram_bytes, page_size), huge = pages_down(b->hugetlb_bytes, page_size);
        uint64_t allowed;

        if (b->has_limit)
                allowed = pages_down(b->limit_bytes, page_size);
        else {
                if (huge > ram)
                        return -EINVAL;
                if (__builtin_mul_overflow(ram - huge, (uint64_t) b->ratio, &allowed))
                        return -ERANGE;
                allowed /= 100;
        }
        if (__builtin_add_overflow(allowed, pages_down(b->swap_bytes, page_size), &allowed))
                return -ERANGE;
        *ret = allowed;
        return 0;
}

int formula_commit_limit(const struct budget *b, uint64_t page_size, uint64_t *ret_bytes) {
        uint64_t pages;
        int r;

        if (!page_size_valid(page_size))
                return -EINVAL;
        r = commit_limit_pages(b, page_size, &pages);
        if (r < 0)
                return r;
        if (__builtin_mul_overflow(pages, page_size, ret_bytes))
                return -ERANGE;
        return 0;
}

/* The strict bound of today's __vm_enough_memory() (mm/util.c): CommitLimit, minus admin_reserve_kbytes
 * for callers without CAP_SYS_ADMIN, minus min(total_vm / 32, user_reserve_kbytes) of the caller. The
 * kernel holds it in a signed long, so reserves above the limit leave nothing: no request fits. */
static int allowed_kernel_strict(const struct budget *b, const struct formula_caller *c, uint64_t page_size,
                                 uint64_t *ret) {
        uint64_t allowed, keep = 0;
        int r;

        r = commit_limit_pages(b, page_size, &allowed);
        if (r < 0)
                return r;
        if (!c->cap_sys_admin)
                keep = pages_down(b->admin_reserve_bytes, page_size);
        keep += MIN(pages_down(c->total_vm_bytes, page_size) / 32, pages_down(b->user_reserve_bytes, page_size));
        *ret = sub_floor0(allowed, keep);
        return 0;
}

/* The strict bound of the 2.6-era function (the seed): 1/32 of the ratio part kept back from non-admin
 * callers before swap is added, then total_vm / 32 of the caller, uncapped. The kernel of that time used
 * unsigned arithmetic here and could wrap; we stop at zero instead (refuse) rather than admit everything. */
static int allowed_classic_strict(const struct budget *b, const struct formula_caller *c, uint64_t page_size,
                                  uint64_t *ret) {
        uint64_t allowed, swap = pages_down(b->swap_bytes, page_size);
        struct budget no_swap = *b;
        int r;

        no_swap.swap_bytes = 0;
        r = commit_limit_pages(&no_swap, page_size, &allowed);
        if (r < 0)
                return r;
        if (!c->cap_sys_admin)
                allowed -= allowed / 32;
        if (__builtin_add_overflow(allowed, swap, &allowed))
                return -ERANGE;
        *ret = sub_floor0(allowed, pages_down(c->total_vm_bytes, page_size) / 32);
        return 0;
}

/* The staged heuristic of the seed's OVERCOMMIT_GUESS: cheap counters first (file pages, free swap,
 * reclaimable slab), free pages minus the reserve only when those fall short; 1/32 kept from non-admin
 * callers at each stage. Admits when the estimate is strictly above the request. */
static bool classic_guess_admits(const struct heuristic_state *h, const struct formula_caller *c, uint64_t pages,
                                 uint64_t page_size, uint64_t *ret_free) {
        uint64_t free = 0, n, reserve = pages_down(h->totalreserve_bytes, page_size);

        /* Each term is a page count of a real machine; saturate rather than wrap on nonsense input. */
        if (__builtin_add_overflow(pages_down(h->file_bytes, page_size), pages_down(h->swap_free_bytes, page_size),
                                   &free) ||
            __builtin_add_overflow(free, pages_down(h->slab_reclaimable_bytes, page_size), &free))
                free = UINT64_MAX;
        if (!c->cap_sys_admin)
                free -= free / 32;
        *ret_free = free;
        if (free > pages)
                return true;

        n = pages_down(h->free_bytes, page_size);
        if (n <= reserve)
                return false;
        n -= reserve;
        if (!c->cap_sys_admin)
                n -= n / 32;
        if (__builtin_add_overflow(free, n, &free))
                free = UINT64_MAX;
        *ret_free = free;
        return free > pages;
}

int formula_judge(const struct formula_level *level, const struct formula_caller *caller, uint64_t request_bytes,
                  uint64_t page_size, struct formula_result *ret) {
        const struct budget *b = level->budget;
        uint64_t pages, committed, bound = 0, after;
        bool admit;
        int r;

        if (!page_size_valid(page_size) || !b || b->mode >= _COMMIT_MODE_MAX || b->formula >= _COMMIT_FORMULA_MAX)
                return -EINVAL;
        pages = pages_up(request_bytes, page_size);
        committed = pages_up(level->committed_bytes, page_size);

        switch (b->mode) {
        case COMMIT_MODE_ALWAYS:
                admit = true;
                break;
        case COMMIT_MODE_GUESS:
                if (b->formula == COMMIT_FORMULA_CLASSIC) {
                        if (!level->heuristic)
                                return -EINVAL;
                        admit = classic_guess_admits(level->heuristic, caller, pages, page_size, &bound);
                } else {
                        /* Linux >= 4.x: refuse only a request larger than all ram and swap together. */
                        if (__builtin_add_overflow(pages_down(b->ram_bytes, page_size),
                                                   pages_down(b->swap_bytes, page_size), &bound))
                                bound = UINT64_MAX;
                        admit = pages <= bound;
                }
                break;
        case COMMIT_MODE_NEVER:
                r = b->formula == COMMIT_FORMULA_CLASSIC ? allowed_classic_strict(b, caller, page_size, &bound)
                                                         : allowed_kernel_strict(b, caller, page_size, &bound);
                if (r < 0)
                        return r;
                /* vm_acct_memory(pages) runs first, then `Committed_AS < allowed`: strictly below. */
                admit = !__builtin_add_overflow(committed, pages, &after) && after < bound;
                break;
        case _COMMIT_MODE_MAX:
        default:
                return -EINVAL;
        }

        *ret = (struct formula_result){
                .verdict = admit ? FORMULA_ADMIT : FORMULA_REFUSE,
                .level = 0,
                .request_bytes = pages_to_bytes(pages, page_size),
                .committed_bytes = pages_to_bytes(committed, page_size),
                .allowed_bytes = pages_to_bytes(bound, page_size),
        };
        return 0;
}

int formula_judge_nested(const struct formula_level *levels, size_t n_levels, const struct formula_caller *caller,
                         uint64_t request_bytes, uint64_t page_size, struct formula_result *ret) {
        struct formula_result res = {.verdict = FORMULA_ADMIT};
        int r;

        if (n_levels == 0)
                return -EINVAL;
        for (size_t i = 0; i < n_levels; i++) {
                r = formula_judge(&levels[i], caller, request_bytes, page_size, &res);
                if (r < 0)
                        return r;
                res.level = i;
                if (res.verdict == FORMULA_REFUSE)
                        break;
        }
        *ret = res;
        return 0;
}

static const char *const mode_names[_COMMIT_MODE_MAX] = {
        [COMMIT_MODE_GUESS] = "heuristic",
        [COMMIT_MODE_ALWAYS] = "always",
        [COMMIT_MODE_NEVER] = "strict",
};

int commit_mode_from_string(const char *s) {
        static const struct {
                const char *name;
                enum commit_mode mode;
        } table[] = {
                {"0", COMMIT_MODE_GUESS},      {"heuristic", COMMIT_MODE_GUESS}, {"guess", COMMIT_MODE_GUESS},
                {"1", COMMIT_MODE_ALWAYS},     {"always", COMMIT_MODE_ALWAYS},   {"2", COMMIT_MODE_NEVER},
                {"strict", COMMIT_MODE_NEVER}, {"never", COMMIT_MODE_NEVER},
        };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(s, table[i].name))
                        return table[i].mode;
        return -EINVAL;
}

const char *commit_mode_to_string(enum commit_mode m) {
        return (unsigned) m < _COMMIT_MODE_MAX ? mode_names[m] : NULL;
}

int commit_formula_from_string(const char *s) {
        if (s && streq(s, "kernel"))
                return COMMIT_FORMULA_KERNEL;
        if (s && streq(s, "classic"))
                return COMMIT_FORMULA_CLASSIC;
        return -EINVAL;
}

const char *commit_formula_to_string(enum commit_formula f) {
        switch (f) {
        case COMMIT_FORMULA_KERNEL:
                return "kernel";
        case COMMIT_FORMULA_CLASSIC:
                return "classic";
        case _COMMIT_FORMULA_MAX:
        default:
                return NULL;
        }
}
