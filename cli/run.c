/* SPDX-License-Identifier: MIT */
/* commitctl run: enroll and exec. Installs commitd's seccomp filter on this process, hands the listener to
 * commitd with the enroll request, and execs the command, which inherits the filter (as do its children). With
 * --meminfo, first a mount namespace of its own with commitd-meminfo's view over /proc/meminfo. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include <seccomp.h>

#include "cgroupfs.h"
#include "client.h"
#include "filter.h"
#include "macro.h"
#include "meminfoview.h"
#include "verbs.h"

static void run_help(FILE *f) {
        fprintf(f, "Usage: commitctl run --cgroup PATH | --policy NAME [--meminfo [--meminfo-file FILE]] [--] CMD "
                   "[ARGS...]\n"
                   "\n"
                   "Enroll in commitd and exec CMD: every mmap/brk/mremap/mprotect/fork/clone of CMD and its\n"
                   "children is judged against the cgroup's commit budget. The exit status is CMD's.\n"
                   "\n"
                   "  --meminfo            CMD sees its budget in /proc/meminfo: commitd-meminfo's file bound over it\n"
                   "                       in a mount namespace of its own (root only)\n"
                   "  --meminfo-file FILE  commitd-meminfo's file (default " MEMINFO_VIEW_FILE_DEFAULT ")\n");
}

/* A mount namespace of this process's own whose /proc/meminfo is commitd-meminfo's file, read-only: what the
 * runtime wrapper's bind mount gives a container. The view answers each reader by its cgroup, so binding it before
 * the enrollment is enough. unshare(CLONE_NEWNS) needs CAP_SYS_ADMIN (EPERM otherwise): a tenant could have it
 * only in a user namespace of its own, which would change the uids the command runs with; not done here. */
static int meminfo_bind(const char *file) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = meminfo_view_check(file, &error);
        if (r < 0) {
                fprintf(stderr,
                        "commitctl run: --meminfo: %s: commitd-meminfo does not serve it (is it running? "
                        "commitd-meminfo(8); --meminfo-file names another file)\n",
                        error ? error : strerror(-r));
                return r;
        }
        if (unshare(CLONE_NEWNS) < 0) {
                r = -errno;
                if (r == -EPERM)
                        fprintf(stderr, "commitctl run: --meminfo needs a mount namespace of its own, which only root "
                                        "(CAP_SYS_ADMIN) can make; as a tenant, run without it (a container engine "
                                        "through commitd-oci-runtime binds the view for its containers)\n");
                else
                        fprintf(stderr, "commitctl run: --meminfo: unshare(CLONE_NEWNS): %s\n", strerror(-r));
                return r;
        }
        /* Private first: on a host whose / is shared (systemd's default) the bind would otherwise propagate back to
         * the host's namespace and cover every process's /proc/meminfo. */
        if (mount("", "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0 ||
            mount(file, "/proc/meminfo", NULL, MS_BIND, NULL) < 0 ||
            mount(NULL, "/proc/meminfo", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
                r = -errno;
                fprintf(stderr, "commitctl run: --meminfo: cannot bind %s over /proc/meminfo: %s\n", file,
                        strerror(-r));
                return r;
        }
        return 0;
}

int verb_run(int argc, char **argv, const struct global_options *g) {
        static const struct option options[] = {
                {"cgroup", required_argument, NULL, 'c'}, {"policy", required_argument, NULL, 'p'},
                {"meminfo", no_argument, NULL, 'm'},      {"meminfo-file", required_argument, NULL, 'M'},
                {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
        };
        static const char refused[] = "commitctl run: commitd refused the enrollment; its reply could not be "
                                      "read (see `commitctl events` and commitd's log)\n";
        _cleanup_free_ char *cgroup = NULL, *buf = NULL, *error = NULL;
        const char *policy = NULL, *meminfo = NULL;
        scmp_filter_ctx ctx = NULL;
        _cleanup_close_ int sock = -1;
        json_t *params, *result = NULL;
        int c, r, listener;
        int64_t id;
        size_t len;

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        free(cgroup);
                        cgroup = NULL;
                        if (cgroupfs_path_normalize(optarg, &cgroup) < 0) {
                                fprintf(stderr, "commitctl run: --cgroup %s: not a cgroup path (like tenants/a)\n",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'p':
                        policy = optarg;
                        break;
                case 'm':
                        if (!meminfo)
                                meminfo = MEMINFO_VIEW_FILE_DEFAULT;
                        break;
                case 'M':
                        meminfo = optarg;
                        break;
                case 'h':
                        run_help(stdout);
                        return EXIT_OK;
                default:
                        run_help(stderr);
                        return EXIT_USAGE;
                }
        }
        if (!!cgroup == !!policy || optind >= argc) {
                fprintf(stderr, "commitctl run: give exactly one of --cgroup PATH and --policy NAME, then the "
                                "command (commitctl run --cgroup tenants/a -- CMD ARGS...)\n");
                return EXIT_USAGE;
        }

        /* Before the enrollment: a refusal here leaves nothing enrolled. */
        if (meminfo && meminfo_bind(meminfo) < 0)
                return EXIT_FAILURE_;
        r = client_connect(g->socket, &sock);
        if (r < 0) {
                fprintf(stderr, "commitctl run: %s\n", client_connect_error(g->socket, r));
                return EXIT_FAILURE_;
        }
        params = cgroup ? json_pack("{s:s}", "cgroup", cgroup) : json_pack("{s:s}", "policy", policy);
        r = client_prepare("enroll", params, &buf, &len, &id);
        if (r >= 0)
                r = filter_build(&ctx);
        if (r < 0) {
                fprintf(stderr, "commitctl run: cannot prepare the enrollment: %s\n", strerror(-r));
                return EXIT_FAILURE_;
        }
        r = filter_load(ctx, &listener);
        if (r < 0) {
                fprintf(stderr, "commitctl run: cannot install the seccomp filter: %s\n", strerror(-r));
                seccomp_release(ctx);
                return EXIT_FAILURE_;
        }
        /* From here until commitd replies, nobody answers this process's notified calls: no allocation, no
         * free (either may call brk or mmap). The message was serialized above; sendmsg() allocates nothing. */
        r = client_send_raw_with_fd(sock, buf, len, listener);
        /* Our copy of the listener must not survive exec: the command could answer its own calls. And if
         * commitd refuses and closes its copy, the kernel then fails our calls with ENOSYS instead of hanging. */
        close(listener);
        if (r < 0) {
                static const char msg[] = "commitctl run: cannot send the enrollment to commitd\n";
                (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
                _exit(EXIT_FAILURE_);
        }
        r = client_recv_reply(sock, id, &result, &error);
        if (r == -EREMOTE) {
                fprintf(stderr, "commitctl run: %s\n", error);
                _exit(EXIT_FAILURE_);
        }
        if (r < 0) {
                (void) !write(STDERR_FILENO, refused, sizeof(refused) - 1);
                _exit(EXIT_FAILURE_);
        }
        json_decref(result);
        seccomp_release(ctx);
        close(TAKE_FD(sock));

        execvp(argv[optind], argv + optind);
        r = errno;
        fprintf(stderr, "commitctl run: cannot execute %s: %s\n", argv[optind], strerror(r));
        return r == ENOENT ? 127 : 126;
}
