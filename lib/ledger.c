/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "ledger.h"

uint64_t ledger_committed(const struct ledger *l) {
        uint64_t sum;

        if (__builtin_add_overflow(l->measured_bytes, l->admitted_bytes, &sum))
                return UINT64_MAX;
        return sum;
}

bool ledger_grew(const struct ledger *l) {
        return l->admitted_bytes > l->kept_bytes;
}

int ledger_charge(struct ledger *l, uint64_t bytes) {
        if (__builtin_add_overflow(l->charged_ever, bytes, &l->charged_ever))
                l->charged_ever = UINT64_MAX;
        if (__builtin_add_overflow(l->admitted_bytes, bytes, &l->admitted_bytes)) {
                l->admitted_bytes = UINT64_MAX;
                return -EOVERFLOW;
        }
        return 0;
}

struct ledger_mark ledger_measure_begin(struct ledger *l) {
        return (struct ledger_mark){.charged_ever = l->charged_ever, .seq = ++l->began};
}

bool ledger_remeasure(struct ledger *l, const struct ledger_mark *mark, uint64_t measured_bytes,
                      uint64_t inflight_bytes, uint64_t now_usec) {
        uint64_t since;

        if (mark->seq < l->applied)
                return false;
        /* Saturated: every later charge is lost in it, so nothing can be told apart; keep all admitted. */
        since = l->charged_ever == UINT64_MAX ? l->admitted_bytes : l->charged_ever - mark->charged_ever;
        l->measured_bytes = measured_bytes;
        l->admitted_bytes = __builtin_add_overflow(inflight_bytes, since, &since) ? UINT64_MAX : since;
        l->kept_bytes = l->admitted_bytes;
        l->measured_at_usec = now_usec;
        l->applied = mark->seq;
        l->generation++;
        return true;
}
