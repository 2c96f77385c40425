/* SPDX-License-Identifier: MIT */
/* ociexec SOCKET CONTAINER-ID [POLICY]: poses as a runtime handing commitd's OCI agent a container process. It
 * loads a filter that notifies mmap, hands its listener over with a state of the id and, without POLICY,
 * "pid": 0 (crun's exec into that container), with POLICY its own pid and the annotation io.commitd.policy
 * (a container whose process is this one), then maps 1 MiB twice and prints what each mmap returned:
 * "MMAP OK", "MMAP ENOMEM" or "MMAP ENOSYS" (no one holds the listener: refused at enrollment). Between loading the
 * filter and the mmaps it makes no call the filter notifies (write(2) only; nothing of stdio allocates). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <seccomp.h>

static void say(const char *s) {
        ssize_t r = write(STDOUT_FILENO, s, strlen(s));
        (void) r;
}

static int send_listener(const char *path, const char *state, int fd) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {0};
        struct iovec iov = {.iov_base = (void *) state, .iov_len = strlen(state)};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        int s;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        memcpy(sa.sun_path, path, strlen(path));
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0 || sendmsg(s, &m, 0) < 0)
                return -1;
        return close(s);
}

int main(int argc, char **argv) {
        static char state[2048];
        scmp_filter_ctx ctx;
        int fd;

        if (argc != 3 && argc != 4) {
                fprintf(stderr, "usage: ociexec SOCKET CONTAINER-ID [POLICY]\n");
                return 2;
        }
        snprintf(state, sizeof(state),
                 "{\"ociVersion\": \"1.0.2\", \"fds\": [\"seccompFd\"], \"pid\": %d, \"metadata\": \"\", "
                 "\"state\": {\"ociVersion\": \"1.0.2\", \"id\": \"%s\", \"status\": \"creating\", \"pid\": %d, "
                 "\"bundle\": \"/nonexistent\", \"annotations\": {\"io.commitd.policy\": \"%s\"}}}",
                 argc == 4 ? (int) getpid() : 0, argv[2], argc == 4 ? (int) getpid() : 1, argc == 4 ? argv[3] : "");
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mmap), 0) < 0 || seccomp_load(ctx) < 0) {
                perror("ociexec: seccomp");
                return 1;
        }
        fd = seccomp_notify_fd(ctx);
        if (fd < 0 || send_listener(argv[1], state, fd) < 0) {
                say("ociexec: cannot hand the listener over\n");
                return 1;
        }
        close(fd);
        for (int i = 0; i < 2; i++) {
                void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                say(p != MAP_FAILED   ? "MMAP OK\n"
                    : errno == ENOMEM ? "MMAP ENOMEM\n"
                    : errno == ENOSYS ? "MMAP ENOSYS\n"
                                      : "MMAP other\n");
        }
        return 0;
}
