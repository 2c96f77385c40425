/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "budgets.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "measure.h"

#define MAX_POLICIES 4096

static void entry_free(struct budget_entry *e) {
        if (!e)
                return;
        if (e->policy) {
                policy_done(e->policy);
                free(e->policy);
        }
        free(e->source);
        free(e->cgroup);
        free(e->template_name);
        free(e->container_id);
        free(e);
}

struct budget_entry *budgets_find(struct budgets *b, const char *cgroup) {
        for (struct budget_entry *e = b->entries; e; e = e->next)
                if (streq(e->cgroup, cgroup))
                        return e;
        return NULL;
}

static void link_parent(struct budgets *b, struct budget_entry *e);

int budgets_get(struct budgets *b, const char *cgroup, struct budget_entry **ret) {
        struct budget_entry *e = budgets_find(b, cgroup);

        if (!e) {
                e = calloc(1, sizeof(*e));
                if (!e || !(e->cgroup = strdup(cgroup))) {
                        free(e);
                        return -ENOMEM;
                }
                e->next = b->entries;
                b->entries = e;
                /* A new entry has no policy: no other entry's parent changes, nothing to resolve. Only its own
                 * link, cheaply: a listener thread may get here, under the lock (process in a sub-cgroup). */
                link_parent(b, e);
        }
        *ret = e;
        return 0;
}

struct budget_entry *budgets_find_policy(struct budgets *b, const char *name) {
        for (struct budget_entry *e = b->entries; e; e = e->next)
                if (e->policy && streq(e->policy->name, name))
                        return e;
        return NULL;
}

int budgets_instantiate(struct budgets *b, const struct budget_entry *template, const char *cgroup, const char *id,
                        struct budget_entry **ret) {
        struct budget_entry *e;
        struct policy *p;
        int r;

        r = budgets_get(b, cgroup, &e);
        if (r < 0)
                return r;
        if (e->policy && !e->container) {
                *ret = e; /* the cgroup has a policy of its own: it rules */
                return 0;
        }
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = *template->policy;
        p->description = NULL;
        p->cgroup = strdup(cgroup);
        /* The whole id: status names the container by it (ids are at most OCI_MAX_ID, oci.h). */
        if (asprintf(&p->name, "%s@%s", template->policy->name, id) < 0)
                p->name = NULL;
        if (!p->cgroup || !p->name) {
                policy_done(p);
                free(p);
                return -ENOMEM;
        }
        if (e->policy) {
                policy_done(e->policy);
                free(e->policy);
        }
        e->policy = p;
        free(e->source);
        e->source = NULL;
        if (asprintf(&e->source, "oci:%s", id) < 0)
                e->source = NULL;
        free(e->template_name);
        free(e->container_id);
        e->template_name = strdup(template->policy->name);
        e->container_id = strdup(id);
        e->container = true;
        budgets_refresh(b);
        *ret = e;
        return 0;
}

static bool unused(const struct budget_entry *e) {
        return !e->policy && e->enrolled == 0 && e->processes == 0 && e->ghosts == 0 && e->pins == 0;
}

static void unlink_free(struct budgets *b, struct budget_entry *e) {
        for (struct budget_entry **pp = &b->entries; *pp; pp = &(*pp)->next)
                if (*pp == e) {
                        *pp = e->next;
                        entry_free(e);
                        return;
                }
}

void budgets_put(struct budgets *b, struct budget_entry *e) {
        /* Without a policy it is nobody's parent (link_parent()): nothing else points at it. */
        if (unused(e))
                unlink_free(b, e);
}

void budgets_container_ended(struct budgets *b, struct budget_entry *e) {
        if (e->policy) {
                policy_done(e->policy);
                free(e->policy);
                e->policy = NULL;
        }
        e->container = false;
        e->oci_cgroup = false;
        e->pidns = 0;
        budgets_refresh(b); /* entries below pointed at it as their parent */
        budgets_put(b, e);
}

uint64_t budgets_level_request(const struct budget_entry *e, uint64_t plain, uint64_t noreserve) {
        return e->budget.mode == COMMIT_MODE_NEVER ? saturating_add(plain, noreserve) : plain;
}

size_t budgets_levels(struct budget_entry *e, struct budget_entry **levels, size_t max) {
        size_t n = 0;

        if (e && !e->policy)
                e = e->parent;
        for (; e && n < max; e = e->parent)
                levels[n++] = e;
        return n;
}

/* SPEC 3.2: ram from the policy, else the cgroup's memory limit when finite, else the host's MemTotal;
 * hugetlb from the policy, else the host pool only when ram is the host's; swap likewise. */
static void resolve(struct budgets *b, struct budget_entry *e, const struct meminfo *host) {
        const struct policy *p = e->policy;
        uint64_t ram = CGROUPFS_UNLIMITED, swap = CGROUPFS_UNLIMITED;
        bool host_ram;

        if (!p)
                return;
        (void) cgroup_read_limits(b->root, e->cgroup, e->sample_pid, &ram, &swap);
        host_ram = !p->has_ram && ram == CGROUPFS_UNLIMITED;
        e->budget = p->budget;
        e->budget.ram_bytes = p->has_ram ? p->budget.ram_bytes : host_ram ? host->mem_total : ram;
        e->budget.swap_bytes = p->has_swap                  ? p->budget.swap_bytes
                               : swap != CGROUPFS_UNLIMITED ? swap
                                                            : host->swap_total;
        e->budget.hugetlb_bytes = p->has_hugetlb ? p->budget.hugetlb_bytes : host_ram ? host->hugetlb : 0;
        if (!p->has_admin_reserve)
                e->budget.admin_reserve_bytes = formula_default_admin_reserve(e->budget.ram_bytes);
        if (!p->has_user_reserve)
                e->budget.user_reserve_bytes = formula_default_user_reserve(e->budget.ram_bytes);
        if (formula_commit_limit(&e->budget, b->page_size, &e->commit_limit_bytes) < 0) {
                log_warning("cgroup %s: policy %s gives no valid CommitLimit (hugetlb above ram?); treating it "
                            "as 0",
                            e->cgroup, p->name);
                e->commit_limit_bytes = 0;
        }
}

/* The nearest ancestor with a policy: walk the path upwards, looking for an entry that has one. */
static void link_parent(struct budgets *b, struct budget_entry *e) {
        _cleanup_free_ char *path = strdup(e->cgroup);

        e->parent = NULL;
        while (path && !streq(path, "/")) {
                char *slash = strrchr(path, '/');
                struct budget_entry *a;
                if (slash == path)
                        slash[1] = '\0';
                else
                        *slash = '\0';
                a = budgets_find(b, path);
                if (a && a->policy) {
                        e->parent = a;
                        return;
                }
        }
}

void budgets_refresh(struct budgets *b) {
        struct meminfo host = {0};

        (void) meminfo_read("/proc/meminfo", &host);
        for (struct budget_entry *e = b->entries; e; e = e->next) {
                link_parent(b, e);
                resolve(b, e, &host);
        }
}

static int pid_compare(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

/* Which unreadable processes a measure may leave out (issue 9 item 15). A judged process we cannot read fails
 * the measure (closed: the ledger keeps its overstatement and the call is refused). A process nobody judges
 * (PID 1 in a level's cgroup, whose smaps the kernel keeps from us even with cap_sys_ptrace) cannot be refused
 * anything anyway: it is skipped, and said once per entry and pid. */
static int unreadable_outcome(struct budget_entry *e, const struct measure_report *report, const pid_t *judged,
                              size_t n_judged) {
        const struct measure_skip *blocking = measure_report_blocking(report, judged, n_judged);

        if (blocking) {
                log_warning("%s: cannot read judged process %d (%s): measure failed, its ledger stands", e->cgroup,
                            (int) blocking->pid, strerror(-blocking->error));
                return blocking->error;
        }
        for (size_t i = 0; i < report->n_unreadable; i++) {
                const struct measure_skip *s = &report->unreadable[i];
                if (e->skipped_pid != s->pid) {
                        e->skipped_pid = s->pid;
                        log_notice("%s: process %d is not ours to read (%s), measured without it; it is not "
                                   "enrolled, so nothing of it is refused",
                                   e->cgroup, (int) s->pid, strerror(-s->error));
                }
        }
        return 0;
}

void budgets_measure_done(struct budget_measure *m) {
        free(m->pids);
        free(m->judged);
        smaps_charge_done(&m->objects);
        smaps_charge_done(&m->charge);
        measure_report_done(&m->report);
        *m = (struct budget_measure){0};
}

int budgets_measure_begin(struct budgets *b, struct budget_entry *e, struct budget_measure *m) {
        int r;

        *m = (struct budget_measure){.entry = e, .mark = ledger_measure_begin(&e->ledger)};
        r = cgroup_list_pids(b->root, e->cgroup, &m->pids, &m->n);
        /* A process judged here but moved out of the subtree is still this budget's (records.c judges it here):
         * measured with the others, once (the pid of one still inside is listed twice). */
        if (r >= 0 && b->judged)
                r = b->judged(b->judged_data, e, &m->judged, &m->n_judged, &m->inflight, &m->objects);
        if (r >= 0 && m->n_judged > 0) {
                pid_t *all = reallocarray(m->pids, m->n + m->n_judged, sizeof(pid_t));
                if (!all)
                        r = -ENOMEM;
                else {
                        m->pids = all;
                        memcpy(m->pids + m->n, m->judged, m->n_judged * sizeof(pid_t));
                        m->n += m->n_judged;
                }
        }
        if (r < 0) {
                budgets_measure_done(m);
                return r;
        }
        if (m->n > 1) { /* an empty cgroup has no array: qsort() must not be given NULL */
                size_t k = 0;
                qsort(m->pids, m->n, sizeof(pid_t), pid_compare);
                for (size_t i = 0; i < m->n; i++)
                        if (k == 0 || m->pids[i] != m->pids[k - 1])
                                m->pids[k++] = m->pids[i];
                m->n = k;
        }
        e->pins++;
        return 0;
}

int budgets_measure_read(const struct budgets *b, struct budget_measure *m) {
        m->result = measure_pids(b->measure, m->pids, m->n, &m->charge, &m->report);
        return m->result;
}

int budgets_measure_end(struct budgets *b, struct budget_measure *m, uint64_t now_usec) {
        struct budget_entry *e = m->entry;
        int r = m->result;

        e->pins--;
        if (r >= 0)
                r = unreadable_outcome(e, &m->report, m->judged, m->n_judged);
        if (r >= 0 && m->objects.n_shmem > 0 && (r = smaps_charge_merge(&m->charge, &m->objects)) >= 0)
                r = smaps_charge_finish(&m->charge);
        if (r >= 0)
                (void) ledger_remeasure(&e->ledger, &m->mark, smaps_charge_bytes(&m->charge, e->budget.mode),
                                        m->inflight, now_usec);
        budgets_measure_done(m);
        (void) b;
        return r;
}

static int set_policy(struct budgets *b, struct policy *p, const char *source) {
        struct budget_entry *e;
        int r;

        r = budgets_get(b, p->cgroup, &e);
        if (r < 0)
                return r;
        if (e->policy) {
                policy_done(e->policy);
                free(e->policy);
        }
        e->policy = p;
        free(e->source);
        e->source = strdup(source);
        return 0;
}

/* A live-change file that does not parse (truncated by a full disk, edited by hand, written by a broken
 * release): moved aside, so that the policy directory rules again and the next change is written afresh. */
static void move_aside(const char *path, const char *error) {
        _cleanup_free_ char *aside = NULL;

        if (asprintf(&aside, "%s.corrupt", path) < 0 || rename(path, aside) < 0) {
                log_error("state file %s is corrupt (%s) and cannot be moved aside: %m; skipped", path, error);
                return;
        }
        log_error("state file %s is corrupt (%s); moved aside to %s: its cgroup follows the policy directory "
                  "until it is changed again",
                  path, error, aside);
}

static int load_dir(struct budgets *b, const char *dir, bool is_state, json_t *errors, int *loaded) {
        struct dirent **names = NULL;
        int n, r = 0;

        n = scandir(dir, &names, NULL, alphasort);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                size_t len = strlen(name);
                _cleanup_free_ char *path = NULL, *error = NULL;
                struct budget_entry *other;
                struct policy *p;

                if (len < 6 || !streq(name + len - 5, ".json") || name[0] == '.' || streq(name, "schema.json") ||
                    *loaded >= MAX_POLICIES)
                        continue;
                if (asprintf(&path, "%s/%s", dir, name) < 0 || !(p = calloc(1, sizeof(*p)))) {
                        r = -ENOMEM;
                        break;
                }
                if (policy_load_file(path, p, &error) < 0) {
                        if (is_state)
                                move_aside(path, error ? error : "unreadable");
                        else
                                log_error("%s; skipped", error ? error : path);
                        if (errors)
                                json_array_append_new(errors, json_string(error ? error : path));
                        free(p);
                        continue;
                }
                /* Names choose policies (enroll --policy, policy-show) and live-change files: one name, one
                 * cgroup. The same cgroup's policy again (a live change over its policy file) replaces it. */
                other = budgets_find_policy(b, p->name);
                if (other && !streq(other->cgroup, p->cgroup)) {
                        if (asprintf(&error,
                                     "%s: the policy name \"%s\" is taken by %s (cgroup %s); give one of them "
                                     "another \"name\"",
                                     path, p->name, other->source ? other->source : "?", other->cgroup) < 0)
                                error = NULL;
                        log_error("%s; skipped", error ? error : path);
                        if (errors)
                                json_array_append_new(errors, json_string(error ? error : path));
                        policy_done(p);
                        free(p);
                        continue;
                }
                r = set_policy(b, p, path);
                if (r < 0) {
                        policy_done(p);
                        free(p);
                        break;
                }
                (*loaded)++;
        }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

static int live_dir(const struct budgets *b, char **ret) {
        return asprintf(ret, "%s/policies", b->state_dir) < 0 ? -ENOMEM : 0;
}

int budgets_load(struct budgets *b, json_t *errors) {
        _cleanup_free_ char *live = NULL;
        int loaded = 0, r;

        /* Forget every policy, keep the entries (and their ledgers) of enrolled cgroups. A running container
         * keeps the copy of its template it was enrolled with: it lives as long as the container. */
        for (struct budget_entry **pp = &b->entries; *pp;) {
                struct budget_entry *e = *pp;
                if (e->policy && !e->container) {
                        policy_done(e->policy);
                        free(e->policy);
                        e->policy = NULL;
                }
                if (unused(e)) { /* a process record or a listener may still point at it */
                        *pp = e->next;
                        entry_free(e);
                } else
                        pp = &e->next;
        }
        r = load_dir(b, b->policy_dir, false, errors, &loaded);
        if (r < 0)
                return r;
        r = live_dir(b, &live);
        if (r < 0)
                return r;
        r = load_dir(b, live, true, errors, &loaded);
        if (r < 0)
                return r;
        budgets_refresh(b);
        return loaded;
}

/* Writes the policy to STATE/policies/NAME.json with fileio_write_atomic(), so a crash leaves the old file or the
 * new one, never half of one; then syncs the directory, so that the rename itself survives a power loss. */
static int persist(struct budgets *b, const struct policy *p, char **ret_path) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL, *line = NULL;
        json_auto_t *j = policy_to_json(p);
        _cleanup_close_ int dfd = -1;
        int r;

        r = live_dir(b, &dir);
        if (r < 0)
                return r;
        if (mkdir(b->state_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (!j || !(text = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2))) || asprintf(&line, "%s\n", text) < 0 ||
            asprintf(&path, "%s/%s.json", dir, p->name) < 0)
                return -ENOMEM;
        r = fileio_write_atomic(path, line, strlen(line), 0644, (uid_t) -1, (gid_t) -1);
        if (r < 0)
                return r;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                log_warning("cannot sync %s: %m; the change may not survive a power loss", dir);
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* A policy name for a cgroup that has none, and so a file STATE/policies/NAME.json of its own:
 * policy_name_for_cgroup(), which gives no two cgroups one name; its hashed form when a policy file already
 * took that name for another cgroup (a file may name its policy anything). */
static int name_for(struct budgets *b, const char *cgroup, char **ret) {
        for (int hashed = 0; hashed < 2; hashed++) {
                _cleanup_free_ char *name = NULL;
                struct budget_entry *e;
                int r = policy_name_for_cgroup(cgroup, hashed, &name);

                if (r < 0)
                        return r;
                e = budgets_find_policy(b, name);
                if (!e || streq(e->cgroup, cgroup)) {
                        *ret = TAKE_PTR(name);
                        return 0;
                }
        }
        return -EEXIST;
}

int budgets_change(struct budgets *b, const char *cgroup, const struct knob_change *change, struct budget_entry **ret) {
        struct budget_entry *e;
        struct policy next = {0};
        _cleanup_free_ char *path = NULL;
        int r;

        r = budgets_get(b, cgroup, &e);
        if (r < 0)
                return r;
        if (e->policy) {
                next = *e->policy; /* shallow: strings are re-owned below */
                next.name = strdup(e->policy->name);
                next.cgroup = strdup(e->policy->cgroup);
                next.description = e->policy->description ? strdup(e->policy->description) : NULL;
        } else {
                r = cgroup_create(b->root, cgroup);
                if (r < 0)
                        return r;
                next = (struct policy){
                        .cgroup = strdup(cgroup),
                        .budget = POLICY_DEFAULT_BUDGET,
                        .enforce = true,
                        .meminfo = true,
                };
                r = name_for(b, cgroup, &next.name);
                if (r < 0) {
                        policy_done(&next);
                        return r;
                }
        }
        if (!next.name || !next.cgroup) {
                policy_done(&next);
                return -ENOMEM;
        }
        switch (change->knob) {
        case KNOB_MODE:
                next.budget.mode = change->mode;
                break;
        case KNOB_RATIO: /* like the sysctls: setting the ratio clears the limit */
                next.budget.ratio = change->ratio;
                next.budget.has_limit = false;
                next.budget.limit_bytes = 0;
                break;
        case KNOB_LIMIT:
                next.budget.has_limit = !change->clear;
                next.budget.limit_bytes = change->clear ? 0 : change->limit_bytes;
                break;
        case _KNOB_MAX:
        default:
                policy_done(&next);
                return -EINVAL;
        }
        r = persist(b, &next, &path);
        if (r < 0) {
                policy_done(&next);
                return r;
        }
        {
                struct policy *p = malloc(sizeof(*p));
                if (!p) {
                        policy_done(&next);
                        return -ENOMEM;
                }
                *p = next;
                r = set_policy(b, p, path);
                if (r < 0)
                        return r;
        }
        budgets_refresh(b);
        *ret = e;
        return 0;
}

static json_t *size_or_null(bool has, uint64_t v) {
        return has ? json_integer((json_int_t) v) : json_null();
}

json_t *budgets_entry_json(const struct budget_entry *e) {
        const struct policy *p = e->policy;
        const struct budget_entry *limit_of = p ? e : e->parent;
        const struct budget *bd = limit_of ? &limit_of->budget : NULL;
        uint64_t admitted = 0;

        for (size_t k = 0; k < _CALL_KIND_MAX; k++)
                admitted += e->admitted_calls[k];
        return json_pack(
                "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:i, s:I, s:I, s:b}", "cgroup", e->cgroup,
                "policy", p ? json_string(p->name) : json_null(), "container",
                e->container && e->container_id ? json_string(e->container_id) : json_null(), "mode",
                bd ? json_string(commit_mode_to_string(bd->mode)) : json_null(), "formula",
                bd ? json_string(commit_formula_to_string(bd->formula)) : json_null(), "ratio",
                bd && !bd->has_limit ? json_integer(bd->ratio) : json_null(), "limit_bytes",
                size_or_null(bd && bd->has_limit, bd ? bd->limit_bytes : 0), "commit_limit_bytes",
                size_or_null(bd, limit_of ? limit_of->commit_limit_bytes : 0), "committed_bytes",
                (json_int_t) ledger_committed(&e->ledger), "ram_bytes", size_or_null(bd, bd ? bd->ram_bytes : 0),
                "swap_bytes", size_or_null(bd, bd ? bd->swap_bytes : 0), "hugetlb_bytes",
                size_or_null(bd, bd ? bd->hugetlb_bytes : 0), "enrolled_processes", (int) e->processes, "admitted",
                (json_int_t) admitted, "refusals", (json_int_t) e->refusals, "enforce", p ? p->enforce : true);
}

void budgets_free(struct budgets *b) {
        while (b->entries) {
                struct budget_entry *e = b->entries;
                b->entries = e->next;
                entry_free(e);
        }
}
