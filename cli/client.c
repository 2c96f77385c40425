/* SPDX-License-Identifier: MIT */
/* The client end of the control socket: connect, one request, one reply (docs/protocol.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client.h"
#include "clock.h"
#include "macro.h"
#include "protocol.h"

static int64_t next_id = 1;

int client_connect(const char *socket_path, int *ret_fd) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -1;
        size_t n = strlen(socket_path);

        if (n == 0 || n >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, socket_path, n);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

const char *client_connect_error(const char *socket_path, int error) {
        static char text[256 + sizeof(((struct sockaddr_un *) NULL)->sun_path)];

        switch (error) {
        case -ENOENT:
                snprintf(text, sizeof(text),
                         "commitd is not running (no socket at %s): start it with `commitd --foreground` or "
                         "`systemctl start commitd`",
                         socket_path);
                break;
        case -ECONNREFUSED:
                snprintf(text, sizeof(text),
                         "commitd is not running (nothing listens on %s): start it with `commitd --foreground` or "
                         "`systemctl start commitd`",
                         socket_path);
                break;
        case -EACCES:
        case -EPERM:
                snprintf(text, sizeof(text),
                         "cannot connect to %s: %s (the socket is for root, commitd's group and its read group; try "
                         "sudo)",
                         socket_path, strerror(-error));
                break;
        case -ENAMETOOLONG:
                snprintf(text, sizeof(text), "socket path '%.200s' is empty or longer than %zu bytes", socket_path,
                         sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1);
                break;
        default:
                snprintf(text, sizeof(text), "cannot connect to commitd at %s: %s", socket_path, strerror(-error));
                break;
        }
        return text;
}

int client_prepare(const char *method, json_t *params, char **ret_buf, size_t *ret_len, int64_t *ret_id) {
        json_auto_t *msg = NULL;
        int64_t id = next_id++;
        int r;

        msg = protocol_request_new(id, method, params);
        if (!msg)
                return -ENOMEM;
        r = protocol_dump(msg, ret_buf, ret_len);
        if (r < 0)
                return r;
        *ret_id = id;
        return 0;
}

/* Allocates nothing: commitctl run calls it with a seccomp filter loaded that nobody answers yet. */
int client_send_raw_with_fd(int sock, const char *buf, size_t len, int pass_fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {0};
        struct iovec iov = {.iov_base = (void *) buf, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        if (len > PROTOCOL_MAX_MESSAGE)
                return -EMSGSIZE;
        if (pass_fd >= 0) {
                struct cmsghdr *cm;
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
        }
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        /* SOCK_SEQPACKET sends a record whole or not at all. */
        return (size_t) n == len ? 0 : -EIO;
}

/* Receives one record into buf (PROTOCOL_MAX_MESSAGE + 1 bytes). No allocation. */
static int recv_record(int sock, char *buf, size_t size, size_t *ret_len) {
        struct iovec iov = {.iov_base = buf, .iov_len = size};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        /* No control buffer: commitd sends no descriptors, and any that came would be discarded by the kernel
         * (MSG_CTRUNC) rather than installed here. */
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET; /* a SOCK_SEQPACKET peer that closed: commitd has no empty replies */
        if ((mh.msg_flags & MSG_TRUNC) || (size_t) n > PROTOCOL_MAX_MESSAGE)
                return -EMSGSIZE;
        *ret_len = (size_t) n;
        return 0;
}

static void set_local_error(int r, int64_t id, char **ret_error_text) {
        char *text = NULL;
        int k;

        if (!ret_error_text)
                return;
        switch (r) {
        case -ECONNRESET:
                k = asprintf(&text, "commitd closed the connection without replying (see its log, e.g. "
                                    "`journalctl -u commitd`)");
                break;
        case -EMSGSIZE:
                k = asprintf(&text, "commitd's reply is larger than %u bytes", PROTOCOL_MAX_MESSAGE);
                break;
        case -EBADMSG:
                k = asprintf(&text, "commitd's reply is not a protocol version %d reply to request %lld",
                             PROTOCOL_VERSION, (long long) id);
                break;
        default:
                k = asprintf(&text, "cannot talk to commitd: %s", strerror(-r));
                break;
        }
        if (k >= 0)
                *ret_error_text = text;
}

int client_recv_reply(int sock, int64_t id, json_t **ret_result, char **ret_error_text) {
        char buf[PROTOCOL_MAX_MESSAGE + 1];
        _cleanup_free_ char *message = NULL;
        enum protocol_error e;
        size_t len = 0;
        int r;

        do
                r = recv_record(sock, buf, sizeof(buf), &len);
        while (r == -EINTR);
        /* A peer that closed with our request unread resets us, and the reset may come before the reply it
         * queued (a refusal at accept): read once more. At a plain end the second read is the end again. */
        if (r == -ECONNRESET)
                r = recv_record(sock, buf, sizeof(buf), &len);
        /* The reply is in: allocating is safe from here on. */
        if (r >= 0) {
                r = protocol_parse_reply(buf, len, id, ret_result, &e, &message);
                if (r == -EINVAL)
                        r = -EBADMSG;
        }
        if (r == -EREMOTE) {
                if (ret_error_text && asprintf(ret_error_text, "%s: %s", protocol_error_name(e), message ?: "") < 0)
                        return -ENOMEM;
                return r;
        }
        if (r < 0)
                set_local_error(r, id, ret_error_text);
        return r;
}

int client_recv_message(int sock, json_t **ret_msg) {
        char buf[PROTOCOL_MAX_MESSAGE + 1];
        json_t *msg;
        size_t len = 0;
        int r;

        r = recv_record(sock, buf, sizeof(buf), &len);
        if (r < 0)
                return r;
        msg = json_loadb(buf, len, 0, NULL);
        if (!json_is_object(msg)) {
                json_decref(msg);
                return -EBADMSG;
        }
        *ret_msg = msg;
        return 0;
}

int client_call_with_fd(int fd, const char *method, json_t *params, int pass_fd, json_t **ret_result,
                        char **ret_error_text) {
        _cleanup_free_ char *buf = NULL;
        int64_t id = 0;
        size_t len;
        int r;

        r = client_prepare(method, params, &buf, &len, &id);
        if (r >= 0)
                r = client_send_raw_with_fd(fd, buf, len, pass_fd);
        /* A connection commitd refused (too many clients) is closed after one reply saying why: show it. */
        if (r == -EPIPE || r == -ECONNRESET) {
                char *why = NULL;
                if (client_recv_reply(fd, id, ret_result, &why) == -EREMOTE) {
                        if (ret_error_text)
                                *ret_error_text = TAKE_PTR(why);
                        free(why);
                        return -EREMOTE;
                }
                free(why);
        }
        if (r < 0) {
                if (ret_error_text &&
                    asprintf(ret_error_text, "cannot send the request to commitd: %s", strerror(-r)) < 0)
                        *ret_error_text = NULL;
                return r;
        }
        return client_recv_reply(fd, id, ret_result, ret_error_text);
}

int client_call(int fd, const char *method, json_t *params, json_t **ret_result, char **ret_error_text) {
        return client_call_with_fd(fd, method, params, -1, ret_result, ret_error_text);
}

/* Connects, or says on stderr why not. */
static int connect_or_say(const struct global_options *g, const char *verb, int *ret_fd) {
        int r = client_connect(g->socket, ret_fd);

        if (r < 0)
                fprintf(stderr, "commitctl %s: %s\n", verb, client_connect_error(g->socket, r));
        return r;
}

int client_call_once(const struct global_options *g, const char *verb, const char *method, json_t *params,
                     json_t **ret_result) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *error = NULL;
        int r;

        if (connect_or_say(g, verb, &fd) < 0) {
                json_decref(params);
                return EXIT_FAILURE_;
        }
        r = client_call(fd, method, params, ret_result, &error);
        if (r < 0) {
                fprintf(stderr, "commitctl %s: %s\n", verb, error ?: strerror(-r));
                return EXIT_FAILURE_;
        }
        return EXIT_OK;
}

/* Lets fd's next send and receive take only what is left until deadline (CLOCK_MONOTONIC µs); -ETIMEDOUT when
 * nothing is. */
static int timeouts_until(int fd, uint64_t deadline) {
        uint64_t now = now_usec(CLOCK_MONOTONIC), left;
        struct timeval tv;

        if (now >= deadline)
                return -ETIMEDOUT;
        left = deadline - now; /* at least 1 µs: a zero timeval would mean no timeout at all */
        tv = (struct timeval){.tv_sec = (time_t) (left / 1000000), .tv_usec = (suseconds_t) (left % 1000000)};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        return 0;
}

int client_call_paged_fd(int fd, const char *method, const char *key, unsigned timeout_s, json_t **ret_result,
                         char **ret_error_text) {
        uint64_t deadline = timeout_s ? now_usec(CLOCK_MONOTONIC) + (uint64_t) timeout_s * 1000000 : 0;
        json_auto_t *result = NULL;
        _cleanup_free_ char *after = NULL;

        for (;;) {
                _cleanup_free_ char *why = NULL;
                json_t *page = NULL, *list, *next, *params;
                int r = deadline ? timeouts_until(fd, deadline) : 0;

                if (r >= 0) {
                        params = after ? json_pack("{s:s}", "after", after) : json_object();
                        r = client_call(fd, method, params, &page, &why);
                }
                /* EAGAIN: SO_RCVTIMEO or SO_SNDTIMEO ran out (a blocking socket's timeout). */
                if (deadline && (r == -ETIMEDOUT || r == -EAGAIN)) {
                        r = -ETIMEDOUT;
                        free(why);
                        if (asprintf(&why, "no whole answer to %s within %u s", method, timeout_s) < 0)
                                why = NULL;
                }
                if (r < 0) {
                        if (ret_error_text)
                                *ret_error_text = TAKE_PTR(why);
                        return r;
                }
                list = json_object_get(page, key);
                if (!json_is_array(list)) {
                        json_decref(page);
                        if (ret_error_text && asprintf(ret_error_text, "commitd's reply has no \"%s\" list", key) < 0)
                                *ret_error_text = NULL;
                        return -EBADMSG;
                }
                next = json_object_get(page, "next");
                free(after);
                after = NULL;
                /* Out of memory is an error, never a list cut short that looks whole. */
                if (json_is_string(next) && json_array_size(list) > 0 && !(after = strdup(json_string_value(next)))) {
                        json_decref(page);
                        return -ENOMEM;
                }
                if (!result)
                        result = page; /* the first page's other fields stand for the whole */
                else {
                        r = json_array_extend(json_object_get(result, key), list);
                        json_decref(page);
                        if (r < 0)
                                return -ENOMEM;
                }
                if (!after)
                        break;
        }
        json_object_del(result, "next");
        *ret_result = TAKE_PTR(result);
        return 0;
}

int client_fetch_paged(const char *socket_path, const char *method, const char *key, json_t **ret_result,
                       char **ret_error_text) {
        _cleanup_close_ int fd = -1;
        int r;

        r = client_connect(socket_path, &fd);
        if (r < 0) {
                *ret_error_text = strdup(client_connect_error(socket_path, r));
                return r;
        }
        return client_call_paged_fd(fd, method, key, 0, ret_result, ret_error_text);
}

int client_call_paged(const struct global_options *g, const char *verb, const char *method, const char *key,
                      json_t **ret_result) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = client_fetch_paged(g->socket, method, key, ret_result, &error);
        if (r < 0) {
                fprintf(stderr, "commitctl %s: %s\n", verb, error ?: strerror(-r));
                return EXIT_FAILURE_;
        }
        return EXIT_OK;
}

int client_print_json(const json_t *v, size_t flags) {
        if (json_dumpf(v, stdout, flags) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
                return -EIO;
        return 0;
}
