/* SPDX-License-Identifier: MIT */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "notify.h"

/* Crash safety (docs/reliability.md). Every listener is also held by the keeper (commitd-keeper), and every
 * listener thread receives straight into its slot of the in-flight table, a memfd the keeper holds too: the
 * kernel writes the notification there, so a commitd killed between receiving and answering leaves the call
 * behind for the next one, which answers it (the kernel keeps it SENT and unanswered until someone does). */

/* notif_size: the kernel's struct seccomp_notif (SECCOMP_GET_NOTIF_SIZES); -EPROTO when it does not fit. */
int custody_init(size_t notif_size);
size_t custody_notif_size(void);
/* A free slot for a new listener, zeroed; -EMFILE when all are taken. */
int custody_slot_claim(unsigned *ret_slot);
void custody_slot_set(unsigned slot, struct listener *l);
/* The in-flight record of slot: the kernel's struct seccomp_notif, written by NOTIF_RECV. */
struct seccomp_notif *custody_slot(unsigned slot);
/* Hands l to the keeper with its tag (cgroup, pid, a container's template and id). */
void custody_hold(struct listener *l);
/* l hung up (every task of its filter exited): the keeper lets go of it too. */
void custody_let_go(struct listener *l);
/* Connects to (or starts) the keeper and adopts what it holds: see notify_recover(). */
int custody_recover(struct daemon *d, const char *keeper_socket, const char *keeper_binary);
/* Whether a keeper holds the listeners now (a lost one is replaced at once, keeper_resync()). */
bool custody_keeper_up(void);
/* Closes commitd's side; the keeper keeps everything for the next commitd. */
void custody_free(struct daemon *d);
