/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "commitd.h"

/* Seccomp user-notify listeners: the one file including <seccomp.h> in the daemon. Each listener belongs to
 * the cgroup it was enrolled into; every notified call of its processes is judged there and answered
 * CONTINUE or ENOMEM. */
int notify_init(void);
/* Takes ownership of fd. */
int notify_add_listener(struct daemon *d, int fd, pid_t pid, struct budget_entry *e);
/* Background upkeep: forgets processes that exited (pid reuse checked by start time), re-measures the
 * cgroups whose ledgers have only grown since their last measure. */
void notify_upkeep(struct daemon *d);
/* Live processes commitd knows in exactly this cgroup entry. */
unsigned notify_count_processes(struct daemon *d, const struct budget_entry *e);
void notify_free(struct daemon *d);
