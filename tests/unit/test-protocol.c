/* SPDX-License-Identifier: MIT */
/* The control protocol's envelope: what is accepted, and the error each malformed request earns. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "protocol.h"

static void test_good_request(void **state) {
        const char *s = "{\"version\":1,\"id\":7,\"method\":\"set-mode\",\"params\":{\"cgroup\":\"/a\",\"mode\":2}}";
        struct protocol_request req;
        enum protocol_error e;
        char *message = NULL;
        int64_t id;
        (void) state;

        assert_int_equal(protocol_parse_request(s, strlen(s), &req, &e, &message, &id), 0);
        assert_int_equal(req.id, 7);
        assert_string_equal(req.method, "set-mode");
        assert_int_equal(json_integer_value(json_object_get(req.params, "mode")), 2);
        protocol_request_done(&req);

        s = "{\"version\":1,\"id\":1,\"method\":\"status\"}"; /* params may be absent: an empty object */
        assert_int_equal(protocol_parse_request(s, strlen(s), &req, &e, &message, &id), 0);
        assert_true(json_is_object(req.params) && json_object_size(req.params) == 0);
        protocol_request_done(&req);
}

static void test_bad_requests(void **state) {
        static const struct {
                const char *s;
                int ret;
                enum protocol_error e;
                int64_t id;
        } cases[] = {
                {"", -EINVAL, PROTOCOL_INVALID_REQUEST, 0},
                {"{\"version\":1,\"id\":3,\"meth", -EINVAL, PROTOCOL_INVALID_REQUEST, 0}, /* half a message */
                {"[1,2]", -EINVAL, PROTOCOL_INVALID_REQUEST, 0},
                {"{\"version\":1,\"id\":3,\"method\":\"status\",\"x\":1}", -EINVAL, PROTOCOL_INVALID_REQUEST, 3},
                {"{\"version\":2,\"id\":4,\"method\":\"status\"}", -EPROTONOSUPPORT, PROTOCOL_UNSUPPORTED_VERSION, 4},
                {"{\"version\":\"1\",\"id\":4,\"method\":\"status\"}", -EINVAL, PROTOCOL_INVALID_REQUEST, 4},
                {"{\"version\":1,\"method\":\"status\"}", -EINVAL, PROTOCOL_INVALID_REQUEST, 0},
                {"{\"version\":1,\"id\":5,\"method\":\"Status!\"}", -EINVAL, PROTOCOL_INVALID_REQUEST, 5},
                {"{\"version\":1,\"id\":5,\"method\":\"\"}", -EINVAL, PROTOCOL_INVALID_REQUEST, 5},
                {"{\"version\":1,\"id\":6,\"method\":\"status\",\"params\":[]}", -EINVAL, PROTOCOL_INVALID_REQUEST, 6},
                {"{\"version\":1,\"id\":6,\"id\":7,\"method\":\"status\"}", -EINVAL, PROTOCOL_INVALID_REQUEST, 0},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct protocol_request req;
                enum protocol_error e = _PROTOCOL_ERROR_MAX;
                char *message = NULL;
                int64_t id = -1;

                print_message("request: %s\n", cases[i].s);
                assert_int_equal(protocol_parse_request(cases[i].s, strlen(cases[i].s), &req, &e, &message, &id),
                                 cases[i].ret);
                assert_int_equal(e, cases[i].e);
                assert_int_equal(id, cases[i].id);
                assert_non_null(message);
                assert_true(strlen(message) > 10);
                free(message);
        }
}

/* A refusal that quotes the request's bytes cut inside a UTF-8 sequence still makes a reply (found by
 * fuzzing: the reply could not be built and the peer got none). */
static void test_bad_request_answered(void **state) {
        static const char *const cases[] = {
                "{\"version\":1,\"id\":-1,\"method\":\"x\",\"params\":{\"l\":[\"\\u0\xc7\x9a"
                "9\"]}}",
                "{\"version\":1,\"id\":2,"
                "\"a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                "\xa9\xc3\xa9"
                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\":1}",
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct protocol_request req;
                enum protocol_error e, got;
                char *message = NULL, *got_message = NULL, *s = NULL;
                json_t *reply, *result = NULL;
                int64_t id;
                size_t len;

                assert_int_equal(protocol_parse_request(cases[i], strlen(cases[i]), &req, &e, &message, &id), -EINVAL);
                assert_int_equal(e, PROTOCOL_INVALID_REQUEST);
                reply = protocol_reply_error(id, e, message);
                assert_non_null(reply);
                assert_int_equal(protocol_dump(reply, &s, &len), 0);
                assert_int_equal(protocol_parse_reply(s, len, id, &result, &got, &got_message), -EREMOTE);
                assert_int_equal(got, PROTOCOL_INVALID_REQUEST);
                assert_true(strlen(got_message) > 10);
                json_decref(reply);
                free(got_message);
                free(message);
                free(s);
        }
}

static void test_too_large(void **state) {
        size_t n = PROTOCOL_MAX_MESSAGE + 1;
        char *big = malloc(n);
        struct protocol_request req;
        enum protocol_error e;
        char *message = NULL;
        int64_t id;
        (void) state;

        memset(big, ' ', n);
        assert_int_equal(protocol_parse_request(big, n, &req, &e, &message, &id), -EMSGSIZE);
        assert_int_equal(e, PROTOCOL_MESSAGE_TOO_LARGE);
        free(message);
        free(big);
}

static void test_round_trip(void **state) {
        json_auto_t *ok = protocol_reply_ok(9, json_pack("{s:i}", "x", 1));
        json_auto_t *err = protocol_reply_error(10, PROTOCOL_PERMISSION_DENIED, "set-mode needs root");
        json_auto_t *refused = protocol_reply_error(0, PROTOCOL_RESOURCE_LIMIT, "too many connections");
        json_t *result = NULL;
        enum protocol_error e;
        char *s = NULL, *message = NULL;
        size_t len;
        (void) state;

        assert_int_equal(protocol_dump(ok, &s, &len), 0);
        assert_int_equal(protocol_parse_reply(s, len, 9, &result, &e, &message), 0);
        assert_int_equal(json_integer_value(json_object_get(result, "x")), 1);
        json_decref(result);
        assert_int_equal(protocol_parse_reply(s, len, 8, &result, &e, &message), -EINVAL); /* wrong id */
        free(s);

        /* An error with id 0 answers whatever was asked: commitd refused the connection, or could not read an id. */
        assert_int_equal(protocol_dump(refused, &s, &len), 0);
        assert_int_equal(protocol_parse_reply(s, len, 11, &result, &e, &message), -EREMOTE);
        assert_int_equal(e, PROTOCOL_RESOURCE_LIMIT);
        free(message);
        free(s);

        assert_int_equal(protocol_dump(err, &s, &len), 0);
        assert_int_equal(protocol_parse_reply(s, len, 10, &result, &e, &message), -EREMOTE);
        assert_int_equal(e, PROTOCOL_PERMISSION_DENIED);
        assert_string_equal(message, "set-mode needs root");
        free(message);
        free(s);

        for (int i = 0; i < _PROTOCOL_ERROR_MAX; i++)
                assert_int_equal(protocol_error_from_name(protocol_error_name(i)), i);
        assert_int_equal(protocol_error_from_name("Nope"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good_request),         cmocka_unit_test(test_bad_requests),
                cmocka_unit_test(test_bad_request_answered), cmocka_unit_test(test_too_large),
                cmocka_unit_test(test_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
