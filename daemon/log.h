/* SPDX-License-Identifier: MIT */
#pragma once

#include <syslog.h>

#include "macro.h"

/* The daemon logs once, at the boundary, to stderr with a syslog priority prefix ("<5>") that journald
 * reads; --log-level filters (default LOG_INFO). */
extern int log_max_priority;

void log_msg(int priority, const char *fmt, ...) _printf_(2, 3);
/* A --log-level: a syslog priority's name ("err", "debug") as its number, or -EINVAL. */
int log_parse_level(const char *s);

#define log_error(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)
