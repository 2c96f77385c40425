/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "commitd.h"
#include "protocol.h"
#include "server.h"

/* What a method returns: a result object, or an error from the closed table with a sentence that says what
 * to do. */
struct reply {
        json_t *result;
        enum protocol_error error;
        char message[512];
};

/* Runs one request. passed_fd is a descriptor that came with it (SCM_RIGHTS) or -1; the method takes it
 * (sets *passed_fd to -1) or leaves it to the caller to close. */
void dispatch(struct daemon *d, struct client *c, const struct protocol_request *r, int *passed_fd, struct reply *ret);
