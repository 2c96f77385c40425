/* SPDX-License-Identifier: MIT */
/* For enroll-peer.sh: an enroll sent on a connection whose connector has exited, after the kernel gave the
 * connector's pid to another process. commitd must move the process that connected or nobody, never the
 * pid's new holder.
 *   peerpid SOCKET CGROUP
 * A child connects to commitd's SOCKET, asks for status (so commitd has accepted the connection while the child
 * lived), passes the connected socket to this process (SCM_RIGHTS) and exits; once it is reaped, clone3()
 * with set_tid makes a "victim" with the very same pid. Then a seccomp listener
 * (of a filter that notifies nothing anyone calls) goes to commitd with an enroll into CGROUP, on the dead
 * connector's connection. Prints "CONNECTOR pid", "VICTIM pid", "BEFORE cgroup", "REPLY json" and
 * "AFTER cgroup" (the victim's v2 cgroup before and after the enroll).
 *   peerpid no-pidfd CMD [ARGS...]
 * Execs CMD with getsockopt(SO_PEERPIDFD) failing ENOPROTOOPT (a seccomp filter), as before Linux 6.5: commitd
 * run so takes the peer by SO_PEERCRED's pid and its start time. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
        fprintf(stderr, "peerpid: %s: %s\n", what, strerror(errno));
        exit(1);
}

static void send_with_fd(int sock, const char *buf, size_t len, int fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {0};
        struct iovec iov = {(void *) buf, len};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
                die("sendmsg");
}

static int recv_fd(int sock) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        char byte;
        struct iovec iov = {&byte, 1};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
        struct cmsghdr *cm;
        int fd;

        if (recvmsg(sock, &m, 0) <= 0 || !(cm = CMSG_FIRSTHDR(&m)) || cm->cmsg_type != SCM_RIGHTS)
                die("recvmsg");
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        return fd;
}

/* Runs child(sock, arg) in a child process, which sends one descriptor over sock and exits; returns that
 * descriptor once the child is reaped, and the child's pid in *ret_pid. */
static int from_child(int (*child)(int sock, const void *arg), const void *arg, pid_t *ret_pid) {
        int sp[2], fd;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0)
                die("socketpair");
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0)
                _exit(child(sp[1], arg));
        fd = recv_fd(sp[0]);
        if (waitpid(pid, NULL, 0) != pid)
                die("waitpid");
        close(sp[0]);
        close(sp[1]);
        *ret_pid = pid;
        return fd;
}

/* Connects to commitd at path and asks for status, so that commitd has accepted the connection while this
 * process lives; then hands the connection over. */
static int connector(int sock, const void *path) {
        static const char status[] = "{\"version\": 1, \"id\": 1, \"method\": \"status\"}";
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char reply[65537];
        int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", (const char *) path);
        if (s < 0 || connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            send(s, status, strlen(status), MSG_NOSIGNAL) < 0 || recv(s, reply, sizeof(reply), 0) <= 0)
                return 1;
        send_with_fd(sock, "x", 1, s);
        return 0;
}

/* A process with exactly pid want (clone3 set_tid, Linux 5.5+, root), waiting until hold is closed. */
static pid_t victim(pid_t want, int hold[2]) {
        struct clone_args args = {.exit_signal = SIGCHLD, .set_tid = (uint64_t) (uintptr_t) &want, .set_tid_size = 1};
        long pid;

        if (pipe(hold) < 0)
                die("pipe");
        pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid == 0) {
                char c;
                close(hold[1]);
                (void) !read(hold[0], &c, 1);
                _exit(0);
        }
        close(hold[0]);
        if (pid < 0)
                close(hold[1]);
        return (pid_t) pid;
}

/* Installs a filter that notifies getppid() only (nobody here calls it) and hands its listener over. */
static int listening(int sock, const void *unused) {
        struct sock_filter insns[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};
        int l;
        (void) unused;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return 1;
        l = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (l < 0)
                return 1;
        send_with_fd(sock, "x", 1, l);
        return 0;
}

static void print_cgroup(const char *label, pid_t pid) {
        char path[64], line[4096];
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        f = fopen(path, "re");
        if (!f)
                die(path);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "0::", 3) == 0)
                        printf("%s %s", label, line + 3);
        fclose(f);
}

static int exec_without_peerpidfd(char **argv) {
        struct sock_filter insns[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsockopt, 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])), /* optname */
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 77 /* SO_PEERPIDFD */, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOPROTOOPT),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};

        /* As root (CAP_SYS_ADMIN), without no_new_privs: CMD keeps what it would have. */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                die("seccomp");
        execvp(argv[0], argv);
        die(argv[0]);
        return 1;
}

int main(int argc, char **argv) {
        struct timespec tick = {0, 30 * 1000 * 1000};
        char request[8192], reply[65537];
        int conn = -1, hold[2], fd;
        pid_t dead = 0, l, v = -1;
        ssize_t n;

        if (argc >= 3 && strcmp(argv[1], "no-pidfd") == 0)
                return exec_without_peerpidfd(argv + 2);
        if (argc != 3) {
                fprintf(stderr, "usage: peerpid SOCKET CGROUP | peerpid no-pidfd CMD [ARGS...]\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IONBF, 0);
        /* Another process may take the pid first: try again with another connector. */
        for (int i = 0; i < 20 && v < 0; i++) {
                if (conn >= 0)
                        close(conn);
                conn = from_child(connector, argv[1], &dead);
                /* A later clock tick than the connector's: the start time tells them apart too. */
                nanosleep(&tick, NULL);
                v = victim(dead, hold);
                if (v < 0 && errno != EEXIST)
                        die("clone3 with set_tid");
        }
        if (v < 0) {
                fprintf(stderr, "peerpid: the connector's pid was always taken first\n");
                return 1;
        }
        printf("CONNECTOR %d\nVICTIM %d\n", (int) dead, (int) v);
        print_cgroup("BEFORE", v);
        fd = from_child(listening, NULL, &l);
        snprintf(request, sizeof(request),
                 "{\"version\": 1, \"id\": 1, \"method\": \"enroll\", \"params\": {\"cgroup\": \"%s\"}}", argv[2]);
        send_with_fd(conn, request, strlen(request), fd);
        close(fd);
        n = recv(conn, reply, sizeof(reply) - 1, 0);
        if (n < 0)
                die("receiving the reply");
        reply[n] = '\0';
        printf("REPLY %s\n", reply);
        print_cgroup("AFTER", v);
        close(hold[1]);
        (void) waitpid(v, NULL, 0);
        return 0;
}
