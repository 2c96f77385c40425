/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

/* One epoll loop over the control socket, its clients, every listener fd and the timers. A handler gets
 * the epoll events of its fd; it may remove any source, its own included. */
struct loop;
struct loop_source;
typedef void (*loop_handler_t)(struct loop_source *s, uint32_t events, void *userdata);

int loop_new(struct loop **ret);
/* Removes every source still in the loop (closing its fd, as loop_remove() does), then frees the loop. */
void loop_free(struct loop *l);
int loop_add(struct loop *l, int fd, uint32_t events, loop_handler_t handler, void *userdata, struct loop_source **ret);
/* Removes the source from the loop and closes its fd. Safe inside handlers. */
void loop_remove(struct loop *l, struct loop_source *s);
int loop_source_fd(const struct loop_source *s);
/* The loop holds lock while it runs a handler and releases it between handlers and while it sleeps; while
 * *waiters (threads waiting for the lock, which count themselves) is not zero it lets them go first. */
void loop_set_lock(struct loop *l, pthread_mutex_t *lock, atomic_uint *waiters);
/* Runs until loop_quit(); returns 0, or -errno of epoll_wait. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);
