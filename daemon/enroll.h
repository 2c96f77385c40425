/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct daemon;
struct budget_entry;

/* The one path by which a seccomp listener comes to judge a process in a budget entry, for every caller: the
 * control socket's enroll (dispatch.c: the process that connected, moved into its cgroup), the OCI agent (oci.c:
 * a container's first process once container_place() gave it a cgroup of its own, or an exec into a running
 * container) and adoption after a restart (custody.c: a listener the keeper kept, back into its slot). What a
 * caller checks and places of its own (the peer's pid, the container's cgroup, an exec's process, the keeper's
 * tag) stays with it, between the two steps:
 *
 * 1. enroll_check(), before the caller moves or makes anything: the descriptor is a seccomp listener, so that a
 *    refused enroll moves nothing.
 * 2. enroll_listener(): the entry's sample pid and the budgets refreshed, the listener registered in a slot of the
 *    in-flight table, handed to the keeper and its thread started, the entry measured, one log line. On failure
 *    what it changed is undone and the descriptor closed; the caller undoes its own steps. */

/* Whether a descriptor that came over a socket is a seccomp user-notification listener, the only kind commitd
 * takes as one: 0 if so; -ENOTTY if it is something else, its /proc name ("pipe:[123]", "/dev/null") copied to
 * what (size bytes, may be NULL); -errno if it cannot be told. */
int enroll_check(int fd, char *what, size_t size);

struct enrollment {
        int fd;                     /* the listener: taken, closed on failure */
        pid_t pid;                  /* the process enrolled; 0: an exec's, known at its first call */
        struct budget_entry *entry; /* the budget its calls are judged in */
        bool sample;                /* pid becomes the entry's sample_pid (the v1 limits of a hybrid host) */
        bool measure;               /* the entry is measured once the listener judges (its first measure) */
        bool exec_pending;          /* an exec's listener: its first caller is checked before any call is judged
                                     * (container_exec_check()) */
        int slot;                   /* -1: a new listener, given a free slot and handed to the keeper. Else a
                                     * listener recovered from the keeper, which holds it already, in its old slot:
                                     * registered only, as custody_recover() refreshes the budgets, measures every
                                     * entry and then starts every listener's thread, all at once */
        const char *who, *what;     /* the log line, "WHO enrolled in CGROUPWHAT" (what may be NULL); none when
                                     * who is NULL */
};

/* Called with d->lock held; a measure lets go of it meanwhile (daemon_measure()). */
int enroll_listener(struct daemon *d, const struct enrollment *en);
