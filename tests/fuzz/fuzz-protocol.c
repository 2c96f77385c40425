/* SPDX-License-Identifier: MIT */
/* The control protocol's envelope over arbitrary bytes, both ends: as a request commitd reads from any peer
 * that can open the socket, and as a reply commitctl reads. An accepted request re-encoded parses back to
 * itself; a refused one gets an error reply that commitctl reads back as that error. */
#include <errno.h>

#include "fuzz.h"
#include "macro.h"
#include "protocol.h"

static void request_round_trip(const struct protocol_request *req) {
        json_auto_t *msg = protocol_request_new(req->id, req->method, json_incref(req->params));
        _cleanup_(protocol_request_done) struct protocol_request again = {0};
        _cleanup_free_ char *text = NULL, *message = NULL;
        enum protocol_error e;
        int64_t id;
        size_t len;

        fuzz_check(msg);
        if (protocol_dump(msg, &text, &len) < 0)
                return; /* a request just under the limit may grow past it when re-encoded */
        fuzz_check(protocol_parse_request(text, len, &again, &e, &message, &id) == 0);
        fuzz_check(again.id == req->id && id == req->id && streq(again.method, req->method));
        fuzz_check(json_equal(again.params, req->params));
}

static void error_round_trip(int64_t id, enum protocol_error e, const char *message) {
        json_auto_t *reply = protocol_reply_error(id, e, message), *valid = json_string(message);
        _cleanup_free_ char *text = NULL, *got_message = NULL;
        json_t *result = NULL;
        enum protocol_error got;
        size_t len;

        fuzz_check(reply);
        fuzz_check(protocol_dump(reply, &text, &len) == 0);
        fuzz_check(protocol_parse_reply(text, len, id, &result, &got, &got_message) == -EREMOTE);
        fuzz_check(got == e && got_message);
        /* A message that is not valid UTF-8 comes back with its other bytes as '?'. */
        if (valid)
                fuzz_check(streq(got_message, message));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(protocol_request_done) struct protocol_request req = {0};
        _cleanup_free_ char *message = NULL, *reply_message = NULL;
        enum protocol_error e = _PROTOCOL_ERROR_MAX;
        json_t *result = NULL;
        int64_t id = -1;
        int r;

        r = protocol_parse_request((const char *) data, size, &req, &e, &message, &id);
        if (r == 0)
                request_round_trip(&req);
        else if (r != -ENOMEM) {
                fuzz_check(r == -EINVAL || r == -EMSGSIZE || r == -EPROTONOSUPPORT);
                fuzz_check((unsigned) e < _PROTOCOL_ERROR_MAX && protocol_error_name(e));
                if (message)
                        error_round_trip(id, e, message);
        }

        r = protocol_parse_reply((const char *) data, size, id, &result, &e, &reply_message);
        if (r == 0)
                fuzz_check(json_is_object(result));
        else if (r == -EREMOTE)
                fuzz_check((unsigned) e < _PROTOCOL_ERROR_MAX);
        else
                fuzz_check(r == -EINVAL);
        json_decref(result);
        return 0;
}
