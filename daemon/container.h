/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct daemon;
struct listener;
struct budget_entry;

/* Never `/`, never shared: a container's policy applies only to a cgroup that holds nothing but the container.
 * A container whose process sits in `/` or in a cgroup with other processes (crun --cgroup-manager=disabled
 * leaves it in its caller's cgroup, which under an engine is `/`) gets a v2 cgroup of its own, moved into before
 * any of its calls is judged, and removed when it ends: SHARED/commitd-ID below a shared cgroup (its limits and
 * the budgets above it still hold), --oci-cgroup/ID for a container in `/`.
 * On a hybrid host only the v2 cgroup moves: the v1 memory cgroup it started in stays (SPEC 6).
 * An exec into a container (the runtime's state has pid 0) is judged under the container's budget once its
 * first notification shows a process of the container. */
struct containers {
        char *parent;     /* the v2 cgroup their own cgroups go below */
        bool parent_ours; /* made by commitd (or the default one): removed at stop when empty */
        char **doomed;    /* cgroups of ended containers that could not be removed yet (retried at upkeep) */
        size_t n_doomed;
        uint64_t own_pidns; /* commitd's pid namespace: a container in it cannot be told by namespace */
};

/* parent NULL: commitd-containers below commitd's own v2 cgroup. Removes what an earlier commitd left
 * behind there (empty cgroups of ended containers). */
int container_setup(struct daemon *d, const char *parent);
void container_teardown(struct daemon *d);

/* The cgroup whose budget the container's process pid gets. *io_cgroup is its cgroup now; on return it is
 * the cgroup to enroll, *ret_made true when commitd made it and moved pid there. A cgroup with a policy of
 * its own keeps it (and the process). -errno with *ret_why when the container is refused. */
int container_place(struct daemon *d, const char *id, pid_t pid, char **io_cgroup, bool *ret_made,
                    const char **ret_why);
/* The pid namespace of pid, 0 when it cannot be read. */
uint64_t container_pidns(pid_t pid);
/* The entry of a running container, by its OCI id, or NULL. */
struct budget_entry *container_find(struct daemon *d, const char *id);
/* A process of an exec into container e (the state's pid, or the first caller on an exec's listener when the
 * state's pid is 0) must be the container's: in its cgroup, or, in a cgroup commitd made, in its pid namespace,
 * and then moved in. 0, or -errno with *ret_why. */
int container_exec_check(struct daemon *d, struct budget_entry *e, pid_t tid, const char **ret_why);
/* The container's last listener hung up: its budget goes, and the cgroup commitd made for it. */
void container_ended(struct daemon *d, struct budget_entry *e);
void container_upkeep(struct daemon *d);
