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

struct job {
        void (*fn)(void *arg);
        void *arg;
        bool done;
        struct job *next;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER, done_cond = PTHREAD_COND_INITIALIZER;
static struct job *queue_head, **queue_tail = &queue_head;
static pthread_t threads[SLOWREAD_THREADS];
static unsigned n_threads;
static bool stopping;

static void *slowread_main(void *unused) {
        (void) unused;
        /* This thread only: setpriority() with PRIO_PROCESS and a tid acts on the one thread. */
        if (setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), SLOWREAD_NICE) < 0)
                log_debug("slow reads at nice %d: %m", SLOWREAD_NICE);
        pthread_mutex_lock(&queue_lock);
        for (;;) {
                struct job *j;
                while (!queue_head && !stopping)
                        pthread_cond_wait(&queue_cond, &queue_lock);
                if (!queue_head)
                        break;
                j = queue_head;
                queue_head = j->next;
                if (!queue_head)
                        queue_tail = &queue_head;
                pthread_mutex_unlock(&queue_lock);
                j->fn(j->arg);
                pthread_mutex_lock(&queue_lock);
                j->done = true;
                pthread_cond_broadcast(&done_cond);
        }
        pthread_mutex_unlock(&queue_lock);
        return NULL;
}

int slowread_start(struct daemon *d) {
        for (unsigned i = 0; i < SLOWREAD_THREADS; i++) {
                int r = pthread_create(&threads[i], &d->thread_attr, slowread_main, NULL);
                if (r != 0) {
                        slowread_stop(d);
                        return -r;
                }
                n_threads = i + 1;
        }
        return 0;
}

void slowread_stop(struct daemon *d) {
        (void) d;
        pthread_mutex_lock(&queue_lock);
        stopping = true;
        pthread_cond_broadcast(&queue_cond);
        pthread_mutex_unlock(&queue_lock);
        for (unsigned i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);
        n_threads = 0;
}

void slowread_run(struct daemon *d, void (*fn)(void *arg), void *arg) {
        struct job j = {.fn = fn, .arg = arg};

        daemon_unlock(d);
        pthread_mutex_lock(&queue_lock);
        if (n_threads == 0 || stopping) {
                pthread_mutex_unlock(&queue_lock);
                fn(arg);
        } else {
                *queue_tail = &j;
                queue_tail = &j.next;
                pthread_cond_signal(&queue_cond);
                while (!j.done)
                        pthread_cond_wait(&done_cond, &queue_lock);
                pthread_mutex_unlock(&queue_lock);
        }
        daemon_relock(d);
}
