/* SPDX-License-Identifier: MIT */
/* commitd-keeper: holds commitd's seccomp listeners and in-flight table across commitd's crashes, restarts and
 * upgrades (keeper.h has the protocol). It runs without any capability, reads no listener and parses nothing
 * but fixed headers: the smallest program that can be trusted to stay up. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caps.h"
#include "keeper.h"
#include "log.h"
#include "macro.h"
#include "unixsock.h"

struct entry {
        uint32_t key, flags;
        int fd;
        char *data;
};

/* What the keeper holds: main's, passed to each part. */
struct keeper {
        struct entry entries[KEEPER_MAX_ENTRIES];
        size_t n_entries;
};
_Static_assert(sizeof(struct keeper) <= 256 * 1024, "main holds the table on its stack");

static struct entry *find(struct keeper *k, uint32_t key) {
        for (size_t i = 0; i < k->n_entries; i++)
                if (k->entries[i].key == key)
                        return &k->entries[i];
        return NULL;
}

static void drop(struct keeper *k, struct entry *e) {
        close(e->fd);
        free(e->data);
        *e = k->entries[--k->n_entries];
}

static size_t watched(const struct keeper *k) {
        size_t n = 0;
        for (size_t i = 0; i < k->n_entries; i++)
                n += !!(k->entries[i].flags & KEEPER_F_WATCH);
        return n;
}

static void put(struct keeper *k, const struct keeper_header *h, const char *data, size_t len, int fd) {
        struct entry *e = find(k, h->key);
        char *copy;

        if (fd < 0) {
                log_warning("keeper: PUT of key %u came without a descriptor; ignored", h->key);
                return;
        }
        if (!e && k->n_entries >= KEEPER_MAX_ENTRIES) {
                log_error("keeper: already holding %d descriptors; key %u not kept", KEEPER_MAX_ENTRIES, h->key);
                close(fd);
                return;
        }
        copy = strndup(data, len);
        if (!copy) {
                close(fd);
                return;
        }
        if (e) {
                close(e->fd);
                free(e->data);
        } else
                e = &k->entries[k->n_entries++];
        *e = (struct entry){.key = h->key, .flags = h->flags, .fd = fd, .data = copy};
}

static int send_entry(int conn, uint32_t op, const struct entry *e) {
        struct keeper_header h = {.op = op,
                                  .key = e ? e->key : 0,
                                  .flags = e ? e->flags : 0,
                                  .max_data = op == KEEPER_END ? KEEPER_MAX_DATA : 0};
        struct iovec iov[2] = {{&h, sizeof(h)}, {e ? e->data : NULL, e ? strlen(e->data) : 0}};

        return unix_send_with_fd(conn, iov, 2, e ? e->fd : -1) < 0 ? -errno : 0;
}

/* One message of the connected commitd. Returns false when the connection is over. */
static bool on_message(struct keeper *k, int conn) {
        char buf[sizeof(struct keeper_header) + KEEPER_MAX_DATA];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
        struct keeper_header h;
        size_t n_fds = 0;
        int fd = -1;
        ssize_t n;

        n = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
        if (n <= 0)
                return n < 0 && errno == EINTR;
        (void) cmsg_collect_fds(&m, &fd, &n_fds, 1);
        if ((size_t) n < sizeof(h) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                log_warning("keeper: a malformed message (%zd bytes); closing the connection", n);
                if (fd >= 0)
                        close(fd);
                return false;
        }
        memcpy(&h, buf, sizeof(h));
        switch (h.op) {
        case KEEPER_PUT:
                put(k, &h, buf + sizeof(h), (size_t) n - sizeof(h), fd);
                return true;
        case KEEPER_DEL: {
                struct entry *e = find(k, h.key);
                if (e)
                        drop(k, e);
                break;
        }
        case KEEPER_LIST:
                for (size_t i = 0; i < k->n_entries; i++)
                        if (send_entry(conn, KEEPER_ENTRY, &k->entries[i]) < 0)
                                return false;
                if (send_entry(conn, KEEPER_END, NULL) < 0)
                        return false;
                log_info("keeper: handed %zu descriptors to commitd", k->n_entries);
                break;
        default:
                log_warning("keeper: unknown operation %u; closing the connection", h.op);
                if (fd >= 0)
                        close(fd);
                return false;
        }
        if (fd >= 0)
                close(fd);
        return true;
}

/* With no commitd connected: forget listeners every task of which has exited (POLLHUP). */
static void sweep_hung_up(struct keeper *k) {
        for (size_t i = 0; i < k->n_entries;) {
                struct pollfd p = {.fd = k->entries[i].fd};
                if ((k->entries[i].flags & KEEPER_F_WATCH) && poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
                        drop(k, &k->entries[i]);
                else
                        i++;
        }
}

static void accept_one(struct keeper *k, int listen_fd, int *conn) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
                return;
        /* Only root (commitd) may take the listeners: whoever holds one answers for a tenant's budget. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
                close(fd);
                return;
        }
        unix_sndbuf_fit(fd, sizeof(struct keeper_header) + KEEPER_MAX_DATA); /* ENTRY */
        if (*conn >= 0) {
                /* Another commitd still talks to us (or its death is not complete): one at a time. Its request
                 * is read first: closing on an unread one would reset the connection, and the BUSY be lost. */
                struct pollfd p = {.fd = fd, .events = POLLIN};
                char discard[sizeof(struct keeper_header)];
                if (poll(&p, 1, 100) == 1)
                        (void) recv(fd, discard, sizeof(discard), MSG_DONTWAIT);
                (void) send_entry(fd, KEEPER_BUSY, NULL);
                close(fd);
                return;
        }
        sweep_hung_up(k);
        *conn = fd;
        log_info("keeper: commitd pid %d connected; holding %zu descriptors", (int) cred.pid, k->n_entries);
}

static int write_pid_file(const char *path) {
        _cleanup_free_ char *tmp = NULL;
        FILE *f;

        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fprintf(f, "%d\n", (int) getpid());
        if (fclose(f) != 0 || rename(tmp, path) < 0)
                return -errno;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"socket", required_argument, NULL, 's'},
                {"exit-when-idle", no_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        struct keeper k = {.n_entries = 0};
        const char *path = NULL;
        _cleanup_free_ char *pid_file = NULL;
        bool exit_when_idle = false, served = false;
        int c, r, listen_fd, conn = -1;
        struct rlimit rl;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 's':
                        path = optarg;
                        break;
                case 'i':
                        exit_when_idle = true;
                        break;
                case 'h':
                        printf("Usage: commitd-keeper --socket PATH [--exit-when-idle]\n\n"
                               "Holds commitd's seccomp listeners while commitd restarts. See commitd(8).\n");
                        return 0;
                default:
                        return 2;
                }
        if (!path || optind < argc) {
                fprintf(stderr, "commitd-keeper: --socket PATH is required (commitd starts the keeper itself)\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        /* One descriptor per listener: as many as the hard limit allows. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        r = unix_listen(path, SOCK_SEQPACKET, 0600, (gid_t) -1, &listen_fd);
        if (r < 0) {
                log_error("keeper: cannot serve %s: %s", path, strerror(-r));
                return 1;
        }
        (void) fcntl(listen_fd, F_SETFL, 0);
        if (asprintf(&pid_file, "%s.pid", path) < 0 || write_pid_file(pid_file) < 0)
                log_warning("keeper: cannot write %s.pid", path);
        r = caps_drop_all(); /* holding descriptors and serving a 0600 socket of our own needs none */
        if (r < 0)
                log_warning("keeper: cannot drop capabilities: %s", strerror(-r));
        log_info("keeper: pid %d serving %s", (int) getpid(), path);

        for (;;) {
                struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = conn, .events = POLLIN}};
                /* Orphaned: look for hung-up listeners once a second. */
                int n = poll(p, 2, conn < 0 ? 1000 : -1);
                if (n < 0 && errno != EINTR)
                        break;
                if (p[1].revents && !on_message(&k, conn)) {
                        close(conn);
                        conn = -1;
                        log_info("keeper: commitd disconnected; holding %zu descriptors until it is back", k.n_entries);
                }
                if (p[0].revents & POLLIN) {
                        accept_one(&k, listen_fd, &conn);
                        served = served || conn >= 0;
                }
                if (conn < 0) {
                        sweep_hung_up(&k);
                        if (exit_when_idle && served && watched(&k) == 0)
                                break;
                }
        }
        log_info("keeper: no listener left to hold and no commitd; exiting");
        while (k.n_entries > 0) /* the in-flight table, unwatched: main's table goes with its stack frame */
                drop(&k, &k.entries[0]);
        (void) unlink(path);
        (void) unlink(pid_file);
        return 0;
}
