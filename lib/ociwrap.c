/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "errmsg.h"
#include "macro.h"
#include "ociwrap.h"
#include "policy.h"

#define OPTION_PREFIX "--commitd-"

/* Global options of runc and crun that take a value as the next argument: the command is the first argument
 * that is neither an option nor such a value. */
static const char *const global_with_value[] = {
        "--root",      "-root",  "--log", "-log",       "--log-format", "-log-format",
        "--log-level", "--criu", "-criu", "--rootless", "-rootless",    "--cgroup-manager",
};

static const char *const value_options[] = {"config", "socket", "runtime", "policy", "meminfo"};

static bool in_list(const char *s, const char *const *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(s, list[i]))
                        return true;
        return false;
}

/* One --commitd- option at argv[*i]; advances *i past a separate value. */
static int take_option(int argc, char **argv, int *i, struct ociwrap_args *a, char **ret_error) {
        const char *name = argv[*i] + strlen(OPTION_PREFIX), *eq = strchr(name, '='), *value;
        size_t len = eq ? (size_t) (eq - name) : strlen(name);
        const char **slot[] = {&a->config, &a->socket, &a->runtime, &a->policy, &a->meminfo};

        if (len == 4 && strncmp(name, "help", 4) == 0 && !eq) {
                a->help = true;
                return 0;
        }
        for (size_t k = 0; k < ELEMENTSOF(value_options); k++) {
                if (strlen(value_options[k]) != len || strncmp(name, value_options[k], len) != 0)
                        continue;
                if (eq)
                        value = eq + 1;
                else if (*i + 1 < argc)
                        value = argv[++*i];
                else
                        return errmsg_set(ret_error, -EINVAL, OPTION_PREFIX "%s needs a value", value_options[k]);
                if (!*value)
                        return errmsg_set(ret_error, -EINVAL, OPTION_PREFIX "%s: the value is empty", value_options[k]);
                if (strlen(value) >= OCIWRAP_MAX_PATH)
                        return errmsg_set(ret_error, -EINVAL, OPTION_PREFIX "%s: the value is too long",
                                          value_options[k]);
                *slot[k] = value;
                return 0;
        }
        return errmsg_set(ret_error, -EINVAL,
                          "unknown option %.*s (known: --commitd-config, --commitd-socket, --commitd-runtime, "
                          "--commitd-policy, --commitd-meminfo, --commitd-help)",
                          (int) MIN(len + strlen(OPTION_PREFIX), 256u), argv[*i]);
}

int ociwrap_parse_args(int argc, char **argv, struct ociwrap_args *ret, char **ret_error) {
        struct ociwrap_args a = {0};
        bool options = true;
        int r;

        /* Room for the runtime's name in front and the NULL after (the wrapper's exec). */
        a.rest = calloc((size_t) (argc > 0 ? argc : 1) + 2, sizeof(char *));
        if (!a.rest)
                return -ENOMEM;
        a.command = -1;
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];

                if (options && strncmp(s, OPTION_PREFIX, strlen(OPTION_PREFIX)) == 0) {
                        r = take_option(argc, argv, &i, &a, ret_error);
                        if (r < 0) {
                                free(a.rest);
                                return r;
                        }
                        continue;
                }
                a.rest[a.n_rest++] = argv[i];
                if (!options)
                        continue;
                if (s[0] != '-' || streq(s, "--")) {
                        /* The command; the wrapper's options end here, the runtime takes the rest as they are. */
                        options = false;
                        if (s[0] != '-')
                                a.command = a.n_rest - 1;
                } else if (!strchr(s, '=') && in_list(s, global_with_value, ELEMENTSOF(global_with_value)) &&
                           i + 1 < argc)
                        a.rest[a.n_rest++] = argv[++i];
        }
        if (a.command < 0)
                a.command = a.n_rest;
        if (a.n_rest == 1 && (streq(a.rest[0], "--help") || streq(a.rest[0], "-h")))
                a.help = true;
        for (int i = 0; i < a.command; i++)
                if (streq(a.rest[i], "--version") || streq(a.rest[i], "-v"))
                        a.version = a.command == a.n_rest;
        *ret = a;
        return 0;
}

void ociwrap_args_done(struct ociwrap_args *a) {
        if (!a)
                return;
        free(a->rest);
        *a = (struct ociwrap_args){0};
}

const char *ociwrap_find_bundle(const struct ociwrap_args *a) {
        static const char *const names[] = {"--bundle", "-bundle", "-b"};

        for (int i = a->command + 1; i < a->n_rest; i++) {
                const char *s = a->rest[i], *eq = strchr(s, '=');

                if (streq(s, "--"))
                        break;
                if (in_list(s, names, ELEMENTSOF(names)))
                        return i + 1 < a->n_rest ? a->rest[i + 1] : NULL;
                if (eq)
                        for (size_t n = 0; n < ELEMENTSOF(names); n++)
                                if ((size_t) (eq - s) == strlen(names[n]) &&
                                    strncmp(s, names[n], strlen(names[n])) == 0)
                                        return eq + 1;
        }
        return NULL;
}

const char *ociwrap_find_global(const struct ociwrap_args *a, const char *name) {
        size_t len = strlen(name);

        for (int i = 0; i < a->command; i++) {
                const char *s = a->rest[i];

                if (s[0] != '-')
                        continue;
                s += s[1] == '-' ? 2 : 1;
                if (strncmp(s, name, len) != 0)
                        continue;
                if (s[len] == '=')
                        return s + len + 1;
                if (s[len] == '\0')
                        return i + 1 < a->command ? a->rest[i + 1] : NULL;
        }
        return NULL;
}

int ociwrap_runtime_log_line(const char *format, const char *level, const char *reason, const char *time, char **ret) {
        json_auto_t *line = NULL, *msg = NULL;
        _cleanup_free_ char *text = NULL, *quoted = NULL;

        if (format && streq(format, "json")) {
                line = json_pack("{s:s, s:s, s:s}", "level", level, "msg", reason, "time", time);
                text = line ? json_dumps(line, JSON_COMPACT) : NULL;
                if (!text || asprintf(ret, "%s\n", text) < 0)
                        return -ENOMEM;
                return 0;
        }
        /* logfmt, as runc's text log: the message quoted (JSON's escapes are Go's %q for what a reason holds) */
        msg = json_string(reason);
        quoted = msg ? json_dumps(msg, JSON_ENCODE_ANY) : NULL;
        if (!quoted || asprintf(ret, "time=\"%s\" level=%s msg=%s\n", time, level, quoted) < 0)
                return -ENOMEM;
        return 0;
}

/* A string member: a path or a name, not empty, bounded. */
static int string_member(const char *filename, const char *where, const char *key, const json_t *v, char **ret,
                         char **ret_error) {
        const char *s = json_string_value(v);

        if (!json_is_string(v) || !*s)
                return errmsg_set(ret_error, -EINVAL, "%s: %s%s: not a non-empty string", filename, where, key);
        if (strlen(s) >= OCIWRAP_MAX_PATH || strlen(s) != json_string_length(v))
                return errmsg_set(ret_error, -EINVAL, "%s: %s%s: too long, or holds a NUL byte", filename, where, key);
        if (streq(key, "policy") || streq(key, "default_policy")) {
                if (!policy_name_valid(s))
                        return errmsg_set(ret_error, -EINVAL,
                                          "%s: %s%s: \"%.64s\" is not a policy name (1 to %d of A-Z a-z 0-9 _ . -)",
                                          filename, where, key, s, POLICY_MAX_NAME);
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int runtime_parse(const char *filename, const char *name, const json_t *v, struct ociwrap_runtime *ret,
                         char **ret_error) {
        _cleanup_free_ char *where = NULL;
        const char *key;
        json_t *m;
        int r;

        if (strchr(name, '/') || !*name || strlen(name) > 255)
                return errmsg_set(ret_error, -EINVAL, "%s: runtimes: \"%.64s\" is not a program's name (no '/')",
                                  filename, name);
        if (!json_is_object(v))
                return errmsg_set(ret_error, -EINVAL, "%s: runtimes.%s: not an object", filename, name);
        if (asprintf(&where, "runtimes.%s.", name) < 0)
                return -ENOMEM;
        *ret = (struct ociwrap_runtime){.name = strdup(name)};
        if (!ret->name)
                return -ENOMEM;
        json_object_foreach((json_t *) v, key, m) {
                if (streq(key, "policy"))
                        r = string_member(filename, where, key, m, &ret->policy, ret_error);
                else if (streq(key, "runtime"))
                        r = string_member(filename, where, key, m, &ret->runtime, ret_error);
                else
                        r = errmsg_set(ret_error, -EINVAL,
                                       "%s: %s: unknown key \"%.64s\" (known keys: policy, runtime)", filename, name,
                                       key);
                if (r < 0)
                        return r;
        }
        return 0;
}

int ociwrap_parse_config(const char *filename, const char *buf, size_t len, struct ociwrap_config *ret,
                         char **ret_error) {
        _cleanup_(ociwrap_config_done) struct ociwrap_config c = {0};
        json_auto_t *j = NULL;
        json_error_t jerr;
        const char *key;
        json_t *v;
        int r;

        if (len > OCIWRAP_CONFIG_MAX_BYTES)
                return errmsg_set(ret_error, -EFBIG, "%s: larger than %u bytes", filename, OCIWRAP_CONFIG_MAX_BYTES);
        j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return errmsg_set(ret_error, -EINVAL, "%s:%d:%d: %s", filename, jerr.line, jerr.column, jerr.text);
        if (!json_is_object(j))
                return errmsg_set(ret_error, -EINVAL, "%s: the top level is not an object", filename);
        json_object_foreach(j, key, v) {
                if (streq(key, "socket"))
                        r = string_member(filename, "", key, v, &c.socket, ret_error);
                else if (streq(key, "runtime"))
                        r = string_member(filename, "", key, v, &c.runtime, ret_error);
                else if (streq(key, "default_policy"))
                        r = string_member(filename, "", key, v, &c.default_policy, ret_error);
                else if (streq(key, "meminfo"))
                        r = string_member(filename, "", key, v, &c.meminfo, ret_error);
                else if (streq(key, "runtimes")) {
                        const char *name;
                        json_t *e;

                        if (!json_is_object(v))
                                return errmsg_set(ret_error, -EINVAL, "%s: runtimes: not an object", filename);
                        if (json_object_size(v) > OCIWRAP_MAX_RUNTIMES)
                                return errmsg_set(ret_error, -EINVAL, "%s: runtimes: more than %u entries", filename,
                                                  OCIWRAP_MAX_RUNTIMES);
                        c.runtimes = calloc(json_object_size(v) + 1, sizeof(*c.runtimes));
                        if (!c.runtimes)
                                return -ENOMEM;
                        r = 0;
                        json_object_foreach(v, name, e) {
                                r = runtime_parse(filename, name, e, &c.runtimes[c.n_runtimes++], ret_error);
                                if (r < 0)
                                        break;
                        }
                } else
                        r = errmsg_set(ret_error, -EINVAL,
                                       "%s: unknown key \"%.64s\" (known keys: socket, runtime, default_policy, "
                                       "meminfo, runtimes)",
                                       filename, key);
                if (r < 0)
                        return r;
        }
        *ret = c;
        c = (struct ociwrap_config){0};
        return 0;
}

void ociwrap_config_done(struct ociwrap_config *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_runtimes; i++) {
                free(c->runtimes[i].name);
                free(c->runtimes[i].policy);
                free(c->runtimes[i].runtime);
        }
        free(c->runtimes);
        free(c->socket);
        free(c->runtime);
        free(c->default_policy);
        free(c->meminfo);
        *c = (struct ociwrap_config){0};
}

const struct ociwrap_runtime *ociwrap_config_runtime(const struct ociwrap_config *c, const char *name) {
        for (size_t i = 0; c && name && i < c->n_runtimes; i++)
                if (streq(c->runtimes[i].name, name))
                        return &c->runtimes[i];
        return NULL;
}

static bool set(const char *s) {
        return s && *s;
}

/* The first candidate that is set, in order. */
static void pick(const char *const *candidates, const enum ociwrap_source *sources, size_t n, const char **ret,
                 enum ociwrap_source *ret_from) {
        for (size_t i = 0; i < n; i++)
                if (set(candidates[i])) {
                        *ret = candidates[i];
                        *ret_from = sources[i];
                        return;
                }
        *ret = NULL;
        *ret_from = OCIWRAP_FROM_NONE;
}

void ociwrap_choose(const struct ociwrap_args *a, const struct ociwrap_config *c, const char *name,
                    const char *env_socket, const char *env_runtime, const char *annotation, const char *builtin_socket,
                    struct ociwrap_choice *ret) {
        const struct ociwrap_runtime *rt = ociwrap_config_runtime(c, name);
        const char *policies[] = {annotation, a->policy, rt ? rt->policy : NULL, c ? c->default_policy : NULL};
        const enum ociwrap_source policy_from[] = {OCIWRAP_FROM_ANNOTATION, OCIWRAP_FROM_FLAG, OCIWRAP_FROM_RUNTIMES,
                                                   OCIWRAP_FROM_CONFIG};
        const char *sockets[] = {a->socket, env_socket, c ? c->socket : NULL, builtin_socket};
        const enum ociwrap_source socket_from[] = {OCIWRAP_FROM_FLAG, OCIWRAP_FROM_ENV, OCIWRAP_FROM_CONFIG,
                                                   OCIWRAP_FROM_BUILTIN};
        const char *runtimes[] = {a->runtime, env_runtime, rt ? rt->runtime : NULL, c ? c->runtime : NULL,
                                  OCIWRAP_RUNTIME_DEFAULT};
        const enum ociwrap_source runtime_from[] = {OCIWRAP_FROM_FLAG, OCIWRAP_FROM_ENV, OCIWRAP_FROM_RUNTIMES,
                                                    OCIWRAP_FROM_CONFIG, OCIWRAP_FROM_BUILTIN};
        const char *meminfos[] = {a->meminfo, c ? c->meminfo : NULL, OCIWRAP_MEMINFO_DEFAULT};
        const enum ociwrap_source meminfo_from[] = {OCIWRAP_FROM_FLAG, OCIWRAP_FROM_CONFIG, OCIWRAP_FROM_BUILTIN};

        *ret = (struct ociwrap_choice){0};
        pick(policies, policy_from, ELEMENTSOF(policies), &ret->policy, &ret->policy_from);
        pick(sockets, socket_from, ELEMENTSOF(sockets), &ret->socket, &ret->socket_from);
        pick(runtimes, runtime_from, ELEMENTSOF(runtimes), &ret->runtime, &ret->runtime_from);
        pick(meminfos, meminfo_from, ELEMENTSOF(meminfos), &ret->meminfo, &ret->meminfo_from);
}

const char *ociwrap_source_name(enum ociwrap_source s) {
        switch (s) {
        case OCIWRAP_FROM_ANNOTATION:
                return "the bundle's annotation io.commitd.policy";
        case OCIWRAP_FROM_FLAG:
                return "an option";
        case OCIWRAP_FROM_ENV:
                return "the environment";
        case OCIWRAP_FROM_RUNTIMES:
                return "the config file's runtimes entry";
        case OCIWRAP_FROM_CONFIG:
                return "the config file";
        case OCIWRAP_FROM_BUILTIN:
                return "the built-in default";
        case OCIWRAP_FROM_NONE:
        default:
                return "nowhere";
        }
}

static bool crun_has_wait_killable(const char *version) {
        unsigned major, minor;

        if (sscanf(version, "crun version %u.%u", &major, &minor) != 2)
                return false;
        return major > OCIWRAP_CRUN_WAIT_KILLABLE_MAJOR ||
               (major == OCIWRAP_CRUN_WAIT_KILLABLE_MAJOR && minor >= OCIWRAP_CRUN_WAIT_KILLABLE_MINOR);
}

void ociwrap_seccomp_flags(const char *features, size_t features_len, const char *version,
                           struct ociwrap_seccomp_flags *ret) {
        bool crun = version && strncmp(version, "crun version ", strlen("crun version ")) == 0;
        json_auto_t *f = features ? json_loadb(features, features_len, 0, NULL) : NULL;
        const json_t *seccomp = json_object_get(json_object_get(f, "linux"), "seccomp");
        const json_t *supported = json_object_get(seccomp, "supportedFlags"), *v;
        size_t i;

        *ret = (struct ociwrap_seccomp_flags){.implicit = crun ? OCIWRAP_FLAG_SPEC_ALLOW : NULL};
        if (json_is_array(supported)) {
                json_array_foreach(supported, i, v) {
                        if (json_is_string(v) && streq(json_string_value(v), OCIWRAP_FLAG_WAIT_KILLABLE))
                                ret->wait_killable = true;
                }
                return;
        }
        ret->wait_killable = crun && crun_has_wait_killable(version);
}
