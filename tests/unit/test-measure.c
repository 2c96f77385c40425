/* SPDX-License-Identifier: MIT */
/* lib/measure.c: a process, a set of pids, the host. Over fixture trees laid out like /proc
 * (tests/data/procfs/proc: a leader that called SYS_exit while its thread lives, captured here, plus a kernel
 * thread and a reaped-thread zombie), and over live children of this test: no root needed, as what needs a
 * capability (map_files) is asserted whichever way it went; tests/root/test-measure-kernel.c asserts it as
 * root. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "golden.h"
#include "macro.h"
#include "measure.h"

#define KiB(n) ((uint64_t) (n) *1024)
#define MiB(n) ((uint64_t) (n) << 20)

#define LEADER 23097 /* the zombie leader of the fixture */
#define THREAD 23099 /* its live thread */

static char *fixture_root(const char *name) {
        return test_data_path("procfs", name);
}

static char *print_process(const struct process_commit *p) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        fprintf(f, "pid %d\ntgid %d\nread_tid %d\ncomm %s\ncgroup %s\n", (int) p->pid, (int) p->tgid, (int) p->read_tid,
                p->comm, p->cgroup ? p->cgroup : "(null)");
        fprintf(f, "vm_size_bytes %" PRIu64 "\ncap_sys_admin %d\nobjects_estimated %d\n", p->vm_size_bytes,
                p->cap_sys_admin, p->objects_estimated);
        fprintf(f,
                "accountable_bytes %" PRIu64 "\ndontcopy_accountable_bytes %" PRIu64 "\nnoreserve_bytes %" PRIu64 "\n",
                p->charge.accountable_bytes, p->charge.dontcopy_accountable_bytes, p->charge.noreserve_bytes);
        fprintf(f, "shmem_bytes %" PRIu64 "\nshmem_strict_bytes %" PRIu64 "\n", p->charge.shmem_bytes,
                p->charge.shmem_strict_bytes);
        for (size_t i = 0; i < p->charge.n_shmem; i++) {
                const struct shmem_object *o = &p->charge.shmem[i];
                fprintf(f, "shmem %u:%u %" PRIu64 " kind %d accounting %d size %" PRIu64 " allocated %" PRIu64 " %s\n",
                        major((dev_t) o->dev), minor((dev_t) o->dev), o->inode, (int) o->kind, (int) o->accounting,
                        o->size_bytes, o->allocated_bytes, o->estimated ? "estimated" : "measured");
        }
        assert_int_equal(fclose(f), 0);
        return buf;
}

/* ---- fixtures ---- */

/* The leader's own status has no mm and its smaps is empty; its thread's directory shows the whole mm. */
static void test_leader_exited(void **state) {
        _cleanup_free_ char *root = fixture_root("proc"), *got = NULL, *ok = NULL, *thread_smaps = NULL;
        struct measure_ctx ctx = {.proc_root = root, .shm_dev = makedev(0, 1)};
        struct process_commit p;
        struct smaps_charge direct;
        (void) state;

        assert_int_equal(measure_process(&ctx, LEADER, &p), 0);
        got = print_process(&p);
        ok = fixture_root("measure-leader-exited.ok");
        golden_check(ok, got);

        assert_int_equal(p.pid, LEADER);
        assert_int_equal(p.tgid, LEADER);
        assert_int_equal(p.read_tid, THREAD);
        assert_string_equal(p.comm, "leader2");
        assert_int_equal(p.vm_size_bytes, KiB(51632));
        /* What the thread's smaps holds: 32M private + 8M shared anonymous (tests/data/procfs/leader-exited.c). */
        assert_int_equal(asprintf(&thread_smaps, "%s/%d/task/%d/smaps", root, LEADER, THREAD) > 0, 1);
        assert_int_equal(smaps_read(thread_smaps, &direct), 0);
        assert_int_equal(p.charge.accountable_bytes, direct.accountable_bytes);
        assert_true(p.charge.accountable_bytes >= MiB(32));
        assert_int_equal(p.charge.n_shmem, 1);
        assert_int_equal(p.charge.shmem[0].size_bytes, MiB(8));
        /* No map_files in a fixture (nor for an exited leader on a live system): sized from the mapping. */
        assert_true(p.objects_estimated);
        smaps_charge_done(&direct);
        process_commit_done(&p);
}

static void test_outcomes(void **state) {
        _cleanup_free_ char *root = fixture_root("proc"), *broken = fixture_root("proc-broken");
        struct measure_ctx ctx = {.proc_root = root};
        struct measure_report rep = {.measured = 77};
        struct smaps_charge c = {.accountable_bytes = 77}, want;
        struct process_commit p, *list = NULL;
        size_t n = 0;
        (void) state;

        /* A kernel thread (2: Threads 1, no mm) and a zombie without threads (99) are gone, as is a pid that
         * is not there. */
        assert_int_equal(measure_process(&ctx, 2, &p), -ESRCH);
        assert_int_equal(measure_process(&ctx, 99, &p), -ESRCH);
        assert_int_equal(measure_process(&ctx, 12345, &p), -ESRCH);
        assert_int_equal(measure_process(&ctx, 0, &p), -EINVAL);
        assert_int_equal(measure_process(&ctx, LEADER, NULL), -EINVAL);

        /* The leader and its thread are one group, measured once. */
        assert_int_equal(measure_process(&ctx, LEADER, &p), 0);
        want = p.charge;
        p.charge = (struct smaps_charge){0};
        process_commit_done(&p);
        static const pid_t pids[] = {THREAD, 2, LEADER, 99, 12345, THREAD};
        assert_int_equal(measure_pids(&ctx, pids, ELEMENTSOF(pids), &c, &rep), 0);
        assert_int_equal(rep.measured, 1);
        assert_int_equal(rep.gone, 3);
        assert_int_equal(rep.estimated, 1);
        assert_int_equal(rep.n_unreadable, 0);
        assert_int_equal(c.accountable_bytes, want.accountable_bytes);
        assert_int_equal(c.shmem_bytes, want.shmem_bytes);
        assert_int_equal(c.n_shmem, 1);
        smaps_charge_done(&c);
        measure_report_done(&rep);
        measure_report_done(&rep);
        measure_report_done(NULL);

        /* No pids: an empty charge. The report may be left out. */
        assert_int_equal(measure_pids(&ctx, NULL, 0, &c, NULL), 0);
        assert_int_equal(c.accountable_bytes, 0);
        assert_int_equal(measure_pids(&ctx, NULL, 1, &c, NULL), -EINVAL);

        /* The host: every numbered directory; the thread's own entry (real /proc hides it) is gone here. */
        assert_int_equal(measure_host(&ctx, COMMIT_MODE_NEVER, &list, &n, &c, &rep), 0);
        assert_int_equal(n, 1);
        assert_int_equal(list[0].pid, LEADER);
        assert_int_equal(rep.measured, 1);
        assert_int_equal(rep.gone, 3);
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_NEVER), smaps_charge_bytes(&want, COMMIT_MODE_NEVER));
        process_commits_free(list, n);
        smaps_charge_done(&c);
        measure_report_done(&rep);

        /* Any other error fails the call and writes nothing. */
        ctx.proc_root = broken;
        c.accountable_bytes = 77;
        static const pid_t one[] = {98};
        assert_int_equal(measure_pids(&ctx, one, 1, &c, &rep), -EISDIR);
        assert_int_equal(c.accountable_bytes, 77);
        assert_int_equal(rep.measured, 0);
        assert_int_equal(measure_host(&ctx, COMMIT_MODE_GUESS, &list, &n, &c, NULL), -EISDIR);
        smaps_charge_done(&want);
}

/* ---- live children ---- */

static int report_pipe[2];

static void *sleeper(void *arg) {
        (void) arg;
        for (;;)
                pause();
        return NULL;
}

/* A child that maps 32M private writable and 8M shared anonymous memory (cut to its first page), starts a
 * thread and ends its leader with SYS_exit. */
static pid_t start_leader_exited(void) {
        pid_t pid;

        assert_int_equal(pipe(report_pipe), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                pthread_t t;
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                char *shared = mmap(NULL, MiB(8), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
                if (mmap(NULL, MiB(32), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ||
                    shared == MAP_FAILED || munmap(shared + 4096, MiB(8) - 4096) < 0 ||
                    pthread_create(&t, NULL, sleeper, NULL) != 0)
                        _exit(2);
                (void) !write(report_pipe[1], "x", 1);
                syscall(SYS_exit, 0);
        }
        close(report_pipe[1]);
        char x;
        assert_int_equal(read(report_pipe[0], &x, 1), 1);
        close(report_pipe[0]);
        return pid;
}

static bool leader_is_zombie(pid_t pid) {
        char path[64], *buf = NULL;
        bool z;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        if (fileio_read_full(path, FILEIO_MAX_BYTES, &buf, NULL) < 0)
                return false;
        z = strstr(buf, "State:\tZ") != NULL;
        free(buf);
        return z;
}

/* Whether this process may stat() /proc/PID/map_files entries (CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN). */
static bool may_read_map_files(void) {
        char path[128];
        struct stat st;
        FILE *f = fopen("/proc/self/maps", "re");
        unsigned long lo = 0, hi = 0;
        bool ok;

        char line[512];
        unsigned long inode = 0;

        assert_non_null(f);
        /* A file's mapping: an anonymous one (ASan's shadow comes first under the sanitizers) has no entry. */
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &inode) == 3 && inode != 0)
                        break;
        fclose(f);
        assert_int_not_equal(inode, 0);
        snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", lo, hi);
        ok = stat(path, &st) == 0;
        return ok;
}

static void test_live_leader_exited(void **state) {
        struct measure_report rep;
        struct process_commit p;
        struct smaps_charge c;
        pid_t pid = start_leader_exited();
        (void) state;

        for (int i = 0; i < 1000 && !leader_is_zombie(pid); i++)
                usleep(1000);
        assert_true(leader_is_zombie(pid));

        assert_int_equal(measure_process(NULL, pid, &p), 0);
        assert_int_equal(p.tgid, pid);
        assert_true(p.read_tid > 0 && p.read_tid != pid);
        assert_true(p.charge.accountable_bytes >= MiB(32));
        /* The shared object is measured through the live thread's /proc/TID/map_files where this test may read
         * map_files at all (root), and seen as its one page otherwise. */
        assert_int_equal(p.charge.n_shmem, 1);
        assert_int_equal(p.charge.shmem[0].size_bytes, may_read_map_files() ? MiB(8) : 4096);
        assert_int_equal(p.objects_estimated, !may_read_map_files());
        process_commit_done(&p);
        assert_int_equal(measure_pids(NULL, &pid, 1, &c, &rep), 0);
        assert_int_equal(rep.measured, 1);
        assert_true(c.accountable_bytes >= MiB(32));
        smaps_charge_done(&c);
        measure_report_done(&rep);

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_int_equal(measure_process(NULL, pid, &p), -ESRCH);
}

static const struct shmem_object *find_object(const struct smaps_charge *c, uint64_t dev, uint64_t inode) {
        for (size_t i = 0; i < c->n_shmem; i++)
                if (c->shmem[i].dev == dev && c->shmem[i].inode == inode && c->shmem[i].kind != SHMEM_SYSV)
                        return &c->shmem[i];
        return NULL;
}

/* What this process holds: a 16M shared anonymous object cut to its first page, a memfd with 8M allocated and
 * never mapped. The memfd is found through fd/ (no capability needed) and measured; the shared anonymous object
 * is measured through map_files/ when this test may (root), else estimated from its one page. */
static void test_live_objects(void **state) {
        struct measure_ctx ctx;
        struct process_commit p;
        const struct shmem_object *o;
        struct stat st_memfd, st_anon = {0};
        char path[128];
        char *anon;
        int memfd;
        (void) state;

        assert_int_equal(measure_ctx_init(&ctx, "/proc"), 0);
        memfd = memfd_create("test-measure", MFD_CLOEXEC);
        assert_true(memfd >= 0);
        assert_int_equal(fstat(memfd, &st_memfd), 0);
        assert_int_equal(ctx.shm_dev, (uint64_t) st_memfd.st_dev);
        assert_int_equal(fallocate(memfd, 0, 0, (off_t) MiB(8)), 0);

        anon = mmap(NULL, MiB(16), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(anon != MAP_FAILED);
        assert_int_equal(munmap(anon + 4096, MiB(16) - 4096), 0);
        snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long) anon, (unsigned long) anon + 4096);
        bool may_map_files = stat(path, &st_anon) == 0;
        if (!may_map_files)
                print_message("map_files/: %s: shared anonymous objects estimated\n", strerror(errno));

        assert_int_equal(measure_process(&ctx, getpid(), &p), 0);
        o = find_object(&p.charge, st_memfd.st_dev, st_memfd.st_ino);
        if (!o) {
                fail_msg("the memfd is not in the charge");
                return;
        }
        assert_int_equal(o->kind, SHMEM_FILE);
        assert_int_equal(o->accounting, SHMEM_PAGES);
        assert_false(o->estimated);
        assert_int_equal(o->allocated_bytes, MiB(8));
        assert_int_equal(shmem_object_charge(o, COMMIT_MODE_GUESS), MiB(8));

        o = find_object(&p.charge, st_anon.st_dev, st_anon.st_ino);
        for (size_t i = 0; !may_map_files && i < p.charge.n_shmem; i++)
                if (p.charge.shmem[i].kind == SHMEM_SHARED_ANON && p.charge.shmem[i].allocated_bytes == 4096)
                        o = &p.charge.shmem[i]; /* its inode unknown to us too */
        if (!o) {
                fail_msg("the shared anonymous object is not in the charge");
                return;
        }
        assert_int_equal(o->kind, SHMEM_SHARED_ANON);
        assert_int_equal(o->estimated, !may_map_files);
        assert_int_equal(p.objects_estimated, !may_map_files);
        assert_int_equal(o->size_bytes, may_map_files ? MiB(16) : 4096);
        process_commit_done(&p);

        /* private_only: no fd walk, so the unmapped memfd is not seen. */
        ctx.private_only = true;
        assert_int_equal(measure_process(&ctx, getpid(), &p), 0);
        assert_null(find_object(&p.charge, st_memfd.st_dev, st_memfd.st_ino));
        process_commit_done(&p);

        assert_int_equal(munmap(anon, 4096), 0);
        assert_int_equal(close(memfd), 0);
}

/* A process we may not read is skipped and reported, the others measured (PID 1's smaps is EACCES even to root
 * on the development VM; elsewhere PID 1 may be readable, and the case is not there to test). */
static void test_live_unreadable(void **state) {
        struct measure_report rep;
        struct process_commit p;
        struct smaps_charge c;
        pid_t pids[] = {1, getpid()};
        int r = measure_process(NULL, 1, &p);
        (void) state;

        if (r == 0) {
                process_commit_done(&p);
                skip();
        }
        assert_true(r == -EACCES || r == -EPERM);
        assert_int_equal(measure_pids(NULL, pids, ELEMENTSOF(pids), &c, &rep), 0);
        assert_int_equal(rep.measured, 1);
        assert_int_equal(rep.n_unreadable, 1);
        assert_int_equal(rep.unreadable[0].pid, 1);
        assert_int_equal(rep.unreadable[0].error, r);
        assert_true(c.accountable_bytes > 0);
        smaps_charge_done(&c);
        measure_report_done(&rep);
}

/* Which unreadable process fails a measure: one the caller judges; the others it may leave out. */
static void test_report_blocking(void **state) {
        struct measure_skip skipped[] = {{.pid = 1, .error = -EACCES}, {.pid = 42, .error = -EPERM}};
        struct measure_report rep = {.unreadable = skipped, .n_unreadable = ELEMENTSOF(skipped)};
        pid_t judged[] = {7, 42}, others[] = {7, 8};
        (void) state;

        assert_ptr_equal(measure_report_blocking(&rep, judged, ELEMENTSOF(judged)), &skipped[1]);
        assert_null(measure_report_blocking(&rep, others, ELEMENTSOF(others)));
        assert_null(measure_report_blocking(&rep, NULL, 0));
        rep.n_unreadable = 0;
        assert_null(measure_report_blocking(&rep, judged, ELEMENTSOF(judged)));
        assert_null(measure_report_blocking(NULL, judged, ELEMENTSOF(judged)));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_leader_exited),      cmocka_unit_test(test_outcomes),
                cmocka_unit_test(test_live_leader_exited), cmocka_unit_test(test_live_objects),
                cmocka_unit_test(test_live_unreadable),    cmocka_unit_test(test_report_blocking),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
