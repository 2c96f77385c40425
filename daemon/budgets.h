/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "calls.h"
#include "cgroup.h"
#include "formula.h"
#include "knobs.h"
#include "ledger.h"
#include "policy.h"
#include "measure.h"
#include "procfs.h"

/* Every cgroup commitd knows: one with a policy, or one with enrolled processes. Each keeps its resolved
 * budget (SPEC 3.2), its ledger, and a link to the nearest ancestor with a policy: the levels a request is
 * judged against are the entry itself (when it has a policy) and that chain. */
struct budget_entry {
        char *cgroup;
        struct policy *policy; /* NULL: no policy of its own */
        char *source;          /* the file the policy came from */
        struct budget budget;  /* resolved: policy values, else discovered */
        uint64_t commit_limit_bytes;
        struct ledger ledger;        /* in the budget's mode: MAP_NORESERVE areas count in strict mode only */
        struct budget_entry *parent; /* nearest ancestor with a policy */
        uint64_t refusals;
        /* By call kind, for the metrics (docs/design.md, Metrics) and status' "admitted" (their sum): the calls of
         * processes judged in exactly this cgroup admitted, refused by a level with no room, admitted though an audit
         * level had none, and refused because they could not be judged (fail closed, counted on the listener's cgroup);
         * and the refusals this entry decided as the level with no room, its descendants' included. */
        uint64_t admitted_calls[_CALL_KIND_MAX], refused_calls[_CALL_KIND_MAX];
        uint64_t would_refuse_calls[_CALL_KIND_MAX], failed_closed_calls[_CALL_KIND_MAX];
        uint64_t level_refusals;
        /* What keeps the entry alive (budgets_put()): its policy, and these. */
        unsigned enrolled;  /* listeners enrolled into exactly this cgroup */
        unsigned processes; /* process records (records.h) judged in exactly this cgroup */
        unsigned ghosts;    /* exited processes whose forks it still carries (records.h) */
        unsigned pins;      /* measures reading /proc for it without the daemon's lock (budgets_measure_begin()) */
        bool measuring;     /* the daemon's one measure of it runs (daemon_measure()) */
        bool reading;       /* a thread reads /proc for it, d->lock let go (daemon_read_begin()) */
        uint64_t measuring_since_usec, measures_done;
        int measure_result;
        pid_t sample_pid;  /* a process of the cgroup, for the hybrid host's v1 limits */
        pid_t skipped_pid; /* the unreadable, unjudged process its measures last left out (said once) */
        bool container;    /* made for a container by the OCI agent: forgotten when its listener goes */
        char *template_name, *container_id; /* a container's: the policy it was made from, its OCI id */
        bool oci_cgroup; /* commitd made the cgroup for the container (container.h): removed when it ends */
        uint64_t pidns;  /* the container's pid namespace (inode), 0 when unknown: its execs are checked by it */
        struct budget_entry *next;
};

struct budgets {
        struct budget_entry *entries;
        const struct cgroup_root *root;
        const char *policy_dir, *state_dir;
        uint64_t page_size;
        const struct measure_ctx *measure; /* how budgets_measure_read() reads processes (NULL: measure.h's default) */
        /* Appends to *pids (reallocated) the processes judged in e or below it, wherever they are now, so that a
         * process moved out of e's cgroups still counts in e's measure; *ret_inflight: the charges admitted that
         * the measure cannot see yet; *objects: shmem objects e carries that no process may map (SysV
         * segments), folded with what the measure finds (records_judged()). May be NULL. */
        int (*judged)(void *userdata, const struct budget_entry *e, pid_t **pids, size_t *n, uint64_t *ret_inflight,
                      struct smaps_charge *objects);
        void *judged_data;
};

/* The entry of exactly this cgroup, or NULL. */
struct budget_entry *budgets_find(struct budgets *b, const char *cgroup);
/* The entry of the cgroup, created (without policy) when missing. */
int budgets_get(struct budgets *b, const char *cgroup, struct budget_entry **ret);
/* The entry whose policy is named name, or NULL. */
struct budget_entry *budgets_find_policy(struct budgets *b, const char *name);
/* Applies a copy of template's policy to cgroup (a container's own cgroup), named "TEMPLATE@ID", not
 * persisted: the container's budget lives as long as the container. */
int budgets_instantiate(struct budgets *b, const struct budget_entry *template, const char *cgroup, const char *id,
                        struct budget_entry **ret);
/* A container's listener is gone: its instantiated policy goes, and the entry with it once nothing else
 * holds it. */
void budgets_container_ended(struct budgets *b, struct budget_entry *e);
/* Frees e if nothing holds it any more: no policy, no listener, no process record, no ghost. Call after
 * dropping one of those. */
void budgets_put(struct budgets *b, struct budget_entry *e);
/* The part of a charge that level e counts: MAP_NORESERVE parts only in strict mode. */
uint64_t budgets_level_request(const struct budget_entry *e, uint64_t plain, uint64_t noreserve);
/* Levels for a request from a process in entry e: e (if it has a policy) and each ancestor with one,
 * innermost first. Returns the count (at most max). */
size_t budgets_levels(struct budget_entry *e, struct budget_entry **levels, size_t max);

/* Loads the policy directory and then the live changes in the state directory (which override a file of
 * the same cgroup). Bad files are skipped; their error lines are appended to errors (may be NULL).
 * Returns the number of policies loaded, or -errno when the directory cannot be read. */
int budgets_load(struct budgets *b, json_t *errors);
/* Resolves each entry's budget from its policy and discovered limits; relinks parents. */
void budgets_refresh(struct budgets *b);
/* Re-measures one entry exactly from /proc/PID/smaps of every process in its cgroup subtree, and the processes
 * judged in it wherever they are. In three steps, so that a daemon can read /proc without its lock: begin
 * (under the lock: the pids, what is in flight; pins the entry), read (no lock: the slow part), end (under
 * the lock: unpins, puts the measure in the ledger, keeping what was admitted since begin); daemon_measure()
 * (commitd.h) runs them. Returns 0 or -errno (the ledger stands). */
struct budget_measure {
        struct budget_entry *entry;
        pid_t *pids, *judged;
        size_t n, n_judged;
        uint64_t inflight;
        struct ledger_mark mark;
        struct smaps_charge objects, charge;
        struct measure_report report;
        int result;
};
int budgets_measure_begin(struct budgets *b, struct budget_entry *e, struct budget_measure *m);
int budgets_measure_read(const struct budgets *b, struct budget_measure *m);
int budgets_measure_end(struct budgets *b, struct budget_measure *m, uint64_t now_usec);
void budgets_measure_done(struct budget_measure *m);

/* Live changes (set-mode, set-ratio, set-limit): creates the policy (defaults, named after the cgroup) and
 * the cgroup when missing, applies change, persists it atomically in the state directory, refreshes. */
int budgets_change(struct budgets *b, const char *cgroup, const struct knob_change *change, struct budget_entry **ret);

/* e as one entry of the status reply (docs/protocol.md, status). */
json_t *budgets_entry_json(const struct budget_entry *e);
void budgets_free(struct budgets *b);
