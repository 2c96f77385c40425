/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "protocol.h"

static const char *const error_names[_PROTOCOL_ERROR_MAX] = {
        [PROTOCOL_INVALID_REQUEST] = "InvalidRequest",    [PROTOCOL_UNSUPPORTED_VERSION] = "UnsupportedVersion",
        [PROTOCOL_MESSAGE_TOO_LARGE] = "MessageTooLarge", [PROTOCOL_UNKNOWN_METHOD] = "UnknownMethod",
        [PROTOCOL_INVALID_PARAMS] = "InvalidParams",      [PROTOCOL_PERMISSION_DENIED] = "PermissionDenied",
        [PROTOCOL_NO_SUCH_CGROUP] = "NoSuchCgroup",       [PROTOCOL_NO_SUCH_POLICY] = "NoSuchPolicy",
        [PROTOCOL_INVALID_POLICY] = "InvalidPolicy",      [PROTOCOL_RESOURCE_LIMIT] = "ResourceLimit",
        [PROTOCOL_INTERNAL_ERROR] = "InternalError",
};

const char *protocol_error_name(enum protocol_error e) {
        return (unsigned) e < _PROTOCOL_ERROR_MAX ? error_names[e] : "InternalError";
}

int protocol_error_from_name(const char *name) {
        for (size_t i = 0; name && i < _PROTOCOL_ERROR_MAX; i++)
                if (streq(name, error_names[i]))
                        return (int) i;
        return -EINVAL;
}

static int fail(enum protocol_error e, const char *message, int ret, enum protocol_error *ret_error,
                char **ret_message) {
        *ret_error = e;
        *ret_message = strdup(message);
        return ret;
}

static bool method_name_valid(const char *m) {
        size_t n = strlen(m);

        if (n == 0 || n >= PROTOCOL_MAX_METHOD)
                return false;
        for (; *m; m++)
                if (!((*m >= 'a' && *m <= 'z') || (*m >= '0' && *m <= '9') || *m == '-' || *m == '.'))
                        return false;
        return true;
}

int protocol_parse_request(const char *buf, size_t len, struct protocol_request *ret, enum protocol_error *ret_error,
                           char **ret_message, int64_t *ret_id) {
        json_auto_t *msg = NULL;
        json_t *version, *id, *method, *params;
        const char *key;
        json_t *value;
        json_error_t err;

        *ret_id = 0;
        /* The size is checked before anything is parsed (the kernel already bounded the datagram). */
        if (len > PROTOCOL_MAX_MESSAGE)
                return fail(PROTOCOL_MESSAGE_TOO_LARGE, "request larger than 65536 bytes", -EMSGSIZE, ret_error,
                            ret_message);
        msg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
        if (!msg || !json_is_object(msg)) {
                char m[256];
                snprintf(m, sizeof(m), "request is not a JSON object%s%s", msg ? "" : ": ", msg ? "" : err.text);
                return fail(PROTOCOL_INVALID_REQUEST, m, -EINVAL, ret_error, ret_message);
        }
        id = json_object_get(msg, "id");
        if (json_is_integer(id))
                *ret_id = json_integer_value(id);
        json_object_foreach(msg, key, value) if (!streq(key, "version") && !streq(key, "id") && !streq(key, "method") &&
                                                 !streq(key, "params")) {
                char m[160];
                snprintf(m, sizeof(m), "unknown request field \"%.64s\" (fields: version, id, method, params)", key);
                return fail(PROTOCOL_INVALID_REQUEST, m, -EINVAL, ret_error, ret_message);
        }
        version = json_object_get(msg, "version");
        if (!json_is_integer(version))
                return fail(PROTOCOL_INVALID_REQUEST, "\"version\" must be an integer", -EINVAL, ret_error,
                            ret_message);
        if (json_integer_value(version) != PROTOCOL_VERSION)
                return fail(PROTOCOL_UNSUPPORTED_VERSION, "this commitd speaks protocol version 1", -EPROTONOSUPPORT,
                            ret_error, ret_message);
        if (!json_is_integer(id))
                return fail(PROTOCOL_INVALID_REQUEST, "\"id\" must be an integer", -EINVAL, ret_error, ret_message);
        method = json_object_get(msg, "method");
        if (!json_is_string(method) || !method_name_valid(json_string_value(method)))
                return fail(PROTOCOL_INVALID_REQUEST, "\"method\" must be a method name such as \"status\"", -EINVAL,
                            ret_error, ret_message);
        params = json_object_get(msg, "params");
        if (params && !json_is_object(params))
                return fail(PROTOCOL_INVALID_REQUEST, "\"params\" must be an object", -EINVAL, ret_error, ret_message);

        *ret = (struct protocol_request){.id = json_integer_value(id)};
        snprintf(ret->method, sizeof(ret->method), "%s", json_string_value(method));
        ret->params = params ? json_incref(params) : json_object();
        if (!ret->params)
                return -ENOMEM;
        return 0;
}

void protocol_request_done(struct protocol_request *r) {
        if (!r)
                return;
        json_decref(r->params);
        r->params = NULL;
}

json_t *protocol_request_new(int64_t id, const char *method, json_t *params) {
        return json_pack("{s:i, s:I, s:s, s:o}", "version", PROTOCOL_VERSION, "id", (json_int_t) id, "method", method,
                         "params", params ? params : json_object());
}

json_t *protocol_reply_ok(int64_t id, json_t *result) {
        return json_pack("{s:i, s:I, s:o}", "version", PROTOCOL_VERSION, "id", (json_int_t) id, "result",
                         result ? result : json_object());
}

/* The message as a JSON string. It may quote a peer's bytes cut anywhere (jansson's "near '...'" of a bad
 * request, a field name cut at 64 bytes), and JSON strings are valid UTF-8: an invalid message keeps its
 * printable ASCII, so the peer still gets its answer. */
static json_t *message_string(const char *message) {
        _cleanup_free_ char *ascii = NULL;
        json_t *m = json_string(message ? message : "");

        if (m || !message || !(ascii = strdup(message)))
                return m;
        for (char *c = ascii; *c; c++)
                if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
                        *c = '?';
        return json_string(ascii);
}

json_t *protocol_reply_error(int64_t id, enum protocol_error e, const char *message) {
        return json_pack("{s:i, s:I, s:{s:s, s:o}}", "version", PROTOCOL_VERSION, "id", (json_int_t) id, "error",
                         "name", protocol_error_name(e), "message", message_string(message));
}

int protocol_dump(const json_t *msg, char **ret, size_t *ret_len) {
        char *s = json_dumps(msg, JSON_COMPACT);
        size_t n;

        if (!s)
                return -ENOMEM;
        n = strlen(s);
        if (n > PROTOCOL_MAX_MESSAGE) {
                free(s);
                return -EMSGSIZE;
        }
        *ret = s;
        *ret_len = n;
        return 0;
}

int protocol_parse_reply(const char *buf, size_t len, int64_t expect_id, json_t **ret_result,
                         enum protocol_error *ret_error, char **ret_message) {
        json_auto_t *msg = NULL;
        json_t *result, *error;
        json_int_t id;
        int e;

        if (len > PROTOCOL_MAX_MESSAGE)
                return -EINVAL;
        msg = json_loadb(buf, len, 0, NULL);
        if (!json_is_object(msg) || json_integer_value(json_object_get(msg, "version")) != PROTOCOL_VERSION)
                return -EINVAL;
        id = json_integer_value(json_object_get(msg, "id"));
        error = json_object_get(msg, "error");
        if (id != expect_id && (id != 0 || !json_is_object(error)))
                return -EINVAL;
        if (json_is_object(error)) {
                e = protocol_error_from_name(json_string_value(json_object_get(error, "name")));
                *ret_error = e < 0 ? PROTOCOL_INTERNAL_ERROR : (enum protocol_error) e;
                *ret_message = strdup(json_string_value(json_object_get(error, "message")) ?: "");
                return -EREMOTE;
        }
        result = json_object_get(msg, "result");
        if (!json_is_object(result))
                return -EINVAL;
        *ret_result = json_incref(result);
        return 0;
}
