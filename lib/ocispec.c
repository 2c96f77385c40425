/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "errmsg.h"
#include "macro.h"
#include "calls.h"
#include "ocispec.h"

/* A bundle's config.json is written by whoever starts the container (podman, dockerd, kubelet): the
 * wrapper runs with the runtime's privileges, so every field it reads is checked before use, and the
 * profile it hands back may be narrower than the one it got, never wider.
 *
 * How runtimes evaluate linux.seccomp.syscalls: runc, crun and youki add each entry, in order, as
 * libseccomp rules (seccomp_rule_add(); several args on one index become separate rules, i.e.
 * alternatives) into one filter. Inside one filter libseccomp does not rank actions the way the kernel
 * ranks the results of stacked filters (KILL > TRAP > ERRNO > USER_NOTIF > TRACE > LOG > ALLOW): for one
 * syscall the first rule without conditions wins outright and rules with conditions on that syscall are
 * dropped (db.c; checked with libseccomp 2.5.4: ALLOW mmap plus NOTIFY mmap-if-PROT_WRITE gives a filter
 * that allows every mmap); rules with conditions become one decision tree in which overlapping rules of
 * different actions resolve by the tree's shape, not by precedence. So adding a NOTIFY rule next to a
 * profile's ALLOW for the same call does nothing. Instead, the part of a call the profile allows is cut
 * into disjoint cells that together cover it (struct call_cell, calls.h), each cell gets one action, and no two
 * rules of different actions overlap: any evaluation order gives the same filter. */

#define ARG_MAX_INDEX 5 /* syscalls take at most six arguments */

static const char *const op_names[_CALL_OP_MAX] = {
        [CALL_OP_NE] = "SCMP_CMP_NE",
        [CALL_OP_LT] = "SCMP_CMP_LT",
        [CALL_OP_LE] = "SCMP_CMP_LE",
        [CALL_OP_EQ] = "SCMP_CMP_EQ",
        [CALL_OP_GE] = "SCMP_CMP_GE",
        [CALL_OP_GT] = "SCMP_CMP_GT",
        [CALL_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* What an action does to a call, for the one question asked here: may commitd's rule take its place. */
enum action_class {
        ACTION_ALLOWS,   /* the call runs: commitd may split it into notified and allowed parts */
        ACTION_NOTIFIES, /* someone's listener already hears it (after this edit: commitd's) */
        ACTION_REFUSES,  /* the call fails or kills: it stays so */
};

static const struct {
        const char *name;
        enum action_class class;
} actions[] = {
        {"SCMP_ACT_ALLOW", ACTION_ALLOWS},        {"SCMP_ACT_LOG", ACTION_ALLOWS},
        {"SCMP_ACT_NOTIFY", ACTION_NOTIFIES},     {"SCMP_ACT_ERRNO", ACTION_REFUSES},
        {"SCMP_ACT_KILL", ACTION_REFUSES},        {"SCMP_ACT_KILL_PROCESS", ACTION_REFUSES},
        {"SCMP_ACT_KILL_THREAD", ACTION_REFUSES}, {"SCMP_ACT_TRAP", ACTION_REFUSES},
        {"SCMP_ACT_TRACE", ACTION_REFUSES}, /* without a tracer the call fails with ENOSYS */
};

static int action_parse(const json_t *v, const char *path, enum action_class *ret, char **ret_error) {
        if (!v)
                return errmsg_set(ret_error, -EINVAL, "%s: missing", path);
        if (!json_is_string(v))
                return errmsg_set(ret_error, -EINVAL, "%s: not a string", path);
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (streq(json_string_value(v), actions[i].name)) {
                        *ret = actions[i].class;
                        return 0;
                }
        return errmsg_set(ret_error, -EINVAL, "%s: unknown action \"%.40s\"", path, json_string_value(v));
}

static bool is_uint(const json_t *v) {
        return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* One element of an entry's args. ret may be NULL (validation only). */
static int cond_parse(const json_t *arg, const char *path, struct call_cond *ret, char **ret_error) {
        const json_t *index, *value, *value_two, *op;
        struct call_cond c = {};

        if (!json_is_object(arg))
                return errmsg_set(ret_error, -EINVAL, "%s: not an object", path);
        index = json_object_get(arg, "index");
        value = json_object_get(arg, "value");
        value_two = json_object_get(arg, "valueTwo");
        op = json_object_get(arg, "op");
        if (!is_uint(index) || json_integer_value(index) > ARG_MAX_INDEX)
                return errmsg_set(ret_error, -EINVAL, "%s.index: not an integer from 0 to %d", path, ARG_MAX_INDEX);
        if (!is_uint(value))
                return errmsg_set(ret_error, -EINVAL, "%s.value: not a non-negative integer", path);
        if (value_two && !is_uint(value_two))
                return errmsg_set(ret_error, -EINVAL, "%s.valueTwo: not a non-negative integer", path);
        if (!json_is_string(op))
                return errmsg_set(ret_error, -EINVAL, "%s.op: not a string", path);
        c.op = _CALL_OP_MAX;
        for (size_t i = 0; i < _CALL_OP_MAX; i++)
                if (streq(json_string_value(op), op_names[i]))
                        c.op = (enum call_op) i;
        if (c.op == _CALL_OP_MAX)
                return errmsg_set(ret_error, -EINVAL, "%s.op: unknown operator \"%.40s\"", path, json_string_value(op));
        c.index = (unsigned) json_integer_value(index);
        c.value = (uint64_t) json_integer_value(value);
        c.value_two = value_two ? (uint64_t) json_integer_value(value_two) : 0;
        if (ret)
                *ret = c;
        return 0;
}

/* A validated entry of linux.seccomp.syscalls. */
struct entry {
        json_t *json; /* borrowed */
        const json_t *names, *args;
        enum action_class class;
        bool conditional; /* args not empty */
};

static int entry_parse(json_t *e, size_t i, struct entry *ret, char **ret_error) {
        const json_t *names, *args, *errno_ret;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu]", i);
        if (!json_is_object(e))
                return errmsg_set(ret_error, -EINVAL, "%s: not an object", path);
        names = json_object_get(e, "names");
        if (!names)
                return errmsg_set(ret_error, -EINVAL, "%s.names: missing", path);
        if (!json_is_array(names))
                return errmsg_set(ret_error, -EINVAL, "%s.names: not an array", path);
        if (json_array_size(names) == 0)
                return errmsg_set(ret_error, -EINVAL, "%s.names: empty", path);
        for (size_t j = 0; j < json_array_size(names); j++)
                if (!json_is_string(json_array_get(names, j)))
                        return errmsg_set(ret_error, -EINVAL, "%s.names[%zu]: not a string", path, j);
        {
                char action_path[sizeof(path) + 8];

                snprintf(action_path, sizeof(action_path), "%s.action", path);
                r = action_parse(json_object_get(e, "action"), action_path, &ret->class, ret_error);
                if (r < 0)
                        return r;
        }
        errno_ret = json_object_get(e, "errnoRet");
        if (errno_ret && !is_uint(errno_ret))
                return errmsg_set(ret_error, -EINVAL, "%s.errnoRet: not a non-negative integer", path);
        args = json_object_get(e, "args");
        if (json_is_null(args))
                args = NULL;
        if (args && !json_is_array(args))
                return errmsg_set(ret_error, -EINVAL, "%s.args: not an array", path);
        for (size_t j = 0; args && j < json_array_size(args); j++) {
                char arg_path[sizeof(path) + 32];

                snprintf(arg_path, sizeof(arg_path), "%s.args[%zu]", path, j);
                r = cond_parse(json_array_get(args, j), arg_path, NULL, ret_error);
                if (r < 0)
                        return r;
        }
        ret->json = e;
        ret->names = names;
        ret->args = args;
        ret->conditional = args && json_array_size(args) > 0;
        return 0;
}

static bool entry_names(const struct entry *e, const char *name) {
        for (size_t j = 0; j < json_array_size(e->names); j++)
                if (streq(json_string_value(json_array_get(e->names, j)), name))
                        return true;
        return false;
}

enum combined {
        COMBINED_KEEP,    /* c alone says it: c ∧ k == c */
        COMBINED_REPLACE, /* *ret says it */
        COMBINED_EMPTY,   /* never true */
        COMBINED_CANNOT,  /* true sometimes, but not as one comparison */
};

/* c ∧ k for two conditions on the same argument. k is a cell's: EQ, NE or MASKED_EQ. */
static enum combined cond_combine(const struct call_cond *c, const struct call_cond *k, struct call_cond *ret) {
        if (k->op == CALL_OP_EQ) {
                if (!calls_cond_holds(c, k->value))
                        return COMBINED_EMPTY;
                if (c->op == CALL_OP_EQ)
                        return COMBINED_KEEP;
                *ret = *k;
                return COMBINED_REPLACE;
        }
        if (c->op == CALL_OP_EQ)
                return calls_cond_holds(k, c->value) ? COMBINED_KEEP : COMBINED_EMPTY;
        if (k->op == CALL_OP_NE)
                /* c already excludes k's value, or is the same "not" */
                return !calls_cond_holds(c, k->value) || (c->op == CALL_OP_NE && c->value == k->value)
                               ? COMBINED_KEEP
                               : COMBINED_CANNOT;
        assert(k->op == CALL_OP_MASKED_EQ);
        if (c->op == CALL_OP_NE)
                /* k already excludes c's value */
                return calls_cond_holds(k, c->value) ? COMBINED_CANNOT : (*ret = *k, COMBINED_REPLACE);
        if (c->op != CALL_OP_MASKED_EQ)
                return COMBINED_CANNOT;
        /* They want different bits where both look, or c wants a bit where it does not look (a profile may
         * say so: it never holds, and must not come out as a mask that sometimes does). */
        if (((c->value_two ^ k->value_two) & c->value & k->value) || (c->value_two & ~c->value))
                return COMBINED_EMPTY;
        if ((k->value & ~c->value) == 0)
                return COMBINED_KEEP;
        *ret = (struct call_cond){.index = c->index,
                                  .op = CALL_OP_MASKED_EQ,
                                  .value = c->value | k->value,
                                  .value_two = c->value_two | k->value_two};
        return COMBINED_REPLACE;
}

static json_t *cond_to_json(const struct call_cond *c) {
        if (c->op == CALL_OP_MASKED_EQ)
                return json_pack("{s:i, s:I, s:I, s:s}", "index", (int) c->index, "value", (json_int_t) c->value,
                                 "valueTwo", (json_int_t) c->value_two, "op", op_names[c->op]);
        return json_pack("{s:i, s:I, s:s}", "index", (int) c->index, "value", (json_int_t) c->value, "op",
                         op_names[c->op]);
}

/* The args of a rule that holds where both the entry's args (NULL: always) and the cell hold: a new
 * array, or NULL in *ret when that is never. -EOPNOTSUPP when it cannot be written as one rule, with the
 * position of the entry's condition in *ret_bad. */
static int conjoin(const json_t *args, const struct call_cell *cell, json_t **ret, size_t *ret_bad) {
        json_auto_t *out = args ? json_deep_copy(args) : json_array();
        struct call_cond conds[ARG_MAX_INDEX + 1];
        size_t at[ARG_MAX_INDEX + 1];
        bool have[ARG_MAX_INDEX + 1] = {};

        if (!out)
                return -ENOMEM;
        for (size_t j = 0; args && j < json_array_size(args); j++) {
                struct call_cond c;
                int r = cond_parse(json_array_get(args, j), "", &c, NULL);

                assert(r >= 0); /* validated by entry_parse() */
                (void) r;
                if (have[c.index]) {
                        /* Runtimes turn two conditions on one argument into two rules, alternatives. */
                        *ret_bad = j;
                        return -EOPNOTSUPP;
                }
                have[c.index] = true;
                conds[c.index] = c;
                at[c.index] = j;
        }
        for (unsigned i = 0; i < cell->n_conds; i++) {
                const struct call_cond *k = &cell->conds[i];
                struct call_cond combined;
                json_t *v;

                if (!have[k->index]) {
                        v = cond_to_json(k);
                        if (!v || json_array_append_new(out, v) < 0)
                                return -ENOMEM;
                        continue;
                }
                switch (cond_combine(&conds[k->index], k, &combined)) {
                case COMBINED_KEEP:
                        break;
                case COMBINED_REPLACE:
                        v = cond_to_json(&combined);
                        if (!v || json_array_set_new(out, at[k->index], v) < 0)
                                return -ENOMEM;
                        break;
                case COMBINED_EMPTY:
                        *ret = NULL;
                        return 0;
                case COMBINED_CANNOT:
                        *ret_bad = at[k->index];
                        return -EOPNOTSUPP;
                default:
                        assert(!"unknown combination");
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* A rule for one cell of call: a copy of model (the profile's allowing entry: its action and any other key
 * it carries), or a new entry when model is NULL. Steals args (NULL or empty: no conditions). */
static json_t *cell_entry(const json_t *model, const struct call_row *call, const struct call_cell *cell,
                          json_t *args) {
        json_auto_t *e = model ? json_deep_copy(model) : json_object(), *a = args;
        int r = 0;

        if (!e)
                return NULL;
        r |= json_object_set_new(e, "names", json_pack("[s]", call->name));
        switch (cell->kind) {
        case CALL_CELL_NOTIFY:
                r |= json_object_set_new(e, "action", json_string("SCMP_ACT_NOTIFY"));
                json_object_del(e, "errnoRet");
                break;
        case CALL_CELL_ENOSYS:
                r |= json_object_set_new(e, "action", json_string("SCMP_ACT_ERRNO"));
                r |= json_object_set_new(e, "errnoRet", json_integer(ENOSYS));
                break;
        case CALL_CELL_PASS:
                assert(model);
                break;
        default:
                assert(!"unknown cell");
        }
        if (a && json_array_size(a) > 0)
                r |= json_object_set(e, "args", a);
        else
                json_object_del(e, "args");
        return r < 0 ? NULL : TAKE_PTR(e);
}

/* What happens to one of commitd's calls in the profile. */
enum plan_mode {
        PLAN_LEAVE,   /* refused, or already notified, by a rule without conditions: untouched */
        PLAN_REPLACE, /* allowed by a rule without conditions: it becomes the cells */
        PLAN_SPLIT,   /* only rules with conditions: each allowing one becomes its conjunction with the cells */
};

struct plan {
        enum plan_mode mode;
        size_t first;              /* PLAN_REPLACE: the entry that decides (the first without conditions) */
        bool add[CALLS_MAX_CELLS]; /* PLAN_SPLIT: cells appended for what defaultAction allows */
};

static bool cell_present(const struct entry *entries, size_t n, const struct call_row *call,
                         const struct call_cell *cell) {
        for (size_t i = 0; i < n; i++) {
                const char *action = json_string_value(json_object_get(entries[i].json, "action"));
                json_auto_t *want = NULL;
                size_t bad;

                if (!entry_names(&entries[i], call->name))
                        continue;
                if (cell->kind == CALL_CELL_NOTIFY ? !streq(action, "SCMP_ACT_NOTIFY")
                                                   : !streq(action, "SCMP_ACT_ERRNO"))
                        continue;
                if (cell->kind == CALL_CELL_ENOSYS &&
                    json_integer_value(json_object_get(entries[i].json, "errnoRet")) != ENOSYS)
                        continue;
                if (conjoin(NULL, cell, &want, &bad) < 0 || !want)
                        return false;
                if (json_array_size(want) == 0 ? !entries[i].conditional : json_equal(want, entries[i].args))
                        return true;
        }
        return false;
}

static int plan_call(const struct entry *entries, size_t n, const struct call_row *call, bool default_allows,
                     struct plan *ret, char **ret_error) {
        struct plan p = {.mode = PLAN_SPLIT};
        bool refused_somewhere = false;
        size_t refusing = 0;

        for (size_t i = 0; i < n; i++)
                if (entry_names(&entries[i], call->name) && !entries[i].conditional) {
                        /* The first rule without conditions decides the call alone (see the top). */
                        p.mode = entries[i].class == ACTION_ALLOWS ? PLAN_REPLACE : PLAN_LEAVE;
                        p.first = i;
                        *ret = p;
                        return 0;
                }
        for (size_t i = 0; i < n; i++) {
                if (!entry_names(&entries[i], call->name))
                        continue;
                if (entries[i].class == ACTION_REFUSES && !refused_somewhere) {
                        refused_somewhere = true;
                        refusing = i;
                }
                if (entries[i].class != ACTION_ALLOWS)
                        continue;
                for (size_t c = 0; c < call->n_cells; c++) {
                        json_auto_t *args = NULL;
                        size_t bad = 0;
                        int r = conjoin(entries[i].args, &call->cells[c], &args, &bad);

                        if (r == -EOPNOTSUPP)
                                return errmsg_set(ret_error, r,
                                                  "linux.seccomp.syscalls[%zu].args[%zu]: commitd cannot combine this "
                                                  "condition with its own rules for %s",
                                                  i, bad, call->name);
                        if (r < 0)
                                return r;
                }
        }
        if (!default_allows) {
                *ret = p; /* what no entry allows is refused, and stays so */
                return 0;
        }
        for (size_t c = 0; c < call->n_cells; c++) {
                const struct call_cell *cell = &call->cells[c];

                if (cell->kind == CALL_CELL_PASS || cell_present(entries, n, call, cell))
                        continue;
                /* A notify rule next to a rule refusing part of the call would overlap it; only a rule without
                 * conditions (clone3's ENOSYS) overrides the others whatever their shape. */
                if (cell->kind == CALL_CELL_NOTIFY && refused_somewhere)
                        return errmsg_set(
                                ret_error, -EOPNOTSUPP,
                                "linux.seccomp.syscalls[%zu]: refuses %s only under conditions while "
                                "defaultAction allows it: commitd cannot add its notify rules without widening "
                                "the profile",
                                refusing, call->name);
                p.add[c] = true;
        }
        *ret = p;
        return 0;
}

/* Appends to out the rules that replace entry i for call (none when the entry's rule is dead). */
static int emit_call(json_t *out, const struct entry *e, size_t i, const struct call_row *call, const struct plan *p) {
        if (p->mode == PLAN_REPLACE && i != p->first)
                return 0; /* a rule the first one without conditions made dead (see the top) */
        for (size_t c = 0; c < call->n_cells; c++) {
                json_t *args = NULL, *rule;
                size_t bad;
                int r = conjoin(e->args, &call->cells[c], &args, &bad);

                assert(r != -EOPNOTSUPP); /* plan_call() checked */
                if (r < 0)
                        return r;
                if (!args)
                        continue; /* the entry and the cell never hold together */
                rule = cell_entry(e->json, call, &call->cells[c], args);
                if (!rule || json_array_append_new(out, rule) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool plan_takes(const struct plan *p, const struct entry *e) {
        switch (p->mode) {
        case PLAN_LEAVE:
                return false;
        case PLAN_REPLACE:
                return true;
        case PLAN_SPLIT:
                return e->class == ACTION_ALLOWS;
        default:
                assert(!"unknown plan");
                return false;
        }
}

static int syscalls_rewrite(const struct entry *entries, size_t n, const struct plan *plans, json_t **ret) {
        json_auto_t *out = json_array();

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct entry *e = &entries[i];
                json_auto_t *kept = json_array(), *rules = json_array();
                bool done[CALLS_TABLE_SIZE] = {};
                int r;

                if (!kept || !rules)
                        return -ENOMEM;
                for (size_t j = 0; j < json_array_size(e->names); j++) {
                        json_t *name = json_array_get(e->names, j);
                        const struct call_row *call = calls_find(json_string_value(name));
                        size_t c = call ? (size_t) (call - calls_table) : 0;

                        if (!call || !plan_takes(&plans[c], e)) {
                                if (json_array_append(kept, name) < 0)
                                        return -ENOMEM;
                                continue;
                        }
                        if (done[c])
                                continue;
                        done[c] = true;
                        r = emit_call(rules, e, i, call, &plans[c]);
                        if (r < 0)
                                return r;
                }
                if (json_array_size(kept) == json_array_size(e->names))
                        r = json_array_append(out, e->json);
                else if (json_array_size(kept) > 0) {
                        /* the entry keeps its other calls; its rules for commitd's follow it */
                        json_t *copy = json_copy(e->json);

                        r = copy && json_object_set(copy, "names", kept) >= 0 ? 0 : -1;
                        r = json_array_append_new(out, copy) < 0 ? -1 : r;
                } else
                        r = 0;
                if (r < 0 || json_array_extend(out, rules) < 0)
                        return -ENOMEM;
        }
        for (size_t c = 0; c < CALLS_TABLE_SIZE; c++)
                for (size_t k = 0; k < calls_table[c].n_cells; k++) {
                        json_t *rule;

                        if (plans[c].mode != PLAN_SPLIT || !plans[c].add[k])
                                continue;
                        json_t *args = NULL;
                        size_t bad;

                        if (conjoin(NULL, &calls_table[c].cells[k], &args, &bad) < 0)
                                return -ENOMEM;
                        rule = cell_entry(NULL, &calls_table[c], &calls_table[c].cells[k], args);
                        if (!rule || json_array_append_new(out, rule) < 0)
                                return -ENOMEM;
                }
        *ret = TAKE_PTR(out);
        return 0;
}

static int seccomp_new(json_t **ret) {
        /* Allow by default: commitd's rules add what it must hear, and refuse nothing but clone3. The three ABIs
         * of an x86_64 kernel, so a 32-bit or x32 call cannot go around the rules. */
        json_t *s = json_pack("{s:s, s:[sss], s:[]}", "defaultAction", "SCMP_ACT_ALLOW", "architectures",
                              "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "syscalls");

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* An object member, created empty when absent (or null). -EINVAL when it is something else. */
static int object_member(json_t *parent, const char *key, const char *path, json_t **ret, char **ret_error) {
        json_t *v = json_object_get(parent, key);

        if (v && !json_is_null(v)) {
                if (!json_is_object(v))
                        return errmsg_set(ret_error, -EINVAL, "%s: not an object", path);
                *ret = v;
                return 0;
        }
        if (streq(key, "seccomp")) {
                if (seccomp_new(&v) < 0)
                        return -ENOMEM;
        } else if (!(v = json_object()))
                return -ENOMEM;
        if (json_object_set_new(parent, key, v) < 0)
                return -ENOMEM;
        *ret = v;
        return 0;
}

int ocispec_add_commitd(json_t *config, const char *listener_path, const char *metadata, char **ret_error) {
        _cleanup_free_ struct entry *entries = NULL;
        struct plan plans[CALLS_TABLE_SIZE];
        json_t *linux_, *seccomp, *syscalls, *rewritten = NULL;
        enum action_class default_class;
        size_t n;
        int r;

        assert(listener_path);
        if (!json_is_object(config))
                return errmsg_set(ret_error, -EINVAL, "the top level is not an object");
        r = object_member(config, "linux", "linux", &linux_, ret_error);
        if (r < 0)
                return r;
        r = object_member(linux_, "seccomp", "linux.seccomp", &seccomp, ret_error);
        if (r < 0)
                return r;
        r = action_parse(json_object_get(seccomp, "defaultAction"), "linux.seccomp.defaultAction", &default_class,
                         ret_error);
        if (r < 0)
                return r;
        /* runc and crun refuse a notifying default: every call, their own writes included, would wait. */
        if (default_class == ACTION_NOTIFIES)
                return errmsg_set(ret_error, -EINVAL,
                                  "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
        syscalls = json_object_get(seccomp, "syscalls");
        if (!syscalls || json_is_null(syscalls)) {
                syscalls = json_array();
                if (!syscalls || json_object_set_new(seccomp, "syscalls", syscalls) < 0)
                        return -ENOMEM;
        } else if (!json_is_array(syscalls))
                return errmsg_set(ret_error, -EINVAL, "linux.seccomp.syscalls: not an array");

        n = json_array_size(syscalls);
        entries = calloc(n ? n : 1, sizeof(*entries));
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = entry_parse(json_array_get(syscalls, i), i, &entries[i], ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t c = 0; c < CALLS_TABLE_SIZE; c++) {
                r = plan_call(entries, n, &calls_table[c], default_class == ACTION_ALLOWS, &plans[c], ret_error);
                if (r < 0)
                        return r;
        }
        r = syscalls_rewrite(entries, n, plans, &rewritten);
        if (r < 0)
                return r;
        /* Every notification goes to commitd now: a listener the profile named before would hear nothing. */
        if (json_object_set_new(seccomp, "syscalls", rewritten) < 0 ||
            json_object_set_new(seccomp, "listenerPath", json_string(listener_path)) < 0 ||
            json_object_set_new(seccomp, "listenerMetadata", json_string(metadata ? metadata : "")) < 0)
                return -ENOMEM;
        return 0;
}

int ocispec_add_seccomp_flag(json_t *config, const char *flag, const char *implicit, char **ret_error) {
        json_t *seccomp = json_object_get(json_object_get(config, "linux"), "seccomp"), *flags, *v;
        size_t i;

        assert(flag);
        if (!json_is_object(seccomp))
                return errmsg_set(ret_error, -EINVAL, "linux.seccomp: no profile");
        flags = json_object_get(seccomp, "flags");
        if (!flags || json_is_null(flags)) {
                flags = json_array();
                if (!flags || json_object_set_new(seccomp, "flags", flags) < 0 ||
                    (implicit && json_array_append_new(flags, json_string(implicit)) < 0))
                        return -ENOMEM;
        } else if (!json_is_array(flags))
                return errmsg_set(ret_error, -EINVAL, "linux.seccomp.flags: not an array");
        json_array_foreach(flags, i, v) {
                if (!json_is_string(v))
                        return errmsg_set(ret_error, -EINVAL, "linux.seccomp.flags[%zu]: not a string", i);
                if (streq(json_string_value(v), flag))
                        return 0;
        }
        return json_array_append_new(flags, json_string(flag)) < 0 ? -ENOMEM : 0;
}

int ocispec_policy_annotation(const json_t *config, const char **ret, char **ret_error) {
        const json_t *annotations, *v;

        if (!json_is_object(config))
                return errmsg_set(ret_error, -EINVAL, "the top level is not an object");
        annotations = json_object_get(config, "annotations");
        if (!annotations || json_is_null(annotations)) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_object(annotations))
                return errmsg_set(ret_error, -EINVAL, "annotations: not an object");
        v = json_object_get(annotations, OCISPEC_POLICY_ANNOTATION);
        if (v && !json_is_string(v))
                return errmsg_set(ret_error, -EINVAL, "annotations.%s: not a string", OCISPEC_POLICY_ANNOTATION);
        *ret = v ? json_string_value(v) : NULL;
        return 0;
}

static int bad_state(const char **ret_why, const char *why) {
        if (ret_why)
                *ret_why = why;
        return -EBADMSG;
}

int ocispec_parse_state(const char *buf, size_t len, struct ocispec_state *ret, const char **ret_why) {
        json_auto_t *st = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
        const json_t *state, *fds, *pid, *v;
        const char *id, *policy;
        _cleanup_free_ char *id_copy = NULL, *policy_copy = NULL;
        size_t i, seccomp_index = SIZE_MAX;

        if (!json_is_object(st))
                return bad_state(ret_why, "the state is not a JSON object");
        state = json_object_get(st, "state");
        fds = json_object_get(st, "fds");
        pid = json_object_get(st, "pid");
        id = json_string_value(json_object_get(state, "id"));
        if (!json_is_object(state) || !id || !json_is_array(fds) || !json_is_integer(pid))
                return bad_state(ret_why, "the state lacks state.id, fds or pid");
        /* pid_t is an int: a larger number must not wrap around to some other process. */
        if (json_integer_value(pid) < 0 || json_integer_value(pid) > INT_MAX)
                return bad_state(ret_why, "the state's pid is not a process id");
        json_array_foreach(fds, i, v) {
                if (json_is_string(v) && streq(json_string_value(v), "seccompFd"))
                        seccomp_index = i;
        }
        if (seccomp_index == SIZE_MAX)
                return bad_state(ret_why, "the state's fds name no seccompFd");
        /* The policy: the container's annotation, else the listenerMetadata of its bundle. */
        policy = json_string_value(json_object_get(json_object_get(state, "annotations"), OCISPEC_POLICY_ANNOTATION));
        if (!policy || !*policy)
                policy = json_string_value(json_object_get(st, "metadata"));
        id_copy = strdup(id);
        if (!id_copy || (policy && *policy && !(policy_copy = strdup(policy))))
                return -ENOMEM;
        *ret = (struct ocispec_state){
                .id = TAKE_PTR(id_copy),
                .pid = (pid_t) json_integer_value(pid),
                .n_fds = json_array_size(fds),
                .seccomp_index = seccomp_index,
                .policy = TAKE_PTR(policy_copy),
        };
        return 0;
}

void ocispec_state_done(struct ocispec_state *s) {
        if (!s)
                return;
        free(s->id);
        free(s->policy);
        *s = (struct ocispec_state){0};
}

int ocispec_add_meminfo(json_t *config, const char *source, char **ret_error) {
        json_t *mounts = json_object_get(config, "mounts"), *m;
        size_t i;

        if (!json_is_object(config))
                return errmsg_set(ret_error, -EINVAL, "the config is not an object");
        if (!mounts) {
                if (json_object_set_new(config, "mounts", json_array()) < 0)
                        return -ENOMEM;
                mounts = json_object_get(config, "mounts");
        }
        if (!json_is_array(mounts))
                return errmsg_set(ret_error, -EINVAL, "mounts is not an array");
        json_array_foreach(mounts, i, m) {
                const json_t *dest = json_object_get(m, "destination");

                if (!json_is_string(dest) || !streq(json_string_value(dest), OCISPEC_MEMINFO_DESTINATION))
                        continue;
                if (json_is_string(json_object_get(m, "source")) &&
                    streq(json_string_value(json_object_get(m, "source")), source))
                        return 0; /* ours, from an earlier edit */
                return errmsg_set(ret_error, -EEXIST, "mounts[%zu] mounts %s already (LXCFS?)", i,
                                  OCISPEC_MEMINFO_DESTINATION);
        }
        /* After every other mount, so /proc is there to mount over; runc and crun allow a bind over
         * /proc/meminfo (LXCFS's use: runc's checkProcMount() lists it). */
        m = json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "destination", OCISPEC_MEMINFO_DESTINATION, "type", "bind",
                      "source", source, "options", "bind", "ro", "nosuid", "nodev");
        if (!m || json_array_append_new(mounts, m) < 0)
                return -ENOMEM;
        return 0;
}
