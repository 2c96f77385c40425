/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Exit codes of commitctl (documented in commitctl(1)). */
enum {
        EXIT_OK = 0,
        EXIT_FAILURE_ = 1, /* the verb ran and failed: the message says why */
        EXIT_USAGE = 2,    /* the command line is wrong */
};

/* Options every verb sees. */
struct global_options {
        bool json;
        const char *socket;
};

/* Parses the options of a verb that has only --json and --help. Returns -1 to go on (optind at the first
 * operand, *json set), or the exit code to leave with. */
int verb_simple_options(int argc, char **argv, bool *json, void (*help)(FILE *f));

/* A verb takes its own arguments (argv[0] is the verb's name) and returns an exit code. */
int verb_doctor(int argc, char **argv, const struct global_options *g);
int verb_status(int argc, char **argv, const struct global_options *g);
int verb_set_mode(int argc, char **argv, const struct global_options *g);
int verb_set_ratio(int argc, char **argv, const struct global_options *g);
int verb_set_limit(int argc, char **argv, const struct global_options *g);
int verb_policy(int argc, char **argv, const struct global_options *g);
int verb_reload(int argc, char **argv, const struct global_options *g);
int verb_metrics(int argc, char **argv, const struct global_options *g);
int verb_events(int argc, char **argv, const struct global_options *g);
int verb_top(int argc, char **argv, const struct global_options *g);
int verb_run(int argc, char **argv, const struct global_options *g);
