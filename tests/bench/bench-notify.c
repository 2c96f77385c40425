/* SPDX-License-Identifier: MIT */
/* Per-call cost of an intercepted mmap+munmap, measured in one invocation so the ratios compare like with
 * like on this machine:
 *   none       no filter
 *   floor      commitd's filter answered by a minimal responder that only says CONTINUE: the mechanism
 *   commitd    commitd with a strict budget far from its limit (enrolled with `commitctl run`)
 * and the cost of calls the filter does not notify (MAP_SHARED file mappings, read-only mappings) with the
 * filter loaded, against no filter. Each setup runs in a fresh child, ROUNDS times interleaved; the median
 * is reported. Not a test: it prints numbers, it asserts nothing.
 *
 * Usage: bench-notify COMMITD COMMITCTL [ITERATIONS]     (as root) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "filter.h"

#define ROUNDS 7
#define LEN    (64 * 1024)

enum kind { NOTIFIED, SHARED_FILE, READ_ONLY };

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}

/* The loop being measured: ns per mmap+munmap pair. */
static double run_loop(enum kind k, long n) {
        int fd = -1;
        uint64_t t0;

        if (k == SHARED_FILE) {
                char path[] = "/tmp/bench-notify.XXXXXX";
                fd = mkstemp(path);
                if (fd < 0 || ftruncate(fd, LEN) < 0)
                        return -1;
                unlink(path);
        }
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
                void *p = k == NOTIFIED ? mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                          : k == SHARED_FILE ? mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                                             : mmap(NULL, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        return -1;
                munmap(p, LEN);
        }
        return (double) (now_ns() - t0) / (double) n;
}

static void *responder(void *arg) {
        int fd = (int) (intptr_t) arg;
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;

        if (seccomp_notify_alloc(&req, &resp) < 0)
                return NULL;
        /* The same wake-up mode commitd asks for (Linux 6.6+), so the floor is like for like. */
        (void) ioctl(fd, SECCOMP_IOW(4, __u64), 1UL); /* SET_FLAGS, SYNC_WAKE_UP: by value */
        for (;;) {
                memset(req, 0, sizeof(*req));
                if (seccomp_notify_receive(fd, req) < 0) {
                        if (errno == EINTR)
                                continue;
                        break; /* every task that used the filter is gone */
                }
                resp->id = req->id;
                resp->error = 0;
                resp->val = 0;
                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                (void) seccomp_notify_respond(fd, resp);
        }
        seccomp_notify_free(req, resp);
        return NULL;
}

/* Runs the loop in a child: with no filter, or with the filter and a responder thread in this process. */
static double child_loop(enum kind k, long n, int with_filter) {
        int out[2], sv[2];
        pid_t pid;
        double v = -1;

        if (pipe(out) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                if (with_filter) {
                        scmp_filter_ctx ctx;
                        int lfd;
                        char c = 0;
                        if (filter_build(&ctx) < 0 || seccomp_load(ctx) < 0)
                                _exit(1);
                        lfd = seccomp_notify_fd(ctx);
                        union {
                                struct cmsghdr a;
                                char b[CMSG_SPACE(sizeof(int))];
                        } u;
                        struct iovec iov = {&c, 1};
                        struct msghdr m = {
                                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &u, .msg_controllen = sizeof(u)};
                        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
                        cm->cmsg_level = SOL_SOCKET;
                        cm->cmsg_type = SCM_RIGHTS;
                        cm->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(cm), &lfd, sizeof(int));
                        if (sendmsg(sv[1], &m, 0) < 0)
                                _exit(1);
                        close(lfd);
                        if (read(sv[1], &c, 1) != 1) /* the responder runs */
                                _exit(1);
                }
                v = run_loop(k, n);
                (void) !write(out[1], &v, sizeof(v));
                _exit(0);
        }
        close(out[1]);
        close(sv[1]);
        if (with_filter) {
                char c = 0;
                int lfd = -1;
                union {
                        struct cmsghdr a;
                        char b[CMSG_SPACE(sizeof(int))];
                } u;
                struct iovec iov = {&c, 1};
                struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &u, .msg_controllen = sizeof(u)};
                pthread_t t;
                if (recvmsg(sv[0], &m, 0) > 0 && CMSG_FIRSTHDR(&m))
                        memcpy(&lfd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
                if (lfd < 0 || pthread_create(&t, NULL, responder, (void *) (intptr_t) lfd) != 0)
                        return -1;
                pthread_detach(t);
                (void) !write(sv[0], "g", 1);
        }
        if (read(out[0], &v, sizeof(v)) != sizeof(v))
                v = -1;
        close(out[0]);
        close(sv[0]);
        waitpid(pid, NULL, 0);
        return v;
}

/* Runs the loop in a child enrolled in commitd by `commitctl run`: this program re-executed as the child. */
static double commitd_loop(const char *commitctl, const char *self, const char *cgroup, long n) {
        char cmd[8192 + 256];
        double v = -1;
        FILE *f;

        if (snprintf(cmd, sizeof(cmd), "%s run --cgroup %s -- %s --child %ld", commitctl, cgroup, self, n) >=
            (int) sizeof(cmd))
                return -1;
        f = popen(cmd, "r");
        if (!f || fscanf(f, "%lf", &v) != 1)
                v = -1;
        if (f)
                pclose(f);
        return v;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static double median(double *v) {
        qsort(v, ROUNDS, sizeof(double), cmp_double);
        return v[ROUNDS / 2];
}

int main(int argc, char **argv) {
        char dir[] = "/tmp/bench-notify.XXXXXX", sock[256], oci[256], pol[512], state[256], self[4096];
        double none[ROUNDS], floor_[ROUNDS], cd[ROUNDS], shared_none[ROUNDS], shared_f[ROUNDS], ro_none[ROUNDS],
                ro_f[ROUNDS];
        long n = argc > 3 ? atol(argv[3]) : 20000;
        char cgroup[64];
        pid_t daemon;
        FILE *f;

        if (argc >= 3 && strcmp(argv[1], "--child") == 0) {
                printf("%f\n", run_loop(NOTIFIED, atol(argv[2])));
                return 0;
        }
        if (argc < 3 || geteuid() != 0) {
                fprintf(stderr, "usage (as root): bench-notify COMMITD COMMITCTL [ITERATIONS]\n");
                return 2;
        }
        if (!mkdtemp(dir) || !realpath("/proc/self/exe", self))
                return 1;
        snprintf(sock, sizeof(sock), "%s/sock", dir);
        snprintf(state, sizeof(state), "%s/state", dir);
        snprintf(oci, sizeof(oci), "%s/oci.sock", dir);
        snprintf(pol, sizeof(pol), "%s/bench.json", dir);
        snprintf(cgroup, sizeof(cgroup), "/commitd-bench-%d", (int) getpid());
        f = fopen(pol, "we");
        if (!f)
                return 1;
        /* strict, far from its limit: every call takes the ledger's fast path */
        fprintf(f, "{\"cgroup\": \"%s\", \"mode\": \"strict\", \"limit\": \"64G\"}\n", cgroup);
        fclose(f);
        daemon = fork();
        if (daemon == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDERR_FILENO);
                execl(argv[1], argv[1], "--foreground", "--socket", sock, "--oci-socket", oci, "--policy-dir", dir,
                      "--state-dir", state, "--log-level", "warning", (char *) NULL);
                _exit(127);
        }
        setenv("COMMITD_SOCKET", sock, 1);
        for (int i = 0; i < 100 && access(sock, F_OK) < 0; i++)
                usleep(50000);

        for (int r = 0; r < ROUNDS; r++) {
                /* Un-notified calls are ~10x cheaper: 10x as many, so each sample lasts as long. */
                none[r] = child_loop(NOTIFIED, 10 * n, 0);
                floor_[r] = child_loop(NOTIFIED, n, 1);
                cd[r] = commitd_loop(argv[2], self, cgroup, n);
                shared_none[r] = child_loop(SHARED_FILE, 10 * n, 0);
                shared_f[r] = child_loop(SHARED_FILE, 10 * n, 1);
                ro_none[r] = child_loop(READ_ONLY, 10 * n, 0);
                ro_f[r] = child_loop(READ_ONLY, 10 * n, 1);
        }
        kill(daemon, SIGTERM);
        waitpid(daemon, NULL, 0);
        {
                char path[512];
                snprintf(path, sizeof(path), "/sys/fs/cgroup/unified%s", cgroup);
                rmdir(path);
                snprintf(path, sizeof(path), "rm -rf %s", dir);
                (void) !system(path);
        }

        double a = median(none), b = median(floor_), c = median(cd), d = median(shared_none), e = median(shared_f),
               g = median(ro_none), h = median(ro_f);
        if (a <= 0 || b <= 0 || c <= 0 || d <= 0 || e <= 0 || g <= 0 || h <= 0) {
                fprintf(stderr, "bench-notify: a setup failed (none %.0f floor %.0f commitd %.0f)\n", a, b, c);
                return 1;
        }
        printf("mmap+munmap of 64 KiB, %ld calls x %d rounds, median ns per pair\n", n, ROUNDS);
        printf("  notified, no filter          %8.0f ns\n", a);
        printf("  notified, CONTINUE responder %8.0f ns   (floor of the mechanism: %.1fx no filter)\n", b, b / a);
        printf("  notified, commitd strict     %8.0f ns   commitd/floor = %.2fx (target <= 1.2x)\n", c, c / b);
        printf("  MAP_SHARED file, filter      %8.0f ns   filter/none = %.3fx (target <= 1.05x)\n", e, e / d);
        printf("  read-only anon, filter       %8.0f ns   filter/none = %.3fx (target <= 1.05x)\n", h, h / g);
        return 0;
}
