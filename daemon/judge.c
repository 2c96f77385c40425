/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "calls.h"
#include "charge.h"
#include "events.h"
#include "fileio.h"
#include "heap.h"
#include "judge.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "records.h"

#define MAX_LEVELS 16

/* Raw ioctl: libseccomp 2.5 folds errnos such as ENOENT into -ECANCELED. After reading a process's /proc, this
 * says the notification is still pending, so what was read belongs to the process that made the call (the
 * kernel's rule for supervisors: seccomp_unotify(2)). */
bool judge_id_valid(int fd, uint64_t id) {
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static void answer(struct seccomp_notif_resp *resp, uint64_t id, int error) {
        *resp = (struct seccomp_notif_resp){
                .id = id,
                .error = error,
                .flags = error ? 0 : SECCOMP_USER_NOTIF_FLAG_CONTINUE,
        };
}

/* brk(2) never fails with an errno: the kernel returns the break it kept, and libc compares (glibc's __brk
 * stores whatever comes back as its idea of the break, so -ENOMEM would read as success). */
static void answer_brk(struct seccomp_notif_resp *resp, uint64_t id, uint64_t brk) {
        *resp = (struct seccomp_notif_resp){.id = id, .val = (int64_t) brk};
}

/* What the kernel shows of the break: the [heap] area's end, PAGE_ALIGN(mm->brk), and start_brk. */
struct heap {
        uint64_t end, start_brk;
        bool has_heap;
};

static int read_heap(pid_t tid, struct heap *ret) {
        char path[64];
        struct proc_stat st;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) tid);
        r = proc_stat_read(path, &st);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/proc/%d/maps", (int) tid);
        ret->start_brk = st.start_brk;
        return heap_end_read(path, st.start_brk, &ret->end, &ret->has_heap);
}

/* The break to answer a refused brk with: the kernel's own answer is mm->brk, to the byte, and glibc takes it as
 * the start of the memory its next sbrk hands out, so a value below the true break gives live heap away twice.
 * mm->brk is in no /proc file, but the kernel set it to one of the brk() targets commitd admitted, or kept it:
 * the latest admitted one in the [heap] area's last page is it. Several targets share that page whenever glibc
 * rounds its sbrk up to a page (static programs: brk(0x...4d00), then brk(0x...5000)), and the last one wins:
 * a brk within the break's own page only sets mm->brk in the kernel (mm/mmap.c brk(), once past its start_brk
 * and RLIMIT_DATA checks), and one that moved the break to another page is the only target there. With no heap area the
 * break is start_brk. When no target names it (a record learned after the last brk), 0: glibc reads it as a failure and
 * asks the kernel again with brk(0) before its next sbrk, which is exact; a raw caller adding to 0 gets the kernel's
 * own answer for an address below start_brk, which is the break again. Two threads racing brk within one page may be
 * admitted in the other order than the kernel runs them: the answer is then off by less than that page, which
 * is mapped either way. */
static uint64_t refused_brk(const struct process *p, const struct heap *h, uint64_t page) {
        if (!h->has_heap)
                return h->start_brk;
        for (unsigned i = p->n_brk_targets; i-- > 0;)
                if (charge_page_up(p->brk_targets[i], page) == h->end)
                        return p->brk_targets[i];
        return 0;
}

/* The facts the charge of this call rests on, read now from /proc where the record cannot know them. */
static int gather(struct daemon *d, struct thread **tp, enum call_kind kind, const uint64_t *args,
                  struct charge_caller *caller, struct heap *heap) {
        struct thread *t = *tp;
        struct process *p;
        int r;

        switch (kind) {
        case CALL_FORK:
        case CALL_CLONE:
                /* execve() or MADV_DOFORK since the last measure change what a fork copies. */
                if (t->proc->remeasure_before_fork && (r = records_measure(d, tp)) < 0)
                        return r;
                t = *tp;
                break;
        case CALL_BRK:
                if (args[0] == 0)
                        break;
                r = read_heap(t->tid, heap);
                if (r < 0)
                        return r;
                caller->heap_end = heap->end;
                break;
        case CALL_NONE:
        case CALL_MMAP:
        case CALL_OLD_MMAP:
        case CALL_MREMAP:
        case CALL_MPROTECT:
        case CALL_CLONE3:
        case CALL_SHMGET:
        case CALL_IPC:
        case CALL_DOFORK:
        case CALL_MEMFD:
        case _CALL_KIND_MAX:
        default:
                break;
        }
        p = t->proc;
        caller->fork_bytes = p->fork_bytes;
        caller->fork_noreserve_bytes = p->fork_noreserve_bytes;
        return 0;
}

/* The fast path charges an mprotect's whole range; before a refusal, what the kernel will really charge:
 * an area already accountable is not charged again (written, made read-only, made writable again). */
static void mprotect_exact(pid_t tid, uint64_t addr, uint64_t len, struct call_charge *c) {
        uint64_t plain, noreserve;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/smaps", (int) tid);
        if (smaps_mprotect_charge_read(path, addr, len, &plain, &noreserve) < 0)
                return; /* keep the whole range: refusing too much beats admitting what strict mode would not */
        c->plain = plain;
        c->noreserve = noreserve;
}

/* mremap's charge depends on the area at old_addr (accountable or not); before a refusal, smaps says which. */
static void mremap_exact(pid_t tid, const uint64_t *args, uint64_t page_size, struct call_charge *c) {
        struct smaps_area a = {0};
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/smaps", (int) tid);
        r = smaps_area_at_read(path, args[0], &a);
        if (r < 0 && r != -EFAULT)
                return; /* keep the assumed charge: refusing too much beats admitting what strict mode would not */
        charge_mremap_exact(args,
                            &(struct charge_area){.found = r >= 0,
                                                  .accountable = a.ac,
                                                  .private_ = a.perms[3] == 'p',
                                                  .writable = a.perms[1] == 'w',
                                                  .noreserve = a.nr},
                            page_size, c);
}

/* The exact charge of an mprotect or mremap from the caller's smaps (replacing what charge_of_call() assumed). */
static void exact_charge(pid_t tid, enum call_kind kind, const uint64_t *args, uint64_t page_size,
                         struct call_charge *c) {
        if (kind == CALL_MPROTECT)
                mprotect_exact(tid, args[0], charge_page_up(args[1], page_size), c);
        else if (kind == CALL_MREMAP)
                mremap_exact(tid, args, page_size, c);
}

/* Judges against every level; returns the index of the first that refuses, or -1. */
static ssize_t judge_levels(struct daemon *d, const struct process *p, struct budget_entry **levels, size_t n,
                            const struct call_charge *c, struct formula_result *ret) {
        struct formula_caller caller = {.total_vm_bytes = p->vm_size_bytes, .cap_sys_admin = p->cap_sys_admin};

        for (size_t i = 0; i < n; i++) {
                struct formula_level lv = {.name = levels[i]->cgroup,
                                           .budget = &levels[i]->budget,
                                           .committed_bytes = ledger_committed(&levels[i]->ledger)};
                uint64_t request = budgets_level_request(levels[i], c->plain, c->noreserve);
                if (request == 0)
                        continue;
                if (formula_judge(&lv, &caller, request, d->page_size, ret) < 0 || ret->verdict == FORMULA_REFUSE)
                        return (ssize_t) i;
        }
        return -1;
}

/* Adds a charge to every level of p and to its own cgroup's ledger. */
static void charge_levels(const struct process *p, struct budget_entry **levels, size_t n, uint64_t plain,
                          uint64_t noreserve) {
        for (size_t i = 0; i < n; i++)
                (void) ledger_charge(&levels[i]->ledger, budgets_level_request(levels[i], plain, noreserve));
        if (n == 0 || levels[0] != p->entry)
                (void) ledger_charge(&p->entry->ledger, plain);
}

static void admit(struct thread *t, struct budget_entry **levels, size_t n, enum call_kind kind,
                  const struct seccomp_notif *req, const struct call_charge *c) {
        struct process *p = t->proc;

        charge_levels(p, levels, n, c->plain, c->noreserve);
        p->entry->admitted_calls[kind]++;
        records_admitted(t, kind, req->data.nr, (const uint64_t *) req->data.args, c);
}

static void refusal_event(struct daemon *d, pid_t pid, const char *comm, const struct budget_entry *at,
                          enum call_kind kind, const struct budget_entry *level, uint64_t request, uint64_t committed,
                          bool enforced, const char *reason) {
        struct refusal r = {
                .time_usec = now_usec(CLOCK_REALTIME),
                .pid = pid,
                .call = call_kind_name(kind),
                .request_bytes = request,
                .committed_bytes = committed,
                .limit_bytes = level ? level->commit_limit_bytes : 0,
                .mode = level ? commit_mode_to_string(level->budget.mode) : "-",
                .enforced = enforced,
        };
        snprintf(r.cgroup, sizeof(r.cgroup), "%s", at ? at->cgroup : "?");
        snprintf(r.level, sizeof(r.level), "%s", level ? level->cgroup : "-");
        snprintf(r.comm, sizeof(r.comm), "%s", comm);
        if (reason)
                snprintf(r.reason, sizeof(r.reason), "%s", reason);
        events_record(&d->events, &r);
}

/* A call commitd cannot judge is refused, never admitted "because we could not tell" (SPEC 7). */
static bool fail_closed(struct listener *l, const struct seccomp_notif *req, enum call_kind kind, const char *comm,
                        int error, struct seccomp_notif_resp *resp) {
        char reason[96];

        if (!judge_id_valid(l->fd, req->id))
                return false; /* the caller is gone: nothing to answer */
        snprintf(reason, sizeof(reason), "cannot judge: %s", strerror(error < 0 ? -error : error));
        l->entry->failed_closed_calls[kind]++;
        refusal_event(l->daemon, req->pid, comm, l->entry, kind, NULL, 0, 0, true, reason);
        if (kind == CALL_BRK)
                answer_brk(resp, req->id, 0); /* the break is unknown: 0 makes glibc ask the kernel (refused_brk()) */
        else
                answer(resp, req->id, -ENOMEM);
        return true;
}

/* ld.so's brk(0), the first call of a new image: execve() committed the image (its data, bss and stack) with
 * no call commitd saw. The process is measured now (a new image has a few dozen areas) unless a measure started
 * since the call came in (records_thread()'s, at the first sight of a process: `commitctl run`'s program), and,
 * by the caller, charged on top of the ledger; the old image's charge stays there until the next measure, an
 * overstatement that a refusal's re-measure settles. A measure that fails leaves the charge to the next one. */
static void new_image(struct daemon *d, struct thread **tp, uint64_t measures_before_call) {
        pid_t tid = (*tp)->tid;
        int r;

        if ((*tp)->proc->measured && (*tp)->proc->measure_number > measures_before_call)
                return;
        r = records_measure(d, tp);

        if (*tp)
                (*tp)->proc->remeasure_before_fork = r < 0;
        if (r < 0)
                log_debug("pid %d: cannot measure its new image (%s): charged at the next measure", (int) tid,
                          strerror(-r));
}

/* The caller's record went while /proc was read without the lock: the caller exited (nothing to answer), or,
 * if its call is still pending, its record was dropped under it: refused, as any call commitd cannot judge. */
static bool gone(struct listener *l, const struct seccomp_notif *req, enum call_kind kind,
                 struct seccomp_notif_resp *resp) {
        return fail_closed(l, req, kind, "?", -ESRCH, resp);
}

/* Calls the table does not judge: the filter should never send them (test-calls proves it for commitd's own
 * filters), but an OCI profile may carry another agent's notify rules, and i386 old_mmap and clone3 are ENOSYS. */
static void unknown_call(struct daemon *d, const struct listener *l, const struct seccomp_notif *req,
                         enum call_kind kind) {
        uint64_t sec = now_usec(CLOCK_MONOTONIC) / 1000000;

        if (kind != CALL_OLD_MMAP && kind != CALL_CLONE3 && sec != d->unknown_call_logged_sec) {
                d->unknown_call_logged_sec = sec;
                log_warning("listener of %s: pid %d made a call commitd does not judge (arch %#x, nr %d): ENOSYS",
                            l->entry->cgroup, (int) req->pid, req->data.arch, req->data.nr);
        }
}

bool judge_notification(struct daemon *d, struct listener *l, const struct seccomp_notif *req,
                        struct seccomp_notif_resp *resp) {
        const uint64_t *args = (const uint64_t *) req->data.args;
        struct budget_entry *levels[MAX_LEVELS];
        struct charge_caller caller = {0};
        struct formula_result res;
        uint64_t measures_before_call = d->process_measures;
        struct heap heap = {0};
        struct call_charge c;
        enum call_kind kind;
        struct thread *t;
        struct process *p;
        bool read_proc;
        ssize_t refused;
        size_t n;
        int r;

        kind = calls_lookup(req->data.arch, req->data.nr, NULL);
        if (kind == CALL_NONE || kind == CALL_OLD_MMAP || kind == CALL_CLONE3) {
                unknown_call(d, l, req, kind);
                answer(resp, req->id, -ENOSYS);
                return true;
        }
        if (l->exec_pending) {
                const char *why = NULL;
                r = container_exec_check(d, l->entry, req->pid, &why);
                if (r < 0) {
                        /* Fail closed: this call is refused, and the listener let go at the next upkeep. */
                        log_error("container %s: exec refused: pid %d: %s; its calls fail",
                                  l->entry->container_id ? l->entry->container_id : "?", (int) req->pid, why);
                        atomic_store(&l->broken, true);
                        return fail_closed(l, req, kind, "?", r, resp);
                }
                l->exec_pending = false;
        }
        r = records_thread(d, l, req->pid, &t);
        read_proc = r > 0;
        if (r >= 0 && (kind == CALL_FORK || kind == CALL_CLONE || kind == CALL_BRK) && !read_proc &&
            records_thread_reused(t)) {
                /* What fork copies and where the heap ends are the record's facts: on a reused tid they would be a
                 * dead thread's. The start time costs a read of /proc/TID/stat, little beside these calls. */
                records_thread_forget(d, t);
                r = records_thread(d, l, req->pid, &t);
                read_proc = true;
        }
        if (r < 0)
                return fail_closed(l, req, kind, "?", r, resp);
        records_thread_called(t); /* its previous call is done: it is making this one */
        read_proc = read_proc || kind == CALL_BRK || t->proc->remeasure_before_fork;
        r = gather(d, &t, kind, args, &caller, &heap);
        if (r < 0)
                return t ? fail_closed(l, req, kind, t->proc->comm, r, resp) : gone(l, req, kind, resp);
        p = t->proc;
        if (kind == CALL_DOFORK)
                p->remeasure_before_fork = true; /* nothing charged now; the next fork copies more */
        if (kind == CALL_MEMFD)
                p->rescan_objects = true;
        if (kind == CALL_BRK && args[0] == 0) {
                new_image(d, &t, measures_before_call);
                if (!t)
                        return gone(l, req, kind, resp);
                p = t->proc;
        }
        charge_of_call(kind, args, &caller, d->page_size, &c);
        if (read_proc && !judge_id_valid(l->fd, req->id))
                return false; /* the caller died while we read its /proc: nothing to answer, nothing to charge */
        n = budgets_levels(p->entry, levels, MAX_LEVELS);
        if (kind == CALL_BRK && args[0] == 0 && p->measured && !p->remeasure_before_fork)
                charge_levels(p, levels, n, p->held_bytes, p->held_noreserve_bytes);
        refused = judge_levels(d, p, levels, n, &c, &res);
        if (refused >= 0) {
                /* About to refuse: never on a stale ledger. Measure every level and the caller exactly. /proc is
                 * read without d->lock (the calls of other budgets go on): the levels are pinned meanwhile, and
                 * the records looked up again after (records_measure()). */
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                pid_t tid = t->tid;
                for (size_t i = 0; i < n; i++)
                        levels[i]->pins++;
                for (size_t i = 0; i < n; i++) {
                        r = daemon_measure(d, levels[i], now);
                        if (r < 0)
                                log_warning("cgroup %s: cannot re-measure before refusing (%s): its ledger stands",
                                            levels[i]->cgroup, strerror(-r));
                }
                for (size_t i = 0; i < n; i++) {
                        levels[i]->pins--;
                        budgets_put(&d->budgets, levels[i]); /* a reload may have left it unused */
                }
                r = records_measure(d, &t);
                if (t && r >= 0 && (kind == CALL_MPROTECT || kind == CALL_MREMAP)) {
                        /* Their charge rests on the area's flags, not on the record: read from smaps, unlocked. */
                        struct budget_entry *e = t->proc->entry;
                        charge_of_call(kind, args, &caller, d->page_size, &c);
                        daemon_read_begin(d, e);
                        exact_charge(tid, kind, args, d->page_size, &c);
                        daemon_read_end(d, e);
                        t = records_thread_find(d, tid);
                }
                if (!t)
                        return gone(l, req, kind, resp);
                p = t->proc;
                n = budgets_levels(p->entry, levels, MAX_LEVELS);
                if (r >= 0)
                        r = gather(d, &t, kind, args, &caller, &heap);
                if (r < 0)
                        return t ? fail_closed(l, req, kind, t->proc->comm, r, resp) : gone(l, req, kind, resp);
                p = t->proc;
                if (kind != CALL_MPROTECT && kind != CALL_MREMAP)
                        charge_of_call(kind, args, &caller, d->page_size, &c);
                if (!judge_id_valid(l->fd, req->id))
                        return false;
                refused = judge_levels(d, p, levels, n, &c, &res);
        }
        if (refused >= 0) {
                struct budget_entry *lv = levels[refused];
                bool enforced = !lv->policy || lv->policy->enforce;
                lv->refusals++;
                lv->level_refusals++;
                if (lv != p->entry)
                        p->entry->refusals++;
                if (enforced)
                        p->entry->refused_calls[kind]++;
                else
                        p->entry->would_refuse_calls[kind]++;
                refusal_event(d, req->pid, p->comm, p->entry, kind, lv, res.request_bytes, res.committed_bytes,
                              enforced, NULL);
                if (enforced) {
                        if (kind == CALL_BRK)
                                answer_brk(resp, req->id, refused_brk(p, &heap, d->page_size));
                        else
                                answer(resp, req->id, -ENOMEM);
                        return true;
                }
        }
        admit(t, levels, n, kind, req, &c);
        answer(resp, req->id, 0);
        return true;
}
