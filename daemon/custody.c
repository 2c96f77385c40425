/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cgroupfs.h"
#include "custody.h"
#include "enroll.h"
#include "judge.h"
#include "keeper.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "records.h"

#define SLOT_SIZE    128 /* one in-flight record: the kernel's struct seccomp_notif (80 bytes in 6.x) */
#define KEEPER_TABLE 0u  /* keeper key of the in-flight table; listener in slot s is key s + 1 */

int custody_init(struct custody *c, size_t notif_size) {
        /* The kernel copies exactly its own struct into the slot; a bigger one (a future kernel) would not fit. */
        if (notif_size > SLOT_SIZE || notif_size < sizeof(struct seccomp_notif))
                return -EPROTO;
        *c = (struct custody){.notif_size = notif_size, .table_fd = -1, .keeper = {.fd = -1}};
        return 0;
}

int custody_slot_claim(struct custody *c, unsigned *ret_slot) {
        unsigned slot = 0;

        while (slot < CUSTODY_SLOTS && c->by_slot[slot])
                slot++;
        if (slot == CUSTODY_SLOTS)
                return -EMFILE;
        memset(c->table + (size_t) slot * SLOT_SIZE, 0, SLOT_SIZE);
        *ret_slot = slot;
        return 0;
}

void custody_slot_set(struct custody *c, unsigned slot, struct listener *l) {
        c->by_slot[slot] = l;
}

struct seccomp_notif *custody_slot(const struct custody *c, unsigned slot) {
        return (struct seccomp_notif *) (c->table + (size_t) slot * SLOT_SIZE);
}

/* What the next commitd needs to put the listener back where it was: its cgroup, and for a container the
 * policy it was instantiated from (budgets_instantiate()). */
static char *listener_tag(const struct listener *l) {
        json_auto_t *j = json_pack("{s:s, s:i}", "cgroup", l->entry->cgroup, "pid", (int) l->enrolled_pid);

        if (j && l->entry->container && l->entry->template_name && l->entry->container_id) {
                json_object_set_new(j, "template", json_string(l->entry->template_name));
                json_object_set_new(j, "container", json_string(l->entry->container_id));
                if (l->entry->oci_cgroup)
                        json_object_set_new(j, "oci_cgroup", json_true());
                if (l->exec_pending)
                        json_object_set_new(j, "exec_pending", json_true());
        }
        return j ? json_dumps(j, JSON_COMPACT) : NULL;
}

void custody_hold(struct custody *c, struct listener *l) {
        _cleanup_free_ char *tag = NULL;

        if (c->keeper.fd < 0)
                return;
        tag = listener_tag(l);
        if (!tag || keeper_put(&c->keeper, l->slot + 1, KEEPER_F_WATCH, tag, l->fd) < 0)
                log_warning("keeper: cannot hand over the listener of %s: it will not survive a commitd restart",
                            l->entry->cgroup);
}

void custody_let_go(struct custody *c, struct listener *l) {
        if (c->keeper.fd >= 0 && keeper_del(&c->keeper, l->slot + 1) < 0)
                log_warning("keeper: cannot release the listener of %s: %m", l->entry->cgroup);
}

static int table_create(void) {
        size_t size = (size_t) CUSTODY_SLOTS * SLOT_SIZE;
        _cleanup_close_ int fd = memfd_create("commitd-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);

        if (fd < 0)
                return -errno;
        /* Sealed at its size: a mapping of it can never be truncated under a listener thread (SIGBUS). */
        if (ftruncate(fd, (off_t) size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int table_map(struct custody *c, int fd) {
        size_t size = (size_t) CUSTODY_SLOTS * SLOT_SIZE;
        struct stat st;
        void *p;

        if (fstat(fd, &st) < 0 || (size_t) st.st_size < size)
                return -EINVAL;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        if (c->table)
                munmap(c->table, size);
        if (c->table_fd >= 0)
                close(c->table_fd);
        c->table = p;
        c->table_fd = fd;
        return 0;
}

struct adopted {
        uint32_t key; /* the listener's slot + 1 */
        int fd;
        char *tag;
        struct adopted *next;
};

struct recovery {
        int table_fd;
        struct adopted *listeners;
};

static void on_kept(uint32_t key, const char *data, int fd, void *userdata) {
        struct recovery *rc = userdata;
        struct adopted *a;

        if (key == KEEPER_TABLE) {
                if (rc->table_fd >= 0)
                        close(rc->table_fd);
                rc->table_fd = fd;
                return;
        }
        /* Kept even when it cannot be adopted: notify_recover() must tell the keeper to let go of it, or its
         * processes would wait for an answer forever instead of failing with ENOSYS. */
        a = calloc(1, sizeof(*a));
        if (!a) {
                close(fd);
                return;
        }
        *a = (struct adopted){.key = key, .fd = fd, .tag = strdup(data), .next = rc->listeners};
        rc->listeners = a;
}

/* Puts an adopted listener back into its cgroup, as its tag says. */
static int adopt(struct daemon *d, struct adopted *a) {
        json_auto_t *tag = json_loads(a->tag, 0, NULL);
        const char *cgroup = json_string_value(json_object_get(tag, "cgroup"));
        const char *template = json_string_value(json_object_get(tag, "template"));
        const char *container = json_string_value(json_object_get(tag, "container"));
        pid_t pid = (pid_t) json_integer_value(json_object_get(tag, "pid"));
        _cleanup_free_ char *canonical = NULL;
        struct budget_entry *e, *t;
        int r;

        if (a->key == KEEPER_TABLE || a->key > CUSTODY_SLOTS || !cgroup ||
            cgroupfs_path_normalize(cgroup, &canonical) < 0 || d->custody.by_slot[a->key - 1]) {
                close(a->fd);
                return -EBADMSG;
        }
        r = enroll_check(a->fd, NULL, 0);
        if (r < 0) {
                close(a->fd);
                return r;
        }
        if (template && container && (t = budgets_find_policy(&d->budgets, template)))
                r = budgets_instantiate(&d->budgets, t, canonical, container, &e);
        else {
                if (template)
                        log_warning("container %s: its policy %s is no longer loaded; judged by %s's own",
                                    container ? container : "?", template, canonical);
                r = budgets_get(&d->budgets, canonical, &e);
        }
        if (r < 0) {
                close(a->fd);
                return r;
        }
        if (e->container && json_is_true(json_object_get(tag, "oci_cgroup")))
                e->oci_cgroup = true; /* made by an earlier commitd: removed when the container ends */
        if (e->container && pid > 0)
                e->pidns = container_pidns(pid);
        return enroll_listener(d,
                               &(struct enrollment){.fd = a->fd,
                                                    .pid = pid,
                                                    .entry = e,
                                                    .sample = true,
                                                    .exec_pending = json_is_true(json_object_get(tag, "exec_pending")),
                                                    .slot = (int) a->key - 1});
}

static void keeper_resync(struct daemon *d);

static void on_keeper(struct loop_source *s, uint32_t events, void *userdata) {
        struct daemon *d = userdata;
        (void) s;

        if (!(events & (EPOLLHUP | EPOLLERR)))
                return;
        log_error("keeper: connection lost; starting a new keeper and handing it every listener again");
        loop_remove(d->loop, d->custody.keeper_source); /* closes keeper.fd */
        d->custody.keeper_source = NULL;
        d->custody.keeper.fd = -1;
        keeper_resync(d);
}

static int keeper_watch(struct daemon *d, const struct keeper_conn *k) {
        int r = loop_add(d->loop, k->fd, 0 /* EPOLLHUP only */, on_keeper, d, &d->custody.keeper_source);
        if (r < 0) {
                close(k->fd);
                return r;
        }
        d->custody.keeper = *k;
        return 0;
}

static void drop_kept(uint32_t key, const char *data, int fd, void *userdata) {
        (void) key, (void) data, (void) userdata;
        close(fd); /* a new keeper holds nothing; anything else it holds, commitd holds already */
}

/* A keeper that died while commitd runs: a new one gets the table and every listener again. */
static void keeper_resync(struct daemon *d) {
        struct custody *c = &d->custody;
        struct keeper_conn k;
        int r = keeper_open(c->keeper_socket, c->keeper_binary, drop_kept, NULL, &k);

        if (r < 0 || keeper_watch(d, &k) < 0) {
                log_error("keeper: cannot start one (%s): listeners will not survive a commitd restart",
                          strerror(r < 0 ? -r : EIO));
                return;
        }
        if (keeper_put(&c->keeper, KEEPER_TABLE, 0, "in-flight", c->table_fd) < 0)
                log_warning("keeper: cannot hand over the in-flight table: %m");
        for (struct listener *l = d->listeners; l; l = l->next)
                custody_hold(c, l);
        log_info("keeper: a new keeper holds the in-flight table and %zu listeners", d->n_listeners);
}

int custody_recover(struct daemon *d, const char *keeper_socket, const char *keeper_binary) {
        struct custody *c = &d->custody;
        struct recovery rc = {.table_fd = -1};
        unsigned adopted = 0, lost = 0;
        struct keeper_conn k;
        int r, kept;

        c->keeper_socket = keeper_socket;
        c->keeper_binary = keeper_binary;
        kept = keeper_open(keeper_socket, keeper_binary, on_kept, &rc, &k);
        if (kept >= 0)
                kept = keeper_watch(d, &k);
        if (rc.table_fd < 0 || table_map(c, rc.table_fd) < 0) {
                if (rc.table_fd >= 0)
                        close(rc.table_fd);
                r = table_create();
                if (r < 0 || (r = table_map(c, r)) < 0)
                        return r; /* without the table no listener can be served: commitd cannot start */
                if (c->keeper.fd >= 0 && keeper_put(&c->keeper, KEEPER_TABLE, 0, "in-flight", c->table_fd) < 0)
                        log_warning("keeper: cannot hand over the in-flight table: %m");
        }
        while (rc.listeners) {
                struct adopted *a = rc.listeners;
                rc.listeners = a->next;
                if (adopt(d, a) >= 0)
                        adopted++;
                else {
                        lost++;
                        log_error("keeper: listener %u cannot be adopted (tag %s); its processes get ENOSYS", a->key,
                                  a->tag ? a->tag : "unreadable");
                        if (c->keeper.fd >= 0)
                                (void) keeper_del(&c->keeper, a->key);
                }
                free(a->tag);
                free(a);
        }
        d->stats.listeners_recovered = adopted;
        if (adopted > 0) {
                /* The ledgers are rebuilt by measurement before any thread judges a call. */
                uint64_t t = now_usec(CLOCK_MONOTONIC);
                budgets_refresh(&d->budgets);
                for (struct budget_entry *e = d->budgets.entries; e; e = e->next)
                        (void) daemon_measure(d, e, t);
        }
        for (struct listener *l = d->listeners, *next; l; l = next) {
                next = l->next;
                (void) notify_listener_start(d, l);
        }
        if (kept < 0) {
                log_warning("keeper: none at %s (%s): listeners will not survive a commitd restart", keeper_socket,
                            strerror(-kept));
                return 0;
        }
        log_info("keeper at %s: %u listeners adopted from the previous commitd%s", keeper_socket, adopted,
                 lost ? ", some lost (see above)" : "");
        return 0;
}

bool custody_keeper_up(const struct custody *c) {
        return c->keeper.fd >= 0;
}

void custody_free(struct daemon *d) {
        struct custody *c = &d->custody;

        if (c->keeper_source)
                loop_remove(d->loop, c->keeper_source); /* the keeper stays, holding the listeners */
        c->keeper_source = NULL;
        c->keeper.fd = -1;
        if (c->table)
                munmap(c->table, (size_t) CUSTODY_SLOTS * SLOT_SIZE);
        if (c->table_fd >= 0)
                close(c->table_fd);
        c->table = NULL;
        c->table_fd = -1;
}
