/* SPDX-License-Identifier: MIT */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "keeper.h"

/* Crash safety (docs/reliability.md). Every listener is also held by the keeper (commitd-keeper), and every
 * listener thread receives straight into its slot of the in-flight table, a memfd the keeper holds too: the
 * kernel writes the notification there, so a commitd killed between receiving and answering leaves the call
 * behind for the next one, which answers it (the kernel keeps it SENT and unanswered until someone does). */
#define CUSTODY_SLOTS 4096 /* the in-flight table's slots: the most listeners commitd holds */

struct daemon;
struct listener;
struct loop_source;

/* struct daemon's custody: the in-flight table and the keeper connection, guarded by d->lock (the table's
 * slots themselves are written by the kernel, each for its own listener's thread). */
struct custody {
        size_t notif_size; /* the kernel's struct seccomp_notif (SECCOMP_GET_NOTIF_SIZES) */
        char *table;       /* CUSTODY_SLOTS slots, MAP_SHARED */
        int table_fd;
        struct listener *by_slot[CUSTODY_SLOTS];
        struct keeper_conn keeper; /* fd -1: no keeper, listeners die with commitd */
        struct loop_source *keeper_source;
        const char *keeper_socket, *keeper_binary;
};

/* notif_size: the kernel's struct seccomp_notif (SECCOMP_GET_NOTIF_SIZES); -EPROTO when it does not fit. */
int custody_init(struct custody *c, size_t notif_size);
/* A free slot for a new listener, zeroed; -EMFILE when all are taken. */
int custody_slot_claim(struct custody *c, unsigned *ret_slot);
void custody_slot_set(struct custody *c, unsigned slot, struct listener *l);
/* The in-flight record of slot: the kernel's struct seccomp_notif, written by NOTIF_RECV. */
struct seccomp_notif *custody_slot(const struct custody *c, unsigned slot);
/* Hands l to the keeper with its tag (cgroup, pid, a container's template and id). */
void custody_hold(struct custody *c, struct listener *l);
/* l hung up (every task of its filter exited): the keeper lets go of it too. */
void custody_let_go(struct custody *c, struct listener *l);
/* Connects to (or starts) the keeper and adopts what it holds: see notify_recover(). */
int custody_recover(struct daemon *d, const char *keeper_socket, const char *keeper_binary);
/* Whether a keeper holds the listeners now (a lost one is replaced at once, keeper_resync()). */
bool custody_keeper_up(const struct custody *c);
/* Closes commitd's side; the keeper keeps everything for the next commitd. */
void custody_free(struct daemon *d);
