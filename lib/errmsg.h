/* SPDX-License-Identifier: MIT */
#pragma once

#include "macro.h"

/* Returns error, and when ret_error is not NULL sets it to the formatted message (caller frees; NULL when
 * out of memory): the one way lib/ and the wrapper hand a one-line reason back with a -errno. */
_printf_(3, 4) int errmsg_set(char **ret_error, int error, const char *format, ...);
