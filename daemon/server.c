/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "events.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "procfs.h"
#include "server.h"
#include "unixsock.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5; glibc 2.36 does not name it */
#endif

static void client_close(struct daemon *d, struct client *c) {
        for (struct client **pp = &d->server.clients; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        loop_remove(d->loop, c->source);
        if (c->pidfd >= 0)
                close(c->pidfd);
        d->server.n_clients--;
        free(c);
}

static int send_json(int fd, json_t *msg) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        if (!msg)
                return -ENOMEM;
        r = protocol_dump(msg, &buf, &len);
        json_decref(msg);
        if (r < 0)
                return r;
        /* MSG_DONTWAIT: a client that does not read its replies loses them, it does not stall the loop. */
        if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                return -errno;
        return 0;
}

/* Sends msg (taken) to c, or drops c. The socket never blocks (MSG_DONTWAIT), so a client that does not read
 * cannot stall the loop (nor, through d->lock, the listener threads); once its queue is full it
 * has lost a reply or an event, and it is disconnected rather than left believing it saw everything. Returns
 * false when c was closed. */
static bool client_send(struct daemon *d, struct client *c, json_t *msg, int64_t id) {
        int r = send_json(c->fd, msg);

        if (r == -EMSGSIZE) {
                log_error("client pid %d uid %d: reply to request %" PRId64 " passes %u bytes", (int) c->cred.pid,
                          (int) c->cred.uid, id, PROTOCOL_MAX_MESSAGE);
                r = send_json(c->fd,
                              protocol_reply_error(id, PROTOCOL_INTERNAL_ERROR,
                                                   "the reply would pass 65536 bytes; ask for less (one cgroup)"));
        }
        if (r >= 0)
                return true;
        log_warning("client pid %d uid %d: %s; disconnected", (int) c->cred.pid, (int) c->cred.uid,
                    r == -EAGAIN ? "its queue is full (it does not read what commitd sends)" : strerror(-r));
        client_close(d, c);
        return false;
}

/* Called by the loop (events.c delivers what listener threads recorded). A tenant's follower gets the refusals of
 * its own cgroups. */
static void push_event(const struct refusal *r, void *userdata) {
        struct daemon *d = userdata;

        for (struct client *c = d->server.clients, *next; c; c = next) {
                next = c->next;
                if (c->follow && dispatch_may_read_event(d, c, r))
                        (void) client_send(
                                d, c, json_pack("{s:i, s:o}", "version", PROTOCOL_VERSION, "event", refusal_json(r)),
                                0);
        }
}

/* The one descriptor a request may carry; more, or a truncated control message, is refused. */
static int take_fd(struct msghdr *m, int *ret_fd) {
        size_t n = 0;

        *ret_fd = -1;
        if (cmsg_collect_fds(m, ret_fd, &n, 1) > 1 || (m->msg_flags & MSG_CTRUNC)) {
                if (*ret_fd >= 0)
                        close(*ret_fd);
                *ret_fd = -1;
                return -EBADMSG;
        }
        return 0;
}

static void on_client(struct loop_source *s, uint32_t events, void *userdata) {
        struct client *c = userdata;
        struct daemon *d = c->daemon;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } control;
        char *rx = d->server.rx;
        struct iovec iov = {.iov_base = rx, .iov_len = sizeof(d->server.rx)};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
        struct protocol_request req = {0};
        enum protocol_error perr;
        _cleanup_free_ char *message = NULL;
        _cleanup_close_ int fd = -1;
        struct reply reply;
        bool was_following = c->follow;
        int64_t id;
        ssize_t n;
        (void) s;

        if (!(events & EPOLLIN)) {
                client_close(d, c);
                return;
        }
        n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) { /* EOF or error: the client is gone */
                client_close(d, c);
                return;
        }
        c->last_usec = now_usec(CLOCK_MONOTONIC);
        if (take_fd(&m, &fd) < 0) {
                (void) client_send(
                        d, c,
                        protocol_reply_error(0, PROTOCOL_INVALID_REQUEST, "a request carries at most one descriptor"),
                        0);
                return;
        }
        /* SOCK_SEQPACKET keeps message boundaries; a message longer than the buffer arrives cut and flagged. */
        if (m.msg_flags & MSG_TRUNC) {
                log_warning("client pid %d uid %d: request over %u bytes refused", (int) c->cred.pid, (int) c->cred.uid,
                            PROTOCOL_MAX_MESSAGE);
                (void) client_send(
                        d, c, protocol_reply_error(0, PROTOCOL_MESSAGE_TOO_LARGE, "requests are at most 65536 bytes"),
                        0);
                return;
        }
        if (protocol_parse_request(rx, (size_t) n, &req, &perr, &message, &id) < 0) {
                log_info("client pid %d uid %d: %s: %s", (int) c->cred.pid, (int) c->cred.uid,
                         protocol_error_name(perr), message ? message : "");
                (void) client_send(d, c, protocol_reply_error(id, perr, message), id);
                return;
        }
        dispatch(d, c, &req, &fd, &reply);
        if (c->follow && !was_following) {
                /* Room for a burst of refusals (about 400 events) before a follower counts as not reading.
                 * SO_SNDBUF, capped by net.core.wmem_max: SO_SNDBUFFORCE would need CAP_NET_ADMIN, which
                 * commitd drops after setup (caps.h). */
                int size = SERVER_FOLLOW_SNDBUF;
                (void) setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        }
        if (reply.result)
                (void) client_send(d, c, protocol_reply_ok(req.id, reply.result), req.id);
        else
                (void) client_send(d, c, protocol_reply_error(req.id, reply.error, reply.message), req.id);
        protocol_request_done(&req);
}

/* Whether the peer is in group gid ((gid_t) -1: no group, never), primary or supplementary, as the kernel
 * recorded its credentials at connect. */
static bool peer_in_group(int fd, const struct ucred *cred, gid_t gid) {
        gid_t groups[256];
        socklen_t len = sizeof(groups);

        if (gid == (gid_t) -1)
                return false;
        if (cred->gid == gid)
                return true;
        /* Supplementary groups as the kernel recorded them at connect (Linux 4.13+). */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == gid)
                        return true;
        return false;
}

/* The process that connected, held as a pidfd: unlike a pid, it names that process and no other for as long as
 * the client stays, so enroll can never move a process that took the pid over after the connector exited. */
static void peer_take(struct client *c) {
        socklen_t len = sizeof(c->pidfd);

        c->start_time = 0;
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERPIDFD, &c->pidfd, &len) == 0)
                return;
        c->pidfd = -1;
        /* Before Linux 6.5: the pid, and its start time to tell a later holder of the pid apart (in clock ticks:
         * only a pid that went round the whole pid space within one tick would pass). Any other error (a peer that
         * has exited already, on kernels that give no pidfd for one) leaves the peer unknown: enroll is refused. */
        if (errno == ENOPROTOOPT && proc_start_time_read("/proc", c->cred.pid, &c->start_time) < 0)
                c->start_time = 0;
}

int server_peer_pid(const struct client *c, pid_t *ret) {
        _cleanup_free_ char *info = NULL;
        uint64_t t;

        if (c->pidfd >= 0) {
                char path[64];
                const char *p;
                long pid;

                /* fs/pidfs.c pidfd_show_fdinfo(): "Pid:" is the pid in our namespace while the process lives, -1
                 * once it has exited, 0 when it is not visible in our namespace. */
                snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", c->pidfd);
                if (fileio_read_full(path, 4096, &info, NULL) < 0 || !(p = strstr(info, "\nPid:")))
                        return -ESRCH;
                pid = strtol(p + 5, NULL, 10);
                if (pid <= 0 || pid > INT32_MAX)
                        return -ESRCH;
                *ret = (pid_t) pid;
                return 0;
        }
        if (c->start_time == 0 || proc_start_time_read("/proc", c->cred.pid, &t) < 0 || t != c->start_time)
                return -ESRCH;
        *ret = c->cred.pid;
        return 0;
}

static unsigned clients_of(const struct server *s, uid_t uid, bool followers) {
        unsigned n = 0;
        for (struct client *c = s->clients; c; c = c->next)
                n += c->cred.uid == uid && (!followers || c->follow);
        return n;
}

bool server_may_follow(const struct client *c) {
        return c->follow || clients_of(&c->daemon->server, c->cred.uid, true) < SERVER_MAX_FOLLOWERS_PER_UID;
}

/* Why the new client c cannot be served, or NULL. Tenants share the slots but the last SERVER_ADMIN_SLOTS, so
 * that no number of tenants' connections (followers are never closed for idleness) keeps an admin out. */
static const char *refusal(const struct server *s, const struct client *c, char *buf, size_t size) {
        size_t n_clients = s->n_clients;

        if (n_clients >= SERVER_MAX_CLIENTS)
                snprintf(buf, size, "commitd serves %d clients, the most it takes; close some and retry",
                         SERVER_MAX_CLIENTS);
        else if (!c->admin && n_clients >= SERVER_MAX_CLIENTS - SERVER_ADMIN_SLOTS)
                snprintf(buf, size,
                         "too many connections to commitd: the last %d of its %d slots are kept for admins (root "
                         "and the commitd group); close some and retry",
                         SERVER_ADMIN_SLOTS, SERVER_MAX_CLIENTS);
        else if (clients_of(s, c->cred.uid, false) >= SERVER_MAX_CLIENTS_PER_UID)
                snprintf(buf, size, "uid %d has %d connections to commitd, the most one uid may; close some and retry",
                         (int) c->cred.uid, SERVER_MAX_CLIENTS_PER_UID);
        else
                return NULL;
        return buf;
}

/* Closes a connection refused at accept after its one reply. What the client sent meanwhile is read first: a
 * UNIX socket closed with unread data resets its peer (ECONNRESET), which then may never read the reply (a busy
 * host showed it: control-admin-room got "closed the connection without replying"). */
static void close_refused(int fd) {
        char sink[256];

        for (int i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT | MSG_TRUNC) >= 0; i++)
                ;
        shutdown(fd, SHUT_RDWR);
        close(fd);
}

static void on_listen(struct loop_source *s, uint32_t events, void *userdata) {
        struct daemon *d = userdata;
        socklen_t len = sizeof(struct ucred);
        const char *why;
        struct client *c;
        char buf[256];
        int fd;
        (void) events;

        fd = accept4(loop_source_fd(s), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        c = calloc(1, sizeof(*c));
        if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
                free(c);
                close(fd);
                return;
        }
        c->fd = fd;
        c->daemon = d;
        c->admin = c->cred.uid == 0 || peer_in_group(fd, &c->cred, d->admin_gid);
        c->reader = peer_in_group(fd, &c->cred, d->read_gid);
        if ((why = refusal(&d->server, c, buf, sizeof(buf)))) {
                log_warning("client pid %d uid %d refused: %s", (int) c->cred.pid, (int) c->cred.uid, why);
                (void) send_json(fd, protocol_reply_error(0, PROTOCOL_RESOURCE_LIMIT, why));
                free(c);
                close_refused(fd);
                return;
        }
        c->last_usec = now_usec(CLOCK_MONOTONIC);
        peer_take(c);
        if (loop_add(d->loop, fd, EPOLLIN, on_client, c, &c->source) < 0) {
                if (c->pidfd >= 0)
                        close(c->pidfd);
                free(c);
                close(fd);
                return;
        }
        c->next = d->server.clients;
        d->server.clients = c;
        d->server.n_clients++;
}

int server_start(struct daemon *d, const char *path, mode_t mode) {
        int fd, r;

        /* 0666 is safe: connecting grants nothing, each method checks the peer's credentials (dispatch.c). */
        /* The socket's group: the admins' when there is one, else the readers' (commitd(8), --read-group). */
        r = unix_listen(path, SOCK_SEQPACKET, mode, d->admin_gid != (gid_t) -1 ? d->admin_gid : d->read_gid, &fd);
        if (r < 0)
                return r;
        /* With both groups the socket belongs to the admins' and the readers are let in by an ACL entry (what
         * they may call is still dispatch.c's to say). Safe: it admits one more group to connect, nothing more. */
        if (d->admin_gid != (gid_t) -1 && d->read_gid != (gid_t) -1 && d->read_gid != d->admin_gid &&
            (r = unix_grant_group(path, d->read_gid)) < 0)
                log_warning("cannot let the read group connect to %s (%s): its members connect only with "
                            "--socket-mode 0666",
                            path, strerror(-r));
        r = loop_add(d->loop, fd, EPOLLIN, on_listen, d, &d->server.listen_source);
        if (r < 0) {
                close(fd);
                return r;
        }
        d->server.socket_path = strdup(path);
        events_set_sink(&d->events, push_event, d);
        return 0;
}

void server_upkeep(struct daemon *d) {
        uint64_t t = now_usec(CLOCK_MONOTONIC);

        for (struct client *c = d->server.clients, *next; c; c = next) {
                next = c->next;
                if (!c->follow && t - c->last_usec > SERVER_IDLE_USEC) {
                        log_info("client pid %d uid %d: idle for 60 s, closed", (int) c->cred.pid, (int) c->cred.uid);
                        client_close(d, c);
                }
        }
}

void server_stop(struct daemon *d) {
        struct server *s = &d->server;

        while (s->clients)
                client_close(d, s->clients);
        if (s->listen_source)
                loop_remove(d->loop, s->listen_source);
        s->listen_source = NULL;
        if (s->socket_path)
                (void) unlink(s->socket_path);
        free(s->socket_path);
        s->socket_path = NULL;
        events_set_sink(&d->events, NULL, NULL);
}
