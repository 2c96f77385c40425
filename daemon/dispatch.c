/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calls.h"
#include "cgroupfs.h"
#include "config.h"
#include "custody.h"
#include "dispatch.h"
#include "enroll.h"
#include "events.h"
#include "knobs.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "procfs.h"
#include "units.h"

_printf_(3, 4) static void fail(struct reply *r, enum protocol_error e, const char *fmt, ...) {
        va_list ap;

        r->error = e;
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof(r->message), fmt, ap);
        va_end(ap);
}

/* Every key of params must be one of allowed (NULL-terminated). */
static bool params_known(const json_t *params, const char *const *allowed, struct reply *r) {
        const char *key;
        json_t *v;

        json_object_foreach((json_t *) params, key, v) {
                bool ok = false;
                for (size_t i = 0; allowed[i]; i++)
                        ok = ok || streq(key, allowed[i]);
                if (!ok) {
                        fail(r, PROTOCOL_INVALID_PARAMS, "unknown parameter \"%.64s\"", key);
                        return false;
                }
        }
        return true;
}

/* The "cgroup" parameter in canonical form (caller frees), or NULL with the reply set. */
static char *param_cgroup(const json_t *params, bool required, struct reply *r) {
        const json_t *v = json_object_get(params, "cgroup");
        char *canonical = NULL;

        if (!v) {
                if (required)
                        fail(r, PROTOCOL_INVALID_PARAMS, "\"cgroup\" is required: a path below the cgroup v2 root");
                return NULL;
        }
        if (!json_is_string(v) || cgroupfs_path_normalize(json_string_value(v), &canonical) < 0) {
                fail(r, PROTOCOL_INVALID_PARAMS,
                     "\"cgroup\" must be a cgroup path such as \"tenants/a\" (no \"..\", no empty components)");
                return NULL;
        }
        return canonical;
}

/* Admins and members of the read group (--read-group) read every cgroup. */
static bool reads_all(const struct client *c) {
        return c->admin || c->reader;
}

bool dispatch_may_read(struct daemon *d, const struct client *c, const char *cgroup) {
        /* Admins and readers read everything. A tenant reads the cgroups it owns: the uid the kernel vouches for
         * (SO_PEERCRED) against the owner of the cgroup's directory, which only root can chown, as delegation
         * does. */
        return reads_all(c) || cgroup_owned_by(&d->root, cgroup, c->cred.uid) > 0;
}

static void fail_not_owned(struct reply *r, const struct client *c, const char *what) {
        fail(r, PROTOCOL_PERMISSION_DENIED,
             "%s: uid %d may read only the cgroups delegated to it (their directory owned by uid %d); ask root or "
             "the commitd group, or run `commitctl status` for your own",
             what, (int) c->cred.uid, (int) c->cred.uid);
}

/* A status entry, in the shape page() takes. */
static json_t *entry_status(struct daemon *d, struct budget_entry *e) {
        (void) d;
        return budgets_entry_json(e);
}

static int entry_name_compare(const void *a, const void *b) {
        return strcmp((*(struct budget_entry *const *) a)->cgroup, (*(struct budget_entry *const *) b)->cgroup);
}

/* Every cgroup a status (or metrics) reply may list, by name, each as entry() makes it, in the list named key:
 * a reply holds as many as fit in a message less reserve bytes, then says "next" (the last one it holds), and
 * the caller asks again with "after" (commitctl status and metrics do, to the end). */
static void page(struct daemon *d, struct client *c, const char *after, const char *key,
                 json_t *(*entry)(struct daemon *d, struct budget_entry *e), size_t reserve, struct reply *r) {
        _cleanup_free_ struct budget_entry **sorted = NULL;
        size_t n = 0, total = 64;
        const char *last = NULL;
        json_t *list = json_array();

        for (struct budget_entry *e = d->budgets.entries; e; e = e->next)
                n++;
        sorted = calloc(n ? n : 1, sizeof(*sorted));
        if (!sorted || !list) {
                json_decref(list);
                fail(r, PROTOCOL_INTERNAL_ERROR, "out of memory");
                return;
        }
        n = 0;
        for (struct budget_entry *e = d->budgets.entries; e; e = e->next)
                /* A cgroup whose processes all left, and that has no policy, is forgotten here (it may be gone). */
                if ((e->policy || e->enrolled > 0 || e->processes > 0) && (!after || strcmp(e->cgroup, after) > 0) &&
                    dispatch_may_read(d, c, e->cgroup))
                        sorted[n++] = e;
        if (n > 1)
                qsort(sorted, n, sizeof(*sorted), entry_name_compare);
        for (size_t i = 0; i < n; i++) {
                json_t *s = entry(d, sorted[i]);
                size_t len = s ? json_dumpb(s, NULL, 0, JSON_COMPACT) : 0;
                if (len == 0 || total + len + 1 > PROTOCOL_MAX_MESSAGE - reserve) {
                        json_decref(s);
                        break;
                }
                total += len + 1;
                json_array_append_new(list, s);
                last = sorted[i]->cgroup;
        }
        if (json_array_size(list) < n && last)
                r->result = json_pack("{s:o, s:s}", key, list, "next", last);
        else
                r->result = json_pack("{s:o}", key, list);
}

static void m_status(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        static const char *const allowed[] = {"cgroup", "after", NULL};
        _cleanup_free_ char *cgroup = NULL;
        const json_t *after = json_object_get(params, "after");
        json_t *list;
        (void) fd;

        if (!params_known(params, allowed, r))
                return;
        if (after && (!json_is_string(after) || json_object_get(params, "cgroup"))) {
                fail(r, PROTOCOL_INVALID_PARAMS,
                     "\"after\" is the \"next\" of the last reply, a string, and takes "
                     "no \"cgroup\"");
                return;
        }
        if (!json_object_get(params, "cgroup")) {
                page(d, c, after ? json_string_value(after) : NULL, "cgroups", entry_status, 512, r);
                return;
        }
        cgroup = param_cgroup(params, false, r);
        if (!cgroup && json_object_get(params, "cgroup"))
                return;
        /* Refused before looking: a tenant learns nothing of another's cgroup, not even whether commitd has it. */
        if (cgroup && !dispatch_may_read(d, c, cgroup)) {
                fail_not_owned(r, c, cgroup);
                return;
        }
        list = json_array();
        for (struct budget_entry *e = d->budgets.entries; e && list; e = e->next) {
                /* By name or listed, the same rule: a cgroup whose processes all left, and that has no policy, is
                 * forgotten here (its cgroup may be gone too). */
                if (!streq(e->cgroup, cgroup) || (!e->policy && e->enrolled == 0 && e->processes == 0))
                        continue;
                json_array_append_new(list, entry_status(d, e));
        }
        if (json_array_size(list) == 0) {
                json_decref(list);
                fail(r, PROTOCOL_NO_SUCH_CGROUP,
                     "commitd knows nothing of %s: no policy names it and nothing is enrolled there", cgroup);
                return;
        }
        r->result = json_pack("{s:o}", "cgroups", list);
}

static void changed(struct daemon *d, struct budget_entry *e, struct reply *r) {
        (void) daemon_measure(d, e, now_usec(CLOCK_MONOTONIC)); /* the mode decides what counts */
        r->result = entry_status(d, e);
}

static void m_set(struct daemon *d, const json_t *params, enum knob knob, struct reply *r) {
        const char *what = knob_name(knob), *allowed[] = {"cgroup", what, NULL};
        _cleanup_free_ char *cgroup = NULL;
        const json_t *v = json_object_get(params, what);
        struct knob_change change;
        struct budget_entry *e;
        int k;

        if (!params_known(params, allowed, r) || !(cgroup = param_cgroup(params, true, r)))
                return;
        if (!v) {
                fail(r, PROTOCOL_INVALID_PARAMS, "\"%s\" is required", what);
                return;
        }
        if (knob_parse_json(knob, v, true, &change) < 0) {
                fail(r, PROTOCOL_INVALID_PARAMS, "%s", knob_json_rule(knob));
                return;
        }
        k = budgets_change(&d->budgets, cgroup, &change, &e);
        if (k < 0) {
                fail(r, PROTOCOL_INTERNAL_ERROR, "cannot apply the change to %s: %s", cgroup, strerror(-k));
                log_error("set-%s %s: %s", what, cgroup, strerror(-k));
                return;
        }
        log_info("set-%s %s: mode %s, CommitLimit %" PRIu64 " bytes", what, cgroup,
                 commit_mode_to_string(e->budget.mode), e->commit_limit_bytes);
        changed(d, e, r);
}

static void m_set_mode(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        (void) c, (void) fd;
        m_set(d, params, KNOB_MODE, r);
}
static void m_set_ratio(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        (void) c, (void) fd;
        m_set(d, params, KNOB_RATIO, r);
}
static void m_set_limit(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        (void) c, (void) fd;
        m_set(d, params, KNOB_LIMIT, r);
}

static void m_reload(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        static const char *const allowed[] = {NULL};
        json_t *errors = json_array();
        int n;
        (void) c, (void) fd;

        if (!params_known(params, allowed, r) || !errors) {
                json_decref(errors);
                return;
        }
        n = dispatch_reload(d, errors, "commitctl reload");
        if (n < 0) {
                json_decref(errors);
                fail(r, PROTOCOL_INTERNAL_ERROR, "cannot read the policy directory %s: %s", d->budgets.policy_dir,
                     strerror(-n));
                return;
        }
        r->result = json_pack("{s:i, s:o}", "loaded", n, "errors", errors);
}

int dispatch_reload(struct daemon *d, json_t *errors, const char *by) {
        int n = budgets_load(&d->budgets, errors);

        if (n < 0) {
                log_error("reload (%s): cannot read the policy directory %s: %s", by, d->budgets.policy_dir,
                          strerror(-n));
                return n;
        }
        for (struct budget_entry *e = d->budgets.entries; e; e = e->next)
                (void) daemon_measure(d, e, now_usec(CLOCK_MONOTONIC));
        log_info("reload (%s): %d policies loaded, %zu files skipped", by, n, errors ? json_array_size(errors) : 0);
        return n;
}

static void m_policy_list(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        static const char *const allowed[] = {NULL};
        json_t *list = json_array();
        (void) fd;

        if (!params_known(params, allowed, r) || !list) {
                json_decref(list);
                return;
        }
        for (struct budget_entry *e = d->budgets.entries; e; e = e->next)
                if (e->policy && dispatch_may_read(d, c, e->cgroup))
                        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "name", e->policy->name, "cgroup",
                                                              e->cgroup, "mode",
                                                              commit_mode_to_string(e->policy->budget.mode), "source",
                                                              e->source ? e->source : ""));
        r->result = json_pack("{s:o, s:[]}", "policies", list, "errors");
}

static void m_policy_show(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        static const char *const allowed[] = {"name", NULL};
        const char *name = json_string_value(json_object_get(params, "name"));
        struct budget_entry *e;
        (void) fd;

        if (!params_known(params, allowed, r))
                return;
        if (!name) {
                fail(r, PROTOCOL_INVALID_PARAMS, "\"name\" is required: a policy name from policy-list");
                return;
        }
        e = budgets_find_policy(&d->budgets, name);
        /* To a tenant, another tenant's policy and no policy look the same: names do not leak. */
        if (!reads_all(c) && (!e || !dispatch_may_read(d, c, e->cgroup))) {
                fail(r, PROTOCOL_PERMISSION_DENIED,
                     "uid %d sees only the policies of cgroups delegated to it, and none is named \"%.64s\"; see "
                     "`commitctl policy list`",
                     (int) c->cred.uid, name);
                return;
        }
        if (!e) {
                fail(r, PROTOCOL_NO_SUCH_POLICY, "no policy named \"%.64s\" is loaded; see `commitctl policy list`",
                     name);
                return;
        }
        r->result = json_pack("{s:o, s:s}", "policy", policy_to_json(e->policy), "source", e->source ? e->source : "");
}

/* Moves the peer, pid as server_peer_pid() resolved it, from cgroup from into cgroup. If the peer has exited
 * meanwhile the pid may have passed to another process before the write: that one is put back. */
static int move_peer(struct daemon *d, const struct client *c, const char *cgroup, pid_t pid, const char *from) {
        pid_t now;
        int k;

        k = cgroup_attach(&d->root, cgroup, pid);
        if (k < 0)
                return k;
        /* The peer alive after the write was alive before it: the pid was its own all along. */
        if (server_peer_pid(c, &now) >= 0 && now == pid)
                return 0;
        k = cgroup_attach(&d->root, from, pid);
        log_warning("enroll: the process that connected (pid %d) exited while it was moved; pid %d put back in %s%s",
                    (int) pid, (int) pid, from, k < 0 ? " failed" : "");
        return -ESRCH;
}

static void m_enroll(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        static const char *const allowed[] = {"cgroup", "policy", NULL};
        const char *policy = json_string_value(json_object_get(params, "policy"));
        _cleanup_free_ char *cgroup = NULL, *from = NULL;
        struct budget_entry *e;
        char what[256], who[64];
        pid_t pid;
        int k;

        if (!params_known(params, allowed, r))
                return;
        if (*fd < 0) {
                fail(r, PROTOCOL_INVALID_PARAMS, "enroll needs the seccomp listener fd attached (SCM_RIGHTS)");
                return;
        }
        k = enroll_check(*fd, what, sizeof(what));
        if (k < 0) {
                fail(r, PROTOCOL_INVALID_PARAMS,
                     "the descriptor is not a seccomp listener (%s); attach the fd that seccomp() returned with "
                     "SECCOMP_FILTER_FLAG_NEW_LISTENER",
                     k == -ENOTTY ? what : strerror(-k));
                log_notice("enroll by pid %d (uid %d) refused: %s", (int) c->cred.pid, (int) c->cred.uid, r->message);
                return;
        }
        if (!!policy == !!json_object_get(params, "cgroup")) {
                fail(r, PROTOCOL_INVALID_PARAMS, "give exactly one of \"cgroup\" and \"policy\"");
                return;
        }
        if (policy) {
                e = budgets_find_policy(&d->budgets, policy);
                if (!e) {
                        fail(r, PROTOCOL_NO_SUCH_POLICY,
                             "no policy named \"%.64s\" is loaded; see `commitctl policy list`", policy);
                        return;
                }
                cgroup = strdup(e->cgroup);
        } else if (!(cgroup = param_cgroup(params, true, r)))
                return;
        if (!cgroup) {
                fail(r, PROTOCOL_INTERNAL_ERROR, "out of memory");
                return;
        }
        /* The process moved is the one that connected, as the kernel vouches for it (server_peer_pid(): a pidfd
         * taken at accept), never a pid from the message, nor whichever process holds the connector's pid now. */
        k = server_peer_pid(c, &pid);
        if (k >= 0)
                k = cgroup_of_pid(pid, &from);
        if (k == -ESRCH) {
                fail(r, PROTOCOL_PERMISSION_DENIED,
                     "enroll moves the process that connected (pid %d), and it has exited; send enroll from the "
                     "process to enroll, on a connection of its own",
                     (int) c->cred.pid);
                log_notice("enroll by pid %d (uid %d) refused: the process that connected has exited",
                           (int) c->cred.pid, (int) c->cred.uid);
                return;
        }
        /* Nothing is moved until all else is ready: a refused enroll leaves the process where it was. */
        if (k >= 0)
                k = cgroup_create(&d->root, cgroup);
        if (k >= 0)
                k = budgets_get(&d->budgets, cgroup, &e);
        if (k >= 0)
                k = move_peer(d, c, cgroup, pid, from);
        if (k < 0) {
                fail(r, k == -ESRCH ? PROTOCOL_PERMISSION_DENIED : PROTOCOL_INTERNAL_ERROR,
                     "cannot place pid %d in cgroup %s: %s", (int) pid, cgroup,
                     k == -ESRCH ? "the process that connected has exited" : strerror(-k));
                log_error("enroll pid %d in %s: %s", (int) pid, cgroup, strerror(-k));
                return;
        }
        snprintf(who, sizeof(who), "pid %d (uid %d)", (int) pid, (int) c->cred.uid);
        k = enroll_listener(d, &(struct enrollment){.fd = TAKE_FD(*fd),
                                                    .pid = pid,
                                                    .entry = e,
                                                    .sample = true,
                                                    .measure = true,
                                                    .slot = -1,
                                                    .who = who});
        if (k < 0) {
                /* Not enrolled after all: back where it was. */
                (void) cgroup_attach(&d->root, from, pid);
                fail(r, PROTOCOL_RESOURCE_LIMIT, "cannot watch the listener: %s", strerror(-k));
                log_error("enroll pid %d in %s: cannot watch the listener: %s; put back in %s", (int) pid, cgroup,
                          strerror(-k), from);
                return;
        }
        r->result = json_pack("{s:s}", "cgroup", cgroup);
}

struct reader {
        struct daemon *d;
        const struct client *c;
};

static bool event_readable(const struct refusal *e, void *userdata) {
        const struct reader *rd = userdata;
        return dispatch_may_read(rd->d, rd->c, e->cgroup);
}

bool dispatch_may_read_event(struct daemon *d, const struct client *c, const struct refusal *e) {
        return event_readable(e, &(struct reader){d, c});
}

static void m_events(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        static const char *const allowed[] = {"follow", NULL};
        const json_t *follow = json_object_get(params, "follow");
        struct reader rd = {d, c};
        (void) fd;

        if (!params_known(params, allowed, r))
                return;
        if (follow && !json_is_boolean(follow)) {
                fail(r, PROTOCOL_INVALID_PARAMS, "\"follow\" must be true or false");
                return;
        }
        if (json_is_true(follow) && !server_may_follow(c)) {
                fail(r, PROTOCOL_RESOURCE_LIMIT,
                     "uid %d already follows events on %d connections, the most one uid may; stop one (`commitctl "
                     "events --follow`) or ask without following",
                     (int) c->cred.uid, SERVER_MAX_FOLLOWERS_PER_UID);
                log_notice("events --follow by pid %d uid %d refused: %s", (int) c->cred.pid, (int) c->cred.uid,
                           r->message);
                return;
        }
        c->follow = json_is_true(follow);
        if (c->follow)
                log_debug("events --follow by pid %d uid %d: following", (int) c->cred.pid, (int) c->cred.uid);
        /* A tenant sees the refusals in its own cgroups only (checked again for each event pushed, in server.c).
         * The list leaves room for the envelope: the oldest give way when the reply would pass the message size. */
        r->result = json_pack(
                "{s:o}", "events",
                events_recent_json(&d->events, reads_all(c) ? NULL : event_readable, &rd, PROTOCOL_MAX_MESSAGE - 256));
}

/* Counts by call kind as {"mmap": N, ...}, every kind commitd judges present (zero included: a counter that
 * appears only once it moves hides its first increase from rate()); i386 ipc's shmget is added to shmget. */
static json_t *calls_json(const uint64_t counts[static _CALL_KIND_MAX]) {
        json_t *o = json_object();

        for (int k = 0; o && k < _CALL_KIND_MAX; k++) {
                const char *name = call_kind_name((enum call_kind) k);
                if (k == CALL_NONE || k == CALL_OLD_MMAP || k == CALL_CLONE3)
                        continue; /* answered ENOSYS, never judged */
                json_object_set_new(
                        o, name, json_integer(json_integer_value(json_object_get(o, name)) + (json_int_t) counts[k]));
        }
        return o;
}

static json_t *entry_metrics(struct daemon *d, struct budget_entry *e) {
        json_auto_t *s = budgets_entry_json(e);
        (void) d;

        if (!s)
                return NULL;
        return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "cgroup",
                         json_object_get(s, "cgroup"), "policy", json_object_get(s, "policy"), "mode",
                         json_object_get(s, "mode"), "enforce", json_object_get(s, "enforce"), "commit_limit_bytes",
                         json_object_get(s, "commit_limit_bytes"), "committed_bytes",
                         json_object_get(s, "committed_bytes"), "enrolled_processes", (json_int_t) e->processes,
                         "listeners", (json_int_t) e->enrolled, "level_refusals", (json_int_t) e->level_refusals,
                         "admitted", calls_json(e->admitted_calls), "refused", calls_json(e->refused_calls),
                         "would_refuse", calls_json(e->would_refuse_calls), "failed_closed",
                         calls_json(e->failed_closed_calls));
}

/* The host's own numbers, read (never written) as doctor reads them; a file that cannot be read leaves its
 * fields out. */
static json_t *host_metrics(void) {
        json_t *h = json_object();
        struct overcommit oc;
        struct meminfo mi;

        if (h && meminfo_read("/proc/meminfo", &mi) >= 0) {
                json_object_set_new(h, "commit_limit_bytes", json_integer((json_int_t) mi.commit_limit));
                json_object_set_new(h, "committed_bytes", json_integer((json_int_t) mi.committed_as));
        }
        if (h && overcommit_read("/proc/sys/vm", &oc) >= 0)
                json_object_set_new(h, "overcommit_memory", json_integer((json_int_t) oc.mode));
        return h;
}

static json_t *daemon_metrics(struct daemon *d) {
        json_t *le = json_array(), *counts = json_array();

        for (size_t i = 0; le && counts && i <= JUDGE_BUCKETS; i++) {
                if (i < JUDGE_BUCKETS)
                        json_array_append_new(le, json_integer((json_int_t) judge_bucket_usec[i]));
                json_array_append_new(counts, json_integer((json_int_t) d->stats.judge_counts[i]));
        }
        return json_pack("{s:I, s:i, s:b, s:{s:o, s:o, s:I}, s:{s:I, s:I}}", "listeners", (json_int_t) d->n_listeners,
                         "listeners_recovered", (int) d->stats.listeners_recovered, "keeper_up",
                         custody_keeper_up(&d->custody), "judge", "le_usec", le, "counts", counts, "sum_usec",
                         (json_int_t) d->stats.judge_sum_usec, "remeasure", "count", (json_int_t) d->stats.remeasures,
                         "sum_usec", (json_int_t) d->stats.remeasure_sum_usec);
}

/* The numbers behind `commitctl metrics` (lib/metrics.c writes them as Prometheus' exposition). A tenant gets
 * the budgets it may read and the host's numbers; the daemon's own (which count every tenant's calls) go to
 * admins and readers only. Budgets page as status does. */
static void m_metrics(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r) {
        static const char *const allowed[] = {"after", NULL};
        const json_t *after = json_object_get(params, "after");
        (void) fd;

        if (!params_known(params, allowed, r))
                return;
        if (after && !json_is_string(after)) {
                fail(r, PROTOCOL_INVALID_PARAMS, "\"after\" is the \"next\" of the last reply, a string");
                return;
        }
        page(d, c, after ? json_string_value(after) : NULL, "budgets", entry_metrics, 2048, r);
        if (!r->result)
                return;
        json_object_set_new(r->result, "version", json_string(COMMITD_VERSION));
        json_object_set_new(r->result, "host", host_metrics());
        if (reads_all(c))
                json_object_set_new(r->result, "daemon", daemon_metrics(d));
}

static const struct method {
        const char *name;
        void (*run)(struct daemon *d, struct client *c, const json_t *params, int *fd, struct reply *r);
        bool admin; /* mutating: root or the configured group */
} methods[] = {
        {"status", m_status, false},           {"set-mode", m_set_mode, true}, {"set-ratio", m_set_ratio, true},
        {"set-limit", m_set_limit, true},      {"reload", m_reload, true},     {"policy-list", m_policy_list, false},
        {"policy-show", m_policy_show, false}, {"enroll", m_enroll, true},     {"events", m_events, false},
        {"metrics", m_metrics, false},
};

void dispatch(struct daemon *d, struct client *c, const struct protocol_request *req, int *passed_fd,
              struct reply *ret) {
        *ret = (struct reply){0};
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                if (!streq(methods[i].name, req->method))
                        continue;
                if (methods[i].admin && !c->admin && c->reader) {
                        fail(ret, PROTOCOL_PERMISSION_DENIED,
                             "%s changes commitd, and uid %d is in commitd's read group (--read-group), which "
                             "reads every budget and changes nothing; ask root or the commitd group",
                             req->method, (int) c->cred.uid);
                        return;
                }
                if (methods[i].admin && !c->admin) {
                        fail(ret, PROTOCOL_PERMISSION_DENIED,
                             "%s changes commitd and needs root or the commitd group; uid %d is neither (try sudo)",
                             req->method, (int) c->cred.uid);
                        return;
                }
                methods[i].run(d, c, req->params, passed_fd, ret);
                if (!ret->result && ret->message[0] == '\0')
                        fail(ret, PROTOCOL_INTERNAL_ERROR, "out of memory");
                return;
        }
        fail(ret, PROTOCOL_UNKNOWN_METHOD,
             "no method \"%s\" (methods: status, set-mode, set-ratio, set-limit, reload, policy-list, policy-show, "
             "enroll, events, metrics)",
             req->method);
}
