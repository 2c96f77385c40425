/* SPDX-License-Identifier: MIT */
/* commitd-oci-runtime: an OCI runtime that enrolls every container it creates with commitd (SPEC 4), for
 * `podman --runtime`, Docker's runtimes and containerd's BinaryName. For `create` and `run` it settles the
 * container's policy (lib/ociwrap.c: annotation, --commitd-policy, the config file's entry for the name it is
 * called by, default_policy), asks commitd's agent socket whether that policy is loaded (lib/ociquery.c), and
 * only then adds commitd's seccomp rules and listenerPath to the bundle's config.json (lib/ocispec.c): a
 * container commitd would not judge never starts. Then, for every command, it execs the real runtime with its
 * arguments less the wrapper's own --commitd-* options. docs/commitd-oci-runtime.8 is the manual.
 *
 * It runs with the runtime's privileges on a bundle its caller wrote: the config is size-limited and checked
 * field by field, and the profile it writes back never allows a call the bundle's profile refused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "fileio.h"
#include "errmsg.h"
#include "macro.h"
#include "ociquery.h"
#include "ocispec.h"
#include "ociwrap.h"

#define PROGRAM          "commitd-oci-runtime"
#define CONFIG_MAX_BYTES (4u * 1024 * 1024) /* Docker's configs are tens of kB */
#define AGENT_TIMEOUT_S  30            /* commitd answers a query from its loop; a stuck one must not hang an engine */
#define ASK_RUNTIME_MS   10000         /* `runc features` and `crun --version` answer in milliseconds */
#define ASK_RUNTIME_MAX  (256u * 1024) /* runc 1.1.5's features are 5 kB */

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5) /* Linux 5.19 */
#endif

extern char **environ;

/* config.json through fileio_write_atomic(): the runtime reads the old config or the new one, never a part. The
 * new file keeps the old one's mode and, as root, its owner. */
static int write_atomic(const char *path, const char *text, const struct stat *old, char **ret_error) {
        int r = fileio_write_atomic(path, text, strlen(text), old->st_mode & 07777,
                                    geteuid() == 0 ? old->st_uid : (uid_t) -1, old->st_gid);

        return r < 0 ? errmsg_set(ret_error, r, "cannot write it: %s", strerror(-r)) : 0;
}

/* Reads BUNDLE/config.json: the parsed config, its policy annotation (borrowed from it), its stat. */
static int bundle_load(const char *path, json_t **ret, const char **ret_policy, struct stat *ret_st, char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        json_auto_t *config = NULL;
        json_error_t jerr;
        size_t len;
        int r;

        r = fileio_read_full(path, CONFIG_MAX_BYTES, &buf, &len);
        if (r == -EFBIG)
                return errmsg_set(ret_error, r, "larger than %u bytes, more than a config.json may hold here",
                                  CONFIG_MAX_BYTES);
        if (r < 0)
                return errmsg_set(ret_error, r, "%s", strerror(-r));
        if (stat(path, ret_st) < 0)
                return errmsg_set(ret_error, -errno, "%m");
        /* Duplicate keys would let the runtime read another value than the one edited here. */
        config = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!config)
                return errmsg_set(ret_error, -EINVAL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        r = ocispec_policy_annotation(config, ret_policy, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(config);
        return 0;
}

/* Writes the edited config back. On failure the file is untouched and *ret_error says why. */
static int bundle_write(const char *path, json_t *config, const struct stat *st, char **ret_error) {
        _cleanup_free_ char *text = NULL;

        text = json_dumps(config, JSON_INDENT(2));
        if (!text)
                return -ENOMEM;
        return write_atomic(path, text, st, ret_error);
}

/* Asks commitd's agent socket which policy would judge the container (policy NULL: commitd's default). */
static int ask_commitd(const char *socket_path, const char *policy, struct ociquery_answer *ret, char **ret_error) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {.tv_sec = AGENT_TIMEOUT_S};
        _cleanup_free_ char *request = NULL;
        _cleanup_close_ int fd = -1;
        char answer[OCIQUERY_MAX_BYTES + 1];
        size_t len = 0;
        ssize_t n;
        int r;

        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return errmsg_set(ret_error, -ENAMETOOLONG, "the socket path is too long");
        memcpy(sa.sun_path, socket_path, strlen(socket_path));
        r = ociquery_format_request(policy, &request);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return errmsg_set(ret_error, -errno, "socket: %m");
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return errmsg_set(ret_error, -errno, "connect: %m");
        if (send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t) strlen(request))
                return errmsg_set(ret_error, -EIO, "send: %m");
        (void) shutdown(fd, SHUT_WR);
        while (len < sizeof(answer) - 1 && (n = recv(fd, answer + len, sizeof(answer) - 1 - len, 0)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errmsg_set(ret_error, -errno, "no answer: %m");
                len += (size_t) n;
        }
        r = ociquery_parse_answer(answer, len, ret);
        if (r == -EBADMSG)
                return errmsg_set(ret_error, r,
                                  "its answer is not one this wrapper knows (%zu bytes; an older commitd?)", len);
        return r;
}

/* The standard output of `RUNTIME ARG` (its stdin and stderr /dev/null), when it exits 0 within ASK_RUNTIME_MS having
 * written at most ASK_RUNTIME_MAX bytes; NULL otherwise. The runtime is killed past that (it is ours, by its pid). */
static char *ask_runtime(const char *runtime, const char *arg, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int rd = -1;
        char *argv[] = {(char *) runtime, (char *) arg, NULL};
        posix_spawn_file_actions_t fa;
        struct timespec start, now;
        size_t len = 0;
        int p[2], status;
        bool done = false;
        pid_t pid;

        if (!(buf = malloc(ASK_RUNTIME_MAX + 1)) || pipe2(p, O_CLOEXEC) < 0)
                return NULL;
        rd = p[0];
        if (posix_spawn_file_actions_init(&fa) != 0) {
                close(p[1]);
                return NULL;
        }
        if (posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO) != 0 ||
            posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
            posix_spawnp(&pid, runtime, &fa, NULL, argv, environ) != 0)
                pid = -1;
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        if (pid < 0)
                return NULL;
        (void) clock_gettime(CLOCK_MONOTONIC, &start);
        while (!done) {
                struct pollfd pfd = {.fd = rd, .events = POLLIN};
                long left;
                ssize_t n;

                (void) clock_gettime(CLOCK_MONOTONIC, &now);
                left = ASK_RUNTIME_MS - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
                if (left <= 0 || (poll(&pfd, 1, (int) left) < 0 && errno != EINTR))
                        break;
                n = read(rd, buf + len, ASK_RUNTIME_MAX + 1 - len);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0)
                        done = n == 0;
                else if ((len += (size_t) n) > ASK_RUNTIME_MAX)
                        break;
        }
        if (!done)
                (void) kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!done || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return NULL;
        buf[len] = '\0';
        *ret_len = len;
        return TAKE_PTR(buf);
}

/* Linux 5.19 and later take SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: with it, a filter that cannot be read fails with
 * EFAULT, past the check of the flags (EINVAL); nothing is loaded either way. */
static bool kernel_has_wait_killable(void) {
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                       SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, NULL) < 0 &&
               errno == EFAULT;
}

/* The profile asks the runtime to load the filter with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV when both the kernel
 * and the runtime (lib/ociwrap.c: its features, else its version) take it: once commitd has received a call, a
 * caught signal no longer ends the wait with EINTR (docs/design.md), as with `commitctl run`. A runtime that does not
 * (runc 1.1 refuses every flag) gets the profile as before. */
static int add_wait_killable(const char *runtime, json_t *config, char **ret_error) {
        _cleanup_free_ char *features = NULL, *version = NULL;
        struct ociwrap_seccomp_flags f;
        size_t features_len = 0, version_len = 0;

        if (!kernel_has_wait_killable())
                return 0;
        features = ask_runtime(runtime, "features", &features_len);
        version = ask_runtime(runtime, "--version", &version_len);
        ociwrap_seccomp_flags(features, features_len, version, &f);
        if (!f.wait_killable)
                return 0;
        return ocispec_add_seccomp_flag(config, OCIWRAP_FLAG_WAIT_KILLABLE, f.implicit, ret_error);
}

static void help(const char *name) {
        printf("Usage: %s [--commitd-OPTION VALUE...] [RUNTIME-OPTION...] COMMAND [ARG...]\n"
               "\n"
               "An OCI runtime that enrolls the containers it creates with commitd, then runs the real runtime\n"
               "(runc, crun) with the same arguments less its own. Before a create or run it asks commitd whether the\n"
               "container's policy is loaded; a container commitd would not judge is not started (exit 1).\n"
               "\n"
               "Its own options, among the runtime's global options (before COMMAND), as --commitd-NAME VALUE or\n"
               "--commitd-NAME=VALUE:\n"
               "  --commitd-config FILE     its config file (default " OCIWRAP_CONFIG_DEFAULT ")\n"
               "  --commitd-socket PATH     commitd's OCI agent socket (default " COMMITD_OCI_SOCKET ")\n"
               "  --commitd-runtime PATH    the real runtime, a path or a name in PATH (default runc)\n"
               "  --commitd-policy NAME     the policy of containers without the annotation io.commitd.policy\n"
               "  --commitd-meminfo FILE    commitd-meminfo's file, bound over /proc/meminfo when the policy asks\n"
               "                            (default " OCIWRAP_MEMINFO_DEFAULT ")\n"
               "  --commitd-help            this text (so does --help alone)\n"
               "\n"
               "Policy: the annotation io.commitd.policy, else --commitd-policy, else the config file's\n"
               "runtimes.\"%s\".policy (the name it is called by), else its default_policy, else commitd's\n"
               "--oci-default-policy. Socket and runtime: the option, else COMMITD_OCI_SOCKET / COMMITD_OCI_RUNTIME,\n"
               "else the config file's runtimes entry (runtime only), else its top level, else the default.\n"
               "\n"
               "`%s help` and `%s COMMAND --help` show the runtime's own help; --version shows both\n"
               "versions. Manual: commitd-oci-runtime(8).\n",
               name, name, name, name);
}

static const char *base_name(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* Loads the config file: the default one may be missing, one named by --commitd-config may not. */
static int config_load(const struct ociwrap_args *a, struct ociwrap_config *ret, char **ret_error) {
        const char *path = a->config ? a->config : OCIWRAP_CONFIG_DEFAULT;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = fileio_read_full(path, OCIWRAP_CONFIG_MAX_BYTES, &buf, &len);
        if (r == -ENOENT && !a->config) {
                *ret = (struct ociwrap_config){0};
                return 0;
        }
        if (r == -EFBIG)
                return errmsg_set(ret_error, r, "%s: larger than %u bytes", path, OCIWRAP_CONFIG_MAX_BYTES);
        if (r < 0)
                return errmsg_set(ret_error, r, "%s: %s", path, strerror(-r));
        return ociwrap_parse_config(path, buf, len, ret, ret_error);
}

/* What the wrapper has to tell, where the engine shows it: stderr (podman prints conmon's), and the runtime's --log
 * file in its --log-format, the only place containerd's runc shim reads a runtime's error from (Docker and ctr
 * print "unable to retrieve OCI runtime error" without it). LEVEL is "error" for the reason a container is not
 * started, "warning" for a note about one that is (the shim takes the last error line for the failure). The
 * runtime would have written there with the same privileges; a log that cannot be written costs only that line. */
static void report(const struct ociwrap_args *a, const char *level, const char *text) {
        const char *path = ociwrap_find_global(a, "log");
        _cleanup_free_ char *line = NULL, *msg = NULL;
        _cleanup_close_ int fd = -1;
        char stamp[64];
        struct timespec ts;
        struct tm tm;
        size_t len;

        fputs(text, stderr);
        if (!path || !*text || !(msg = strdup(text)))
                return;
        len = strlen(msg);
        if (msg[len - 1] == '\n')
                msg[len - 1] = '\0';
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        if (!gmtime_r(&ts.tv_sec, &tm) || strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return;
        snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%09ldZ", ts.tv_nsec);
        if (ociwrap_runtime_log_line(ociwrap_find_global(a, "log-format"), level, msg, stamp, &line) < 0)
                return;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd >= 0)
                (void) !write(fd, line, strlen(line));
}

/* The view of /proc/meminfo for a container whose policy asks for it (commitd-meminfo(8)), added to config when
 * commitd-meminfo serves path. When it does not, the container starts with the host's /proc/meminfo and the engine
 * is told why (report(), a warning): the view is information, not enforcement. */
static void add_meminfo(const struct ociwrap_args *a, json_t *config, const char *path, const char *policy) {
        _cleanup_free_ char *error = NULL, *note = NULL;
        const char *hint = "";
        int r;

        r = meminfo_view_check(path, &error);
        if (r < 0)
                hint = " (is commitd-meminfo running? commitd-meminfo(8))";
        else {
                r = ocispec_add_meminfo(config, path, &error);
                if (r >= 0)
                        return;
        }
        if (asprintf(&note, PROGRAM ": no view of /proc/meminfo for the container (policy %s): %s%s\n", policy,
                     error ? error : strerror(-r), hint) < 0) {
                fputs(PROGRAM ": no view of /proc/meminfo for the container: out of memory\n", stderr);
                return;
        }
        report(a, "warning", note);
}

/* create and run: the policy settled and known to commitd, the bundle enrolled. Returns 0, or 1 with the
 * reason printed to err: the container is not started. */
static int enroll(const struct ociwrap_args *a, const struct ociwrap_config *c, const char *name,
                  const char *config_path, FILE *err) {
        const char *bundle = ociwrap_find_bundle(a), *annotation = NULL;
        _cleanup_free_ char *path = NULL, *error = NULL, *policy = NULL;
        _cleanup_(ociquery_answer_done) struct ociquery_answer answer = {0};
        json_auto_t *config = NULL;
        struct ociwrap_choice ch;
        struct stat st;
        int r;

        if (asprintf(&path, "%s/config.json", bundle ? bundle : ".") < 0)
                return fprintf(err, PROGRAM ": out of memory\n"), 1;
        r = bundle_load(path, &config, &annotation, &st, &error);
        if (r < 0)
                return fprintf(err, PROGRAM ": %s: %s\n", path, error ? error : strerror(-r)), 1;
        ociwrap_choose(a, c, name, getenv("COMMITD_OCI_SOCKET"), getenv("COMMITD_OCI_RUNTIME"), annotation,
                       COMMITD_OCI_SOCKET, &ch);
        r = ask_commitd(ch.socket, ch.policy, &answer, &error);
        if (r < 0) {
                fprintf(err,
                        PROGRAM
                        ": commitd does not answer at %s (%s), so the container (policy %s%s%s) is not "
                        "started: start commitd, or name its agent socket (--commitd-socket, \"socket\" in %s)\n",
                        ch.socket, error ? error : strerror(-r), ch.policy ? "\"" : "",
                        ch.policy ? ch.policy : "commitd's default", ch.policy ? "\"" : "", config_path);
                return 1;
        }
        if (answer.error) {
                fprintf(err, PROGRAM ": commitd at %s refused the question about policy \"%s\": %s\n", ch.socket,
                        ch.policy ? ch.policy : "(none)", answer.error);
                return 1;
        }
        if (!ch.policy && !answer.policy) {
                fprintf(err,
                        PROGRAM ": the container names no policy and commitd at %s has no --oci-default-policy, so it "
                                "is not started: set the annotation " OCISPEC_POLICY_ANNOTATION
                                "=NAME, --commitd-policy NAME (podman: --runtime-flag commitd-policy=NAME), or "
                                "\"default_policy\" or runtimes.\"%s\".policy in %s\n",
                        ch.socket, name, config_path);
                return 1;
        }
        if (!answer.known) {
                fprintf(err,
                        PROGRAM ": policy \"%s\"%s is not known to commitd at %s (commitctl policy list shows the "
                                "loaded ones), so the container is not started\n",
                        ch.policy ? ch.policy : answer.policy, ch.policy ? "" : " (commitd's --oci-default-policy)",
                        ch.socket);
                return 1;
        }
        /* The edit may move what the annotation's string lives in. */
        if (ch.policy && !(policy = strdup(ch.policy)))
                return fprintf(err, PROGRAM ": out of memory\n"), 1;
        r = ocispec_add_commitd(config, ch.socket, policy, &error);
        if (r >= 0)
                r = add_wait_killable(ch.runtime, config, &error);
        if (r < 0)
                return fprintf(err, PROGRAM ": %s: %s\n", path, error ? error : strerror(-r)), 1;
        /* Once the bundle can be enrolled: a note about the view before the reason it is not started would mislead. */
        if (answer.meminfo)
                add_meminfo(a, config, ch.meminfo, policy ? policy : answer.policy);
        r = bundle_write(path, config, &st, &error);
        if (r < 0)
                return fprintf(err, PROGRAM ": %s: %s\n", path, error ? error : strerror(-r)), 1;
        return 0;
}

int main(int argc, char **argv) {
        const char *name = base_name(argc > 0 ? argv[0] : PROGRAM), *config_path;
        _cleanup_(ociwrap_config_done) struct ociwrap_config c = {0};
        _cleanup_(ociwrap_args_done) struct ociwrap_args a = {0};
        _cleanup_free_ char *error = NULL;
        struct ociwrap_choice ch;
        int r;

        r = ociwrap_parse_args(argc, argv, &a, &error);
        if (r < 0) {
                fprintf(stderr, PROGRAM ": %s (see %s --help)\n", error ? error : strerror(-r), name);
                return 2;
        }
        if (a.help) {
                help(name);
                return 0;
        }
        config_path = a.config ? a.config : OCIWRAP_CONFIG_DEFAULT;
        r = config_load(&a, &c, &error);
        if (r < 0) {
                fprintf(stderr, PROGRAM ": %s\n", error ? error : strerror(-r));
                return 1;
        }
        ociwrap_choose(&a, &c, name, getenv("COMMITD_OCI_SOCKET"), getenv("COMMITD_OCI_RUNTIME"), NULL,
                       COMMITD_OCI_SOCKET, &ch);
        if (a.version) {
                printf(PROGRAM " version %s (commitd agent socket %s)\n", COMMITD_VERSION, ch.socket);
                fflush(stdout);
        }
        if (a.command < a.n_rest && (streq(a.rest[a.command], "create") || streq(a.rest[a.command], "run"))) {
                _cleanup_free_ char *reason = NULL;
                size_t len = 0;
                FILE *err = open_memstream(&reason, &len);

                r = enroll(&a, &c, name, config_path, err ? err : stderr);
                if (err && fclose(err) != 0)
                        return 1;
                if (r != 0) {
                        report(&a, "error", reason ? reason : "");
                        return r;
                }
        }

        /* argv[0] is the runtime's name as given: runc and crun read nothing from it. */
        memmove(a.rest + 1, a.rest, (size_t) a.n_rest * sizeof(char *));
        a.rest[0] = (char *) ch.runtime;
        execvp(ch.runtime, a.rest);
        fprintf(stderr, PROGRAM ": cannot run %s (the real runtime, from %s): %m\n", ch.runtime,
                ociwrap_source_name(ch.runtime_from));
        return 127;
}
