/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commitd.h"
#include "custody.h"
#include "enroll.h"
#include "log.h"
#include "notify.h"

int enroll_check(int fd, char *what, size_t size) {
        char path[64], target[256];
        ssize_t n;

        /* The kernel names the file of every listener it makes "seccomp notify" (kernel/seccomp.c, init_listener():
         * anon_inode_getfile()), and /proc shows an anonymous inode as "anon_inode:NAME"; no one else can give a
         * file that name. Anything else taken as a listener (a pipe, a socket) fails every NOTIF_RECV at once and
         * would keep a listener thread spinning. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        if (streq(target, "anon_inode:seccomp notify"))
                return 0;
        if (what && size > 0)
                snprintf(what, size, "%s", target);
        return -ENOTTY;
}

int enroll_listener(struct daemon *d, const struct enrollment *en) {
        struct budget_entry *e = en->entry;
        bool recovered = en->slot >= 0;
        pid_t sample_pid = e->sample_pid;
        struct listener *l;
        unsigned slot;
        int r;

        /* Pinned: a listener that fails to start, or hangs up while the measure lets go of d->lock, releases the
         * entry (notify.c listener_release()), which must outlive this function's use of it. */
        e->pins++;
        if (en->sample && en->pid > 0) {
                e->sample_pid = en->pid;
                if (!recovered)
                        budgets_refresh(&d->budgets);
        }
        if (recovered)
                slot = (unsigned) en->slot;
        else if ((r = custody_slot_claim(&d->custody, &slot)) < 0) {
                close(en->fd);
                goto fail;
        }
        r = notify_listener_new(d, en->fd, en->pid, e, slot, &l);
        if (r < 0)
                goto fail;
        l->exec_pending = en->exec_pending; /* before the keeper's tag is written and the thread starts: both read it */
        if (!recovered) {
                custody_hold(&d->custody, l);
                r = notify_listener_start(d, l); /* on failure the listener is let go, by the keeper too */
                if (r < 0)
                        goto fail;
        }
        if (en->measure)
                (void) daemon_measure(d, e, now_usec(CLOCK_MONOTONIC));
        if (en->who)
                log_info("%s enrolled in %s%s", en->who, e->cgroup, en->what ? en->what : "");
        e->pins--;
        budgets_put(&d->budgets, e); /* nothing: the listener holds it, unless it hung up already */
        return 0;
fail:
        if (e->sample_pid != sample_pid) {
                e->sample_pid = sample_pid;
                budgets_refresh(&d->budgets);
        }
        e->pins--;
        budgets_put(&d->budgets, e);
        return r;
}
