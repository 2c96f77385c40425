/* SPDX-License-Identifier: MIT */
/* commitctl policy list|show|check and commitctl reload: the policies commitd loaded, and the files it would
 * load. `policy check` parses files here, with the daemon's own parser, and needs no daemon. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "macro.h"
#include "policy.h"
#include "units.h"
#include "verbs.h"

static const char *str_or(const json_t *o, const char *key, const char *fallback) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : fallback;
}

static int output_done(const char *verb, int r) {
        if (r >= 0 && fflush(stdout) == EOF)
                r = -EIO;
        if (r < 0) {
                fprintf(stderr, "commitctl %s: cannot write the output: %m\n", verb);
                return EXIT_FAILURE_;
        }
        return EXIT_OK;
}

static int policy_list(const struct global_options *g, bool json) {
        json_auto_t *result = NULL;
        const json_t *policies, *errors, *e;
        int name_w = (int) strlen("NAME"), cgroup_w = (int) strlen("CGROUP");
        size_t i;
        int r;

        r = client_call_once(g, "policy list", "policy-list", NULL, &result);
        if (r != EXIT_OK)
                return r;
        if (json)
                return output_done("policy list", client_print_json(result, JSON_INDENT(2)));
        policies = json_object_get(result, "policies");
        errors = json_object_get(result, "errors");
        json_array_foreach(policies, i, e) {
                int n = (int) strlen(str_or(e, "name", "?")), m = (int) strlen(str_or(e, "cgroup", "?"));
                name_w = MAX(name_w, n);
                cgroup_w = MAX(cgroup_w, m);
        }
        if (json_array_size(policies) == 0)
                printf("No policies loaded (see commitd.policy(5) for the files commitd reads).\n");
        else
                printf("%-*s  %-*s  %-9s  %s\n", name_w, "NAME", cgroup_w, "CGROUP", "MODE", "SOURCE");
        json_array_foreach(policies, i, e)
                printf("%-*s  %-*s  %-9s  %s\n", name_w, str_or(e, "name", "?"), cgroup_w, str_or(e, "cgroup", "?"),
                       str_or(e, "mode", "?"), str_or(e, "source", "-"));
        json_array_foreach(errors, i, e) fprintf(stderr, "%s\n", json_string_value(e) ?: "?");
        return output_done("policy list", 0);
}

static int policy_show(const struct global_options *g, bool json, const char *name) {
        json_auto_t *result = NULL;
        const json_t *p;
        int r;

        r = client_call_once(g, "policy show", "policy-show", json_pack("{s:s}", "name", name), &result);
        if (r != EXIT_OK)
                return r;
        if (json)
                return output_done("policy show", client_print_json(result, JSON_INDENT(2)));
        /* Human output is the policy file format itself, so it can be saved and edited. */
        p = json_object_get(result, "policy");
        if (!json_is_object(p)) {
                fprintf(stderr, "commitctl policy show: commitd's reply has no \"policy\" object\n");
                return EXIT_FAILURE_;
        }
        return output_done("policy show", client_print_json(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
}

static void print_ok(const char *file, const struct policy *p) {
        char buf[UNITS_FORMAT_MAX];

        printf("%s: ok (policy %s, cgroup %s, mode %s", file, p->name, p->cgroup,
               commit_mode_to_string(p->budget.mode));
        if (p->budget.has_limit)
                printf(", limit %s", units_format_size(p->budget.limit_bytes, buf));
        else
                printf(", ratio %" PRIu32 "%%", p->budget.ratio);
        printf(", formula %s%s)\n", commit_formula_to_string(p->budget.formula),
               p->enforce ? "" : ", audit: refusals logged, not enforced");
}

static int policy_check(bool json, int n_files, char **files) {
        json_auto_t *list = json_array();
        int bad = 0;

        if (!list)
                return EXIT_FAILURE_;
        for (int i = 0; i < n_files; i++) {
                _cleanup_free_ char *error = NULL;
                struct policy p = {0};
                int r;

                r = policy_load_file(files[i], &p, &error);
                if (r < 0) {
                        bad++;
                        if (!error && asprintf(&error, "%s: %s", files[i], strerror(-r)) < 0)
                                error = NULL;
                        if (json)
                                json_array_append_new(list, json_pack("{s:s, s:b, s:s}", "file", files[i], "ok", 0,
                                                                      "error", error ?: "out of memory"));
                        else
                                fprintf(stderr, "%s\n", error ?: "out of memory");
                        continue;
                }
                if (json)
                        json_array_append_new(list, json_pack("{s:s, s:b, s:o}", "file", files[i], "ok", 1, "policy",
                                                              policy_to_json(&p)));
                else
                        print_ok(files[i], &p);
                policy_done(&p);
        }
        if (json) {
                json_auto_t *out = json_pack("{s:O}", "files", list);
                if (!out || output_done("policy check", client_print_json(out, JSON_INDENT(2))) != EXIT_OK)
                        return EXIT_FAILURE_;
        } else if (output_done("policy check", 0) != EXIT_OK)
                return EXIT_FAILURE_;
        return bad ? EXIT_FAILURE_ : EXIT_OK;
}

static void policy_help(FILE *f) {
        fprintf(f, "Usage: commitctl policy [--json] list\n"
                   "       commitctl policy [--json] show NAME\n"
                   "       commitctl policy [--json] check FILE...\n"
                   "\n"
                   "list   the policies commitd has loaded, with the file each came from\n"
                   "show   one loaded policy, in the policy file format (commitd.policy(5))\n"
                   "check  parse policy files the way commitd would, without the daemon; errors name\n"
                   "       FILE:LINE:COLUMN. Exit status 1 when any file is bad.\n"
                   "\n"
                   "  --json    machine-readable output\n");
}

int verb_policy(int argc, char **argv, const struct global_options *g) {
        bool json = g->json;
        const char *sub;
        int k, n;

        k = verb_simple_options(argc, argv, &json, policy_help);
        if (k >= 0)
                return k;
        if (optind >= argc) {
                fprintf(stderr, "commitctl policy: give list, show NAME or check FILE...\n");
                return EXIT_USAGE;
        }
        sub = argv[optind++];
        n = argc - optind;
        if (streq(sub, "list")) {
                if (n != 0) {
                        fprintf(stderr, "commitctl policy list: unexpected argument '%s'\n", argv[optind]);
                        return EXIT_USAGE;
                }
                return policy_list(g, json);
        }
        if (streq(sub, "show")) {
                if (n != 1) {
                        fprintf(stderr, "commitctl policy show: give one policy NAME (see `commitctl policy list`)\n");
                        return EXIT_USAGE;
                }
                return policy_show(g, json, argv[optind]);
        }
        if (streq(sub, "check")) {
                if (n == 0) {
                        fprintf(stderr, "commitctl policy check: give the policy FILEs to check, e.g. "
                                        "commitctl policy check /etc/commitd/policies/*.json\n");
                        return EXIT_USAGE;
                }
                return policy_check(json, n, argv + optind);
        }
        fprintf(stderr, "commitctl policy: unknown subcommand '%s'; give list, show NAME or check FILE...\n", sub);
        return EXIT_USAGE;
}

static void reload_help(FILE *f) {
        fprintf(f, "Usage: commitctl reload [--json]\n"
                   "\n"
                   "Make commitd re-read its policy directory. A bad file is reported (FILE:LINE:COLUMN) and\n"
                   "skipped; the good ones load. Exit status 1 when any file was bad. Needs root or group commitd.\n"
                   "\n"
                   "  --json    machine-readable output\n");
}

int verb_reload(int argc, char **argv, const struct global_options *g) {
        json_auto_t *result = NULL;
        const json_t *errors, *e;
        bool json = g->json;
        uint64_t loaded = 0;
        size_t i;
        int k, r;

        k = verb_simple_options(argc, argv, &json, reload_help);
        if (k >= 0)
                return k;
        if (optind < argc) {
                fprintf(stderr, "commitctl reload: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        r = client_call_once(g, "reload", "reload", NULL, &result);
        if (r != EXIT_OK)
                return r;
        errors = json_object_get(result, "errors");
        if (json)
                r = output_done("reload", client_print_json(result, JSON_INDENT(2)));
        else {
                if (json_integer_value(json_object_get(result, "loaded")) > 0)
                        loaded = (uint64_t) json_integer_value(json_object_get(result, "loaded"));
                printf("Loaded %" PRIu64 " %s.\n", loaded, loaded == 1 ? "policy" : "policies");
                json_array_foreach(errors, i, e) fprintf(stderr, "%s\n", json_string_value(e) ?: "?");
                if (json_array_size(errors) > 0)
                        fprintf(stderr, "commitctl reload: %zu file%s skipped; fix %s and reload again\n",
                                json_array_size(errors), json_array_size(errors) == 1 ? "" : "s",
                                json_array_size(errors) == 1 ? "it" : "them");
                r = output_done("reload", 0);
        }
        if (r != EXIT_OK)
                return r;
        return json_array_size(errors) > 0 ? EXIT_FAILURE_ : EXIT_OK;
}
