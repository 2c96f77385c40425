/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "commitd.h"

/* Seccomp user-notify listeners: the one file including <seccomp.h> in the daemon. Each listener belongs to
 * the cgroup it was enrolled into; every notified call of its processes is judged there and answered
 * CONTINUE or ENOMEM. */
#define NOTIFY_MAX_LISTENERS 4096

int notify_init(void);
/* Crash safety (docs/reliability.md): connects to the keeper at keeper_socket (starting keeper_binary when none
 * answers there), adopts the listeners it holds from an earlier commitd into their cgroups, rebuilds the
 * ledgers by measurement, answers the calls that commitd had received and not answered, and from then on
 * hands every new listener to the keeper too. Call once, after the policies are loaded. Without a keeper
 * (-errno) commitd still serves, but its listeners die with it. */
int notify_recover(struct daemon *d, const char *keeper_socket, const char *keeper_binary);
/* Takes ownership of fd; the listener is held by the keeper too. */
int notify_add_listener(struct daemon *d, int fd, pid_t pid, struct budget_entry *e);
/* Background upkeep: forgets processes that exited (pid reuse checked by start time), re-measures the
 * cgroups whose ledgers have only grown since their last measure. */
void notify_upkeep(struct daemon *d);
/* Stops judging and closes commitd's own copies of the listeners; the keeper keeps its copies, so the
 * enrolled processes wait for the next commitd instead of failing. */
void notify_free(struct daemon *d);
