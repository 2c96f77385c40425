/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

int errmsg_set(char **ret_error, int error, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return error;
}
