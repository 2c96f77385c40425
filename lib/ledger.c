/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "ledger.h"

uint64_t ledger_committed(const struct ledger *l) {
        uint64_t sum;

        if (__builtin_add_overflow(l->measured_bytes, l->admitted_bytes, &sum))
                return UINT64_MAX;
        return sum;
}

int ledger_charge(struct ledger *l, uint64_t bytes) {
        if (__builtin_add_overflow(l->admitted_bytes, bytes, &l->admitted_bytes)) {
                l->admitted_bytes = UINT64_MAX;
                return -EOVERFLOW;
        }
        return 0;
}

void ledger_remeasure(struct ledger *l, uint64_t measured_bytes, uint64_t now_usec) {
        l->measured_bytes = measured_bytes;
        l->admitted_bytes = 0;
        l->measured_at_usec = now_usec;
        l->generation++;
}
