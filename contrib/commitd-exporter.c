/* SPDX-License-Identifier: MIT */
/* commitd-exporter: commitd's numbers for Prometheus, from a program that holds no privilege. At every scrape
 * of GET /metrics it asks commitd's control socket for the "metrics" method (cli/client.c, every page joined)
 * and answers lib/metrics.c's exposition with commitd_up 1; when commitd cannot be asked it answers 503 saying
 * why. --textfile writes the same exposition atomically for node_exporter's textfile collector, once or every
 * --interval. docs/commitd-exporter.8 is the manual.
 *
 * It trusts commitd's replies as commitctl does (sizes checked by the client), and what a scraper sends is
 * libmicrohttpd's to bound: a few connections, a short timeout, only the one URL answered with data. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "client.h"
#include "config.h"
#include "fileio.h"
#include "macro.h"
#include "metrics.h"
#include "units.h"

#define PROGRAM        "commitd-exporter"
#define DEFAULT_LISTEN "127.0.0.1:9847"
/* Prometheus' default scrape_timeout: the most one scrape waits for commitd, every page of its answer together. */
#define COMMITD_TIMEOUT_S       10
#define HTTP_CONNECTIONS        16
#define HTTP_TIMEOUT_S          30
#define INTERVAL_MAX_S          86400
#define EXPOSITION_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct options {
        const char *listen, *socket, *textfile;
        unsigned interval; /* seconds; 0: write the textfile once */
};

/* Up or down, logged when it changes rather than at every scrape. */
static int last_up = -1;

static void help(FILE *f) {
        fprintf(f, "Usage: " PROGRAM " [--listen ADDR:PORT] [--socket PATH]\n"
                   "       " PROGRAM " --textfile PATH [--interval SEC] [--socket PATH]\n"
                   "\n"
                   "Serve commitd's numbers to Prometheus on GET /metrics, read through commitd's control socket at\n"
                   "every scrape; or write them to a file for node_exporter's textfile collector.\n"
                   "\n"
                   "  --listen ADDR:PORT  address to serve on (default " DEFAULT_LISTEN "; [::1]:PORT for IPv6,\n"
                   "                      port 0 for any free port)\n"
                   "  --socket PATH       commitd's control socket (default $COMMITD_SOCKET or " COMMITD_SOCKET ")\n"
                   "  --textfile PATH     write the exposition to PATH atomically instead of serving it\n"
                   "  --interval SEC      with --textfile: write it every SEC seconds (default: once, and exit)\n"
                   "  -h, --help          this help\n"
                   "  --version           print the version\n"
                   "\n"
                   "commitd must let the exporter read every budget: run it in commitd's --read-group.\n"
                   "See commitd-exporter(8).\n");
}

static int parse_argv(int argc, char **argv, struct options *o) {
        static const struct option options[] = {
                {"listen", required_argument, NULL, 'l'},
                {"socket", required_argument, NULL, 's'},
                {"textfile", required_argument, NULL, 't'},
                {"interval", required_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {NULL, 0, NULL, 0},
        };
        bool listen_given = false, interval_given = false;
        uint64_t v;
        int c;

        *o = (struct options){.listen = DEFAULT_LISTEN, .socket = getenv("COMMITD_SOCKET")};
        if (!o->socket || !*o->socket)
                o->socket = COMMITD_SOCKET;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'l':
                        o->listen = optarg;
                        listen_given = true;
                        break;
                case 's':
                        o->socket = optarg;
                        break;
                case 't':
                        o->textfile = optarg;
                        break;
                case 'i':
                        if (units_parse_count(optarg, 1, INTERVAL_MAX_S, &v) < 0) {
                                fprintf(stderr, PROGRAM ": --interval '%s': want whole seconds from 1 to %d\n", optarg,
                                        INTERVAL_MAX_S);
                                return EXIT_USAGE;
                        }
                        o->interval = (unsigned) v;
                        interval_given = true;
                        break;
                case 'h':
                        help(stdout);
                        return EXIT_OK;
                case 'V':
                        printf(PROGRAM " " COMMITD_VERSION "\n");
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try '" PROGRAM " --help'.\n");
                        return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, PROGRAM ": unexpected argument '%s'. Try '" PROGRAM " --help'.\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (o->textfile && listen_given) {
                fprintf(stderr, PROGRAM ": --textfile writes a file and --listen serves HTTP: give one of them\n");
                return EXIT_USAGE;
        }
        if (interval_given && !o->textfile) {
                fprintf(stderr, PROGRAM ": --interval is for --textfile; a server reads commitd at each scrape\n");
                return EXIT_USAGE;
        }
        return -1;
}

/* "HOST:PORT" or "[HOST6]:PORT", numeric only (no lookup at start: a name could resolve to anything). */
static int parse_listen(const char *s, struct addrinfo **ret, const char **ret_why) {
        struct addrinfo hints = {
                .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
        };
        _cleanup_free_ char *host = NULL;
        const char *port;
        long p;
        int r;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':') {
                        *ret_why = "an IPv6 address goes in brackets before the port: [::1]:9847";
                        return -EINVAL;
                }
                host = strndup(s + 1, (size_t) (close - s - 1));
                port = close + 2;
        } else {
                const char *colon = strrchr(s, ':');
                if (!colon || strchr(s, ':') != colon) {
                        *ret_why = "want ADDR:PORT, such as 127.0.0.1:9847 or [::1]:9847";
                        return -EINVAL;
                }
                host = strndup(s, (size_t) (colon - s));
                port = colon + 1;
        }
        if (!host)
                return -ENOMEM;
        /* Digits only: strtol() and getaddrinfo()'s strtoul() would also take " 80", "+80" and "-0". */
        if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
            (p = strtol(port, NULL, 10)) > 65535) {
                *ret_why = "the port is not a number from 0 to 65535";
                return -EINVAL;
        }
        r = getaddrinfo(host, port, &hints, ret);
        if (r != 0) {
                *ret_why = "the address is not a numeric IPv4 or IPv6 address";
                return -EINVAL;
        }
        return 0;
}

/* The listening socket, ours rather than libmicrohttpd's so that a failure says which address and why. */
static int listen_on(const struct addrinfo *ai, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        int one = 1;

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, HTTP_CONNECTIONS) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The exposition of one look at commitd: its numbers and commitd_up 1 in *ret_text. When commitd cannot be
 * asked: -errno, why in *ret_why, and commitd_up 0 alone in *ret_text. */
static int scrape(const char *socket_path, char **ret_text, size_t *ret_len, char **ret_why) {
        json_auto_t *result = NULL;
        _cleanup_close_ int fd = -1;
        char *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        r = client_connect(socket_path, &fd);
        if (r < 0) {
                if (asprintf(ret_why, "commitd is not reachable at %s: %s%s", socket_path, strerror(-r),
                             r == -EACCES || r == -EPERM ? " (run the exporter in commitd's --read-group)" : "") < 0)
                        *ret_why = NULL;
        } else {
                _cleanup_free_ char *error = NULL;
                r = client_call_paged_fd(fd, "metrics", "budgets", COMMITD_TIMEOUT_S, &result, &error);
                if (r < 0 && asprintf(ret_why, "commitd at %s did not give its numbers: %s", socket_path,
                                      error ?: strerror(-r)) < 0)
                        *ret_why = NULL;
        }

        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        if ((r >= 0 && metrics_write(f, result) < 0) || metrics_write_up(f, r >= 0) < 0) {
                fclose(f);
                free(text);
                return -ENOMEM;
        }
        fclose(f);
        *ret_text = text;
        *ret_len = len;
        if (r >= 0 && !json_object_get(result, "daemon") && last_up != 1)
                fprintf(stderr, "<4>" PROGRAM ": commitd answers as to a tenant (its own cgroups only, none of "
                                "commitd's own numbers): run the exporter in commitd's --read-group\n");
        if (last_up < 0 || (r >= 0) != (last_up == 1)) {
                if (r >= 0)
                        fprintf(stderr, "<6>" PROGRAM ": reading commitd at %s\n", socket_path);
                else
                        fprintf(stderr, "<3>" PROGRAM ": %s\n", *ret_why ?: strerror(-r));
        }
        last_up = r >= 0;
        return r;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type, char *text, size_t len) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        enum MHD_Result ret;

        if (!resp) {
                free(text);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text) {
        char *copy = strdup(text);
        return copy ? respond(c, status, "text/plain; charset=utf-8", copy, strlen(copy)) : MHD_NO;
}

/* One request, answered at its first call: GET and HEAD carry no body to wait for. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls) {
        const struct options *o = cls;
        _cleanup_free_ char *why = NULL;
        char *text = NULL, *body;
        size_t len = 0;
        int r;

        (void) version;
        (void) upload_data;
        (void) upload_data_size;
        (void) req_cls;
        if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD))
                return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "Only GET and HEAD.\n");
        if (streq(url, "/"))
                return respond_text(c, MHD_HTTP_OK, PROGRAM ": commitd's metrics are at /metrics\n");
        if (!streq(url, "/metrics"))
                return respond_text(c, MHD_HTTP_NOT_FOUND, "Not found: commitd's metrics are at /metrics\n");

        r = scrape(o->socket, &text, &len, &why);
        if (r == -ENOMEM)
                return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.\n");
        if (r >= 0)
                return respond(c, MHD_HTTP_OK, EXPOSITION_CONTENT_TYPE, text, len);
        /* Prometheus counts a failed scrape as up 0 and marks the series stale: nothing old stays current. */
        free(text);
        if (asprintf(&body, "%s\n", why ?: "commitd is not reachable") < 0)
                return MHD_NO;
        return respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", body, strlen(body));
}

/* Blocks until SIGTERM or SIGINT, or until timeout_s passed (0: no timeout). Returns true on a signal. */
static bool wait_for_stop(const sigset_t *stop, unsigned timeout_s) {
        struct timespec ts = {.tv_sec = timeout_s};

        for (;;) {
                int sig = timeout_s ? sigtimedwait(stop, NULL, &ts) : sigwaitinfo(stop, NULL);
                if (sig > 0)
                        return true;
                if (errno == EAGAIN)
                        return false;
        }
}

static int serve(const struct options *o, const sigset_t *stop) {
        struct addrinfo *ai = NULL;
        struct MHD_Daemon *d;
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        char host[NI_MAXHOST], port[NI_MAXSERV];
        const char *why = NULL;
        int fd = -1, r;

        r = parse_listen(o->listen, &ai, &why);
        if (r < 0) {
                fprintf(stderr, PROGRAM ": --listen '%s': %s\n", o->listen, why ?: strerror(-r));
                return EXIT_USAGE;
        }
        r = listen_on(ai, &fd);
        freeaddrinfo(ai);
        if (r < 0) {
                fprintf(stderr, "<3>" PROGRAM ": cannot listen on %s: %s\n", o->listen, strerror(-r));
                return EXIT_FAILURE_;
        }
        /* One polling thread: scrapes are answered one at a time, and the client's request ids need no lock. */
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, (void *) o,
                             MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned) HTTP_CONNECTIONS,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) HTTP_TIMEOUT_S, MHD_OPTION_END);
        if (!d) {
                close(fd);
                fprintf(stderr, "<3>" PROGRAM ": cannot start the HTTP server on %s\n", o->listen);
                return EXIT_FAILURE_;
        }
        if (getsockname(fd, (struct sockaddr *) &sa, &salen) == 0 &&
            getnameinfo((struct sockaddr *) &sa, salen, host, sizeof(host), port, sizeof(port),
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
                fprintf(stderr, "<6>" PROGRAM ": serving /metrics on %s%s%s:%s for commitd at %s\n",
                        strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port, o->socket);
        wait_for_stop(stop, 0);
        MHD_stop_daemon(d);
        close(fd);
        return EXIT_OK;
}

/* Writes the textfile once, or every interval until stopped. A commitd that is down leaves commitd_up 0 there,
 * not its last numbers, which the collector would go on showing as current. */
static int write_textfile(const struct options *o, const sigset_t *stop) {
        for (;;) {
                _cleanup_free_ char *text = NULL, *why = NULL;
                size_t len = 0;
                int up = scrape(o->socket, &text, &len, &why), r;

                if (up == -ENOMEM) {
                        fprintf(stderr, "<3>" PROGRAM ": out of memory\n");
                        return EXIT_FAILURE_;
                }
                /* 0644: node_exporter reads it as another user. */
                r = fileio_write_atomic(o->textfile, text, len, 0644, (uid_t) -1, (gid_t) -1);
                if (r < 0) {
                        fprintf(stderr, "<3>" PROGRAM ": cannot write %s: %s\n", o->textfile, strerror(-r));
                        return EXIT_FAILURE_;
                }
                if (o->interval == 0)
                        return up >= 0 ? EXIT_OK : EXIT_FAILURE_;
                if (wait_for_stop(stop, o->interval))
                        return EXIT_OK;
        }
}

static int run(const struct options *o) {
        sigset_t stop;

        /* Blocked before libmicrohttpd starts its thread, which inherits the mask: the signals wait for
         * sigwaitinfo() here. A scraper that goes away mid-answer must not kill us. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        sigprocmask(SIG_BLOCK, &stop, NULL);
        signal(SIGPIPE, SIG_IGN);
        return o->textfile ? write_textfile(o, &stop) : serve(o, &stop);
}

int main(int argc, char **argv) {
        struct options o;
        int r = parse_argv(argc, argv, &o);

        if (r >= 0)
                return r;
        return run(&o);
}
