/* SPDX-License-Identifier: MIT */
/* commitd-oci-runtime: an OCI runtime that enrolls every container it creates with commitd (SPEC 4), for
 * `podman --runtime`, Docker's `--add-runtime` and Kubernetes RuntimeClass. For `create` and `run` it adds
 * commitd's seccomp rules and listenerPath to the bundle's config.json (lib/ocispec.c); then, for every
 * command, it execs the real runtime with the arguments it was given.
 *
 *   COMMITD_OCI_RUNTIME  the real runtime (default "runc"), looked up in PATH
 *   COMMITD_OCI_SOCKET   commitd's agent socket (default COMMITD_OCI_SOCKET of the build)
 *
 * It runs with the runtime's privileges on a bundle its caller wrote: the config is size-limited and checked
 * field by field, and the profile it writes back never allows a call the bundle's profile refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "fileio.h"
#include "macro.h"
#include "ocispec.h"

#define PROGRAM          "commitd-oci-runtime"
#define CONFIG_MAX_BYTES (4u * 1024 * 1024) /* Docker's configs are tens of kB */

/* Global options of runc and crun that take a value as the next argument: the command is the first argument
 * that is neither an option nor such a value. */
static const char *const global_with_value[] = {
        "--root",      "-root",  "--log", "-log",       "--log-format", "-log-format",
        "--log-level", "--criu", "-criu", "--rootless", "-rootless",    "--cgroup-manager",
};

static bool in_list(const char *s, const char *const *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(s, list[i]))
                        return true;
        return false;
}

/* Index of the command in argv, or argc when there is none (`--version`). */
static int find_command(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                if (argv[i][0] != '-')
                        return i;
                if (!strchr(argv[i], '=') && in_list(argv[i], global_with_value, ELEMENTSOF(global_with_value)))
                        i++;
        }
        return argc;
}

/* The --bundle of create/run (urfave/cli and crun's argp both take "--bundle DIR", "--bundle=DIR", "-b DIR";
 * urfave/cli also "-bundle"). NULL: the current directory, as the runtimes default. */
static const char *find_bundle(int argc, char **argv, int command) {
        static const char *const names[] = {"--bundle", "-bundle", "-b"};

        for (int i = command + 1; i < argc; i++) {
                const char *eq = strchr(argv[i], '=');

                if (streq(argv[i], "--"))
                        break;
                if (in_list(argv[i], names, ELEMENTSOF(names)))
                        return i + 1 < argc ? argv[i + 1] : NULL;
                if (eq) {
                        for (size_t n = 0; n < ELEMENTSOF(names); n++)
                                if ((size_t) (eq - argv[i]) == strlen(names[n]) &&
                                    strncmp(argv[i], names[n], strlen(names[n])) == 0)
                                        return eq + 1;
                }
        }
        return NULL;
}

_printf_(3, 4) static int fail(char **ret_error, int error, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        if (vasprintf(ret_error, format, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return error;
}

/* Writes text to path through a temporary file in the same directory and rename(): the runtime reads the
 * old config or the new one, never a part. The new file keeps the old one's mode and, as root, its owner. */
static int write_atomic(const char *path, const char *text, const struct stat *old, char **ret_error) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = strlen(text), done = 0;
        const char *slash = strrchr(path, '/');
        int r = 0;

        if (asprintf(&tmp, "%.*s.config.json.commitd-XXXXXX", slash ? (int) (slash - path + 1) : 0, path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return fail(ret_error, -errno, "cannot create a file beside it: %m");
        if (fchmod(fd, old->st_mode & 07777) < 0 || (geteuid() == 0 && fchown(fd, old->st_uid, old->st_gid) < 0))
                r = -errno;
        while (r == 0 && done < len) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        done += (size_t) n;
        }
        if (r == 0 && (close(TAKE_FD(fd)) < 0 || rename(tmp, path) < 0))
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return fail(ret_error, r, "cannot write it: %s", strerror(-r));
        }
        return 0;
}

/* Reads, edits and writes back BUNDLE/config.json. On failure the file is untouched and *ret_error says why. */
static int enroll_bundle(const char *path, const char *socket, char **ret_error) {
        _cleanup_free_ char *buf = NULL, *text = NULL;
        json_auto_t *config = NULL;
        const char *policy = NULL;
        json_error_t jerr;
        struct stat st;
        size_t len;
        int r;

        r = fileio_read_full(path, CONFIG_MAX_BYTES, &buf, &len);
        if (r == -EFBIG)
                return fail(ret_error, r, "larger than %u bytes, more than a config.json may hold here",
                            CONFIG_MAX_BYTES);
        if (r < 0)
                return fail(ret_error, r, "%s", strerror(-r));
        if (stat(path, &st) < 0)
                return fail(ret_error, -errno, "%m");
        /* Duplicate keys would let the runtime read another value than the one edited here. */
        config = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!config)
                return fail(ret_error, -EINVAL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        r = ocispec_policy_annotation(config, &policy, ret_error);
        if (r >= 0)
                r = ocispec_add_commitd(config, socket, policy, ret_error);
        if (r < 0)
                return r;
        text = json_dumps(config, JSON_INDENT(2));
        if (!text)
                return -ENOMEM;
        return write_atomic(path, text, &st, ret_error);
}

int main(int argc, char **argv) {
        const char *runtime = getenv("COMMITD_OCI_RUNTIME"), *socket = getenv("COMMITD_OCI_SOCKET");
        int command = find_command(argc, argv);

        if (!runtime || !*runtime)
                runtime = "runc";
        if (!socket || !*socket)
                socket = COMMITD_OCI_SOCKET;

        if (command < argc && (streq(argv[command], "create") || streq(argv[command], "run"))) {
                const char *bundle = find_bundle(argc, argv, command);
                _cleanup_free_ char *path = NULL, *error = NULL;
                int r;

                if (asprintf(&path, "%s/config.json", bundle ? bundle : ".") < 0) {
                        fprintf(stderr, PROGRAM ": out of memory\n");
                        return 1;
                }
                r = enroll_bundle(path, socket, &error);
                if (r < 0) {
                        fprintf(stderr, PROGRAM ": %s: %s\n", path, error ? error : strerror(-r));
                        return 1;
                }
        }

        argv[0] = (char *) runtime;
        execvp(runtime, argv);
        fprintf(stderr, PROGRAM ": cannot run %s: %m\n", runtime);
        return 127;
}
