/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "measure.h"
#include "notify.h"
#include "records.h"
#include "sysv.h"

/* ---- the tables ---- */

static struct thread **thread_bucket(struct daemon *d, pid_t tid) {
        return &d->threads[(unsigned) tid % PROCS_BUCKETS];
}

static struct process **process_bucket(struct daemon *d, pid_t tgid) {
        return &d->processes[(unsigned) tgid % PROCS_BUCKETS];
}

static struct thread *thread_find(struct daemon *d, pid_t tid) {
        for (struct thread *t = *thread_bucket(d, tid); t; t = t->next)
                if (t->tid == tid)
                        return t;
        return NULL;
}

struct process *records_process(struct daemon *d, pid_t tgid) {
        for (struct process *p = *process_bucket(d, tgid); p; p = p->next)
                if (p->tgid == tgid)
                        return p;
        return NULL;
}

static void thread_forget(struct daemon *d, struct thread *t) {
        for (struct thread **pp = thread_bucket(d, t->tid); *pp; pp = &(*pp)->next)
                if (*pp == t) {
                        *pp = t->next;
                        break;
                }
        for (struct thread **pp = &t->proc->threads; *pp; pp = &(*pp)->sibling)
                if (*pp == t) {
                        *pp = t->sibling;
                        break;
                }
        free(t);
}

static void process_unlink(struct daemon *d, struct process *p) {
        /* Its segments outlive it: claimed while its record still says where it was judged. */
        if (p->made_sysv) {
                int r = sysv_refresh(d);
                if (r < 0)
                        log_warning("pid %d made SysV segments and exited, and /proc/sysvipc/shm is unreadable (%s): "
                                    "they are not charged to %s",
                                    (int) p->tgid, strerror(-r), p->entry->cgroup);
                p->made_sysv = false;
                d->sysv_makers--;
        }
        for (struct process **pp = process_bucket(d, p->tgid); *pp; pp = &(*pp)->next)
                if (*pp == p) {
                        *pp = p->next;
                        break;
                }
        while (p->threads)
                thread_forget(d, p->threads);
}

static void process_free(struct daemon *d, struct process *p) {
        process_unlink(d, p);
        if (p->entry->processes > 0)
                p->entry->processes--;
        budgets_put(&d->budgets, p->entry);
        free(p);
}

static struct process *process_new(struct daemon *d, struct listener *l, struct budget_entry *e, pid_t tgid,
                                   uint64_t start_time) {
        struct process *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        *p = (struct process){.tgid = tgid, .start_time = start_time, .listener = l, .entry = e};
        e->processes++;
        p->next = *process_bucket(d, tgid);
        *process_bucket(d, tgid) = p;
        return p;
}

/* Whether a child that forks of l's processes made since since_ticks may live where no measure of l's budget
 * looks: a process started since then (stat's start_time, clock ticks since boot), carrying a seccomp filter (a
 * child inherits its parent's), outside l's cgroup subtree. One small read per process, and two more for the
 * few that qualify. A process that vanishes while it is looked at is gone; /proc unreadable: possible. */
static bool escapees_possible(const struct listener *l, uint64_t since_ticks) {
        DIR *dir = opendir("/proc");
        struct dirent *de;
        bool possible = false;

        if (!dir)
                return true;
        while (!possible && (de = readdir(dir))) {
                struct proc_cgroup cg = {0};
                struct proc_status status;
                struct proc_stat st;
                char path[64], *end;
                long pid = strtol(de->d_name, &end, 10);

                if (*end || pid <= 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
                if (proc_stat_read(path, &st) < 0 || st.start_time < since_ticks)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/status", pid);
                if (proc_status_read(path, &status) < 0 || status.seccomp_filters == 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
                if (cgroupfs_read_proc_cgroup(path, &cg) < 0)
                        continue;
                possible = !cg.v2_path || (!streq(cg.v2_path, l->entry->cgroup) &&
                                           cgroupfs_path_is_below(cg.v2_path, l->entry->cgroup) <= 0);
                proc_cgroup_done(&cg);
        }
        closedir(dir);
        return possible;
}

/* A process that exits while forks of it are unresolved: its children, if any live, hold copies of it where a
 * measure may not find them (moved out of the cgroup before their first call). Unless no such child can exist
 * (escapees_possible()), the charge stays with its listener, merged into one ghost per cgroup, until none can
 * (checked at each upkeep) or every process of the filter is gone. */
static void process_exited(struct daemon *d, struct process *p) {
        struct listener *l = p->listener;

        if (p->unresolved_forks == 0 || !escapees_possible(l, p->first_fork_ticks)) {
                process_free(d, p);
                return;
        }
        for (struct process *g = l->ghosts; g; g = g->next)
                if (g->entry == p->entry) {
                        g->first_fork_ticks = MIN(g->first_fork_ticks, p->first_fork_ticks);
                        g->unresolved_fork_plain = saturating_add(g->unresolved_fork_plain, p->unresolved_fork_plain);
                        g->unresolved_fork_noreserve =
                                saturating_add(g->unresolved_fork_noreserve, p->unresolved_fork_noreserve);
                        g->unresolved_forks += p->unresolved_forks;
                        process_free(d, p);
                        return;
                }
        log_info("pid %d (%s) exited before commitd found what it forked; %s keeps that charge until the processes "
                 "of its filter are gone",
                 (int) p->tgid, p->comm, p->entry->cgroup);
        process_unlink(d, p);
        p->entry->processes--;
        p->entry->ghosts++;
        p->next = l->ghosts;
        l->ghosts = p;
}

static void ghost_free(struct daemon *d, struct process *g) {
        if (g->entry->ghosts > 0)
                g->entry->ghosts--;
        budgets_put(&d->budgets, g->entry);
        free(g);
}

/* ---- /proc ---- */

/* /proc/PID/stat of a process or a thread (a tid works there too, unlisted). */
static int pid_stat(pid_t pid, struct proc_stat *ret) {
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        return proc_stat_read(path, ret) < 0 ? -ESRCH : 0;
}

bool records_thread_reused(const struct thread *t) {
        uint64_t start;
        return proc_start_time_read("/proc", t->tid, &start) < 0 || start != t->start_time;
}

void records_thread_called(struct thread *t) {
        t->call.active = false;
}

struct thread *records_thread_find(struct daemon *d, pid_t tid) {
        return thread_find(d, tid);
}

int records_measure(struct daemon *d, struct thread **tp) {
        struct thread *t = *tp;
        pid_t tid = t->tid;
        uint64_t start_time = t->start_time;
        struct process_commit pc;
        struct process *p;
        int r;

        uint64_t number = ++d->process_measures;
        struct budget_entry *reading = t->proc->entry; /* pinned while read: t may go meanwhile */

        /* Through the calling thread: /proc/TGID/smaps is empty once the leader has exited, /proc/TID/ of a live
         * thread still shows the whole mm. Only the private sums (fork's charge) are used here: no shmem object
         * sizes, no fd walk (d->measure_private). A large process's areas take milliseconds: read without the
         * lock, the record looked up again after. */
        daemon_read_begin(d, reading);
        r = measure_process(&d->measure_private, tid, &pc);
        daemon_read_end(d, reading);
        t = thread_find(d, tid);
        if (!t || t->start_time != start_time) {
                *tp = NULL;
                if (r >= 0)
                        process_commit_done(&pc);
                return -ESRCH;
        }
        *tp = t;
        if (r < 0)
                return r;
        p = t->proc;
        if (pc.tgid != p->tgid) {
                process_commit_done(&pc);
                return -ESRCH; /* the tid names a thread of another process now */
        }
        p->fork_bytes = pc.charge.accountable_bytes - pc.charge.dontcopy_accountable_bytes;
        p->fork_noreserve_bytes = pc.charge.noreserve_bytes;
        p->held_bytes = pc.charge.accountable_bytes;
        p->held_noreserve_bytes = pc.charge.noreserve_bytes;
        /* Areas other threads were admitted and the kernel may not have mapped yet: a fork after they are
         * mapped copies them, and smaps cannot show them now. */
        for (const struct thread *o = p->threads; o; o = o->sibling)
                if (o->call.active && o->call.copied_by_fork) {
                        p->fork_bytes = saturating_add(p->fork_bytes, o->call.plain);
                        p->fork_noreserve_bytes = saturating_add(p->fork_noreserve_bytes, o->call.noreserve);
                }
        p->remeasure_before_fork = false;
        p->rescan_objects = false;
        p->vm_size_bytes = pc.vm_size_bytes;
        p->cap_sys_admin = pc.cap_sys_admin;
        p->measured = true;
        p->measure_number = number;
        snprintf(p->comm, sizeof(p->comm), "%s", pc.comm);
        /* Judged in its listener's cgroup or one below: a process that moved itself out is still judged there. */
        if (pc.cgroup && !streq(pc.cgroup, p->entry->cgroup) &&
            cgroupfs_path_is_below(pc.cgroup, p->listener->entry->cgroup) > 0) {
                struct budget_entry *e;
                if (budgets_get(&d->budgets, pc.cgroup, &e) >= 0 && e != p->entry) {
                        struct budget_entry *old = p->entry;
                        e->processes++;
                        p->entry = e;
                        old->processes--;
                        budgets_put(&d->budgets, old);
                }
        }
        process_commit_done(&pc);
        return 0;
}

/* The parent's break and what it forked were the child's at fork: the child starts from them. */
static void inherit(struct process *child, const struct process *parent) {
        memcpy(child->brk_targets, parent->brk_targets, sizeof(child->brk_targets));
        child->n_brk_targets = parent->n_brk_targets;
}

void records_thread_forget(struct daemon *d, struct thread *t) {
        struct process *p = t->proc;

        thread_forget(d, t);
        if (!p->threads)
                process_free(d, p);
}

int records_thread(struct daemon *d, struct listener *l, pid_t tid, struct thread **ret) {
        struct thread *t = thread_find(d, tid);
        struct proc_status status;
        struct proc_stat st, leader;
        struct process *p;
        char path[64];
        int r;

        if (t && t->proc->listener != l) {
                /* A task's calls reach one listener only (the kernel allows one per filter chain:
                 * has_duplicate_listener()), so a record of another listener is a dead thread's reused tid. */
                records_thread_forget(d, t);
                t = NULL;
        }
        if (t) {
                *ret = t;
                return 0;
        }
        snprintf(path, sizeof(path), "/proc/%d/status", (int) tid);
        r = proc_status_read(path, &status);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (pid_stat(tid, &st) < 0 || pid_stat(status.tgid, &leader) < 0)
                return -ESRCH;
        p = records_process(d, status.tgid);
        if (p && (p->listener != l || p->start_time != leader.start_time)) {
                process_free(d, p); /* a dead process's reused pid */
                p = NULL;
        }
        if (!p) {
                struct process *parent = records_process(d, status.ppid);

                p = process_new(d, l, l->entry, status.tgid, leader.start_time);
                if (!p)
                        return -ENOMEM;
                if (parent && parent->listener == l)
                        inherit(p, parent);
        }
        t = calloc(1, sizeof(*t));
        if (!t) {
                if (!p->threads)
                        process_free(d, p);
                return -ENOMEM;
        }
        *t = (struct thread){.tid = tid, .start_time = st.start_time, .proc = p, .sibling = p->threads};
        p->threads = t;
        t->next = *thread_bucket(d, tid);
        *thread_bucket(d, tid) = t;
        if (!p->measured) {
                r = records_measure(d, &t);
                if (r < 0) {
                        if (t)
                                records_thread_forget(d, t);
                        return r;
                }
        }
        *ret = t;
        return 1;
}

static uint64_t boottime_ticks(void);

void records_admitted(struct thread *t, enum call_kind kind, int nr, const uint64_t args[6],
                      const struct call_charge *c) {
        struct process *p = t->proc;
        bool fork = kind == CALL_FORK || kind == CALL_CLONE;

        if (c->copied_by_fork) {
                p->fork_bytes = saturating_add(p->fork_bytes, c->plain);
                p->fork_noreserve_bytes = saturating_add(p->fork_noreserve_bytes, c->noreserve);
        }
        if (c->grows_vm)
                p->vm_size_bytes = saturating_add(p->vm_size_bytes, saturating_add(c->plain, c->noreserve));
        if (calls_is_shmget(kind, args) && !p->made_sysv) {
                p->made_sysv = true;
                p->listener->daemon->sysv_makers++;
        }
        if (kind == CALL_BRK && args[0] != 0) {
                if (p->n_brk_targets == RECORDS_BRK_TARGETS) {
                        memmove(p->brk_targets, p->brk_targets + 1,
                                sizeof(p->brk_targets[0]) * (RECORDS_BRK_TARGETS - 1));
                        p->n_brk_targets--;
                }
                p->brk_targets[p->n_brk_targets++] = args[0];
        }
        /* In flight until the thread is seen past it. A fork's charge waits for its child instead. */
        t->call = (struct inflight){.active = true,
                                    .kind = kind,
                                    .nr = nr,
                                    .args = {args[0], args[1], args[2]},
                                    .plain = fork ? 0 : c->plain,
                                    .noreserve = fork ? 0 : c->noreserve,
                                    .copied_by_fork = c->copied_by_fork};
        if (!fork)
                return;
        if (p->unresolved_forks++ == 0)
                p->first_fork_ticks = boottime_ticks();
        p->unresolved_fork_plain = saturating_add(p->unresolved_fork_plain, c->plain);
        p->unresolved_fork_noreserve = saturating_add(p->unresolved_fork_noreserve, c->noreserve);
        if (kind == CALL_CLONE && (args[0] & CLONE_PARENT))
                p->clone_parent = true;
}

/* ---- what a measure must know ---- */

/* Whether t's last admitted call may still be ahead of the kernel. /proc/TID/syscall shows the call a blocked
 * thread is in ("NR ARG1 ..."), "-1 ..." outside any, "running" for a thread on a CPU or runnable: only a thread
 * seen somewhere else is surely past it. Unreadable: assume not (the charge stays: fail closed). */
static bool inflight_pending(const struct thread *t) {
        char path[64], buf[256];
        unsigned long long a[3];
        long nr = 0;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/syscall", (int) t->tid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno != ENOENT && errno != ESRCH; /* gone: whatever it did is done */
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return n < 0 && errno != ESRCH;
        buf[n] = '\0';
        if (strncmp(buf, "running", 7) == 0)
                return true;
        if (sscanf(buf, "%ld %llx %llx %llx", &nr, &a[0], &a[1], &a[2]) != 4)
                return nr == -1 ? false : true;
        return (nr & ~(long) CALLS_X32_SYSCALL_BIT) == (t->call.nr & ~CALLS_X32_SYSCALL_BIT) &&
               a[0] == t->call.args[0] && a[1] == t->call.args[1] && a[2] == t->call.args[2];
}

static bool judged_in(const struct process *p, const struct budget_entry *e) {
        return p->entry == e || cgroupfs_path_is_below(p->entry->cgroup, e->cgroup) > 0;
}

static uint64_t boottime_ticks(void) {
        struct timespec ts;
        long hz = sysconf(_SC_CLK_TCK);

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (uint64_t) ts.tv_sec * (uint64_t) hz + (uint64_t) ts.tv_nsec / (1000000000u / (uint64_t) hz);
}

static int append_pid(pid_t **pids, size_t *n, pid_t pid) {
        pid_t *more = reallocarray(*pids, *n + 1, sizeof(pid_t));

        if (!more)
                return -ENOMEM;
        *pids = more;
        (*pids)[(*n)++] = pid;
        return 0;
}

/* The children of every thread of tgid (/proc/TGID/task/TID/children), appended to *pids. */
static int children_of(pid_t tgid, pid_t **pids, size_t *n) {
        char path[64];
        struct dirent *de;
        DIR *dir;
        int r = 0;

        snprintf(path, sizeof(path), "/proc/%d/task", (int) tgid);
        dir = opendir(path);
        if (!dir)
                return errno == ENOENT ? -ESRCH : -errno;
        while (r >= 0 && (de = readdir(dir))) {
                _cleanup_free_ char *buf = NULL, *file = NULL;
                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&file, "/proc/%d/task/%s/children", (int) tgid, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (fileio_read_full(file, FILEIO_MAX_BYTES, &buf, NULL) < 0)
                        continue; /* the thread exited meanwhile; its children went to another thread */
                for (char *s = buf, *end; *s; s = end) {
                        long v = strtol(s, &end, 10);
                        if (end == s)
                                break;
                        if (v > 0 && v <= INT_MAX)
                                r = append_pid(pids, n, (pid_t) v);
                }
        }
        closedir(dir);
        return r;
}

/* Every child of p forked since its unresolved forks gets a record (judged where p is), so that the measure,
 * and every measure after it, counts the child wherever it went. With CLONE_PARENT the child is p's sibling:
 * the parent's children started since then are taken too (over-counting an unrelated one is the safe side). */
static int resolve_forks(struct daemon *d, struct process *p) {
        _cleanup_free_ pid_t *kids = NULL;
        size_t n = 0, first_sibling;
        struct proc_stat st;
        bool stale = false;
        int r;

        r = children_of(p->tgid, &kids, &n);
        if (r < 0)
                return r;
        first_sibling = n;
        if (p->clone_parent) {
                char path[64];
                struct proc_status status;
                snprintf(path, sizeof(path), "/proc/%d/status", (int) p->tgid);
                if (proc_status_read(path, &status) < 0)
                        return -ESRCH;
                r = children_of(status.ppid, &kids, &n);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                struct process *c = records_process(d, kids[i]);
                if (kids[i] == p->tgid || (c && c->listener == p->listener) || pid_stat(kids[i], &st) < 0)
                        continue;
                if (i >= first_sibling && st.start_time < p->first_fork_ticks)
                        continue;
                if (c) {
                        stale = true; /* a dead process's record holds the pid until upkeep: find the child later */
                        continue;
                }
                c = process_new(d, p->listener, p->entry, kids[i], st.start_time);
                if (!c)
                        return -ENOMEM;
                inherit(c, p);
                log_debug("pid %d forked pid %d: judged in %s", (int) p->tgid, (int) kids[i], p->entry->cgroup);
        }
        if (stale)
                return 0;
        p->unresolved_forks = 0;
        p->unresolved_fork_plain = p->unresolved_fork_noreserve = 0;
        p->clone_parent = false;
        return 0;
}

static bool forking(const struct process *p) {
        for (const struct thread *t = p->threads; t; t = t->sibling)
                if (t->call.active && (t->call.kind == CALL_FORK || t->call.kind == CALL_CLONE))
                        return true;
        return false;
}

int records_judged(void *userdata, const struct budget_entry *e, pid_t **pids, size_t *n, uint64_t *ret_inflight,
                   struct smaps_charge *objects) {
        struct daemon *d = userdata;
        uint64_t inflight = 0;
        int r;

        /* Settle first, then list: records made for found children must be in the list. */
        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                for (struct process *p = d->processes[b], *next; p; p = next) {
                        next = p->next;
                        if (!judged_in(p, e))
                                continue;
                        for (struct thread *t = p->threads; t; t = t->sibling)
                                if (t->call.active && !inflight_pending(t))
                                        t->call.active = false;
                        if (p->unresolved_forks == 0 || forking(p))
                                continue;
                        r = resolve_forks(d, p);
                        if (r == -ESRCH)
                                process_exited(d, p); /* gone before upkeep saw it: its forks' children decide */
                        else if (r < 0)
                                return r;
                }
        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                for (struct process *p = d->processes[b]; p; p = p->next) {
                        if (!judged_in(p, e))
                                continue;
                        for (const struct thread *t = p->threads; t; t = t->sibling)
                                if (t->call.active)
                                        inflight = saturating_add(
                                                inflight, budgets_level_request(e, t->call.plain, t->call.noreserve));
                        inflight = saturating_add(inflight, budgets_level_request(e, p->unresolved_fork_plain,
                                                                                  p->unresolved_fork_noreserve));
                        r = append_pid(pids, n, p->tgid);
                        if (r < 0)
                                return r;
                }
        for (struct listener *l = d->listeners; l; l = l->next)
                for (const struct process *g = l->ghosts; g; g = g->next)
                        if (judged_in(g, e))
                                inflight =
                                        saturating_add(inflight, budgets_level_request(e, g->unresolved_fork_plain,
                                                                                       g->unresolved_fork_noreserve));
        *ret_inflight = inflight;
        /* Segments made since: claimed now, while their creators' records say where they were judged. */
        r = sysv_refresh(d);
        if (r < 0)
                log_warning("cannot read /proc/sysvipc/shm (%s): SysV claims not updated", strerror(-r));
        return sysv_add_objects(d, e->cgroup, objects);
}

/* ---- forgetting ---- */

void records_forget_listener(struct daemon *d, struct listener *l) {
        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                for (struct process *p = d->processes[b], *next; p; p = next) {
                        next = p->next;
                        if (p->listener == l)
                                process_free(d, p);
                }
        while (l->ghosts) {
                struct process *g = l->ghosts;
                l->ghosts = g->next;
                ghost_free(d, g);
        }
}

/* Ghosts whose forks can no longer have a live child outside their cgroups let their charge go. */
static void ghosts_upkeep(struct daemon *d) {
        for (struct listener *l = d->listeners; l; l = l->next)
                for (struct process **gp = &l->ghosts; *gp;) {
                        struct process *g = *gp;
                        if (escapees_possible(l, g->first_fork_ticks)) {
                                gp = &g->next;
                                continue;
                        }
                        log_debug("%s: the children that pid %d forked are gone: its charge goes", g->entry->cgroup,
                                  (int) g->tgid);
                        *gp = g->next;
                        ghost_free(d, g);
                }
}

void records_upkeep(struct daemon *d) {
        ghosts_upkeep(d);
        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                for (struct process *p = d->processes[b], *next; p; p = next) {
                        uint64_t start;
                        next = p->next;
                        for (struct thread *t = p->threads, *tn; t; t = tn) {
                                tn = t->sibling;
                                if (records_thread_reused(t))
                                        thread_forget(d, t); /* exited, or its tid names another thread now */
                        }
                        if (proc_start_time_read("/proc", p->tgid, &start) < 0 || start != p->start_time)
                                process_exited(d, p);
                }
}

void records_free(struct daemon *d) {
        for (struct listener *l = d->listeners; l; l = l->next)
                records_forget_listener(d, l);
        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                while (d->processes[b])
                        process_free(d, d->processes[b]);
}
