/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

int log_max_priority = LOG_INFO;

void log_msg(int priority, const char *fmt, ...) {
        char line[2048];
        va_list ap;
        int saved = errno;

        if (priority > log_max_priority)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        fprintf(stderr, "<%d>%s\n", priority, line);
        errno = saved;
}

int log_parse_level(const char *s) {
        static const char *const names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        return -EINVAL;
}
