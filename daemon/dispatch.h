/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "commitd.h"
#include "events.h"
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
/* The one reload path (`commitctl reload`, SIGHUP): policy and state directories read again (each file that
 * cannot be used is logged and appended to errors, which may be NULL), every budget measured, the outcome
 * logged naming `by`. Returns the policies loaded, or -errno (the directory unreadable: nothing changed). */
int dispatch_reload(struct daemon *d, json_t *errors, const char *by);

/* Whether the client may read the cgroup (status, policies, events): an admin any, a tenant those delegated to
 * its uid (cgroup_owned_by()). */
bool dispatch_may_read(struct daemon *d, const struct client *c, const char *cgroup);
/* The same for one refusal, by the cgroup it happened in. */
bool dispatch_may_read_event(struct daemon *d, const struct client *c, const struct refusal *e);
