/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "diagnosis.h"
#include "macro.h"
#include "units.h"

/* The largest request the formula admits: strict mode is a threshold, so the answer is one page under the
 * bound left after the current commit (`Committed_AS + pages < allowed`). */
static uint64_t largest_admitted(const struct diagnosis *d, bool cap_sys_admin, uint64_t page_size) {
        struct formula_level level = {.budget = &d->budget, .committed_bytes = d->committed_bytes};
        struct formula_caller caller = {.cap_sys_admin = cap_sys_admin};
        struct formula_result res;

        if (d->budget.mode == COMMIT_MODE_ALWAYS)
                return UINT64_MAX;
        /* Probe with one page to learn the bound and the committed figure in whole pages. */
        if (formula_judge(&level, &caller, page_size, page_size, &res) < 0)
                return 0;
        if (d->budget.mode == COMMIT_MODE_GUESS)
                return res.allowed_bytes;
        if (res.allowed_bytes <= res.committed_bytes + page_size)
                return 0;
        return res.allowed_bytes - res.committed_bytes - page_size;
}

/* CommitLimit and the headrooms of d's budget, into *ret. */
static int diagnosis_finish(struct diagnosis *d, uint64_t page_size, struct diagnosis *ret) {
        int r;

        r = formula_commit_limit(&d->budget, page_size, &d->commit_limit_bytes);
        if (r < 0)
                return r;
        d->headroom_bytes = largest_admitted(d, false, page_size);
        d->headroom_admin_bytes = largest_admitted(d, true, page_size);
        *ret = *d;
        return 0;
}

int diagnosis_compute(const struct meminfo *mi, const struct overcommit *oc, uint64_t page_size,
                      struct diagnosis *ret) {
        struct diagnosis d = {
                .budget =
                        {
                                .mode = oc->mode,
                                .formula = COMMIT_FORMULA_KERNEL,
                                .ram_bytes = mi->mem_total,
                                .hugetlb_bytes = mi->hugetlb,
                                .swap_bytes = mi->swap_total,
                                .ratio = oc->ratio,
                                .has_limit = oc->kbytes_bytes > 0,
                                .limit_bytes = oc->kbytes_bytes,
                                .admin_reserve_bytes = oc->admin_reserve_bytes,
                                .user_reserve_bytes = oc->user_reserve_bytes,
                        },
                .committed_bytes = mi->committed_as,
        };

        return diagnosis_finish(&d, page_size, ret);
}

int diagnosis_compute_view(const struct meminfo *mi, uint64_t page_size, struct diagnosis *ret) {
        struct diagnosis d = {
                .budget =
                        {
                                .mode = COMMIT_MODE_NEVER,
                                .formula = COMMIT_FORMULA_KERNEL,
                                .ram_bytes = mi->mem_total,
                                .has_limit = true,
                                .limit_bytes = mi->commit_limit,
                        },
                .committed_bytes = mi->committed_as,
        };

        return diagnosis_finish(&d, page_size, ret);
}

static int parse_uint32(const char *s, uint32_t *ret) {
        uint64_t v = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*s - '0');
                if (v > UINT32_MAX)
                        return -ERANGE;
        }
        *ret = (uint32_t) v;
        return 0;
}

int diagnosis_parse_what_if(const char *spec, struct what_if *ret, const char **ret_bad) {
        struct what_if w = {0};
        char item[128];
        const char *p = spec;

        while (p) {
                const char *start = p, *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);
                char *value;
                int r;

                p = comma ? comma + 1 : NULL;
                if (len == 0 || len >= sizeof(item))
                        goto bad;
                memcpy(item, start, len);
                item[len] = '\0';
                value = strchr(item, '=');
                if (!value)
                        goto bad;
                *value++ = '\0';
                if (streq(item, "mode")) {
                        r = commit_mode_from_string(value);
                        if (r < 0)
                                goto bad;
                        w.has_mode = true;
                        w.mode = r;
                } else if (streq(item, "ratio")) {
                        if (parse_uint32(value, &w.ratio) < 0)
                                goto bad;
                        w.has_ratio = true;
                        w.has_limit = false;
                } else if (streq(item, "limit")) {
                        if (units_parse_size(value, &w.limit_bytes) < 0 || w.limit_bytes == 0)
                                goto bad;
                        w.has_limit = true;
                        w.has_ratio = false;
                } else
                        goto bad;
                continue;
        bad:
                if (ret_bad)
                        *ret_bad = start;
                return -EINVAL;
        }
        *ret = w;
        return 0;
}

void diagnosis_apply_what_if(const struct overcommit *host, const struct what_if *w, struct overcommit *ret) {
        struct overcommit oc = *host;

        if (w->has_mode)
                oc.mode = w->mode;
        if (w->has_ratio) {
                oc.ratio = w->ratio;
                oc.kbytes_bytes = 0; /* writing overcommit_ratio clears overcommit_kbytes */
        }
        if (w->has_limit)
                oc.kbytes_bytes = w->limit_bytes;
        *ret = oc;
}

bool diagnosis_fork_fits(const struct diagnosis *d, uint64_t fork_charge_bytes, uint64_t total_vm_bytes,
                         bool cap_sys_admin, uint64_t page_size) {
        struct formula_level level = {.budget = &d->budget, .committed_bytes = d->committed_bytes};
        struct formula_caller caller = {.total_vm_bytes = total_vm_bytes, .cap_sys_admin = cap_sys_admin};
        struct formula_result res;

        if (fork_charge_bytes == 0)
                return true; /* dup_mmap() asks nothing of the formula for no accountable pages */
        return formula_judge(&level, &caller, fork_charge_bytes, page_size, &res) == 0 && res.verdict == FORMULA_ADMIT;
}
