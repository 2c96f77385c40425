/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "verbs.h"

/* The client side of the control protocol (docs/protocol.md). Functions return >= 0 or -errno. */

/* Connects to commitd's SOCK_SEQPACKET socket (close-on-exec). Prints nothing: -ENOENT or -ECONNREFUSED mean
 * commitd is not running; client_connect_error() words any failure for the user. */
int client_connect(const char *socket_path, int *ret_fd);
/* "commitd is not running (no socket at PATH): start it with ..." and the like; a static buffer. */
const char *client_connect_error(const char *socket_path, int error);

/* One request, one reply. params is stolen (may be NULL). On an error reply returns -EREMOTE and, when
 * ret_error_text is not NULL, "Name: message" (caller frees); other failures also word their text there. */
int client_call(int fd, const char *method, json_t *params, json_t **ret_result, char **ret_error_text);

/* The same, with pass_fd attached to the request (SCM_RIGHTS). */
int client_call_with_fd(int fd, const char *method, json_t *params, int pass_fd, json_t **ret_result,
                        char **ret_error_text);

/* The three steps of a call, for a caller that must not allocate between sending and the reply (commitctl
 * run, whose allocations trap into commitd once its filter is loaded):
 * client_prepare serializes ahead of time (params stolen; *ret_buf is the caller's to free),
 * client_send_raw_with_fd only calls sendmsg() (pass_fd < 0: no descriptor),
 * client_recv_reply receives into a stack buffer and allocates only once the reply is in. */
int client_prepare(const char *method, json_t *params, char **ret_buf, size_t *ret_len, int64_t *ret_id);
int client_send_raw_with_fd(int sock, const char *buf, size_t len, int pass_fd);
int client_recv_reply(int sock, int64_t id, json_t **ret_result, char **ret_error_text);

/* Receives one message of any kind (a reply or a pushed {"version":1,"event":{...}}) as a JSON object.
 * Returns 0, -ECONNRESET when commitd closed the connection, -EMSGSIZE, -EBADMSG for non-JSON, -EINTR. */
int client_recv_message(int sock, json_t **ret_msg);

/* Connects, calls, and on failure prints "commitctl VERB: what went wrong" on stderr. Returns an exit code
 * (EXIT_OK with *ret_result set, else EXIT_FAILURE_). params is stolen. */
int client_call_once(const struct global_options *g, const char *verb, const char *method, json_t *params,
                     json_t **ret_result);

/* A method whose list (key) comes in pages (status, metrics), on one connection: asks with "after" for the next
 * page until the reply names none, and returns the first page with every page's list joined. Fails as
 * client_call() does, and -EBADMSG when a reply has no such list (worded in *ret_error_text too).
 * timeout_s > 0 bounds the whole call, every page together: each send and receive may take only what is left
 * (SO_SNDTIMEO, SO_RCVTIMEO on fd), and -ETIMEDOUT once nothing is, so that a commitd answering page after page
 * slowly costs the caller timeout_s, not timeout_s a page. 0: no bound (fd's own timeouts, if any). */
int client_call_paged_fd(int fd, const char *method, const char *key, unsigned timeout_s, json_t **ret_result,
                         char **ret_error_text);

/* client_call_paged_fd() on a connection of its own to socket_path. Prints nothing: on failure returns -errno
 * and words it in *ret_error_text (caller frees; may be left NULL when out of memory). */
int client_fetch_paged(const char *socket_path, const char *method, const char *key, json_t **ret_result,
                       char **ret_error_text);

/* client_call_paged_fd() on a connection of its own, saying on stderr what went wrong as client_call_once()
 * does. Returns an exit code. */
int client_call_paged(const struct global_options *g, const char *verb, const char *method, const char *key,
                      json_t **ret_result);

/* Prints a JSON value indented, with a newline; -EIO when stdout fails. */
int client_print_json(const json_t *v, size_t flags);
