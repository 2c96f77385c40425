/* SPDX-License-Identifier: MIT */
/* The BPF task_vma iterator (daemon/vmaiter.c) against smaps: for processes of every shape this test makes
 * (private writable and read-only, written then made read-only, MAP_NORESERVE, MADV_DONTFORK, private file
 * mappings, a fork's copy, 20,000 small areas, threads) the measure through the iterator equals the measure through
 * smaps, field by field; a process that maps shmem (shared anonymous, memfd) is refused by the iterator and
 * measured through smaps. Also loads the iterator and runs it after dropping to commitd's runtime capabilities. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "measure.h"
#include "root-test.h"
#include "vmaiter.h"

enum shape { PLAIN, MANY_AREAS, THREADS, SHMEM, _SHAPE_MAX };

static void *idle(void *unused) {
        (void) unused;
        for (;;)
                pause();
        return NULL;
}

/* A child of the given shape, stopped in pause() once its areas are made; its pid. */
static pid_t child(enum shape shape) {
        int p[2];
        pid_t pid;
        char c;

        if (pipe(p) < 0)
                return -1;
        pid = fork();
        if (pid != 0) {
                close(p[1]);
                if (pid > 0 && read(p[0], &c, 1) != 1)
                        pid = -1;
                close(p[0]);
                return pid;
        }
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
                _exit(0);
        char *a = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mmap(NULL, 4 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        char *w = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mprotect(w, 2 << 20, PROT_READ); /* still accountable */
        madvise(a, 1 << 20, MADV_DONTFORK);
        int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (shape == MANY_AREAS)
                for (int i = 0; i < 20000; i++)
                        mmap(NULL, 4096, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                             0);
        if (shape == THREADS) /* the iterator walks every thread: each mm must count once */
                for (int i = 0; i < 3; i++) {
                        pthread_t t;
                        pthread_create(&t, NULL, idle, NULL);
                }
        if (shape == SHMEM)
                mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pid_t self = getpid();
        if (fork() == 0) { /* a copy: the fork's charge, in a process of its own */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != self) /* its parent died before the line above: nobody would end it */
                        _exit(0);
                for (;;)
                        pause();
        }
        if (write(p[1], "x", 1) != 1)
                _exit(1);
        for (;;)
                pause();
}

/* The iterator, counting the processes it gave the areas of (and did not leave to smaps). */
struct counted {
        struct vmaiter *v;
        unsigned used;
};

static int counting(void *data, pid_t tid, smaps_area_fn fn, void *userdata) {
        struct counted *c = data;
        int r = vmaiter_areas(c->v, tid, fn, userdata);

        if (r != -EOPNOTSUPP)
                c->used++;
        return r;
}

int main(void) {
        struct counted it = {0};
        struct measure_ctx text, bpf;
        int r = root_test_require_root();

        if (r >= 0)
                return r;
        CHECK(measure_ctx_init(&text, "/proc") == 0, "measure_ctx_init");
        r = vmaiter_open(&it.v);
        CHECK(r == 0, "the iterator does not load: %s", strerror(-r));
        if (r < 0)
                return 1;
        /* commitd's runtime capabilities only, as after its setup. */
        cap_t caps = cap_from_text("cap_sys_ptrace,cap_dac_override,cap_checkpoint_restore=ep");
        CHECK(caps && cap_set_proc(caps) == 0, "cannot drop to commitd's runtime capabilities");
        cap_free(caps);
        bpf = text;
        bpf.areas = counting;
        bpf.areas_data = &it;

        for (int shape = 0; shape < _SHAPE_MAX; shape++)
                for (int private_only = 0; private_only < 2; private_only++) {
                        struct process_commit a, b;
                        unsigned used = it.used;
                        pid_t pid = child((enum shape) shape);
                        CHECK(pid > 0, "child");
                        if (pid <= 0)
                                continue;
                        text.private_only = bpf.private_only = private_only;
                        CHECK(measure_process(&text, pid, &a) == 0, "smaps measure of shape %d", shape);
                        CHECK(measure_process(&bpf, pid, &b) == 0, "iterator measure of shape %d", shape);
                        CHECK(smaps_charge_equal(&a.charge, &b.charge),
                              "shape %d: smaps ac %" PRIu64 " dc %" PRIu64 " nr %" PRIu64 " shmem %" PRIu64
                              ", iterator ac %" PRIu64 " dc %" PRIu64 " nr %" PRIu64 " shmem %" PRIu64,
                              shape, a.charge.accountable_bytes, a.charge.dontcopy_accountable_bytes,
                              a.charge.noreserve_bytes, a.charge.shmem_bytes, b.charge.accountable_bytes,
                              b.charge.dontcopy_accountable_bytes, b.charge.noreserve_bytes, b.charge.shmem_bytes);
                        CHECK(a.charge.accountable_bytes >= (8u << 20),
                              "shape %d: %" PRIu64 " bytes accountable, too little", shape, a.charge.accountable_bytes);
                        /* The iterator gave the areas, except where shmem is mapped. */
                        CHECK((it.used > used) == (shape != SHMEM), "shape %d: iterator used %u times", shape,
                              it.used - used);
                        printf("shape %d%s: accountable %" PRIu64 ", equal: %s, through the %s\n", shape,
                               private_only ? " (private only)" : "", b.charge.accountable_bytes,
                               smaps_charge_equal(&a.charge, &b.charge) ? "yes" : "NO",
                               it.used > used ? "iterator" : "smaps");
                        process_commit_done(&a);
                        process_commit_done(&b);
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                }
        vmaiter_close(it.v);
        return root_test_failures ? 1 : 0;
}
