/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "commitd.h"
#include "log.h"
#include "slowread.h"

struct slowread_job {
        void (*fn)(void *arg);
        void *arg;
        bool done;
        struct slowread_job *next;
};

static void *slowread_main(void *userdata) {
        struct slowread *q = userdata;

        /* This thread only: setpriority() with PRIO_PROCESS and a tid acts on the one thread. */
        if (setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), SLOWREAD_NICE) < 0)
                log_debug("slow reads at nice %d: %m", SLOWREAD_NICE);
        pthread_mutex_lock(&q->lock);
        for (;;) {
                struct slowread_job *j;
                while (!q->head && !q->stopping)
                        pthread_cond_wait(&q->queued, &q->lock);
                if (!q->head)
                        break;
                j = q->head;
                q->head = j->next;
                if (!q->head)
                        q->tail = &q->head;
                pthread_mutex_unlock(&q->lock);
                j->fn(j->arg);
                pthread_mutex_lock(&q->lock);
                j->done = true;
                pthread_cond_broadcast(&q->done);
        }
        pthread_mutex_unlock(&q->lock);
        return NULL;
}

void slowread_init(struct daemon *d) {
        struct slowread *q = &d->slowread;

        pthread_mutex_init(&q->lock, NULL);
        pthread_cond_init(&q->queued, NULL);
        pthread_cond_init(&q->done, NULL);
        q->head = NULL;
        q->tail = &q->head;
        q->n_threads = 0;
        q->stopping = false;
}

int slowread_start(struct daemon *d) {
        struct slowread *q = &d->slowread;

        for (unsigned i = 0; i < SLOWREAD_THREADS; i++) {
                int r = pthread_create(&q->threads[i], &d->thread_attr, slowread_main, q);
                if (r != 0) {
                        slowread_stop(d);
                        return -r;
                }
                pthread_mutex_lock(&q->lock);
                q->n_threads = i + 1;
                pthread_mutex_unlock(&q->lock);
        }
        return 0;
}

void slowread_stop(struct daemon *d) {
        struct slowread *q = &d->slowread;

        unsigned n;

        pthread_mutex_lock(&q->lock);
        q->stopping = true;
        n = q->n_threads;
        pthread_cond_broadcast(&q->queued);
        pthread_mutex_unlock(&q->lock);
        for (unsigned i = 0; i < n; i++)
                pthread_join(q->threads[i], NULL);
}

void slowread_run(struct daemon *d, void (*fn)(void *arg), void *arg) {
        struct slowread *q = &d->slowread;
        struct slowread_job j = {.fn = fn, .arg = arg};

        daemon_unlock(d);
        pthread_mutex_lock(&q->lock);
        if (q->n_threads == 0 || q->stopping) {
                pthread_mutex_unlock(&q->lock);
                fn(arg);
        } else {
                *q->tail = &j;
                q->tail = &j.next;
                pthread_cond_signal(&q->queued);
                while (!j.done)
                        pthread_cond_wait(&q->done, &q->lock);
                pthread_mutex_unlock(&q->lock);
        }
        daemon_relock(d);
}
