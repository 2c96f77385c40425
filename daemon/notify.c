/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "events.h"
#include "fileio.h"
#include "keeper.h"
#include "log.h"
#include "macro.h"
#include "measure.h"
#include "cgroupfs.h"
#include "notify.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64) /* Linux 6.6 */
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#define IPC_SHMGET_CALL       23 /* ipc(2) multiplexer call number of shmget on i386 */
#define MAX_LEVELS            16
#define NOTIFY_REMEASURE_USEC (10u * 1000000) /* a ledger that did not grow is measured again after this */
#define SLOT_SIZE             128 /* one in-flight record: the kernel's struct seccomp_notif (80 bytes in 6.x) */
#define KEEPER_TABLE          0u  /* keeper key of the in-flight table; listener in slot s is key s + 1 */

enum call_kind {
        CALL_MMAP,
        CALL_BRK,
        CALL_MREMAP,
        CALL_MPROTECT,
        CALL_FORK,
        CALL_CLONE,
        CALL_SHMGET,
        CALL_IPC,
        CALL_DOFORK
};

static const char *const call_names[] = {
        [CALL_MMAP] = "mmap",         [CALL_BRK] = "brk",    [CALL_MREMAP] = "mremap",
        [CALL_MPROTECT] = "mprotect", [CALL_FORK] = "fork",  [CALL_CLONE] = "clone",
        [CALL_SHMGET] = "shmget",     [CALL_IPC] = "shmget", [CALL_DOFORK] = "madvise",
};

/* (arch, syscall number) -> call, resolved once from libseccomp's tables: x86_64, i386 and x32 differ. */
static struct {
        uint32_t arch;
        int nr;
        enum call_kind kind;
} calls[32];
static size_t n_calls;

struct proc_entry {
        pid_t pid;                  /* the calling thread's, as the notification names it */
        pid_t tgid;                 /* its process: what a measure of the cgroup must count, once */
        uint64_t start_time;        /* /proc/PID/stat field 22: tells a reused pid */
        struct budget_entry *entry; /* the cgroup it is judged in */
        struct listener *listener;
        uint64_t fork_bytes;           /* what fork() charges: accountable areas not VM_DONTCOPY */
        uint64_t fork_noreserve_bytes; /* MAP_NORESERVE private areas: fork charges them in strict mode */
        uint64_t brk_end;              /* 0: unknown */
        bool remeasure_before_fork;    /* execve() (ld.so's brk(0)) or MADV_DOFORK since the last measure */
        uint64_t vm_size_bytes;
        bool cap_sys_admin;
        char comm[64];
        struct proc_entry *next;
};

struct listener {
        int fd;
        struct loop_source *source;
        struct budget_entry *entry;
        pid_t enrolled_pid;
        struct daemon *daemon;
        unsigned slot;        /* its record in the in-flight table, and its keeper key - 1 */
        pthread_t thread;     /* blocks in NOTIF_RECV; judges under d->lock */
        bool started;         /* the thread runs */
        atomic_bool stopping; /* set by the loop on HUP, before it interrupts the thread */
        struct listener *next;
};

/* Crash safety (docs/reliability.md). Every listener is also held by the keeper, and every listener thread
 * receives straight into its slot of the in-flight table, a memfd the keeper holds too: the kernel writes the
 * notification there, so a commitd killed between receiving and answering leaves the call behind for the
 * next one, which answers it (the kernel keeps it SENT and unanswered until someone does). */
static struct {
        size_t notif_size; /* the kernel's struct seccomp_notif (SECCOMP_GET_NOTIF_SIZES) */
        char *table;       /* NOTIFY_MAX_LISTENERS slots, MAP_SHARED */
        int table_fd;
        struct listener *by_slot[NOTIFY_MAX_LISTENERS];
        int keeper_fd; /* -1: no keeper, listeners die with commitd */
        struct loop_source *keeper_source;
        const char *keeper_socket, *keeper_binary;
} custody = {.table_fd = -1, .keeper_fd = -1};

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void on_interrupt(int sig) {
        (void) sig; /* only there to make a blocked NOTIF_RECV return EINTR */
}

int notify_init(void) {
        struct sigaction sa = {.sa_handler = on_interrupt}; /* no SA_RESTART: the ioctl must return EINTR */
        struct seccomp_notif_sizes sizes;

        if (sigaction(SIGUSR1, &sa, NULL) < 0)
                return -errno;
        if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
                return -errno;
        /* The kernel copies exactly its own struct into the slot; a bigger one (a future kernel) would not fit.
         * The answer is a struct seccomp_notif_resp on the stack: the kernel reads no more of it than it knows. */
        if (sizes.seccomp_notif > SLOT_SIZE || sizes.seccomp_notif < sizeof(struct seccomp_notif) ||
            sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp))
                return -EPROTO;
        custody.notif_size = sizes.seccomp_notif;
        static const struct {
                const char *name;
                enum call_kind kind;
        } names[] = {
                {"mmap", CALL_MMAP},         {"mmap2", CALL_MMAP},
                {"brk", CALL_BRK},           {"mremap", CALL_MREMAP},
                {"mprotect", CALL_MPROTECT}, {"fork", CALL_FORK},
                {"clone", CALL_CLONE},       {"shmget", CALL_SHMGET},
                {"ipc", CALL_IPC},           {"pkey_mprotect", CALL_MPROTECT},
                {"madvise", CALL_DOFORK},
        };
        static const uint32_t arches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};

        for (size_t a = 0; a < ELEMENTSOF(arches); a++)
                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        int nr = seccomp_syscall_resolve_name_arch(arches[a], names[i].name);
                        /* i386 "mmap" is old_mmap, whose arguments sit in memory: the filter refuses it. */
                        if (nr < 0 || (arches[a] == SCMP_ARCH_X86 && streq(names[i].name, "mmap")))
                                continue;
                        if (n_calls >= ELEMENTSOF(calls))
                                return -E2BIG;
                        /* x32 calls reach seccomp as AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT in the number;
                         * SCMP_ARCH_X32 is libseccomp's name, never the arch the kernel reports. */
                        calls[n_calls++] = (typeof(calls[0])){arches[a] == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : arches[a],
                                                              nr, names[i].kind};
                }
        return 0;
}

static int call_of(uint32_t arch, int nr, enum call_kind *ret) {
        for (size_t i = 0; i < n_calls; i++)
                if (calls[i].arch == arch && calls[i].nr == nr) {
                        *ret = calls[i].kind;
                        return 0;
                }
        return -ENOENT;
}

/* ---- process records ---- */

static struct proc_entry **bucket(struct daemon *d, pid_t pid) {
        return &d->procs[(unsigned) pid % PROCS_BUCKETS];
}

static struct proc_entry *proc_find(struct daemon *d, pid_t pid) {
        for (struct proc_entry *p = *bucket(d, pid); p; p = p->next)
                if (p->pid == pid)
                        return p;
        return NULL;
}

/* Unlinks and frees *pp, keeping its entry's process count (status reads it without walking the table). */
static void proc_unlink(struct proc_entry **pp) {
        struct proc_entry *p = *pp;

        *pp = p->next;
        if (p->entry->processes > 0)
                p->entry->processes--;
        free(p);
}

static void proc_forget(struct daemon *d, struct proc_entry *p) {
        for (struct proc_entry **pp = bucket(d, p->pid); *pp; pp = &(*pp)->next)
                if (*pp == p) {
                        proc_unlink(pp);
                        return;
                }
}

static int read_stat(pid_t pid, struct proc_stat *ret) {
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        return proc_stat_read(path, ret) < 0 ? -ESRCH : 0;
}

/* The program break now: the end of the [heap] area, or start_brk while there is none. */
static uint64_t read_brk(pid_t pid) {
        _cleanup_free_ char *maps = NULL;
        struct proc_stat st;
        char path[64];
        const char *h;

        if (read_stat(pid, &st) < 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
        if (fileio_read_full(path, FILEIO_MAX_BYTES, &maps, NULL) < 0)
                return 0;
        h = strstr(maps, "[heap]");
        if (h) {
                while (h > maps && h[-1] != '\n')
                        h--;
                unsigned long long lo, hi;
                if (sscanf(h, "%llx-%llx", &lo, &hi) == 2)
                        return hi;
        }
        return st.start_brk;
}

/* Exact state of one process from procfs. The cgroup it is judged in is the listener's, or a cgroup below
 * it: a process that moved itself out of its budget is still judged by it. */
static int proc_measure(struct daemon *d, struct proc_entry *p) {
        /* Only the private sums (fork's charge) are used here: no shmem object sizes, no fd walk. */
        static const struct measure_ctx private_sums = {.proc_root = "/proc", .private_only = true};
        struct process_commit pc;
        struct proc_stat st;
        int r;

        r = measure_process(&private_sums, p->pid, &pc);
        if (r < 0)
                return r;
        p->fork_bytes = pc.charge.accountable_bytes - pc.charge.dontcopy_accountable_bytes;
        p->remeasure_before_fork = false;
        p->fork_noreserve_bytes = pc.charge.noreserve_bytes;
        p->brk_end = 0; /* read again at the next growth */
        p->vm_size_bytes = pc.vm_size_bytes;
        p->tgid = pc.tgid;
        p->cap_sys_admin = pc.cap_sys_admin;
        snprintf(p->comm, sizeof(p->comm), "%s", pc.comm);
        if (pc.cgroup && p->listener && !streq(pc.cgroup, p->listener->entry->cgroup) &&
            cgroupfs_path_is_below(pc.cgroup, p->listener->entry->cgroup) > 0) {
                struct budget_entry *e;
                if (budgets_get(&d->budgets, pc.cgroup, &e) >= 0 && e != p->entry) {
                        p->entry->processes--;
                        e->processes++;
                        p->entry = e;
                }
        }
        process_commit_done(&pc);
        if (read_stat(p->pid, &st) >= 0)
                p->start_time = st.start_time;
        return 0;
}

/* Whether the record's pid now names another process: the old one exited and the kernel gave its pid to a new
 * one before upkeep noticed. */
static bool proc_reused(const struct proc_entry *p) {
        struct proc_stat st;
        return read_stat(p->pid, &st) == 0 && st.start_time != p->start_time;
}

static int proc_learn(struct daemon *d, struct listener *l, pid_t pid, struct proc_entry **ret) {
        struct proc_entry *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        p->pid = pid;
        p->listener = l;
        p->entry = l->entry;
        p->entry->processes++;
        p->next = *bucket(d, pid);
        *bucket(d, pid) = p;
        r = proc_measure(d, p);
        if (r < 0) {
                proc_forget(d, p);
                return r;
        }
        *ret = p;
        return 0;
}

/* ---- the charge of a call (SPEC 3.1) ---- */

struct charge {
        bool read_proc;     /* computing it read /proc: check the notification is still valid */
        uint64_t plain;     /* charged in every mode */
        uint64_t noreserve; /* charged only by strict levels (MAP_NORESERVE, SHM_NORESERVE) */
        bool copied_by_fork;
        uint64_t new_brk; /* CALL_BRK: the break asked for */
};

static uint64_t page_up(uint64_t v, uint64_t page) {
        return v > UINT64_MAX - (page - 1) ? UINT64_MAX & ~(page - 1) : (v + page - 1) & ~(page - 1);
}

static void charge_of(struct daemon *d, struct proc_entry *p, enum call_kind kind, const uint64_t *a,
                      struct charge *c) {
        uint64_t page = d->page_size;

        *c = (struct charge){0};
        switch (kind) {
        case CALL_MMAP: {
                uint64_t len = page_up(a[1], page), flags = a[3];
                bool noreserve = flags & MAP_NORESERVE;
                if (flags & MAP_HUGETLB) /* hugetlbfs is reserved from its own pool, not committed */
                        break;
                if ((flags & MAP_SHARED) && (flags & MAP_ANONYMOUS)) {
                        /* shmem_zero_setup(): the object is charged at full size, once. */
                        *(noreserve ? &c->noreserve : &c->plain) = len;
                        break;
                }
                if ((flags & (MAP_SHARED | MAP_PRIVATE)) == MAP_PRIVATE && (a[2] & PROT_WRITE)) {
                        *(noreserve ? &c->noreserve : &c->plain) = len; /* accountable_mapping() */
                        c->copied_by_fork = true;
                }
                break;
        }
        case CALL_BRK: {
                uint64_t want = page_up(a[0], page), have;
                c->new_brk = a[0];
                if (a[0] == 0) {
                        /* The query ld.so makes after execve(): nothing charged, but the image is new, so what
                         * a fork would copy is measured again before the next fork. */
                        p->remeasure_before_fork = true;
                        break;
                }
                /* The old break is the record's: a reused pid's would be a dead process's (proc_reused()). */
                c->read_proc = true;
                if (p->brk_end != 0 && proc_reused(p))
                        (void) proc_measure(d, p); /* which forgets brk_end */
                if (p->brk_end == 0)
                        p->brk_end = read_brk(p->pid);
                have = page_up(p->brk_end, page);
                if (want > have) {
                        c->plain = want - have;
                        c->copied_by_fork = true;
                }
                break;
        }
        case CALL_MREMAP: {
                uint64_t old_len = page_up(a[1], page), new_len = page_up(a[2], page);
                if (new_len > old_len) {
                        c->plain = new_len - old_len;
                        c->copied_by_fork = true;
                }
                break;
        }
        case CALL_MPROTECT:
                /* mprotect_fixup() charges a private area that becomes writable and was not accountable; commitd
                 * cannot see the area's flags without reading /proc, so it charges and lets the next measure
                 * correct an area that was already accountable. */
                c->plain = page_up(a[1], page);
                c->copied_by_fork = true;
                break;
        case CALL_FORK:
        case CALL_CLONE: /* the filter only notifies clone() without CLONE_VM: dup_mmap() */
                /* What fork copies is the record's: on a reused pid it would be a dead process's size. The start
                 * time costs a read of /proc/PID/stat, little beside the fork itself. */
                c->read_proc = true;
                if ((p->remeasure_before_fork || proc_reused(p)) && proc_measure(d, p) >= 0)
                        p->remeasure_before_fork = false;
                c->plain = p->fork_bytes;
                c->noreserve = p->fork_noreserve_bytes;
                break;
        case CALL_DOFORK:
                /* madvise(MADV_DOFORK), the only madvise the filter sends: nothing is charged now, but what
                 * the next fork copies grows, so measure again before it. */
                p->remeasure_before_fork = true;
                break;
        case CALL_SHMGET:
        case CALL_IPC: {
                /* shmget(key, size, flags), or ipc(SHMGET, key, size, flags) on i386 */
                const uint64_t *s = kind == CALL_IPC ? a + 1 : a;
                uint64_t size = page_up(s[1], page), flags = s[2];
                if (kind == CALL_IPC && (a[0] & 0xffff) != IPC_SHMGET_CALL) /* ksys_ipc(): low 16 bits */
                        break;
                if ((key_t) s[0] != IPC_PRIVATE && !(flags & IPC_CREAT))
                        break; /* attaches an existing segment: nothing new */
                if (flags & SHM_HUGETLB)
                        break;
                *((flags & SHM_NORESERVE) ? &c->noreserve : &c->plain) = size;
                break;
        }
        default:
                break;
        }
}

/* The fast path charges an mprotect's whole range; before a refusal, what the kernel will really charge:
 * an area already accountable is not charged again (written, made read-only, made writable again). */
static void mprotect_charge_exact(pid_t pid, uint64_t addr, uint64_t len, struct charge *c) {
        uint64_t plain, noreserve;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/smaps", (int) pid);
        if (smaps_mprotect_charge_read(path, addr, len, &plain, &noreserve) < 0)
                return; /* keep the whole range: refusing too much beats admitting what strict mode would not */
        c->plain = plain;
        c->noreserve = noreserve;
}

static uint64_t level_request(const struct budget_entry *e, const struct charge *c) {
        uint64_t r = c->plain;
        if (e->budget.mode == COMMIT_MODE_NEVER && __builtin_add_overflow(r, c->noreserve, &r))
                return UINT64_MAX;
        return r;
}

/* Judges against every level; returns the index of the first that refuses, or -1. */
static ssize_t judge_levels(struct daemon *d, struct proc_entry *p, struct budget_entry **levels, size_t n,
                            const struct charge *c, struct formula_result *ret) {
        struct formula_caller caller = {.total_vm_bytes = p->vm_size_bytes, .cap_sys_admin = p->cap_sys_admin};

        for (size_t i = 0; i < n; i++) {
                struct formula_level lv = {.name = levels[i]->cgroup,
                                           .budget = &levels[i]->budget,
                                           .committed_bytes = ledger_committed(&levels[i]->ledger)};
                uint64_t request = level_request(levels[i], c);
                if (request == 0)
                        continue;
                if (formula_judge(&lv, &caller, request, d->page_size, ret) < 0 || ret->verdict == FORMULA_REFUSE)
                        return (ssize_t) i;
        }
        return -1;
}

static void admit(struct proc_entry *p, struct budget_entry **levels, size_t n, enum call_kind kind,
                  const struct charge *c) {
        bool leaf_is_level = n > 0 && levels[0] == p->entry;

        for (size_t i = 0; i < n; i++)
                (void) ledger_charge(&levels[i]->ledger, level_request(levels[i], c));
        if (!leaf_is_level)
                (void) ledger_charge(&p->entry->ledger, c->plain);
        p->entry->admitted++;
        if (c->copied_by_fork)
                p->fork_bytes += c->plain, p->fork_noreserve_bytes += c->noreserve;
        if (kind == CALL_MMAP || kind == CALL_MREMAP)
                p->vm_size_bytes += c->plain + c->noreserve;
        if (kind == CALL_BRK)
                p->brk_end = c->new_brk; /* brk(0) leaves it 0: unknown until the next growth reads it */
}

static void refusal_event(struct daemon *d, struct proc_entry *p, enum call_kind kind, struct budget_entry *level,
                          const struct formula_result *res, bool enforced) {
        struct refusal r = {
                .time_usec = now_usec(CLOCK_REALTIME),
                .pid = p->pid,
                .call = call_names[kind],
                .request_bytes = res->request_bytes,
                .committed_bytes = res->committed_bytes,
                .limit_bytes = level->commit_limit_bytes,
                .mode = commit_mode_to_string(level->budget.mode),
                .enforced = enforced,
        };
        (void) d;
        snprintf(r.cgroup, sizeof(r.cgroup), "%s", p->entry->cgroup);
        snprintf(r.level, sizeof(r.level), "%s", level->cgroup);
        snprintf(r.comm, sizeof(r.comm), "%s", p->comm);
        events_record(&r);
}

static void listener_stop_thread(struct daemon *d, struct listener *l);

/* Forgets a listener. hung_up: every task of its filter has exited, so the keeper lets go of it too; else
 * (commitd stopping) the keeper keeps it for the next commitd. */
static void listener_release(struct daemon *d, struct listener *l, bool hung_up) {
        if (l->started)
                listener_stop_thread(d, l);
        for (struct listener **pp = &d->listeners; *pp; pp = &(*pp)->next)
                if (*pp == l) {
                        *pp = l->next;
                        break;
                }
        /* Forget the processes of this listener: they are gone (HUP means no task uses the filter). */
        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                for (struct proc_entry **pp = &d->procs[b]; *pp;) {
                        if ((*pp)->listener == l)
                                proc_unlink(pp);
                        else
                                pp = &(*pp)->next;
                }
        if (hung_up && custody.keeper_fd >= 0 && keeper_del(custody.keeper_fd, l->slot + 1) < 0)
                log_warning("keeper: cannot release the listener of %s: %m", l->entry->cgroup);
        custody.by_slot[l->slot] = NULL;
        if (l->entry->enrolled > 0)
                l->entry->enrolled--;
        if (hung_up && l->entry->container && l->entry->enrolled == 0)
                budgets_forget(&d->budgets, l->entry); /* the container ended: nothing of it stays */
        loop_remove(d->loop, l->source);               /* closes the fd */
        d->n_listeners--;
        free(l);
}

/* Raw ioctls: libseccomp 2.5 folds errnos such as EINTR and ENOENT into -ECANCELED, and the thread must
 * tell them apart. */
static bool id_valid(int fd, uint64_t id) {
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static void answer(struct seccomp_notif_resp *resp, uint64_t id, int error) {
        *resp = (struct seccomp_notif_resp){
                .id = id,
                .error = error,
                .flags = error ? 0 : SECCOMP_USER_NOTIF_FLAG_CONTINUE,
        };
}

/* brk(2) never fails with an errno: on refusal the kernel returns the old break and libc compares (glibc's
 * __brk stores whatever comes back as the new break, so -ENOMEM would read as success). */
static void answer_brk_refused(struct seccomp_notif_resp *resp, uint64_t id, uint64_t old_brk) {
        *resp = (struct seccomp_notif_resp){.id = id, .val = (int64_t) old_brk};
}

/* Judges one notification, under d->lock. Returns true with *resp filled, or false when the caller died
 * meanwhile (nothing to answer). */
static bool decide(struct daemon *d, struct listener *l, const struct seccomp_notif *req,
                   struct seccomp_notif_resp *resp) {
        struct budget_entry *levels[MAX_LEVELS];
        struct formula_result res;
        struct proc_entry *p;
        enum call_kind kind;
        struct charge c;
        ssize_t refused;
        size_t n;
        int r;

        if (call_of(req->data.arch, req->data.nr, &kind) < 0) {
                answer(resp, req->id, 0); /* a call the filter should not send: let the kernel decide */
                return true;
        }
        p = proc_find(d, req->pid);
        if (p && p->listener != l) {
                /* A process's calls reach one listener only (the kernel allows one per filter chain:
                 * has_duplicate_listener()), so a record of another listener is a dead process's reused pid. */
                proc_forget(d, p);
                p = NULL;
        }
        if (!p) {
                /* First sight of this process: read its maps once. Then check the notification is still
                 * alive, so what we read belongs to the process that made the call (pid reuse). */
                r = proc_learn(d, l, req->pid, &p);
                if (r < 0 || !id_valid(l->fd, req->id)) {
                        if (r >= 0)
                                proc_forget(d, p);
                        answer(resp, req->id, 0);
                        return true;
                }
        }
        charge_of(d, p, kind, (const uint64_t *) req->data.args, &c);
        if (c.read_proc && !id_valid(l->fd, req->id))
                return false; /* the caller died while we read its /proc: nothing to answer, nothing to charge */
        n = budgets_levels(p->entry, levels, MAX_LEVELS);
        refused = judge_levels(d, p, levels, n, &c, &res);
        if (refused >= 0) {
                /* About to refuse: never on a stale ledger. Measure every level and the caller exactly. */
                uint64_t t = now_usec(CLOCK_MONOTONIC);
                for (size_t i = 0; i < n; i++)
                        (void) budgets_measure(&d->budgets, levels[i], t);
                (void) proc_measure(d, p);
                if (!id_valid(l->fd, req->id))
                        return false; /* the caller is gone; nothing to answer */
                charge_of(d, p, kind, (const uint64_t *) req->data.args, &c);
                if (kind == CALL_MPROTECT)
                        mprotect_charge_exact(p->pid, req->data.args[0], page_up(req->data.args[1], d->page_size), &c);
                if (!id_valid(l->fd, req->id))
                        return false;
                refused = judge_levels(d, p, levels, n, &c, &res);
        }
        if (refused >= 0) {
                struct budget_entry *lv = levels[refused];
                bool enforced = !lv->policy || lv->policy->enforce;
                lv->refusals++;
                if (lv != p->entry)
                        p->entry->refusals++;
                refusal_event(d, p, kind, lv, &res, enforced);
                if (enforced) {
                        if (kind == CALL_BRK)
                                answer_brk_refused(resp, req->id, p->brk_end ? p->brk_end : read_brk(p->pid));
                        else
                                answer(resp, req->id, -ENOMEM);
                        return true;
                }
        }
        admit(p, levels, n, kind, &c);
        answer(resp, req->id, 0);
        return true;
}

static void judge_and_answer(struct daemon *d, struct listener *l, const struct seccomp_notif *req) {
        struct seccomp_notif_resp resp;
        bool reply;

        atomic_fetch_add(&d->lock_waiters, 1);
        pthread_mutex_lock(&d->lock);
        atomic_fetch_sub(&d->lock_waiters, 1);
        reply = decide(d, l, req, &resp);
        pthread_mutex_unlock(&d->lock);
        if (reply && ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
                log_debug("listener of %s: answer: %s", l->entry->cgroup, strerror(errno));
}

/* One thread per listener, asleep in NOTIF_RECV: with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP the kernel hands the
 * CPU straight from the notifying task to this thread and back, which a wake-up from epoll_wait() loses
 * (docs/performance.md). The judgement runs under d->lock; receiving and answering do not. The kernel
 * receives into the listener's slot of the in-flight table, which outlives this process; the judgement works
 * on a copy (nothing else writes the slot, but a decision never rests on memory another process maps). */
static void *listener_thread(void *userdata) {
        struct listener *l = userdata;
        struct daemon *d = l->daemon;
        struct seccomp_notif *slot = (struct seccomp_notif *) (custody.table + (size_t) l->slot * SLOT_SIZE);
        struct seccomp_notif req;

        /* An earlier commitd received this call and died before answering: the kernel still holds it as SENT
         * (SECCOMP_IOCTL_NOTIF_ID_VALID says so), and nobody else will ever answer it. An answered one, or one
         * whose caller died, is no longer valid. */
        if (slot->id != 0 && id_valid(l->fd, slot->id)) {
                memcpy(&req, slot, sizeof(req));
                judge_and_answer(d, l, &req);
                log_info("listener of %s: answered a call (nr %d) of pid %d that the previous commitd had received",
                         l->entry->cgroup, req.data.nr, (int) req.pid);
        }
        while (!atomic_load(&l->stopping)) {
                memset(slot, 0, custody.notif_size); /* the kernel wants it zeroed; the last call is answered */
                if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, slot) < 0) {
                        if (errno != EINTR && errno != ENOENT) /* ENOENT: the caller died before we read it */
                                log_debug("listener of %s: receive: %s", l->entry->cgroup, strerror(errno));
                        continue;
                }
                memcpy(&req, slot, sizeof(req));
                judge_and_answer(d, l, &req);
        }
        return NULL;
}

/* Stops the thread of a listener whose tasks are all gone: the flag, then signals until it has left
 * NOTIF_RECV (a signal sent just before it enters the ioctl would be lost, hence the loop). Called with
 * d->lock held, which the thread may be waiting for: released while waiting. */
static void listener_stop_thread(struct daemon *d, struct listener *l) {
        atomic_store(&l->stopping, true);
        pthread_mutex_unlock(&d->lock);
        for (;;) {
                struct timespec ts = {0, 1000000};
                pthread_kill(l->thread, SIGUSR1);
                nanosleep(&ts, NULL);
                if (pthread_tryjoin_np(l->thread, NULL) == 0)
                        break;
        }
        pthread_mutex_lock(&d->lock);
}

static void on_listener(struct loop_source *s, uint32_t events, void *userdata) {
        struct listener *l = userdata;
        (void) s;

        if (events & (EPOLLHUP | EPOLLERR))
                listener_release(l->daemon, l, true); /* every task that used the filter has exited */
}

/* budgets_measure()'s view of the records: a process is judged in the cgroup it was enrolled in (or one below,
 * proc_measure()) even after it was moved out of it, so every measure of that budget must count it, or a
 * process moved elsewhere would leave its commit behind and get a fresh budget (enforce-escape). A pid
 * whose start time changed names another process now: left out. */
static int judged_pids(void *userdata, const struct budget_entry *e, pid_t **pids, size_t *n) {
        struct daemon *d = userdata;

        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                for (struct proc_entry *p = d->procs[b]; p; p = p->next) {
                        struct proc_stat st;
                        pid_t *more;
                        if (p->entry != e && cgroupfs_path_is_below(p->entry->cgroup, e->cgroup) <= 0)
                                continue;
                        if (p->tgid <= 0 || read_stat(p->pid, &st) < 0 || st.start_time != p->start_time)
                                continue;
                        more = reallocarray(*pids, *n + 1, sizeof(pid_t));
                        if (!more)
                                return -ENOMEM;
                        *pids = more;
                        (*pids)[(*n)++] = p->tgid;
                }
        return 0;
}

/* Registers a listener in slot (its thread not started yet). Takes ownership of fd. */
static int listener_new(struct daemon *d, int fd, pid_t pid, struct budget_entry *e, unsigned slot,
                        struct listener **ret) {
        struct listener *l = calloc(1, sizeof(*l));
        int r;

        if (!l) {
                close(fd);
                return -ENOMEM;
        }
        *l = (struct listener){.fd = fd, .entry = e, .enrolled_pid = pid, .daemon = d, .slot = slot};
        /* Linux 6.6+: the notifying task and commitd hand the CPU to each other (the kernel's own ping-pong
         * path). The flags go by value, not by pointer (seccomp_notify_ioctl()). Older kernels: EINVAL, fine. */
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
                log_debug("listener of %s: no sync wake-up: %s", e->cgroup, strerror(errno));
        r = loop_add(d->loop, fd, 0 /* EPOLLHUP only: the thread receives */, on_listener, l, &l->source);
        if (r < 0) {
                close(fd);
                free(l);
                return r;
        }
        custody.by_slot[slot] = l;
        l->next = d->listeners;
        d->listeners = l;
        d->n_listeners++;
        e->enrolled++;
        *ret = l;
        return 0;
}

static int listener_start(struct daemon *d, struct listener *l) {
        int r = -pthread_create(&l->thread, &d->thread_attr, listener_thread, l);

        if (r < 0) {
                log_error("listener of %s: no thread: %s; its processes get ENOSYS", l->entry->cgroup, strerror(-r));
                listener_release(d, l, true);
                return r;
        }
        l->started = true;
        return 0;
}

/* What the next commitd needs to put the listener back where it was: its cgroup, and for a container the
 * policy it was instantiated from (budgets_instantiate()). */
static char *listener_tag(const struct listener *l) {
        json_auto_t *j = json_pack("{s:s, s:i}", "cgroup", l->entry->cgroup, "pid", (int) l->enrolled_pid);

        if (j && l->entry->container && l->entry->template_name && l->entry->container_id) {
                json_object_set_new(j, "template", json_string(l->entry->template_name));
                json_object_set_new(j, "container", json_string(l->entry->container_id));
        }
        return j ? json_dumps(j, JSON_COMPACT) : NULL;
}

static void keeper_hold(struct listener *l) {
        _cleanup_free_ char *tag = NULL;

        if (custody.keeper_fd < 0)
                return;
        tag = listener_tag(l);
        if (!tag || keeper_put(custody.keeper_fd, l->slot + 1, KEEPER_F_WATCH, tag, l->fd) < 0)
                log_warning("keeper: cannot hand over the listener of %s: it will not survive a commitd restart",
                            l->entry->cgroup);
}

int notify_add_listener(struct daemon *d, int fd, pid_t pid, struct budget_entry *e) {
        struct listener *l;
        unsigned slot = 0;
        int r;

        while (slot < NOTIFY_MAX_LISTENERS && custody.by_slot[slot])
                slot++;
        if (slot == NOTIFY_MAX_LISTENERS) {
                close(fd);
                return -EMFILE;
        }
        memset(custody.table + (size_t) slot * SLOT_SIZE, 0, SLOT_SIZE);
        r = listener_new(d, fd, pid, e, slot, &l);
        if (r < 0)
                return r;
        keeper_hold(l);
        return listener_start(d, l);
}

/* ---- recovery ---- */

static int table_create(void) {
        size_t size = (size_t) NOTIFY_MAX_LISTENERS * SLOT_SIZE;
        _cleanup_close_ int fd = memfd_create("commitd-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);

        if (fd < 0)
                return -errno;
        /* Sealed at its size: a mapping of it can never be truncated under a listener thread (SIGBUS). */
        if (ftruncate(fd, (off_t) size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int table_map(int fd) {
        size_t size = (size_t) NOTIFY_MAX_LISTENERS * SLOT_SIZE;
        struct stat st;
        void *p;

        if (fstat(fd, &st) < 0 || (size_t) st.st_size < size)
                return -EINVAL;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        if (custody.table)
                munmap(custody.table, size);
        if (custody.table_fd >= 0)
                close(custody.table_fd);
        custody.table = p;
        custody.table_fd = fd;
        return 0;
}

struct adopted {
        uint32_t key; /* the listener's slot + 1 */
        int fd;
        char *tag;
        struct adopted *next;
};

struct recovery {
        int table_fd;
        struct adopted *listeners;
};

static void on_kept(uint32_t key, const char *data, int fd, void *userdata) {
        struct recovery *rc = userdata;
        struct adopted *a;

        if (key == KEEPER_TABLE) {
                if (rc->table_fd >= 0)
                        close(rc->table_fd);
                rc->table_fd = fd;
                return;
        }
        /* Kept even when it cannot be adopted: notify_recover() must tell the keeper to let go of it, or its
         * processes would wait for an answer forever instead of failing with ENOSYS. */
        a = calloc(1, sizeof(*a));
        if (!a) {
                close(fd);
                return;
        }
        *a = (struct adopted){.key = key, .fd = fd, .tag = strdup(data), .next = rc->listeners};
        rc->listeners = a;
}

/* Puts an adopted listener back into its cgroup, as its tag says. */
static int adopt(struct daemon *d, struct adopted *a, struct listener **ret) {
        json_auto_t *tag = json_loads(a->tag, 0, NULL);
        const char *cgroup = json_string_value(json_object_get(tag, "cgroup"));
        const char *template = json_string_value(json_object_get(tag, "template"));
        const char *container = json_string_value(json_object_get(tag, "container"));
        pid_t pid = (pid_t) json_integer_value(json_object_get(tag, "pid"));
        _cleanup_free_ char *canonical = NULL;
        struct budget_entry *e, *t;
        int r;

        if (a->key == KEEPER_TABLE || a->key > NOTIFY_MAX_LISTENERS || !cgroup ||
            cgroupfs_path_normalize(cgroup, &canonical) < 0 || custody.by_slot[a->key - 1]) {
                close(a->fd);
                return -EBADMSG;
        }
        if (template && container && (t = budgets_find_policy(&d->budgets, template)))
                r = budgets_instantiate(&d->budgets, t, canonical, container, &e);
        else {
                if (template)
                        log_warning("container %s: its policy %s is no longer loaded; judged by %s's own",
                                    container ? container : "?", template, canonical);
                r = budgets_get(&d->budgets, canonical, &e);
        }
        if (r < 0) {
                close(a->fd);
                return r;
        }
        if (pid > 0)
                e->sample_pid = pid;
        return listener_new(d, a->fd, pid, e, a->key - 1, ret);
}

static void keeper_resync(struct daemon *d);

static void on_keeper(struct loop_source *s, uint32_t events, void *userdata) {
        struct daemon *d = userdata;
        (void) s;

        if (!(events & (EPOLLHUP | EPOLLERR)))
                return;
        log_error("keeper: connection lost; starting a new keeper and handing it every listener again");
        loop_remove(d->loop, custody.keeper_source); /* closes keeper_fd */
        custody.keeper_source = NULL;
        custody.keeper_fd = -1;
        keeper_resync(d);
}

static int keeper_watch(struct daemon *d, int fd) {
        int r = loop_add(d->loop, fd, 0 /* EPOLLHUP only */, on_keeper, d, &custody.keeper_source);
        if (r < 0) {
                close(fd);
                return r;
        }
        custody.keeper_fd = fd;
        return 0;
}

static void drop_kept(uint32_t key, const char *data, int fd, void *userdata) {
        (void) key, (void) data, (void) userdata;
        close(fd); /* a new keeper holds nothing; anything else it holds, commitd holds already */
}

/* A keeper that died while commitd runs: a new one gets the table and every listener again. */
static void keeper_resync(struct daemon *d) {
        int fd = keeper_open(custody.keeper_socket, custody.keeper_binary, drop_kept, NULL);

        if (fd < 0 || keeper_watch(d, fd) < 0) {
                log_error("keeper: cannot start one (%s): listeners will not survive a commitd restart",
                          strerror(fd < 0 ? -fd : EIO));
                return;
        }
        if (keeper_put(custody.keeper_fd, KEEPER_TABLE, 0, "in-flight", custody.table_fd) < 0)
                log_warning("keeper: cannot hand over the in-flight table: %m");
        for (struct listener *l = d->listeners; l; l = l->next)
                keeper_hold(l);
        log_info("keeper: a new keeper holds the in-flight table and %zu listeners", d->n_listeners);
}

int notify_recover(struct daemon *d, const char *keeper_socket, const char *keeper_binary) {
        struct recovery rc = {.table_fd = -1};
        unsigned adopted = 0, lost = 0;
        int r, fd;

        d->budgets.judged_pids = judged_pids; /* before the first measure, which adoption makes */
        d->budgets.judged_pids_data = d;
        custody.keeper_socket = keeper_socket;
        custody.keeper_binary = keeper_binary;
        fd = keeper_open(keeper_socket, keeper_binary, on_kept, &rc);
        if (fd >= 0 && (r = keeper_watch(d, fd)) < 0)
                fd = r;
        if (rc.table_fd < 0 || table_map(rc.table_fd) < 0) {
                if (rc.table_fd >= 0)
                        close(rc.table_fd);
                r = table_create();
                if (r < 0 || (r = table_map(r)) < 0)
                        return r; /* without the table no listener can be served: commitd cannot start */
                if (custody.keeper_fd >= 0 &&
                    keeper_put(custody.keeper_fd, KEEPER_TABLE, 0, "in-flight", custody.table_fd) < 0)
                        log_warning("keeper: cannot hand over the in-flight table: %m");
        }
        while (rc.listeners) {
                struct adopted *a = rc.listeners;
                struct listener *l;
                rc.listeners = a->next;
                if (adopt(d, a, &l) >= 0)
                        adopted++;
                else {
                        lost++;
                        log_error("keeper: listener %u cannot be adopted (tag %s); its processes get ENOSYS", a->key,
                                  a->tag ? a->tag : "unreadable");
                        if (custody.keeper_fd >= 0)
                                (void) keeper_del(custody.keeper_fd, a->key);
                }
                free(a->tag);
                free(a);
        }
        if (adopted > 0) {
                /* The ledgers are rebuilt by measurement before any thread judges a call. */
                uint64_t t = now_usec(CLOCK_MONOTONIC);
                budgets_refresh(&d->budgets);
                for (struct budget_entry *e = d->budgets.entries; e; e = e->next)
                        (void) budgets_measure(&d->budgets, e, t);
        }
        for (struct listener *l = d->listeners, *next; l; l = next) {
                next = l->next;
                (void) listener_start(d, l);
        }
        if (fd < 0) {
                log_warning("keeper: none at %s (%s): listeners will not survive a commitd restart", keeper_socket,
                            strerror(-fd));
                return 0;
        }
        log_info("keeper at %s: %u listeners adopted from the previous commitd%s", keeper_socket, adopted,
                 lost ? ", some lost (see above)" : "");
        return 0;
}

void notify_upkeep(struct daemon *d) {
        uint64_t t = now_usec(CLOCK_MONOTONIC);

        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                for (struct proc_entry **pp = &d->procs[b]; *pp;) {
                        struct proc_entry *p = *pp;
                        struct proc_stat st;
                        if (read_stat(p->pid, &st) < 0 || st.start_time != p->start_time)
                                proc_unlink(pp); /* exited, or its pid now names another process */
                        else
                                pp = &p->next;
                }
        /* Frees are not intercepted: measure the ledgers that grew since their last measure, and every other
         * one now and then, so that status stops overstating a cgroup whose last calls were frees. */
        for (struct budget_entry *e = d->budgets.entries; e; e = e->next)
                if (e->ledger.admitted_bytes > 0 || e->ledger.measured_at_usec == 0 ||
                    t - e->ledger.measured_at_usec >= NOTIFY_REMEASURE_USEC)
                        (void) budgets_measure(&d->budgets, e, t);
}

void notify_free(struct daemon *d) {
        while (d->listeners)
                listener_release(d, d->listeners, false);
        for (size_t b = 0; b < PROCS_BUCKETS; b++)
                while (d->procs[b])
                        proc_unlink(&d->procs[b]);
        if (custody.keeper_source)
                loop_remove(d->loop, custody.keeper_source); /* the keeper stays, holding the listeners */
        custody.keeper_source = NULL;
        custody.keeper_fd = -1;
        if (custody.table)
                munmap(custody.table, (size_t) NOTIFY_MAX_LISTENERS * SLOT_SIZE);
        if (custody.table_fd >= 0)
                close(custody.table_fd);
        custody.table = NULL;
        custody.table_fd = -1;
}
