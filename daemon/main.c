/* SPDX-License-Identifier: MIT */
/* commitd: per-cgroup memory commit budgets. Holds the seccomp listeners of enrolled processes, judges their
 * calls, serves the control socket. Runs in the foreground (systemd runs it so; --foreground says it). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "caps.h"
#include "config.h"
#include "dispatch.h"
#include "events.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "oci.h"
#include "server.h"
#include "sysv.h"
#include "units.h"

#define UPKEEP_SEC 2 /* default --upkeep-interval */

struct options {
        const char *socket, *policy_dir, *state_dir, *cgroup_root, *group, *read_group, *oci_socket,
                *oci_default_policy;
        const char *oci_cgroup;
        const char *keeper_socket;
        mode_t socket_mode;
        unsigned upkeep_sec;
};

static void help(FILE *f) {
        fprintf(f, "Usage: commitd [--foreground] [OPTIONS]\n"
                   "\n"
                   "Per-cgroup memory commit budgets: the daemon. See commitd(8).\n"
                   "\n"
                   "  --foreground         stay in the foreground (the only way commitd runs; for clarity)\n"
                   "  --socket PATH        control socket (default " COMMITD_SOCKET ")\n"
                   "  --policy-dir DIR     policy files (default " COMMITD_POLICY_DIR ")\n"
                   "  --state-dir DIR      live changes and state (default " COMMITD_STATE_DIR ")\n"
                   "  --cgroup-root DIR    the cgroup v2 mount (default: found in /proc/self/mountinfo)\n"
                   "  --group NAME         members may change budgets (default: root only)\n"
                   "  --read-group NAME    members may read every budget, event and metric, and change nothing\n"
                   "  --socket-mode MODE   0660 (default) or 0666 to let tenants read their own cgroups\n"
                   "  --oci-socket PATH    OCI seccomp agent socket (default " COMMITD_OCI_SOCKET ")\n"
                   "  --oci-default-policy NAME   policy of containers that name none (default: refuse them)\n"
                   "  --oci-cgroup CGROUP  where a container in `/` gets a cgroup of its own\n"
                   "                       (default: commitd-containers below commitd's own cgroup)\n"
                   "  --keeper-socket PATH the keeper holding the listeners across restarts (default: the control\n"
                   "                       socket's name with .keeper.sock; started when none answers there)\n"
                   "  --upkeep-interval SEC   forget exited processes and re-measure grown ledgers every SEC\n"
                   "                       seconds (default 2)\n"
                   "  --log-level LEVEL    err, warning, notice, info or debug (default info)\n"
                   "  --version            print the version\n");
}

static void on_signal(struct loop_source *s, uint32_t events, void *userdata) {
        struct daemon *d = userdata;
        struct signalfd_siginfo si;
        (void) events;

        if (read(loop_source_fd(s), &si, sizeof(si)) != sizeof(si))
                return;
        if (si.ssi_signo == SIGHUP) {
                json_t *errors = json_array();
                (void) dispatch_reload(d, errors, "SIGHUP");
                json_decref(errors);
                return;
        }
        log_info("signal %d: stopping; the keeper holds the listeners, enrolled processes wait for the next commitd",
                 (int) si.ssi_signo);
        loop_quit(d->loop);
}

static void on_timer(struct loop_source *s, uint32_t events, void *userdata) {
        struct daemon *d = userdata;
        uint64_t ticks;
        (void) events;

        if (read(loop_source_fd(s), &ticks, sizeof(ticks)) != sizeof(ticks))
                return;
        notify_upkeep(d);
        server_upkeep(d);
}

static int add_signals(struct daemon *d) {
        sigset_t mask;
        int fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        signal(SIGPIPE, SIG_IGN);
        fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        return loop_add(d->loop, fd, EPOLLIN, on_signal, d, NULL);
}

static int add_timer(struct daemon *d, unsigned seconds) {
        struct itimerspec its = {.it_interval = {seconds, 0}, .it_value = {seconds, 0}};
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

        if (fd < 0)
                return -errno;
        if (timerfd_settime(fd, 0, &its, NULL) < 0) {
                close(fd);
                return -errno;
        }
        return loop_add(d->loop, fd, EPOLLIN, on_timer, d, NULL);
}

static int mkdir_parent(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;

        if (!dir)
                return -ENOMEM;
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* commitd-keeper is installed beside commitd (and built beside it): its path, or NULL. */
static char *keeper_binary_path(void) {
        _cleanup_free_ char *self = realpath("/proc/self/exe", NULL);
        char *slash = self ? strrchr(self, '/') : NULL, *r;

        if (!slash)
                return NULL;
        *slash = '\0';
        return asprintf(&r, "%s/commitd-keeper", self) < 0 ? NULL : r;
}

/* The default keeper socket: beside the control socket, named after it (commitd.sock: commitd.keeper.sock),
 * so that every commitd has its own keeper. */
static char *keeper_socket_of(const char *control_socket) {
        size_t n = strlen(control_socket);
        char *r;

        if (n > 5 && streq(control_socket + n - 5, ".sock"))
                n -= 5;
        return asprintf(&r, "%.*s.keeper.sock", (int) n, control_socket) < 0 ? NULL : r;
}

/* A listener is a descriptor and a thread: let the number of enrolled cgroups reach the hard limit. */
static void raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

/* The command line into *o. Returns -1 to go on, else the exit status (0 for --help and --version). */
static int parse_options(int argc, char **argv, struct options *o) {
        static const struct option long_options[] = {
                {"foreground", no_argument, NULL, 'f'},
                {"socket", required_argument, NULL, 's'},
                {"policy-dir", required_argument, NULL, 'p'},
                {"state-dir", required_argument, NULL, 'S'},
                {"cgroup-root", required_argument, NULL, 'c'},
                {"group", required_argument, NULL, 'g'},
                {"read-group", required_argument, NULL, 'R'},
                {"log-level", required_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {"oci-socket", required_argument, NULL, 'o'},
                {"oci-default-policy", required_argument, NULL, 'D'},
                {"oci-cgroup", required_argument, NULL, 'C'},
                {"keeper-socket", required_argument, NULL, 'k'},
                {"socket-mode", required_argument, NULL, 'm'},
                {"upkeep-interval", required_argument, NULL, 'u'},
                {NULL, 0, NULL, 0},
        };
        int c, r;

        *o = (struct options){
                .socket = COMMITD_SOCKET,
                .policy_dir = COMMITD_POLICY_DIR,
                .state_dir = COMMITD_STATE_DIR,
                .oci_socket = COMMITD_OCI_SOCKET,
                .socket_mode = 0660,
                .upkeep_sec = UPKEEP_SEC,
        };
        while ((c = getopt_long(argc, argv, "h", long_options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        break;
                case 's':
                        o->socket = optarg;
                        break;
                case 'p':
                        o->policy_dir = optarg;
                        break;
                case 'S':
                        o->state_dir = optarg;
                        break;
                case 'c':
                        o->cgroup_root = optarg;
                        break;
                case 'g':
                        o->group = optarg;
                        break;
                case 'R':
                        o->read_group = optarg;
                        break;
                case 'o':
                        o->oci_socket = optarg;
                        break;
                case 'D':
                        o->oci_default_policy = optarg;
                        break;
                case 'C':
                        o->oci_cgroup = optarg;
                        break;
                case 'k':
                        o->keeper_socket = optarg;
                        break;
                case 'u': {
                        uint64_t v;
                        if (units_parse_count(optarg, 1, 3600, &v) < 0) {
                                fprintf(stderr, "commitd: --upkeep-interval takes whole seconds from 1 to 3600\n");
                                return 2;
                        }
                        o->upkeep_sec = (unsigned) v;
                        break;
                }
                case 'm':
                        if (!streq(optarg, "0660") && !streq(optarg, "0666")) {
                                fprintf(stderr, "commitd: --socket-mode takes 0660 or 0666\n");
                                return 2;
                        }
                        o->socket_mode = streq(optarg, "0666") ? 0666 : 0660;
                        break;
                case 'l':
                        r = log_parse_level(optarg);
                        if (r < 0) {
                                fprintf(stderr, "commitd: --log-level takes err, warning, notice, info or debug\n");
                                return 2;
                        }
                        log_max_priority = r;
                        break;
                case 'h':
                        help(stdout);
                        return 0;
                case 'V':
                        printf("commitd " COMMITD_VERSION "\n");
                        return 0;
                default:
                        help(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "commitd: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        return -1;
}

/* The gid of group name (the value of option) into *ret; name NULL leaves *ret alone. False, said on stderr, when
 * there is no such group. */
static bool group_gid(const char *option, const char *name, gid_t *ret) {
        struct group *g;

        if (!name)
                return true;
        g = getgrnam(name);
        if (!g) {
                fprintf(stderr, "commitd: %s %s: no such group (create it with groupadd)\n", option, name);
                return false;
        }
        *ret = g->gr_gid;
        return true;
}

/* Setup, the loop, and the end: the daemon of options o. Returns the exit status. */
static int run(const struct options *opts) {
        struct options o = *opts; /* the keeper's socket is filled in below */
        struct daemon d = {.admin_gid = (gid_t) -1, .read_gid = (gid_t) -1};
        _cleanup_free_ char *keeper_socket = NULL, *keeper_binary = NULL;
        const char *missing = NULL;
        int r;

        if (geteuid() != 0) {
                fprintf(stderr, "commitd: must run as root: it moves processes between cgroups and reads every "
                                "enrolled process's /proc/PID/smaps\n");
                return 1;
        }
        r = caps_check(o.group || o.read_group, &missing);
        if (r < 0) {
                fprintf(stderr,
                        "commitd: needs %s%s (see commitd(8), CAPABILITIES); run it as root with full capabilities, "
                        "or list it in the unit's CapabilityBoundingSet=\n",
                        missing ? missing : "its capabilities", missing ? "" : strerror(-r));
                return 1;
        }
        if (!group_gid("--group", o.group, &d.admin_gid) || !group_gid("--read-group", o.read_group, &d.read_gid))
                return 2;

        d.page_size = (uint64_t) sysconf(_SC_PAGESIZE);
        pthread_mutex_init(&d.lock, NULL);
        pthread_cond_init(&d.measured, NULL);
        pthread_cond_init(&d.read_done, NULL);
        pthread_attr_init(&d.thread_attr);
        pthread_attr_setstacksize(&d.thread_attr, 256 * 1024);
        r = notify_init(&d);
        if (r < 0) {
                log_error("cannot set up seccomp notifications: %s", strerror(-r));
                return 1;
        }
        r = cgroup_root_discover(o.cgroup_root, &d.root);
        if (r < 0) {
                log_error("no cgroup2 hierarchy found in /proc/self/mountinfo (%s); mount one or pass --cgroup-root",
                          strerror(-r));
                return 1;
        }
        d.ipc_ns = sysv_ipc_ns();
        r = measure_ctx_init(&d.measure, "/proc");
        if (r < 0) {
                log_error("cannot find the shm mount's device with memfd_create(): %s", strerror(-r));
                return 1;
        }
        /* Loaded now, while commitd has CAP_BPF and CAP_PERFMON; it attaches without them later. */
        r = vmaiter_open(&d.vmaiter);
        if (r < 0)
                log_notice("measuring with /proc/PID/smaps only: the BPF task_vma iterator does not load here (%s)",
                           strerror(-r));
        else {
                d.measure.areas = vmaiter_areas;
                d.measure.areas_data = d.vmaiter;
                log_info("measuring areas with the BPF task_vma iterator, /proc/PID/smaps where shmem is mapped");
        }
        d.measure_private = d.measure;
        d.measure_private.private_only = true;
        d.budgets = (struct budgets){.root = &d.root,
                                     .policy_dir = o.policy_dir,
                                     .state_dir = o.state_dir,
                                     .page_size = d.page_size,
                                     .measure = &d.measure};
        r = loop_new(&d.loop);
        if (r >= 0) {
                loop_set_lock(d.loop, &d.lock, &d.lock_waiters);
                r = add_signals(&d);
        }
        if (r >= 0)
                r = add_timer(&d, o.upkeep_sec);
        if (r >= 0)
                r = events_start(&d.events, d.loop);
        if (r < 0) {
                log_error("cannot set up the event loop: %s", strerror(-r));
                return 1;
        }
        r = budgets_load(&d.budgets, NULL);
        if (r < 0) {
                log_error("cannot read the policy directory %s: %s", o.policy_dir, strerror(-r));
                return 1;
        }
        log_info("%d policies loaded from %s and %s/policies", r, o.policy_dir, o.state_dir);
        raise_fd_limit();
        r = mkdir_parent(o.socket);
        if (r >= 0)
                r = server_start(&d, o.socket, o.socket_mode);
        if (r < 0) {
                log_error("cannot serve %s: %s%s", o.socket, strerror(-r),
                          r == -EADDRINUSE ? " (another commitd answers there; stop it or pick --socket)" : "");
                return 1;
        }
        r = mkdir_parent(o.oci_socket);
        if (r >= 0)
                r = oci_start(&d, o.oci_socket, o.oci_default_policy);
        if (r < 0) {
                log_error("cannot serve the OCI agent socket %s: %s", o.oci_socket, strerror(-r));
                return 1;
        }
        /* Bound, not served yet: the loop answers nobody before the listeners of the last commitd are back. */
        if (!o.keeper_socket && !(keeper_socket = keeper_socket_of(o.socket)))
                return 1;
        if (!(keeper_binary = keeper_binary_path()))
                return 1;
        o.keeper_socket = o.keeper_socket ? o.keeper_socket : keeper_socket;
        r = mkdir_parent(o.keeper_socket);
        if (r >= 0) {
                pthread_mutex_lock(&d.lock); /* its measures let go of it while they read /proc */
                r = notify_recover(&d, o.keeper_socket, keeper_binary);
                pthread_mutex_unlock(&d.lock);
        }
        if (r < 0) {
                log_error("cannot set up the in-flight table: %s", strerror(-r));
                return 1;
        }
        r = container_setup(&d, o.oci_cgroup);
        if (r < 0) {
                log_error("cannot place containers' own cgroups (--oci-cgroup %s): %s",
                          o.oci_cgroup ? o.oci_cgroup : "unset", strerror(-r));
                return 1;
        }
        /* Setup is over: the sockets are bound and handed to their group, the keeper is started. */
        r = caps_drop_to_runtime();
        if (r < 0) {
                log_error("cannot drop capabilities: %s", strerror(-r));
                return 1;
        }
        log_info("commitd " COMMITD_VERSION " serving %s and %s (OCI), cgroup2 at %s; capabilities kept: "
                 "cap_sys_ptrace, cap_dac_override, cap_checkpoint_restore",
                 o.socket, o.oci_socket, d.root.v2_mount);

        r = notify_remeasure_start(&d);
        if (r < 0) {
                log_error("cannot start the measure thread: %s", strerror(-r));
                return 1;
        }
        r = loop_run(d.loop);
        if (r < 0)
                log_error("event loop failed: %s", strerror(-r));
        notify_remeasure_stop(&d);
        pthread_mutex_lock(&d.lock);
        events_stop(&d.events, d.loop);
        server_stop(&d);
        oci_stop(&d);
        notify_free(&d);
        container_teardown(&d);
        pthread_mutex_unlock(&d.lock);
        budgets_free(&d.budgets);
        vmaiter_close(d.vmaiter);
        cgroup_root_done(&d.root);
        loop_free(d.loop);
        return r < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        struct options o;
        int r = parse_options(argc, argv, &o);

        return r >= 0 ? r : run(&o);
}
