/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commitd.h"
#include "container.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "procfs.h"

#define DEFAULT_PARENT_NAME     "commitd-containers"
#define CONTAINER_CGROUP_PREFIX "commitd-" /* a container's cgroup below a shared one: a name no runtime gives */
#define MAX_DOOMED              4096
#define MAX_ID_IN_CGROUP        200 /* a cgroup name is a file name: 255 bytes at most */

uint64_t container_pidns(pid_t pid) {
        char path[64];
        struct stat st;

        /* The namespace's inode; reading the link of another user's process needs cap_sys_ptrace (kept). */
        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);
        return stat(path, &st) < 0 ? 0 : (uint64_t) st.st_ino;
}

/* A container id as a cgroup's name: runc and crun allow [A-Za-z0-9_+.-]; anything else is refused rather than
 * escaped, as no runtime sends it. */
static bool id_names_cgroup(const char *id) {
        size_t n = strlen(id);

        return n > 0 && n <= MAX_ID_IN_CGROUP && !streq(id, ".") && !streq(id, "..") &&
               strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+.-") == n;
}

static bool is_live_container(const char *child, void *userdata) {
        struct daemon *d = userdata;
        struct budget_entry *e = budgets_find(&d->budgets, child);
        return e && e->container;
}

int container_setup(struct daemon *d, const char *parent) {
        struct containers *c = &d->containers;
        _cleanup_free_ char *own = NULL, *path = NULL;
        struct stat st;
        int r;

        if (parent) {
                r = cgroupfs_path_normalize(parent, &c->parent);
                if (r < 0)
                        return r;
        } else {
                r = cgroup_of_pid(getpid(), &own);
                if (r < 0)
                        return r;
                r = cgroupfs_path_child(own, DEFAULT_PARENT_NAME, &c->parent);
                if (r < 0)
                        return r;
                c->parent_ours = true;
        }
        c->own_pidns = container_pidns(getpid());
        r = cgroup_fs_path(&d->root, c->parent, &path);
        if (r < 0)
                return r;
        /* An earlier commitd's containers that ended while none ran: their empty cgroups go. Those of containers
         * adopted from the keeper hold their processes (and have entries). */
        if (stat(path, &st) == 0) {
                r = cgroup_remove_empty_children(&d->root, c->parent, is_live_container, d);
                if (r > 0)
                        log_info("removed %d empty container cgroups below %s left by an earlier commitd", r,
                                 c->parent);
        }
        return 0;
}

void container_teardown(struct daemon *d) {
        struct containers *c = &d->containers;

        for (size_t i = 0; i < c->n_doomed; i++) {
                (void) cgroup_remove(&d->root, c->doomed[i]);
                free(c->doomed[i]);
        }
        free(c->doomed);
        if (c->parent && c->parent_ours)
                (void) cgroup_remove(&d->root, c->parent); /* refused while a container's cgroup is below it */
        free(c->parent);
        *c = (struct containers){0};
}

/* Moves pid into cgroup made for it, checking that pid still names the process it named before: a container
 * process that exited meanwhile may have left its pid to another process, which is put back. */
static int move(struct daemon *d, pid_t pid, const char *from, const char *to, const char **ret_why) {
        _cleanup_free_ char *now = NULL;
        uint64_t before, after;
        int r;

        if (proc_start_time_read("/proc", pid, &before) < 0) {
                *ret_why = "its process exited";
                return -ESRCH;
        }
        r = cgroup_create(&d->root, to);
        if (r < 0) {
                *ret_why = "a cgroup of its own cannot be made (see --oci-cgroup)";
                return r;
        }
        /* Containers started at once in one cgroup: the runtime's cleanup of a sibling can remove an empty parent
         * between the mkdir and the move (ENOENT, once in many of e2e/runc's six parallel starts). The cgroup is
         * made again; no sleep, as this runs under d->lock, which every listener thread needs. */
        r = cgroup_attach(&d->root, to, pid);
        for (int try = 0; r == -ENOENT && try < 3; try++) {
                (void) cgroup_create(&d->root, to);
                r = cgroup_attach(&d->root, to, pid);
        }
        if (r < 0) {
                log_warning("pid %d cannot be moved from %s into %s: %s", (int) pid, from, to, strerror(-r));
                (void) cgroup_remove(&d->root, to);
                *ret_why = "its process cannot be moved into a cgroup of its own";
                return r;
        }
        if (proc_start_time_read("/proc", pid, &after) < 0 || after != before || cgroup_of_pid(pid, &now) < 0 ||
            !streq(now, to)) {
                (void) cgroup_attach(&d->root, from, pid);
                (void) cgroup_remove(&d->root, to);
                *ret_why = "its process exited while it was moved";
                return -ESRCH;
        }
        return 0;
}

int container_place(struct daemon *d, const char *id, pid_t pid, char **io_cgroup, bool *ret_made,
                    const char **ret_why) {
        struct budget_entry *e = budgets_find(&d->budgets, *io_cgroup);
        _cleanup_free_ char *own = NULL;
        int r;

        *ret_made = false;
        if (e && e->policy && !e->container)
                return 0; /* a cgroup with a policy of its own: that policy judges whoever is in it */
        if (!streq(*io_cgroup, "/")) {
                r = cgroup_holds_others(&d->root, *io_cgroup, pid);
                if (r < 0) {
                        *ret_why = "its cgroup's processes cannot be listed";
                        return r;
                }
                if (r == 0 && !(e && e->container))
                        return 0; /* the container's alone */
        }
        /* `/`, or shared with processes that are not the container's (another container's included): the
         * policy would judge them too. */
        if (!id_names_cgroup(id)) {
                *ret_why = "its cgroup is shared and its id cannot name a cgroup of its own";
                return -EINVAL;
        }
        /* Below the shared cgroup, so that what limits it (memory.max, pids.max on a v2 host) and every budget
         * above it still hold the container, and its memory is charged where it was; `/` limits nothing, and a
         * cgroup of the root's own would be one more top-level cgroup: there, below --oci-cgroup. */
        if (streq(*io_cgroup, "/")) {
                r = cgroupfs_path_child(d->containers.parent, id, &own);
                if (r < 0)
                        return r;
        } else if (asprintf(&own, "%s/" CONTAINER_CGROUP_PREFIX "%s", *io_cgroup, id) < 0)
                return -ENOMEM;
        if (budgets_find(&d->budgets, own)) {
                *ret_why = "a container of the same id is judged already";
                return -EEXIST;
        }
        r = move(d, pid, *io_cgroup, own, ret_why);
        if (r < 0)
                return r;
        log_info("container %s: its cgroup %s is %s; moved into %s, a cgroup of its own", id, *io_cgroup,
                 streq(*io_cgroup, "/") ? "the root" : "shared with other processes", own);
        free(*io_cgroup);
        *io_cgroup = TAKE_PTR(own);
        *ret_made = true;
        return 0;
}

struct budget_entry *container_find(struct daemon *d, const char *id) {
        for (struct budget_entry *e = d->budgets.entries; e; e = e->next)
                if (e->container && e->container_id && streq(e->container_id, id))
                        return e;
        return NULL;
}

int container_exec_check(struct daemon *d, struct budget_entry *e, pid_t tid, const char **ret_why) {
        _cleanup_free_ char *cg = NULL, *now = NULL;
        uint64_t ns;
        int r;

        r = cgroup_of_pid(tid, &cg);
        if (r < 0) {
                *ret_why = "its cgroup cannot be read";
                return r;
        }
        if (cgroupfs_path_is_below(cg, e->cgroup) > 0)
                return 0;
        /* Not in the container's cgroup: an exec of crun --cgroup-manager=disabled stays in the cgroup of whoever
         * ran `crun exec`. Its process joined the container's pid namespace; one of commitd's own namespace
         * could be anyone's. */
        ns = container_pidns(tid);
        if (!e->oci_cgroup || !e->pidns || ns != e->pidns || ns == d->containers.own_pidns) {
                *ret_why = "its process is neither in the container's cgroup nor in its pid namespace";
                return -EPERM;
        }
        r = cgroup_attach(&d->root, e->cgroup, tid);
        if (r < 0 || cgroup_of_pid(tid, &now) < 0 || !streq(now, e->cgroup)) {
                *ret_why = "its process cannot be moved into the container's cgroup";
                return r < 0 ? r : -ESRCH;
        }
        log_info("container %s: exec'd pid %d moved from %s into the container's cgroup %s",
                 e->container_id ? e->container_id : "?", (int) tid, cg, e->cgroup);
        return 0;
}

static void doom(struct daemon *d, char *cgroup) {
        struct containers *c = &d->containers;
        char **bigger;

        if (c->n_doomed >= MAX_DOOMED || !(bigger = reallocarray(c->doomed, c->n_doomed + 1, sizeof(char *)))) {
                log_warning("the cgroup %s of an ended container stays: too many wait for removal", cgroup);
                free(cgroup);
                return;
        }
        c->doomed = bigger;
        c->doomed[c->n_doomed++] = cgroup;
}

void container_ended(struct daemon *d, struct budget_entry *e) {
        char *made = e->oci_cgroup ? strdup(e->cgroup) : NULL;
        int r;

        budgets_container_ended(&d->budgets, e);
        if (!made)
                return;
        /* Every task that used the filter is past cgroup_exit(); a process that joined otherwise keeps it. */
        r = cgroup_remove(&d->root, made);
        if (r == 0 || r == -ENOENT) {
                log_debug("removed %s, the cgroup of an ended container", made);
                free(made);
        } else {
                log_debug("the cgroup %s of an ended container cannot be removed yet (%s): tried again at upkeep", made,
                          strerror(-r));
                doom(d, made);
        }
}

void container_upkeep(struct daemon *d) {
        struct containers *c = &d->containers;

        for (size_t i = 0; i < c->n_doomed;) {
                int r = cgroup_remove(&d->root, c->doomed[i]);
                if (r == 0 || r == -ENOENT) {
                        free(c->doomed[i]);
                        c->doomed[i] = c->doomed[--c->n_doomed];
                } else
                        i++;
        }
}
