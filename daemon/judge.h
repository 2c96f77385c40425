/* SPDX-License-Identifier: MIT */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>

#include "commitd.h"

/* Judges one notification of listener l, under d->lock (SPEC 3.3): the charge of the call, every level the
 * caller is judged in, an exact re-measure before any refusal. Fills *resp and returns true, or returns false
 * when the caller died meanwhile (nothing to answer). Every error fails closed: ENOMEM (a refused brk: the
 * break), and a call the table does not know: ENOSYS. */
/* After reading a process's /proc: the notification is still pending, so what was read is the caller's. */
bool judge_id_valid(int fd, uint64_t id);

bool judge_notification(struct daemon *d, struct listener *l, const struct seccomp_notif *req,
                        struct seccomp_notif_resp *resp);
