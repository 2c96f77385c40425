/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The control protocol (docs/protocol.md): one JSON object per SOCK_SEQPACKET message, at most
 * PROTOCOL_MAX_MESSAGE bytes. Request: {"version":1,"id":N,"method":"...","params":{...}}. Reply:
 * {"version":1,"id":N,"result":{...}} or {"version":1,"id":N,"error":{"name":"...","message":"..."}}. */
#define PROTOCOL_VERSION     1
#define PROTOCOL_MAX_MESSAGE (64u * 1024)
#define PROTOCOL_MAX_METHOD  64

/* The closed set of errors a client can see; the names are stable API. */
enum protocol_error {
        PROTOCOL_INVALID_REQUEST,     /* not JSON, not an object, a field of the wrong type */
        PROTOCOL_UNSUPPORTED_VERSION, /* "version" is not one this daemon speaks */
        PROTOCOL_MESSAGE_TOO_LARGE,   /* over PROTOCOL_MAX_MESSAGE */
        PROTOCOL_UNKNOWN_METHOD,
        PROTOCOL_INVALID_PARAMS,    /* a parameter missing, unknown or out of range */
        PROTOCOL_PERMISSION_DENIED, /* the peer's credentials do not allow the method */
        PROTOCOL_NO_SUCH_CGROUP,
        PROTOCOL_NO_SUCH_POLICY,
        PROTOCOL_INVALID_POLICY,
        PROTOCOL_RESOURCE_LIMIT, /* too many clients, listeners or records */
        PROTOCOL_INTERNAL_ERROR,
        _PROTOCOL_ERROR_MAX,
};

const char *protocol_error_name(enum protocol_error e);
int protocol_error_from_name(const char *name);

struct protocol_request {
        int64_t id;
        char method[PROTOCOL_MAX_METHOD];
        json_t *params; /* always an object (empty when absent); owned */
};

/* Parses one request message. On failure returns -EINVAL (or -EMSGSIZE, -EPROTONOSUPPORT), sets
 * *ret_error to the error to answer with and *ret_message to a sentence for the client (caller frees), and
 * *ret_id to the request's id when it could be read (else 0). */
int protocol_parse_request(const char *buf, size_t len, struct protocol_request *ret, enum protocol_error *ret_error,
                           char **ret_message, int64_t *ret_id);
void protocol_request_done(struct protocol_request *r);

/* Builds messages; NULL only on allocation failure. protocol_request_new steals params (may be NULL). */
json_t *protocol_request_new(int64_t id, const char *method, json_t *params);
json_t *protocol_reply_ok(int64_t id, json_t *result);
json_t *protocol_reply_error(int64_t id, enum protocol_error e, const char *message);

/* Serializes compactly; -EMSGSIZE past PROTOCOL_MAX_MESSAGE. *ret is malloc'd, not NUL-counted in *ret_len. */
int protocol_dump(const json_t *msg, char **ret, size_t *ret_len);

/* Parses a reply: 0 and *ret_result (owned) on success; -EREMOTE with *ret_error and *ret_message for an
 * error reply, to request expect_id or with id 0 (commitd's answer when it has no request to name: a
 * connection refused at accept, a request it could not parse); -EINVAL for a malformed reply. */
int protocol_parse_reply(const char *buf, size_t len, int64_t expect_id, json_t **ret_result,
                         enum protocol_error *ret_error, char **ret_message);
