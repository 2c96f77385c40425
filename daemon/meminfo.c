/* SPDX-License-Identifier: MIT */
/* commitd-meminfo: a FUSE filesystem holding one file, `meminfo`, that shows each reader the host's /proc/meminfo
 * with its budget's CommitLimit and Committed_AS (and its memory cgroup's limit in the memory and swap lines),
 * for commitd-oci-runtime and `commitctl run --meminfo` to bind-mount over /proc/meminfo (commitd-meminfo(8)).
 *
 * It is a program of its own with the least privilege it can have: root only to mount (allow_other), then every
 * capability dropped, no_new_privs, and with --user a user of commitd's read group (--read-group), since it only
 * reads `status`. A reader never waits on commitd: a thread asks for every budget each --interval and the
 * handlers serve the last answer (the host's file to a reader no known budget covers). */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <linux/magic.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <fuse.h>
#include <jansson.h>

#include "caps.h"
#include "cgroupfs.h"
#include "client.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "meminfoview.h"
#include "units.h"

#define PROGRAM           "commitd-meminfo"
#define MOUNT_DEFAULT     MEMINFO_VIEW_MOUNT_DEFAULT
#define FILE_NAME         MEMINFO_VIEW_FILE_NAME
#define HOST_MEMINFO      "/proc/meminfo"
#define MEMINFO_MAX_BYTES (64u * 1024)
#define CALL_TIMEOUT_S    5   /* a commitd that does not answer costs the refresh thread this, never a reader */
#define MISS_WAIT_MS      500 /* the most a reader no known budget covers waits for a fresh answer */

/* The last budgets commitd reported: every entry of `status`, swapped whole under lock. */
struct levels {
        struct meminfo_level *v;
        size_t n;
        json_t *status; /* owns the strings v points at */
};

struct view {
        const char *socket, *mount_dir, *user;
        unsigned interval_s;
        struct cgroup_mounts mounts;
        pthread_mutex_t lock;
        pthread_cond_t kick, fetched; /* a miss wakes the refresh thread; it wakes the missed readers */
        struct levels levels;         /* guarded by lock */
        bool answering;               /* guarded by lock: the last fetch got an answer */
        bool kicked;                  /* guarded by lock */
        uint64_t begun, done;         /* guarded by lock: fetches begun, the last one done */
};

static void levels_done(struct levels *l) {
        free(l->v);
        json_decref(l->status);
        *l = (struct levels){0};
}

/* Every budget of commitd's `status`, every page joined (docs/protocol.md). */
static int levels_fetch(const char *socket, struct levels *ret, char **ret_error) {
        _cleanup_close_ int fd = -1;
        struct levels l = {0};
        const json_t *all, *c;
        size_t i;
        int r;

        r = client_connect(socket, &fd);
        if (r < 0) {
                *ret_error = strdup(client_connect_error(socket, r));
                return r;
        }
        r = client_call_paged_fd(fd, "status", "cgroups", CALL_TIMEOUT_S, &l.status, ret_error);
        if (r < 0)
                return r;
        all = json_object_get(l.status, "cgroups");
        l.v = calloc(json_array_size(all) + 1, sizeof(*l.v));
        if (!l.v) {
                levels_done(&l);
                return -ENOMEM;
        }
        json_array_foreach(all, i, c) {
                l.v[l.n++] = (struct meminfo_level){
                        .cgroup = json_string_value(json_object_get(c, "cgroup")),
                        .has_policy = json_is_string(json_object_get(c, "policy")),
                        .commit_limit_bytes = (uint64_t) json_integer_value(json_object_get(c, "commit_limit_bytes")),
                        .committed_bytes = (uint64_t) json_integer_value(json_object_get(c, "committed_bytes")),
                };
        }
        *ret = l;
        return 0;
}

/* The refresh thread: asks commitd each interval, keeps the last answer when it cannot (commitd restarting), and
 * says so once per change. */
static void *refresh(void *userdata) {
        struct view *v = userdata;
        bool was_up = true;

        for (;;) {
                _cleanup_free_ char *error = NULL;
                struct levels l = {0}, old;
                uint64_t fetch;
                int r;

                pthread_mutex_lock(&v->lock);
                fetch = ++v->begun;
                pthread_mutex_unlock(&v->lock);
                r = levels_fetch(v->socket, &l, &error);

                if (r >= 0) {
                        pthread_mutex_lock(&v->lock);
                        old = v->levels;
                        v->levels = l;
                        v->answering = true;
                        pthread_mutex_unlock(&v->lock);
                        levels_done(&old);
                        if (!was_up)
                                log_notice(PROGRAM ": commitd at %s answers again", v->socket);
                        was_up = true;
                } else if (was_up) {
                        log_warning(PROGRAM ": cannot read the budgets from commitd at %s (%s); readers get the last "
                                            "numbers known%s",
                                    v->socket, error ? error : strerror(-r),
                                    v->levels.status ? "" : " (none yet: the host's file)");
                        was_up = false;
                }
                pthread_mutex_lock(&v->lock);
                if (r < 0)
                        v->answering = false;
                v->done = fetch;
                pthread_cond_broadcast(&v->fetched);
                if (!v->kicked) {
                        struct timespec until;

                        clock_gettime(CLOCK_MONOTONIC, &until);
                        until.tv_sec += v->interval_s;
                        while (!v->kicked && pthread_cond_timedwait(&v->kick, &v->lock, &until) == 0)
                                ;
                }
                v->kicked = false;
                pthread_mutex_unlock(&v->lock);
        }
        return NULL;
}

/* The tightest memory (or swap) limit of dir and its ancestors up to the hierarchy's mount point top, from the
 * file name in each (hierarchical limits: the kernel charges every ancestor, mem_cgroup_charge()); dir's own in
 * *ret_own (may be NULL; 0 when missing or unlimited, as read_value() says). */
static uint64_t tightest_limit(const char *top, char *dir, const char *name, uint64_t *ret_own) {
        uint64_t best = CGROUPFS_UNLIMITED;
        size_t top_len = strlen(top);

        if (ret_own)
                *ret_own = 0;
        for (bool own = true;; own = false) {
                _cleanup_free_ char *path = NULL;
                uint64_t limit;
                char *slash;

                if (asprintf(&path, "%s/%s", dir, name) >= 0 && cgroupfs_read_limit(path, &limit) == 0) {
                        best = MIN(best, limit);
                        if (own && ret_own && limit != CGROUPFS_UNLIMITED)
                                *ret_own = limit;
                }
                slash = strrchr(dir, '/');
                if (strlen(dir) <= top_len || !slash || slash < dir + top_len)
                        return best;
                *slash = '\0';
        }
}

/* A usage file (memory.current, memory.usage_in_bytes, ...): a byte count, as a limit file holds; 0 when missing. */
static uint64_t read_value(const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL;
        uint64_t value = 0;

        if (asprintf(&path, "%s/%s", dir, name) < 0 || cgroupfs_read_limit(path, &value) < 0 ||
            value == CGROUPFS_UNLIMITED)
                return 0;
        return value;
}

/* The memory cgroup's numbers for the view: the v1 memory hierarchy on a hybrid host (SPEC 6), else v2. */
static void memory_numbers(const struct view *v, const struct proc_cgroup *pc, struct meminfo_view *ret) {
        const struct cgroup_mounts *m = &v->mounts;
        bool v1 = m->v1_memory_mount && pc->v1_memory_path;
        const char *mount = v1 ? m->v1_memory_mount : m->v2_mount, *path = v1 ? pc->v1_memory_path : pc->v2_path;
        _cleanup_free_ char *dir = NULL, *walk = NULL;
        struct memory_stat st = {0};
        _cleanup_free_ char *stat_path = NULL;
        uint64_t own = 0;

        if (!mount || !path || asprintf(&dir, "%s%s", mount, streq(path, "/") ? "" : path) < 0)
                return;
        if (!(walk = strdup(dir)))
                return;
        ret->mem_limit_bytes = tightest_limit(mount, walk, v1 ? "memory.limit_in_bytes" : "memory.max", &own);
        ret->mem_usage_bytes = read_value(dir, v1 ? "memory.usage_in_bytes" : "memory.current");
        if (asprintf(&stat_path, "%s/memory.stat", dir) >= 0 && cgroupfs_read_memory_stat(stat_path, &st) == 0)
                ret->mem_file_bytes = st.file_bytes;
        if (v1) {
                /* v1 limits memory + swap together; the swap part is what memsw adds to the cgroup's own limit. */
                uint64_t memsw = read_value(dir, "memory.memsw.limit_in_bytes");

                if (memsw > 0 && memsw < (UINT64_C(1) << 62) && memsw >= own) {
                        ret->swap_limit_bytes = memsw - own;
                        ret->swap_usage_bytes = read_value(dir, "memory.memsw.usage_in_bytes");
                        ret->swap_usage_bytes = ret->swap_usage_bytes > ret->mem_usage_bytes
                                                        ? ret->swap_usage_bytes - ret->mem_usage_bytes
                                                        : 0;
                }
        } else {
                free(walk);
                if (!(walk = strdup(dir)))
                        return;
                ret->swap_limit_bytes = tightest_limit(mount, walk, "memory.swap.max", NULL);
                ret->swap_usage_bytes = read_value(dir, "memory.swap.current");
        }
}

/* The text one reader sees: pid is the reader's thread in this process's pid namespace (fuse_get_context()). */
static int view_text(struct view *v, pid_t pid, char **ret) {
        _cleanup_(proc_cgroup_done) struct proc_cgroup pc = {0};
        _cleanup_free_ char *host = NULL, *path = NULL;
        struct meminfo_view mv = {.mem_limit_bytes = CGROUPFS_UNLIMITED, .swap_limit_bytes = CGROUPFS_UNLIMITED};
        bool waited = false;
        int r;

        r = fileio_read_full(HOST_MEMINFO, MEMINFO_MAX_BYTES, &host, NULL);
        if (r < 0)
                return r;
        /* A reader gone, or one whose cgroup is unknown: the host's file, as without the view. */
        if (asprintf(&path, "/proc/%d/cgroup", (int) pid) < 0)
                return -ENOMEM;
        if (cgroupfs_read_proc_cgroup(path, &pc) < 0 || !pc.v2_path) {
                *ret = TAKE_PTR(host);
                return 0;
        }
        pthread_mutex_lock(&v->lock);
        r = meminfo_view_pick(v->levels.v, v->levels.n, pc.v2_path);
        if (r < 0 && v->answering) {
                /* A container's first reads come right after its enrollment, before the next refresh: one answer
                 * asked for now, waited for a bounded time. A reader outside every budget costs one status call.
                 * Not while commitd does not answer: every reader waits in line on fuse_loop()'s one thread, and
                 * a wait per reader for an answer that will not come would add up. */
                uint64_t want = v->begun + 1; /* the answer to a fetch begun after this miss */
                struct timespec until;

                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_nsec += MISS_WAIT_MS * 1000000L;
                until.tv_sec += until.tv_nsec / 1000000000L;
                until.tv_nsec %= 1000000000L;
                v->kicked = true;
                pthread_cond_signal(&v->kick);
                while (v->done < want && pthread_cond_timedwait(&v->fetched, &v->lock, &until) == 0)
                        ;
                r = meminfo_view_pick(v->levels.v, v->levels.n, pc.v2_path);
                waited = true;
        }
        if (r >= 0) {
                mv.has_commit = true;
                mv.commit_limit_bytes = v->levels.v[r].commit_limit_bytes;
                mv.committed_bytes = v->levels.v[r].committed_bytes;
        }
        pthread_mutex_unlock(&v->lock);
        if (waited)
                log_debug(PROGRAM ": a reader in %s, in no budget known, waited for commitd's answer: %s", pc.v2_path,
                          r >= 0 ? "its budget" : "still none, the host's file");
        if (r < 0) {
                *ret = TAKE_PTR(host);
                return 0;
        }
        memory_numbers(v, &pc, &mv);
        return meminfo_view_render(host, &mv, ret);
}

static struct view *view_of_context(void) {
        return fuse_get_context()->private_data;
}

/* One open file: the text made at open, made again by a read at offset 0 (a reader that seeks back and reads
 * again, like `free -s` or top, gets fresh numbers, as from procfs). */
struct handle {
        char *text;
        size_t len;
        bool fresh; /* made at open and not read yet: the first read at offset 0 need not make it again */
};

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
        (void) fi;
        memset(st, 0, sizeof(*st));
        if (streq(path, "/")) {
                st->st_mode = S_IFDIR | 0555;
                st->st_nlink = 2;
        } else if (streq(path, "/" FILE_NAME)) {
                st->st_mode = S_IFREG | 0444; /* size 0, as procfs says: readers read to EOF */
                st->st_nlink = 1;
        } else
                return -ENOENT;
        return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags) {
        (void) off, (void) fi, (void) flags;
        if (!streq(path, "/"))
                return -ENOTDIR;
        fill(buf, ".", NULL, 0, 0);
        fill(buf, "..", NULL, 0, 0);
        fill(buf, FILE_NAME, NULL, 0, 0);
        return 0;
}

static int handle_fill(struct handle *h) {
        char *text = NULL;
        int r = view_text(view_of_context(), fuse_get_context()->pid, &text);

        if (r < 0)
                return r;
        free(h->text);
        h->text = text;
        h->len = strlen(text);
        h->fresh = true;
        return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi) {
        struct handle *h;
        int r;

        if (!streq(path, "/" FILE_NAME))
                return -ENOENT;
        if ((fi->flags & O_ACCMODE) != O_RDONLY)
                return -EACCES;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        r = handle_fill(h);
        if (r < 0) {
                free(h);
                return r == -ENOMEM ? r : -EIO;
        }
        /* direct_io: the kernel asks for every read and never trusts the size (0) or a cache of another reader's
         * text. */
        fi->direct_io = 1;
        fi->keep_cache = 0;
        fi->fh = (uint64_t) (uintptr_t) h;
        return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
        struct handle *h = (struct handle *) (uintptr_t) fi->fh;

        (void) path;
        /* cat opens then reads at once: one text for both, so a reader in no budget asks commitd once, not twice */
        if (off == 0 && !h->fresh && handle_fill(h) < 0)
                return -EIO;
        h->fresh = false;
        if (off < 0 || (size_t) off >= h->len)
                return 0;
        size = MIN(size, h->len - (size_t) off);
        memcpy(buf, h->text + off, size);
        return (int) size;
}

static int fs_release(const char *path, struct fuse_file_info *fi) {
        struct handle *h = (struct handle *) (uintptr_t) fi->fh;

        (void) path;
        if (h)
                free(h->text);
        free(h);
        return 0;
}

static const struct fuse_operations operations = {
        .getattr = fs_getattr,
        .readdir = fs_readdir,
        .open = fs_open,
        .read = fs_read,
        .release = fs_release,
};

/* A mount left at dir by a commitd-meminfo that died answers ENOTCONN: detached, so the new one can mount there.
 * A live one (another instance) is refused. */
static int clear_mount_point(const char *dir) {
        struct statfs sf;

        if (statfs(dir, &sf) == 0) {
                if (sf.f_type == FUSE_SUPER_MAGIC)
                        return log_error(PROGRAM ": %s is served already (another " PROGRAM "?)", dir), -EBUSY;
                return 0;
        }
        if (errno == ENOTCONN) {
                /* umount2(MNT_DETACH) of the dead mount: its readers already get ENOTCONN; nothing is lost. */
                if (umount2(dir, MNT_DETACH) < 0)
                        return log_error(PROGRAM ": cannot detach the dead mount at %s: %m", dir), -errno;
                log_notice(PROGRAM ": detached the dead mount at %s", dir);
                return 0;
        }
        if (errno == ENOENT && mkdir(dir, 0755) == 0)
                return 0;
        return log_error(PROGRAM ": %s: %m", dir), -errno;
}

/* Everything given up once mounted: a user of its own (the read group gives it every budget's status), no
 * capability, no way back. The order matters: the bounding set needs CAP_SETPCAP, which setuid() away from root
 * clears; setgroups() and setgid() need CAP_SETGID, so they come before setuid(); setuid() as root sets the real,
 * effective and saved uid alike, so no uid 0 is left to return to; no_new_privs keeps execve() from granting any. */
static int drop_privileges(const char *user) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_error(PROGRAM ": no_new_privs: %m"), -errno;
        if (caps_drop_bounding() < 0)
                return log_error(PROGRAM ": cannot empty the capability bounding set: %m"), -errno;
        if (user) {
                struct passwd *pw = getpwnam(user);

                if (!pw)
                        return log_error(PROGRAM ": no user %s", user), -ENOENT;
                if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                        return log_error(PROGRAM ": cannot become %s: %m", user), -errno;
        }
        if (caps_drop_all() < 0)
                return log_error(PROGRAM ": cannot drop capabilities: %m"), -errno;
        return 0;
}

static void help(void) {
        printf("Usage: " PROGRAM " [--mount DIR] [--socket PATH] [--interval SECONDS] [--user USER]\n"
               "       [--log-level LEVEL]\n"
               "\n"
               "Serves DIR/" FILE_NAME ": /proc/meminfo as the reader's commitd budget sees it (CommitLimit,\n"
               "Committed_AS; the memory and swap lines of its memory cgroup's limit). Runs in the foreground.\n"
               "\n"
               "  --mount DIR         where to mount (default " MOUNT_DEFAULT ")\n"
               "  --socket PATH       commitd's control socket (default " COMMITD_SOCKET ")\n"
               "  --interval SECONDS  how often the budgets are read from commitd (default 2, its upkeep)\n"
               "  --user USER         who to run as once mounted (a member of commitd's --read-group)\n"
               "  --log-level LEVEL   err, warning, notice, info or debug (default info)\n"
               "\n"
               "Manual: commitd-meminfo(8).\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"mount", required_argument, NULL, 'm'},
                {"socket", required_argument, NULL, 's'},
                {"interval", required_argument, NULL, 'i'},
                {"user", required_argument, NULL, 'u'},
                {"log-level", required_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        struct view v = {
                .socket = COMMITD_SOCKET,
                .mount_dir = MOUNT_DEFAULT,
                .interval_s = 2,
                .lock = PTHREAD_MUTEX_INITIALIZER,
        };
        char *fuse_argv[] = {argv[0], "-o",
                             "allow_other,ro,fsname=" MEMINFO_VIEW_FSNAME ",subtype=" MEMINFO_VIEW_SUBTYPE, NULL};
        struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
        struct fuse *f;
        pthread_condattr_t ca;
        pthread_t thread;
        uint64_t interval;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'm':
                        v.mount_dir = optarg;
                        break;
                case 's':
                        v.socket = optarg;
                        break;
                case 'i':
                        if (units_parse_count(optarg, 1, 3600, &interval) < 0)
                                return fprintf(stderr, PROGRAM ": --interval takes 1 to 3600 seconds\n"), 2;
                        v.interval_s = (unsigned) interval;
                        break;
                case 'u':
                        v.user = optarg;
                        break;
                case 'l':
                        r = log_parse_level(optarg);
                        if (r < 0) {
                                fprintf(stderr, PROGRAM ": --log-level takes err, warning, notice, info or debug\n");
                                return 2;
                        }
                        log_max_priority = r;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return 2;
                }
        if (optind < argc)
                return fprintf(stderr, PROGRAM ": no arguments are taken (see --help)\n"), 2;
        signal(SIGPIPE, SIG_IGN);
        r = cgroupfs_read_mountinfo("/proc/self/mountinfo", &v.mounts);
        if (r < 0)
                return log_error(PROGRAM ": cannot read /proc/self/mountinfo: %s", strerror(-r)), 1;
        if (clear_mount_point(v.mount_dir) < 0)
                return 1;
        f = fuse_new(&args, &operations, sizeof(operations), &v);
        if (!f)
                return log_error(PROGRAM ": cannot set up FUSE"), 1;
        if (fuse_mount(f, v.mount_dir) < 0) {
                fuse_destroy(f);
                return log_error(PROGRAM ": cannot mount at %s (needs root and /dev/fuse)", v.mount_dir), 1;
        }
        if (drop_privileges(v.user) < 0 || fuse_set_signal_handlers(fuse_get_session(f)) < 0)
                return 1; /* exits: the kernel ends the connection, the mount answers ENOTCONN */
        if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
            pthread_cond_init(&v.kick, &ca) != 0 || pthread_cond_init(&v.fetched, &ca) != 0)
                return log_error(PROGRAM ": cannot set up the refresh thread"), 1;
        r = pthread_create(&thread, NULL, refresh, &v);
        if (r != 0)
                return log_error(PROGRAM ": cannot start the refresh thread: %s", strerror(r)), 1;
        log_info(PROGRAM ": pid %d serving %s/" FILE_NAME " from commitd at %s", (int) getpid(), v.mount_dir, v.socket);
        r = fuse_loop(f);
        /* No capability is left to unmount: the mount stays and answers ENOTCONN (visibly, never hanging a reader)
         * until the next start detaches it, or `umount -l` (the unit's ExecStopPost). */
        log_info(PROGRAM ": stopping; %s stays mounted, answering ENOTCONN, until unmounted or started again",
                 v.mount_dir);
        return r == 0 ? 0 : 1;
}
