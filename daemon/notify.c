/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "custody.h"
#include "judge.h"
#include "sysv.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "records.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64) /* Linux 6.6 */
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#define NOTIFY_REMEASURE_USEC (10u * 1000000) /* a ledger that did not grow is measured again after this */

/* 10 us to 2.5 s: an admitted call from the ledger takes tens of microseconds, one that reads /proc (a new
 * image, a fork after execve) milliseconds, a refusal's exact re-measure of a large budget up to seconds. */
const uint64_t judge_bucket_usec[JUDGE_BUCKETS] = {10,   25,   50,    100,   250,    500,     1000,
                                                   2500, 5000, 10000, 25000, 100000, 1000000, 2500000};

/* Under d->lock, where the judgement ended. */
static void count_judged(struct daemon *d, uint64_t usec) {
        size_t i = 0;

        while (i < JUDGE_BUCKETS && usec > judge_bucket_usec[i])
                i++;
        d->stats.judge_counts[i]++;
        d->stats.judge_sum_usec += usec;
}

void daemon_unlock(struct daemon *d) {
        pthread_mutex_unlock(&d->lock);
}

void daemon_relock(struct daemon *d) {
        atomic_fetch_add(&d->lock_waiters, 1);
        pthread_mutex_lock(&d->lock);
        atomic_fetch_sub(&d->lock_waiters, 1);
}

void daemon_read_begin(struct daemon *d, struct budget_entry *e) {
        e->pins++;
        while (e->reading)
                pthread_cond_wait(&d->read_done, &d->lock);
        e->reading = true;
        daemon_unlock(d);
}

void daemon_read_end(struct daemon *d, struct budget_entry *e) {
        daemon_relock(d);
        e->reading = false;
        e->pins--;
        pthread_cond_broadcast(&d->read_done);
        budgets_put(&d->budgets, e);
}

/* One measure of an entry at a time: a caller that finds one running that began at or after `now` (its own
 * reason to measure) takes that one's result; one that began earlier is waited for, then a new one begun (by
 * whichever caller wakes first; the others take it). A refusal storm of N threads of one tenant costs about two
 * measures, not N. */
int daemon_measure(struct daemon *d, struct budget_entry *e, uint64_t now) {
        struct budget_measure m;
        int r;

        e->pins++;
        while (e->measuring) {
                uint64_t done = e->measures_done;
                bool take = e->measuring_since_usec >= now;
                while (e->measuring && e->measures_done == done)
                        pthread_cond_wait(&d->measured, &d->lock);
                if (take) {
                        e->pins--;
                        return e->measure_result;
                }
        }
        e->pins--;
        e->measuring = true;
        e->measuring_since_usec = now_usec(CLOCK_MONOTONIC);
        r = budgets_measure_begin(&d->budgets, e, &m);
        if (r >= 0) {
                daemon_read_begin(d, e);
                (void) budgets_measure_read(&d->budgets, &m);
                daemon_read_end(d, e);
                r = budgets_measure_end(&d->budgets, &m, now);
                d->stats.remeasures++;
                d->stats.remeasure_sum_usec += now_usec(CLOCK_MONOTONIC) - e->measuring_since_usec;
        }
        e->measuring = false;
        e->measure_result = r;
        e->measures_done++;
        pthread_cond_broadcast(&d->measured);
        return r;
}

static void on_interrupt(int sig) {
        (void) sig; /* only there to make a blocked NOTIF_RECV return EINTR */
}

int notify_init(struct daemon *d) {
        struct sigaction sa = {.sa_handler = on_interrupt}; /* no SA_RESTART: the ioctl must return EINTR */
        struct seccomp_notif_sizes sizes;

        if (sigaction(SIGUSR1, &sa, NULL) < 0)
                return -errno;
        if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
                return -errno;
        /* The answer is a struct seccomp_notif_resp on the stack: the kernel reads no more of it than it knows. */
        if (sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp))
                return -EPROTO;
        return custody_init(&d->custody, sizes.seccomp_notif);
}

static void listener_stop_thread(struct daemon *d, struct listener *l);

/* Forgets a listener. hung_up: every task of its filter has exited (or it broke), so the keeper lets go of it
 * too; else (commitd stopping) the keeper keeps it for the next commitd. */
static void listener_release(struct daemon *d, struct listener *l, bool hung_up) {
        struct budget_entry *e = l->entry;

        if (l->started)
                listener_stop_thread(d, l);
        for (struct listener **pp = &d->listeners; *pp; pp = &(*pp)->next)
                if (*pp == l) {
                        *pp = l->next;
                        break;
                }
        records_forget_listener(d, l); /* they are gone: HUP means no task uses the filter */
        if (hung_up)
                custody_let_go(&d->custody, l);
        custody_slot_set(&d->custody, l->slot, NULL);
        loop_remove(d->loop, l->source); /* closes the fd */
        d->n_listeners--;
        free(l);
        if (e->enrolled > 0)
                e->enrolled--;
        if (hung_up && e->container && e->enrolled == 0)
                container_ended(d, e); /* the container ended: its budget and the cgroup made for it go */
        else
                budgets_put(&d->budgets, e);
}

static void judge_and_answer(struct daemon *d, struct listener *l, const struct seccomp_notif *req) {
        struct seccomp_notif_resp resp;
        uint64_t start;
        bool reply;

        daemon_relock(d);
        start = now_usec(CLOCK_MONOTONIC);
        reply = judge_notification(d, l, req, &resp);
        count_judged(d, now_usec(CLOCK_MONOTONIC) - start);
        pthread_mutex_unlock(&d->lock);
        if (reply && ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
                log_debug("listener of %s: answer: %s", l->entry->cgroup, strerror(errno));
}

/* One thread per listener, asleep in NOTIF_RECV: with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP the kernel hands the
 * CPU straight from the notifying task to this thread and back, which a wake-up from epoll_wait() loses
 * (docs/performance.md). The judgement runs under d->lock; receiving and answering do not. The kernel
 * receives into the listener's slot of the in-flight table, which outlives this process; the judgement works
 * on a copy (nothing else writes the slot, but a decision never rests on memory another process maps). */
static void *listener_thread(void *userdata) {
        struct listener *l = userdata;
        struct daemon *d = l->daemon;
        struct seccomp_notif *slot = custody_slot(&d->custody, l->slot);
        struct seccomp_notif req;

        /* An earlier commitd received this call and died before answering: the kernel still holds it as SENT
         * (SECCOMP_IOCTL_NOTIF_ID_VALID says so), and nobody else will ever answer it. An answered one, or one
         * whose caller died, is no longer valid. */
        if (slot->id != 0 && judge_id_valid(l->fd, slot->id)) {
                memcpy(&req, slot, sizeof(req));
                judge_and_answer(d, l, &req);
                log_info("listener of %s: answered a call (nr %d) of pid %d that the previous commitd had received",
                         l->entry->cgroup, req.data.nr, (int) req.pid);
        }
        while (!atomic_load(&l->stopping)) {
                memset(slot, 0, d->custody.notif_size); /* the kernel wants it zeroed; the last call is answered */
                if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, slot) < 0) {
                        /* EINTR: stopping; ENOENT: the caller died before we read it. Anything else is not a
                         * moment's trouble (EBADF, ENOTTY, EFAULT: no listener to serve): stop, instead of
                         * spinning on it, and let upkeep release the listener; its processes then fail with
                         * ENOSYS, closed. */
                        if (errno == EINTR || errno == ENOENT)
                                continue;
                        log_error("listener of %s: receive failed (%s); letting it go, its processes get ENOSYS",
                                  l->entry->cgroup, strerror(errno));
                        atomic_store(&l->broken, true);
                        break;
                }
                memcpy(&req, slot, sizeof(req));
                judge_and_answer(d, l, &req);
        }
        return NULL;
}

/* Stops the thread of a listener whose tasks are all gone: the flag, then signals until it has left
 * NOTIF_RECV (a signal sent just before it enters the ioctl would be lost, hence the loop). Called with
 * d->lock held, which the thread may be waiting for: released while waiting. */
static void listener_stop_thread(struct daemon *d, struct listener *l) {
        atomic_store(&l->stopping, true);
        pthread_mutex_unlock(&d->lock);
        for (;;) {
                struct timespec ts = {0, 1000000};
                pthread_kill(l->thread, SIGUSR1);
                nanosleep(&ts, NULL);
                if (pthread_tryjoin_np(l->thread, NULL) == 0)
                        break;
        }
        pthread_mutex_lock(&d->lock);
}

static void on_listener(struct loop_source *s, uint32_t events, void *userdata) {
        struct listener *l = userdata;
        (void) s;

        if (events & (EPOLLHUP | EPOLLERR))
                listener_release(l->daemon, l, true); /* every task that used the filter has exited */
}

int notify_listener_new(struct daemon *d, int fd, pid_t pid, struct budget_entry *e, unsigned slot,
                        struct listener **ret) {
        struct listener *l = calloc(1, sizeof(*l));
        int r;

        if (!l) {
                close(fd);
                return -ENOMEM;
        }
        *l = (struct listener){.fd = fd, .entry = e, .enrolled_pid = pid, .daemon = d, .slot = slot};
        /* Linux 6.6+: the notifying task and commitd hand the CPU to each other (the kernel's own ping-pong
         * path). The flags go by value, not by pointer (seccomp_notify_ioctl()). Older kernels: EINVAL, fine. */
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
                log_debug("listener of %s: no sync wake-up: %s", e->cgroup, strerror(errno));
        r = loop_add(d->loop, fd, 0 /* EPOLLHUP only: the thread receives */, on_listener, l, &l->source);
        if (r < 0) {
                close(fd);
                free(l);
                return r;
        }
        custody_slot_set(&d->custody, slot, l);
        l->next = d->listeners;
        d->listeners = l;
        d->n_listeners++;
        e->enrolled++;
        *ret = l;
        return 0;
}

int notify_listener_start(struct daemon *d, struct listener *l) {
        int r = -pthread_create(&l->thread, &d->thread_attr, listener_thread, l);

        if (r < 0) {
                log_error("listener of %s: no thread: %s; its processes get ENOSYS", l->entry->cgroup, strerror(-r));
                listener_release(d, l, true);
                return r;
        }
        l->started = true;
        return 0;
}

int notify_recover(struct daemon *d, const char *keeper_socket, const char *keeper_binary) {
        d->budgets.judged = records_judged; /* before the first measure, which adoption makes */
        d->budgets.judged_data = d;
        return custody_recover(d, keeper_socket, keeper_binary);
}

void notify_upkeep(struct daemon *d) {
        for (struct listener *l = d->listeners, *next; l; l = next) {
                next = l->next;
                if (atomic_load(&l->broken))
                        listener_release(d, l, true);
        }
        records_upkeep(d);
        container_upkeep(d);
        /* The upkeep runs in the loop, which runs once the measure thread does (main.c): the thread measures. */
        d->remeasure_due = true;
        pthread_cond_signal(&d->remeasure_wake);
}

/* Frees are not intercepted: measure the ledgers that grew since their last measure, and every other one now
 * and then, so that status stops overstating a cgroup whose last calls were frees. Called with d->lock held. */
static void remeasure(struct daemon *d, uint64_t t) {
        for (struct budget_entry *e = d->budgets.entries; e; e = e->next) /* e is pinned while it is measured */
                if (ledger_grew(&e->ledger) || e->ledger.measured_at_usec == 0 ||
                    t - e->ledger.measured_at_usec >= NOTIFY_REMEASURE_USEC)
                        (void) daemon_measure(d, e, t);
}

/* The upkeep's measures on a thread of their own: a measure of a large budget takes seconds (10,000 processes
 * that map shmem, read through smaps: bench-scale), and the loop must go on answering the control socket. */
static void *remeasure_main(void *userdata) {
        struct daemon *d = userdata;

        daemon_relock(d);
        for (;;) {
                while (!d->remeasure_due && !d->remeasure_stopping)
                        pthread_cond_wait(&d->remeasure_wake, &d->lock);
                if (d->remeasure_stopping)
                        break;
                d->remeasure_due = false;
                remeasure(d, now_usec(CLOCK_MONOTONIC));
        }
        daemon_unlock(d);
        return NULL;
}

int notify_remeasure_start(struct daemon *d) {
        int r;

        pthread_cond_init(&d->remeasure_wake, NULL);
        r = pthread_create(&d->remeasure_thread, &d->thread_attr, remeasure_main, d);
        if (r != 0)
                return -r;
        d->remeasure_thread_running = true;
        return 0;
}

void notify_remeasure_stop(struct daemon *d) {
        if (!d->remeasure_thread_running)
                return;
        daemon_relock(d);
        d->remeasure_stopping = true;
        pthread_cond_signal(&d->remeasure_wake);
        daemon_unlock(d);
        pthread_join(d->remeasure_thread, NULL);
        d->remeasure_thread_running = false;
}

void notify_free(struct daemon *d) {
        while (d->listeners)
                listener_release(d, d->listeners, false);
        records_free(d);
        sysv_free(d);
        custody_free(d);
}
