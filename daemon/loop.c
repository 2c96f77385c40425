/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

struct loop_source {
        int fd;
        loop_handler_t handler;
        void *userdata;
        bool removed;
        struct loop_source *next_dead;
        struct loop_source *prev, *next; /* every source not yet freed: loop_free() frees what is left */
};

struct loop {
        int epoll_fd;
        bool quit;
        struct loop_source *dead; /* removed during a dispatch round; freed after it */
        struct loop_source *sources;
        pthread_mutex_t *lock;
        atomic_uint *waiters;
};

void loop_set_lock(struct loop *l, pthread_mutex_t *lock, atomic_uint *waiters) {
        l->lock = lock;
        l->waiters = waiters;
}

/* Listener threads go first: each of them holds up a process's system call, while the loop's work (control
 * clients, upkeep) can wait. glibc's mutex lets a thread that just unlocked take it again before a woken
 * waiter does, so a loop busy with clients would starve them; it steps aside while any wait, for at most
 * LOOP_YIELD_MAX_USEC of the clock so that it cannot be starved either. (Counted in steps, as it was, a 10 us
 * sleep lasts milliseconds on a busy host, and the loop stepped aside for tens of: status p99 50 ms under
 * bench-load.) */
#define LOOP_YIELD_STEP_NSEC 10000
#define LOOP_YIELD_MAX_USEC  1000

static void lock(struct loop *l) {
        if (l->waiters && atomic_load(l->waiters) > 0) {
                uint64_t until = now_usec(CLOCK_MONOTONIC) + LOOP_YIELD_MAX_USEC;
                while (atomic_load(l->waiters) > 0 && now_usec(CLOCK_MONOTONIC) < until)
                        nanosleep(&(struct timespec){0, LOOP_YIELD_STEP_NSEC}, NULL);
        }
        pthread_mutex_lock(l->lock);
}

int loop_new(struct loop **ret) {
        struct loop *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epoll_fd < 0) {
                int r = -errno;
                free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static void free_dead(struct loop *l) {
        while (l->dead) {
                struct loop_source *s = l->dead;
                l->dead = s->next_dead;
                if (s->prev)
                        s->prev->next = s->next;
                else
                        l->sources = s->next;
                if (s->next)
                        s->next->prev = s->prev;
                free(s);
        }
}

void loop_free(struct loop *l) {
        if (!l)
                return;
        for (struct loop_source *s = l->sources; s; s = s->next)
                loop_remove(l, s);
        free_dead(l);
        close(l->epoll_fd);
        free(l);
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_handler_t handler, void *userdata,
             struct loop_source **ret) {
        struct loop_source *s = calloc(1, sizeof(*s));
        struct epoll_event ev = {.events = events};

        if (!s)
                return -ENOMEM;
        *s = (struct loop_source){.fd = fd, .handler = handler, .userdata = userdata};
        ev.data.ptr = s;
        if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                free(s);
                return r;
        }
        s->next = l->sources;
        if (s->next)
                s->next->prev = s;
        l->sources = s;
        if (ret)
                *ret = s;
        return 0;
}

void loop_remove(struct loop *l, struct loop_source *s) {
        if (!s || s->removed)
                return;
        (void) epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->removed = true;
        s->next_dead = l->dead;
        l->dead = s;
}

int loop_source_fd(const struct loop_source *s) {
        return s->fd;
}

int loop_run(struct loop *l) {
        struct epoll_event events[64];

        while (!l->quit) {
                int n = epoll_wait(l->epoll_fd, events, 64, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                /* The lock per event, not per round: listener threads get it between two handlers. */
                for (int i = 0; i < n; i++) {
                        struct loop_source *s = events[i].data.ptr;
                        if (l->lock)
                                lock(l);
                        if (!s->removed) /* an earlier handler of this round may have removed it */
                                s->handler(s, events[i].events, s->userdata);
                        if (l->lock)
                                pthread_mutex_unlock(l->lock);
                }
                if (l->lock)
                        pthread_mutex_lock(l->lock);
                free_dead(l);
                if (l->lock)
                        pthread_mutex_unlock(l->lock);
        }
        return 0;
}

void loop_quit(struct loop *l) {
        l->quit = true;
}
