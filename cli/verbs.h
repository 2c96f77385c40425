/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

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

/* A verb takes its own arguments (argv[0] is the verb's name) and returns an exit code. */
int verb_doctor(int argc, char **argv, const struct global_options *g);
