/* SPDX-License-Identifier: MIT */
/* commitctl doctor: the host's own overcommit state explained, without the daemon (SPEC 5). The seed
 * incident, automated: which mode, how much commit is left, who holds it, and what a change would do. Where
 * /proc/meminfo is commitd-meminfo's view (inside an enrolled container, under commitctl run --meminfo), its
 * commit lines are the reader's commitd budget, and doctor explains that budget instead. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cgroupfs.h"
#include "diagnosis.h"
#include "macro.h"
#include "measure.h"
#include "meminfoview.h"
#include "procfs.h"
#include "units.h"
#include "verbs.h"

#define PROC_ROOT "/proc"
#define SYSCTL_VM "/proc/sys/vm"

struct cgroup_commit {
        const char *cgroup; /* borrowed from a process_commit */
        size_t processes;
        struct smaps_charge charge;
};

struct doctor {
        uint64_t page_size;
        struct meminfo meminfo;
        struct overcommit overcommit;
        bool view;             /* /proc/meminfo is commitd-meminfo's view: its commit lines are a commitd budget's */
        enum commit_mode mode; /* what charges count in: the host's mode, or strict for a budget (the view) */
        struct diagnosis now;
        struct process_commit *procs;
        size_t n_procs;
        struct smaps_charge total; /* union over every process: a shmem object once */
        struct cgroup_commit *cgroups;
        size_t n_cgroups;
        bool has_what_if;
        const char *what_if_spec;
        struct overcommit what_if_sysctls;
        struct diagnosis what_if;
};

static void doctor_done(struct doctor *d) {
        process_commits_free(d->procs, d->n_procs);
        smaps_charge_done(&d->total);
        for (size_t i = 0; i < d->n_cgroups; i++)
                smaps_charge_done(&d->cgroups[i].charge);
        free(d->cgroups);
}

static const char *size(uint64_t bytes, char buf[static UNITS_FORMAT_MAX]) {
        return units_format_size(bytes, buf);
}

/* Commit a process holds now, in the host's mode. */
static uint64_t proc_committed(const struct doctor *d, const struct process_commit *p) {
        return smaps_charge_bytes(&p->charge, d->mode);
}

/* What fork() of it would charge: dup_mmap() copies the accountable areas that are not VM_DONTCOPY. */
static uint64_t fork_charge(const struct process_commit *p) {
        return p->charge.accountable_bytes - p->charge.dontcopy_accountable_bytes;
}

static bool fork_fits(const struct doctor *d, const struct diagnosis *dg, const struct process_commit *p) {
        return diagnosis_fork_fits(dg, fork_charge(p), p->vm_size_bytes, p->cap_sys_admin, d->page_size);
}

static size_t count_cannot_fork(const struct doctor *d, const struct diagnosis *dg,
                                const struct process_commit **ret_largest) {
        size_t n = 0;

        *ret_largest = NULL;
        for (size_t i = 0; i < d->n_procs; i++)
                if (!fork_fits(d, dg, &d->procs[i])) {
                        if (!*ret_largest)
                                *ret_largest = &d->procs[i]; /* procs are sorted largest first */
                        n++;
                }
        return n;
}

static int by_cgroup(const void *a, const void *b) {
        const char *x = ((const struct process_commit *) a)->cgroup, *y = ((const struct process_commit *) b)->cgroup;
        return strcmp(x ? x : "", y ? y : "");
}

static int by_committed_desc(const void *a, const void *b, void *userdata) {
        enum commit_mode mode = *(const enum commit_mode *) userdata;
        uint64_t x = smaps_charge_bytes(&((const struct cgroup_commit *) a)->charge, mode);
        uint64_t y = smaps_charge_bytes(&((const struct cgroup_commit *) b)->charge, mode);
        return x == y ? 0 : x < y ? 1 : -1;
}

/* Groups processes by cgroup; a shmem object shared inside a cgroup counts once in it. */
static int group_by_cgroup(struct doctor *d) {
        _cleanup_free_ struct process_commit *sorted = NULL;
        int r;

        if (d->n_procs == 0)
                return 0;
        sorted = malloc(d->n_procs * sizeof(*sorted));
        d->cgroups = calloc(d->n_procs, sizeof(*d->cgroups));
        if (!sorted || !d->cgroups)
                return -ENOMEM;
        memcpy(sorted, d->procs, d->n_procs * sizeof(*sorted)); /* shallow: only read below */
        qsort(sorted, d->n_procs, sizeof(*sorted), by_cgroup);
        for (size_t i = 0; i < d->n_procs; i++) {
                struct cgroup_commit *cg = d->n_cgroups ? &d->cgroups[d->n_cgroups - 1] : NULL;
                const char *name = sorted[i].cgroup ? sorted[i].cgroup : "?";
                if (!cg || !streq(cg->cgroup, name)) {
                        cg = &d->cgroups[d->n_cgroups++];
                        cg->cgroup = name;
                }
                cg->processes++;
                r = smaps_charge_merge(&cg->charge, &sorted[i].charge);
                if (r < 0)
                        return r;
        }
        qsort_r(d->cgroups, d->n_cgroups, sizeof(*d->cgroups), by_committed_desc, &d->mode);
        return 0;
}

/* In the view, only the processes of this process's cgroup and below: the budget's (its level is there or above),
 * as a container's pid namespace shows them; under commitctl run --meminfo the host's others would be judged
 * against a budget that does not cover them. The total is then theirs. */
static int keep_own_cgroup(struct doctor *d) {
        _cleanup_(proc_cgroup_done) struct proc_cgroup own = {0};
        size_t n = 0;
        int r;

        r = cgroupfs_read_proc_cgroup(PROC_ROOT "/self/cgroup", &own);
        if (r < 0)
                return r;
        if (!own.v2_path)
                return -ENOENT;
        smaps_charge_done(&d->total);
        d->total = (struct smaps_charge){0};
        for (size_t i = 0; i < d->n_procs; i++) {
                struct process_commit *p = &d->procs[i];

                if (!p->cgroup || cgroupfs_path_is_below(p->cgroup, own.v2_path) <= 0) {
                        process_commit_done(p);
                        continue;
                }
                d->procs[n++] = *p;
                r = smaps_charge_merge(&d->total, &p->charge);
                if (r < 0) {
                        for (size_t j = i + 1; j < d->n_procs; j++)
                                process_commit_done(&d->procs[j]);
                        d->n_procs = n;
                        return r;
                }
        }
        d->n_procs = n;
        return 0;
}

/* The host's (or the view's) numbers: cheap, read before anything is measured. */
static int doctor_read(struct doctor *d) {
        _cleanup_(cgroup_mounts_done) struct cgroup_mounts mounts = {0};
        int r;

        r = meminfo_read(PROC_ROOT "/meminfo", &d->meminfo);
        if (r < 0) {
                fprintf(stderr, "commitctl doctor: cannot read " PROC_ROOT "/meminfo: %s\n", strerror(-r));
                return r;
        }
        r = overcommit_read(SYSCTL_VM, &d->overcommit);
        if (r < 0) {
                fprintf(stderr, "commitctl doctor: cannot read the overcommit sysctls in " SYSCTL_VM ": %s\n",
                        strerror(-r));
                return r;
        }
        /* No sysctl made a budget's CommitLimit: the kernel's formula over the view's MemTotal would contradict it.
         * mountinfo, not statfs(): LXCFS is FUSE too, and shows the host's commit lines. */
        if (cgroupfs_read_mountinfo(PROC_ROOT "/self/mountinfo", &mounts) >= 0)
                d->view = meminfo_view_is(mounts.meminfo_fstype, mounts.meminfo_source);
        d->mode = d->view ? COMMIT_MODE_NEVER : d->overcommit.mode;
        r = d->view ? diagnosis_compute_view(&d->meminfo, d->page_size, &d->now)
                    : diagnosis_compute(&d->meminfo, &d->overcommit, d->page_size, &d->now);
        if (r < 0) {
                fprintf(stderr, "commitctl doctor: cannot compute CommitLimit from these sysctls: %s\n", strerror(-r));
                return r;
        }
        return 0;
}

/* Every process's commit (the smaps of all of /proc), by process and by cgroup: the slow part. */
static int doctor_measure(struct doctor *d) {
        struct measure_ctx ctx;
        int r;

        /* The internal shm mount's device tells shared anonymous memory, SysV and memfd apart; without it
         * (no memfd_create()) names alone do. */
        if (measure_ctx_init(&ctx, PROC_ROOT) < 0)
                ctx = (struct measure_ctx){.proc_root = PROC_ROOT};
        r = measure_host(&ctx, d->mode, &d->procs, &d->n_procs, &d->total, NULL);
        if (r < 0) {
                fprintf(stderr, "commitctl doctor: cannot read the processes' smaps in " PROC_ROOT ": %s\n",
                        strerror(-r));
                return r;
        }
        if (geteuid() != 0)
                fprintf(stderr, "commitctl doctor: not root: processes of other users are left out of the tables.\n");
        if (d->view) {
                r = keep_own_cgroup(d);
                if (r < 0) {
                        fprintf(stderr, "commitctl doctor: cannot read " PROC_ROOT "/self/cgroup: %s\n", strerror(-r));
                        return r;
                }
        }
        return group_by_cgroup(d);
}

/* What strict mode refuses now, for the host or a budget (what, its name; cond, a condition before the verdict;
 * whose, the processes refused; of, what qualifies "a process"). Returns snprintf()'s count. */
static int strict_words(const struct doctor *d, const char *what, const char *cond, const char *whose, const char *of,
                        char *buf, size_t len) {
        char a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX], c[UNITS_FORMAT_MAX];
        const struct diagnosis *n = &d->now;

        if (n->headroom_bytes == 0)
                return snprintf(buf, len,
                                "%s: commit is exhausted (Committed_AS %s of CommitLimit %s); %severy fork() and "
                                "allocation of %s fails with ENOMEM, whatever `free` says (MemAvailable %s).",
                                what, size(n->committed_bytes, a), size(n->commit_limit_bytes, b), cond, whose,
                                size(d->meminfo.mem_available, c));
        return snprintf(buf, len,
                        "%s: %s of commit left; %sa process%s with more private writable memory than that cannot "
                        "fork, whatever `free` says (MemAvailable %s).",
                        what, size(n->headroom_bytes, a), cond, of, size(d->meminfo.mem_available, b));
}

/* The one-paragraph verdict, in words an operator can act on at 3 a.m. */
static void summary(const struct doctor *d, char *buf, size_t len) {
        char a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX], c[UNITS_FORMAT_MAX];
        const struct diagnosis *n = &d->now;

        switch (d->overcommit.mode) {
        case COMMIT_MODE_NEVER:
                strict_words(d, "strict mode", "", "a process without CAP_SYS_ADMIN", "", buf, len);
                break;
        case COMMIT_MODE_GUESS:
                snprintf(buf, len,
                         "heuristic mode: the kernel refuses only a single allocation larger than RAM + swap (%s); "
                         "CommitLimit (%s) is not enforced and Committed_AS (%s) may pass it. A shortage ends in the "
                         "OOM killer, not in ENOMEM.",
                         size(n->headroom_bytes, a), size(n->commit_limit_bytes, b), size(n->committed_bytes, c));
                break;
        case COMMIT_MODE_ALWAYS:
                snprintf(buf, len,
                         "always mode: the kernel never refuses an allocation; a shortage ends in the OOM killer.");
                break;
        case _COMMIT_MODE_MAX:
        default:
                snprintf(buf, len, "unknown overcommit mode %d.", (int) d->overcommit.mode);
                break;
        }
}

/* The same for a commitd budget seen through commitd-meminfo's view. Its mode is its policy's, which the view does
 * not show: the words say what strict would do and where the mode is; the host's sysctls are not its judge. */
static void view_summary(const struct doctor *d, char *buf, size_t len) {
        int off = strict_words(d, "commitd budget", "if its policy is strict, ", "its processes", " of it", buf, len);

        if (off > 0 && (size_t) off < len)
                snprintf(buf + off, len - off,
                         " Its mode and limit are its policy's (`commitctl status` on the host shows them); the host's "
                         "vm.overcommit_memory=%d (%s) does not judge it.",
                         (int) d->overcommit.mode, commit_mode_to_string(d->overcommit.mode));
}

static void what_if_summary(const struct doctor *d, char *buf, size_t len) {
        char a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX], c[UNITS_FORMAT_MAX];
        const struct diagnosis *w = &d->what_if;
        const struct process_commit *largest;
        size_t cannot = count_cannot_fork(d, w, &largest);
        int off;

        if (w->budget.mode != COMMIT_MODE_NEVER) {
                snprintf(buf, len, "in %s mode the kernel would refuse only %s; no process would be refused a fork.",
                         commit_mode_to_string(w->budget.mode),
                         w->budget.mode == COMMIT_MODE_ALWAYS ? "nothing"
                                                              : "a single allocation larger than RAM + swap");
                return;
        }
        if (w->headroom_bytes == 0)
                off = snprintf(buf, len,
                               "CommitLimit would be %s; current commit %s; every new allocation and fork() of a "
                               "process without CAP_SYS_ADMIN would fail with ENOMEM.",
                               size(w->commit_limit_bytes, a), size(w->committed_bytes, b));
        else
                off = snprintf(buf, len, "CommitLimit would be %s; current commit %s; %s would be left.",
                               size(w->commit_limit_bytes, a), size(w->committed_bytes, b), size(w->headroom_bytes, c));
        if (off > 0 && (size_t) off < len && cannot > 0)
                snprintf(buf + off, len - off, " %zu process%s could not fork (largest: pid %d %s, %s).", cannot,
                         cannot == 1 ? "" : "es", (int) largest->pid, largest->comm, size(fork_charge(largest), a));
}

/* The host's numbers and the verdict: what /proc/meminfo and the sysctls say. */
static void print_host(const struct doctor *d, uint64_t procs_total) {
        char a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX], c[UNITS_FORMAT_MAX], e[UNITS_FORMAT_MAX];
        char words[1024];
        const struct diagnosis *n = &d->now;

        printf("Host overcommit: vm.overcommit_memory=%d (%s)", (int) d->overcommit.mode,
               commit_mode_to_string(d->overcommit.mode));
        if (d->overcommit.kbytes_bytes)
                printf(", vm.overcommit_kbytes=%" PRIu64 "\n", d->overcommit.kbytes_bytes >> 10);
        else
                printf(", vm.overcommit_ratio=%" PRIu32 "\n", d->overcommit.ratio);
        printf("  CommitLimit   %8s   (%s - hugetlb %s) x %s + swap %s\n", size(d->meminfo.commit_limit, a),
               size(d->meminfo.mem_total, b), size(d->meminfo.hugetlb, c),
               d->overcommit.kbytes_bytes ? "kbytes" : "ratio", size(d->meminfo.swap_total, e));
        printf("  Committed_AS  %8s   in process maps %s; elsewhere %s (tmpfs/memfd pages, unattached SysV)\n",
               size(d->meminfo.committed_as, a), size(procs_total, b),
               size(d->meminfo.committed_as > procs_total ? d->meminfo.committed_as - procs_total : 0, c));
        printf("  MemAvailable  %8s\n", size(d->meminfo.mem_available, a));
        if (n->commit_limit_bytes != d->meminfo.commit_limit)
                printf("  warning: the formula gives CommitLimit %s but the kernel reports %s; memory was hot-plugged "
                       "or the hugetlb pool changed?\n",
                       size(n->commit_limit_bytes, a), size(d->meminfo.commit_limit, b));
        summary(d, words, sizeof(words));
        printf("\n%s\n", words);
}

static void print_human(const struct doctor *d, size_t top) {
        char a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX];
        char words[1024];
        const struct diagnosis *n = &d->now;
        uint64_t procs_total = smaps_charge_bytes(&d->total, d->mode);

        if (d->view) {
                printf("Budget: /proc/meminfo here is commitd-meminfo's view of this process's commitd budget, not the "
                       "host's\n");
                printf("  CommitLimit   %8s   the budget's (its policy's), not from the host's vm.overcommit_*\n",
                       size(d->meminfo.commit_limit, a));
                printf("  Committed_AS  %8s   the budget's; in the maps of this cgroup's processes seen here %s\n",
                       size(d->meminfo.committed_as, a), size(procs_total, b));
                printf("  MemAvailable  %8s\n", size(d->meminfo.mem_available, a));
                view_summary(d, words, sizeof(words));
                printf("\n%s\n", words);
        } else
                print_host(d, procs_total);
        printf("\nLargest committers by process:\n  %7s  %-16s %9s %9s  %-6s %s\n", "PID", "COMMAND", "COMMITTED",
               "NORESERVE", "FORK", "CGROUP");
        for (size_t i = 0; i < d->n_procs && (top == 0 || i < top); i++) {
                const struct process_commit *p = &d->procs[i];
                printf("  %7d  %-16s %9s %9s  %-6s %s\n", (int) p->pid, p->comm, size(proc_committed(d, p), a),
                       size(p->charge.noreserve_bytes, b), fork_fits(d, n, p) ? "ok" : "ENOMEM",
                       p->cgroup ? p->cgroup : "?");
        }
        printf("\nLargest committers by cgroup:\n  %9s %6s  %s\n", "COMMITTED", "PROCS", "CGROUP");
        for (size_t i = 0; i < d->n_cgroups && (top == 0 || i < top); i++)
                printf("  %9s %6zu  %s\n", size(smaps_charge_bytes(&d->cgroups[i].charge, d->mode), a),
                       d->cgroups[i].processes, d->cgroups[i].cgroup);
        if (d->mode != COMMIT_MODE_NEVER)
                printf("\nNORESERVE: private writable memory mapped with MAP_NORESERVE; the kernel does not charge it "
                       "in this mode, a strict mode would.\n");
        if (d->has_what_if) {
                what_if_summary(d, words, sizeof(words));
                printf("\nWhat if %s: %s\n", d->what_if_spec, words);
        }
}

static json_t *diagnosis_json(const struct diagnosis *dg) {
        return json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I}", "overcommit_memory", (int) dg->budget.mode, "mode",
                         commit_mode_to_string(dg->budget.mode), "overcommit_ratio", (json_int_t) dg->budget.ratio,
                         "overcommit_kbytes", (json_int_t) (dg->budget.has_limit ? dg->budget.limit_bytes >> 10 : 0),
                         "commit_limit_bytes", (json_int_t) dg->commit_limit_bytes, "committed_bytes",
                         (json_int_t) dg->committed_bytes, "headroom_bytes", (json_int_t) dg->headroom_bytes);
}

/* The view's numbers: a budget's, with the host's mode named as the host's (never as the budget's). */
static json_t *view_json(const struct doctor *d) {
        return json_pack("{s:b, s:I, s:I, s:I, s:i, s:s}", "meminfo_view", 1, "commit_limit_bytes",
                         (json_int_t) d->now.commit_limit_bytes, "committed_bytes", (json_int_t) d->now.committed_bytes,
                         "headroom_bytes", (json_int_t) d->now.headroom_bytes, "host_overcommit_memory",
                         (int) d->overcommit.mode, "host_mode", commit_mode_to_string(d->overcommit.mode));
}

static int print_json(const struct doctor *d) {
        json_auto_t *root = d->view ? view_json(d) : diagnosis_json(&d->now);
        json_t *procs = json_array(), *cgroups = json_array();
        char words[1024];
        int r = 0;

        if (!root || !procs || !cgroups) {
                json_decref(procs);
                json_decref(cgroups);
                return -ENOMEM;
        }
        if (d->view)
                view_summary(d, words, sizeof(words));
        else {
                summary(d, words, sizeof(words));
                r |= json_object_set_new(root, "meminfo_view", json_false());
                r |= json_object_set_new(root, "kernel_commit_limit_bytes",
                                         json_integer((json_int_t) d->meminfo.commit_limit));
                r |= json_object_set_new(root, "hugetlb_bytes", json_integer((json_int_t) d->meminfo.hugetlb));
                r |= json_object_set_new(root, "admin_reserve_bytes",
                                         json_integer((json_int_t) d->overcommit.admin_reserve_bytes));
                r |= json_object_set_new(root, "user_reserve_bytes",
                                         json_integer((json_int_t) d->overcommit.user_reserve_bytes));
        }
        r |= json_object_set_new(root, "summary", json_string(words));
        r |= json_object_set_new(root, "headroom_admin_bytes", json_integer((json_int_t) d->now.headroom_admin_bytes));
        r |= json_object_set_new(root, "mem_total_bytes", json_integer((json_int_t) d->meminfo.mem_total));
        r |= json_object_set_new(root, "mem_available_bytes", json_integer((json_int_t) d->meminfo.mem_available));
        r |= json_object_set_new(root, "swap_total_bytes", json_integer((json_int_t) d->meminfo.swap_total));
        r |= json_object_set_new(root, "processes_committed_bytes",
                                 json_integer((json_int_t) smaps_charge_bytes(&d->total, d->mode)));
        for (size_t i = 0; i < d->n_procs; i++) {
                const struct process_commit *p = &d->procs[i];
                r |= json_array_append_new(
                        procs,
                        json_pack("{s:i, s:s, s:s?, s:I, s:I, s:I, s:I, s:b}", "pid", (int) p->pid, "comm", p->comm,
                                  "cgroup", p->cgroup, "committed_bytes", (json_int_t) proc_committed(d, p),
                                  "accountable_bytes", (json_int_t) p->charge.accountable_bytes, "shmem_bytes",
                                  (json_int_t) (d->mode == COMMIT_MODE_NEVER ? p->charge.shmem_strict_bytes
                                                                             : p->charge.shmem_bytes),
                                  "noreserve_bytes", (json_int_t) p->charge.noreserve_bytes, "fork_fits",
                                  fork_fits(d, &d->now, p)));
        }
        for (size_t i = 0; i < d->n_cgroups; i++)
                r |= json_array_append_new(cgroups,
                                           json_pack("{s:s, s:I, s:I}", "cgroup", d->cgroups[i].cgroup, "processes",
                                                     (json_int_t) d->cgroups[i].processes, "committed_bytes",
                                                     (json_int_t) smaps_charge_bytes(&d->cgroups[i].charge, d->mode)));
        r |= json_object_set_new(root, "processes", procs);
        r |= json_object_set_new(root, "cgroups", cgroups);
        if (d->has_what_if) {
                json_t *w = diagnosis_json(&d->what_if);
                const struct process_commit *largest;
                what_if_summary(d, words, sizeof(words));
                r |= json_object_set_new(w, "summary", json_string(words));
                r |= json_object_set_new(w, "processes_that_cannot_fork",
                                         json_integer((json_int_t) count_cannot_fork(d, &d->what_if, &largest)));
                r |= json_object_set_new(root, "what_if", w);
        }
        if (r != 0)
                return -ENOMEM;
        if (json_dumpf(root, stdout, JSON_INDENT(2)) < 0)
                return -EIO;
        putchar('\n');
        return 0;
}

static void doctor_help(FILE *f) {
        fprintf(f, "Usage: commitctl doctor [--json] [--what-if mode=M,ratio=N|limit=SIZE] [--top N]\n"
                   "\n"
                   "Explain the host's own overcommit state; works without commitd.\n"
                   "\n"
                   "  --what-if SPEC   what CommitLimit and which forks a change of the sysctls would give;\n"
                   "                   SPEC is comma-separated mode=0|1|2|heuristic|always|strict|guess|never,\n"
                   "                   ratio=PERCENT, limit=SIZE (like vm.overcommit_kbytes)\n"
                   "  --top N          rows per table (default 10, 0 for all; --json lists all)\n"
                   "  --json           machine-readable output\n");
}

int verb_doctor(int argc, char **argv, const struct global_options *g) {
        static const struct option options[] = {
                {"what-if", required_argument, NULL, 'w'},
                {"top", required_argument, NULL, 't'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        struct doctor d = {0};
        struct what_if w;
        bool json = g->json;
        uint64_t top = 10;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'w': {
                        const char *bad = optarg;
                        if (diagnosis_parse_what_if(optarg, &w, &bad) < 0) {
                                fprintf(stderr,
                                        "commitctl doctor: --what-if: cannot use '%s'; give mode=0|1|2, ratio=PERCENT "
                                        "or limit=SIZE, comma-separated (e.g. mode=2,ratio=80)\n",
                                        bad);
                                return EXIT_USAGE;
                        }
                        d.has_what_if = true;
                        d.what_if_spec = optarg;
                        break;
                }
                case 't':
                        if (units_parse_count(optarg, 0, SIZE_MAX, &top) < 0) {
                                fprintf(stderr, "commitctl doctor: --top takes a row count, not '%s'\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        doctor_help(stdout);
                        return EXIT_OK;
                default:
                        doctor_help(stderr);
                        return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "commitctl doctor: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }

        /* A --what-if that cannot be answered is refused before every process is measured. */
        d.page_size = (uint64_t) sysconf(_SC_PAGESIZE);
        r = doctor_read(&d);
        if (r >= 0 && d.has_what_if && d.view) {
                fprintf(stderr,
                        "commitctl doctor: --what-if recomputes the host's CommitLimit from its sysctls, but "
                        "/proc/meminfo here is commitd-meminfo's view of a commitd budget; run it on the host\n");
                doctor_done(&d);
                return EXIT_USAGE;
        }
        if (r >= 0 && d.has_what_if) {
                diagnosis_apply_what_if(&d.overcommit, &w, &d.what_if_sysctls);
                r = diagnosis_compute(&d.meminfo, &d.what_if_sysctls, d.page_size, &d.what_if);
                if (r < 0)
                        fprintf(stderr, "commitctl doctor: --what-if %s: CommitLimit does not fit 64 bits\n",
                                d.what_if_spec);
        }
        if (r >= 0)
                r = doctor_measure(&d);
        if (r >= 0) {
                if (json)
                        r = print_json(&d);
                else
                        print_human(&d, top);
                if (r < 0)
                        fprintf(stderr, "commitctl doctor: cannot write the report: %s\n", strerror(-r));
        }
        doctor_done(&d);
        return r < 0 ? EXIT_FAILURE_ : EXIT_OK;
}
