/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "commitd.h"
#include "enroll.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "oci.h"
#include "ociquery.h"
#include "ocispec.h"
#include "server.h"
#include "unixsock.h"

#define OCI_MAX_FDS 8

struct oci_conn {
        struct daemon *daemon;
        struct loop_source *source;
        char *buf;
        size_t len;
        int fds[OCI_MAX_FDS];
        size_t n_fds;
};

static void conn_close(struct oci_conn *c) {
        for (size_t i = 0; i < c->n_fds; i++)
                if (c->fds[i] >= 0)
                        close(c->fds[i]);
        loop_remove(c->daemon->loop, c->source);
        free(c->buf);
        free(c);
}

static int check_listener(struct oci_conn *c, const struct ocispec_state *st, const char **ret_why) {
        int r = enroll_check(c->fds[st->seccomp_index], NULL, 0);

        if (r < 0)
                *ret_why = "its seccompFd is not a seccomp listener";
        return r;
}

/* An exec into a running container e (crun sends pid 0, runc the exec's own pid): judged under the container's
 * budget once its process is known to be the container's (container_exec_check()): now, or with pid 0 at the
 * listener's first notification. A container enrolled again under its id is the same. */
static int enroll_exec(struct oci_conn *c, const struct ocispec_state *st, struct budget_entry *e,
                       const char **ret_why) {
        struct daemon *d = c->daemon;
        char who[OCI_MAX_ID + 64];
        int r;

        if (!e) {
                *ret_why = "an exec into a container commitd does not judge";
                return -ENOENT;
        }
        r = check_listener(c, st, ret_why);
        if (r < 0)
                return r;
        if (st->pid > 0) {
                r = container_exec_check(d, e, st->pid, ret_why);
                if (r < 0)
                        return r;
                snprintf(who, sizeof(who), "container %s: an exec (pid %d)", st->id, (int) st->pid);
        } else
                snprintf(who, sizeof(who), "container %s: an exec", st->id);
        /* The container's budget is measured already, and the exec's new image is charged at its first brk(0)
         * (judge.c): no measure, and its sample pid stays the container's. */
        r = enroll_listener(
                d, &(struct enrollment){.fd = TAKE_FD(c->fds[st->seccomp_index]),
                                        .pid = st->pid,
                                        .entry = e,
                                        .exec_pending = st->pid == 0,
                                        .slot = -1,
                                        .who = who,
                                        .what = st->pid > 0 ? NULL : "; its process is checked at its first call"});
        if (r < 0) {
                *ret_why = "its listener cannot be watched";
                return r;
        }
        return 0;
}

/* Enrolls the container process the state describes. Returns 0, or -errno with *ret_why for the log; the
 * container id is copied to id_buf (the parsed state is freed on return). */
static int enroll(struct oci_conn *c, char *id_buf, size_t id_len, const char **ret_why) {
        struct daemon *d = c->daemon;
        _cleanup_(ocispec_state_done) struct ocispec_state st = {0};
        _cleanup_free_ char *cgroup = NULL;
        struct budget_entry *template, *e;
        char who[OCI_MAX_ID + 64], what[POLICY_MAX_NAME + 32];
        const char *policy;
        bool made;
        int r;

        snprintf(id_buf, id_len, "?");
        r = ocispec_parse_state(c->buf, c->len, &st, ret_why);
        if (r < 0) {
                if (r == -ENOMEM)
                        *ret_why = "out of memory";
                return r;
        }
        snprintf(id_buf, id_len, "%s", st.id);
        if (strlen(st.id) > OCI_MAX_ID) {
                *ret_why = "its id is longer than 1024 bytes";
                return -ENAMETOOLONG;
        }
        if (st.n_fds != c->n_fds) {
                *ret_why = "no seccompFd came with the state (fds names and descriptors differ)";
                return -EBADMSG;
        }
        e = container_find(d, st.id);
        if (st.pid == 0 || e)
                return enroll_exec(c, &st, e, ret_why);
        /* The policy: the container's own (annotation, else its bundle's listenerMetadata), else the default. */
        policy = st.policy ? st.policy : d->oci.default_policy;
        if (!policy) {
                *ret_why = "it names no policy (annotation " OCISPEC_POLICY_ANNOTATION ") and commitd has no "
                           "--oci-default-policy";
                return -ENOENT;
        }
        template = budgets_find_policy(&d->budgets, policy);
        if (!template) {
                *ret_why = "its policy is not loaded (see commitctl policy list)";
                return -ENOENT;
        }
        r = check_listener(c, &st, ret_why);
        if (r < 0)
                return r;
        /* The state carries no cgroup path: the kernel's word for the container's process is. */
        r = cgroup_of_pid(st.pid, &cgroup);
        if (r < 0) {
                *ret_why = "its process's cgroup cannot be read";
                return r;
        }
        /* Never `/`, never shared: before anything is judged, the container has a cgroup of its own. */
        r = container_place(d, st.id, st.pid, &cgroup, &made, ret_why);
        if (r < 0)
                return r;
        r = budgets_instantiate(&d->budgets, template, cgroup, st.id, &e);
        if (r < 0) {
                *ret_why = "out of memory";
                return r;
        }
        if (e->container) {
                e->oci_cgroup = made;
                e->pidns = container_pidns(st.pid);
        }
        snprintf(who, sizeof(who), "container %s (pid %d)", st.id, (int) st.pid);
        snprintf(what, sizeof(what), " under policy %s", policy);
        r = enroll_listener(d, &(struct enrollment){.fd = TAKE_FD(c->fds[st.seccomp_index]),
                                                    .pid = st.pid,
                                                    .entry = e,
                                                    .sample = true,
                                                    .measure = true,
                                                    .slot = -1,
                                                    .who = who,
                                                    .what = what});
        if (r < 0) {
                *ret_why = "its listener cannot be watched";
                /* Not enrolled: its budget and the cgroup made for it go, or a container of the same id would
                 * later be taken for an exec into this one. */
                if (e->container && e->enrolled == 0)
                        container_ended(d, e);
                return r;
        }
        return 0;
}

/* commitd-oci-runtime's question before a container starts (lib/ociquery.h): is its policy loaded. r is what
 * ociquery_parse_request() returned. The answer is small and the socket new: one send, never waited for. */
static void answer_query(struct oci_conn *c, int r, const char *policy, const char *why) {
        _cleanup_free_ char *answer = NULL;
        const struct oci *oci = &c->daemon->oci;
        const char *name = r > 0 ? (policy ? policy : oci->default_policy) : NULL;
        const struct budget_entry *e = name ? budgets_find_policy(&c->daemon->budgets, name) : NULL;
        bool known = e, meminfo = e && e->policy && e->policy->meminfo;

        if (ociquery_format_answer(name, known, meminfo, r < 0 ? (why ? why : "out of memory") : NULL, &answer) < 0)
                return;
        if (send(loop_source_fd(c->source), answer, strlen(answer), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                log_debug("OCI agent: a query's answer: %m");
        if (r < 0)
                log_warning("OCI agent (%s): a malformed query: %s", oci->path, why ? why : "out of memory");
        else
                log_debug("OCI agent: policy %s asked for: %s", name ? name : "(none)", known ? "known" : "unknown");
}

static void on_conn(struct loop_source *s, uint32_t events, void *userdata) {
        struct oci_conn *c = userdata;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * OCI_MAX_FDS)];
        } control;
        char chunk[16384];
        struct iovec iov = {.iov_base = chunk, .iov_len = sizeof(chunk)};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
        const char *why = NULL;
        char id[128];
        ssize_t n;
        (void) s;
        (void) events;

        n = recvmsg(loop_source_fd(c->source), &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        (void) cmsg_collect_fds(&m, c->fds, &c->n_fds, OCI_MAX_FDS);
        if (n > 0) {
                char *bigger;
                if (c->len + (size_t) n > OCI_MAX_STATE || (m.msg_flags & MSG_CTRUNC)) {
                        log_warning("OCI agent: a runtime sent more than %u bytes of state or too many fds; refused",
                                    OCI_MAX_STATE);
                        conn_close(c);
                        return;
                }
                bigger = realloc(c->buf, c->len + (size_t) n + 1);
                if (!bigger) {
                        conn_close(c);
                        return;
                }
                c->buf = bigger;
                memcpy(c->buf + c->len, chunk, (size_t) n);
                c->len += (size_t) n;
                c->buf[c->len] = '\0';
                /* runc sends compact JSON, crun pretty-printed; both close the connection after it. A complete
                 * document is enough: do not wait for the close. */
                json_t *probe = json_loadb(c->buf, c->len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
                if (!probe)
                        return;
                json_decref(probe);
        } else if (n < 0 || c->len == 0) {
                conn_close(c); /* nothing came, or an error: nothing to enroll */
                return;
        }
        {
                _cleanup_free_ char *policy = NULL;
                int r = ociquery_parse_request(c->buf, c->len, &policy, &why);
                if (r != 0) {
                        answer_query(c, r, policy, why);
                        conn_close(c);
                        return;
                }
        }
        if (enroll(c, id, sizeof(id), &why) < 0)
                /* runc and crun do not wait for an answer: the container starts, and with no one holding its
                 * listener every notified call fails with ENOSYS. It fails closed, never unjudged. */
                log_error("OCI agent (%s): container %s refused: %s; its allocations will fail with ENOSYS",
                          c->daemon->oci.path, id, why ? why : "invalid state");
        conn_close(c);
}

static void on_accept(struct loop_source *s, uint32_t events, void *userdata) {
        struct daemon *d = userdata;
        struct oci_conn *c;
        int fd;
        (void) events;

        fd = accept4(loop_source_fd(s), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        c = calloc(1, sizeof(*c));
        if (!c || loop_add(d->loop, fd, EPOLLIN, on_conn, c, &c->source) < 0) {
                free(c);
                close(fd);
                return;
        }
        c->daemon = d;
}

int oci_start(struct daemon *d, const char *path, const char *default_policy) {
        int fd, r;

        r = unix_listen(path, SOCK_STREAM, 0600 /* only root may hand commitd a container */, (gid_t) -1, &fd);
        if (r < 0)
                return r;
        r = loop_add(d->loop, fd, EPOLLIN, on_accept, d, &d->oci.source);
        if (r < 0) {
                close(fd);
                return r;
        }
        d->oci.path = strdup(path);
        d->oci.default_policy = default_policy ? strdup(default_policy) : NULL;
        return 0;
}

void oci_stop(struct daemon *d) {
        struct oci *oci = &d->oci;

        if (oci->source)
                loop_remove(d->loop, oci->source);
        oci->source = NULL;
        if (oci->path)
                (void) unlink(oci->path);
        free(oci->path);
        free(oci->default_policy);
        oci->path = oci->default_policy = NULL;
}
