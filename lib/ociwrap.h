/* SPDX-License-Identifier: MIT */
#pragma once

#include "meminfoview.h"

#include <stdbool.h>
#include <stddef.h>

/* commitd-oci-runtime's own settings (docs/commitd-oci-runtime.8): its options, taken out of the runtime's
 * argv, its config file, and which of them wins. Pure: argv and file contents in, structs out. */

#define OCIWRAP_CONFIG_DEFAULT   "/etc/commitd/oci-runtime.json"
#define OCIWRAP_CONFIG_MAX_BYTES (64u * 1024)
#define OCIWRAP_RUNTIME_DEFAULT  "runc"
#define OCIWRAP_MEMINFO_DEFAULT  MEMINFO_VIEW_FILE_DEFAULT
#define OCIWRAP_MAX_RUNTIMES     256
#define OCIWRAP_MAX_PATH         4096

/* The wrapper's options, all --commitd-NAME VALUE or --commitd-NAME=VALUE, taken from among the runtime's
 * global options (before its command): Docker's runtimeArgs and podman's --runtime-flag put them there. */
struct ociwrap_args {
        const char *config;  /* --commitd-config: NULL means OCIWRAP_CONFIG_DEFAULT, which may be missing */
        const char *socket;  /* --commitd-socket */
        const char *runtime; /* --commitd-runtime */
        const char *policy;  /* --commitd-policy */
        const char *meminfo; /* --commitd-meminfo: commitd-meminfo's file, bound over the container's /proc/meminfo */
        bool help;           /* --commitd-help, or --help (-h) as the only argument */
        bool version;        /* --version (-v) and no command: the wrapper's version, then the runtime's */
        char **rest;         /* the runtime's arguments, argv[1...] without the wrapper's, NULL-terminated, with
                                room for one more in front */
        int n_rest;
        int command; /* index in rest of the runtime's command (create, run, exec, ...); n_rest when none */
};

/* Parses argv. Strings are borrowed from argv; rest is allocated (ociwrap_args_done()). -EINVAL with a
 * message (caller frees) for an unknown --commitd- option, a missing or empty value; -ENOMEM. */
int ociwrap_parse_args(int argc, char **argv, struct ociwrap_args *ret, char **ret_error);
void ociwrap_args_done(struct ociwrap_args *a);

/* The --bundle of a create or run in rest (urfave/cli and crun's argp both take "--bundle DIR",
 * "--bundle=DIR", "-b DIR"; urfave/cli also "-bundle"). NULL: the working directory, as the runtimes default. */
const char *ociwrap_find_bundle(const struct ociwrap_args *a);

/* The value of the runtime's global option NAME ("log", "log-format") before the command: "--NAME V",
 * "--NAME=V", "-NAME V", "-NAME=V" (urfave/cli takes one dash or two). NULL when it is not given. */
const char *ociwrap_find_global(const struct ociwrap_args *a, const char *name);

/* The line a runtime writes to its --log file, in its --log-format FORMAT ("json", else text), at LEVEL
 * ("error", "warning": logrus's names): {"level":LEVEL,"msg":REASON,"time":TIME} or
 * time="TIME" level=LEVEL msg="REASON", newline-terminated. containerd's runc shim (Docker, ctr, Kubernetes)
 * reports a failed runtime by the last error line of that file (go-runc), never by its stderr: a note about a
 * container that does start is a warning, which it does not take for the failure. TIME is RFC 3339. Returns 0 or
 * -ENOMEM. */
int ociwrap_runtime_log_line(const char *format, const char *level, const char *reason, const char *time, char **ret);

/* /etc/commitd/oci-runtime.json:
 *   {"socket": PATH, "runtime": PATH-OR-NAME, "default_policy": NAME, "meminfo": PATH,
 *    "runtimes": {"ARGV0-BASENAME": {"policy": NAME, "runtime": PATH-OR-NAME}}}
 * every key optional, no other key allowed. */
struct ociwrap_runtime {
        char *name;    /* the basename the wrapper is called by (a symlink's name) */
        char *policy;  /* may be NULL */
        char *runtime; /* may be NULL */
};
struct ociwrap_config {
        char *socket, *runtime, *default_policy, *meminfo; /* each may be NULL */
        struct ociwrap_runtime *runtimes;
        size_t n_runtimes;
};

/* Parses a config file's contents. filename is used in messages. -EINVAL with a message "FILE: what"
 * (FILE:LINE:COLUMN for JSON syntax; an unknown key is named with the keys known there), -EFBIG past
 * OCIWRAP_CONFIG_MAX_BYTES, -ENOMEM. */
int ociwrap_parse_config(const char *filename, const char *buf, size_t len, struct ociwrap_config *ret,
                         char **ret_error);
void ociwrap_config_done(struct ociwrap_config *c);
/* The entry of runtimes named name (the basename of argv[0]), or NULL. */
const struct ociwrap_runtime *ociwrap_config_runtime(const struct ociwrap_config *c, const char *name);

/* Where a setting came from, for messages. */
enum ociwrap_source {
        OCIWRAP_FROM_NONE,
        OCIWRAP_FROM_ANNOTATION, /* the bundle's io.commitd.policy */
        OCIWRAP_FROM_FLAG,       /* --commitd-... */
        OCIWRAP_FROM_ENV,        /* COMMITD_OCI_SOCKET, COMMITD_OCI_RUNTIME */
        OCIWRAP_FROM_RUNTIMES,   /* runtimes[ARGV0] of the config file */
        OCIWRAP_FROM_CONFIG,     /* the config file's top level */
        OCIWRAP_FROM_BUILTIN,
};

struct ociwrap_choice {
        const char *socket, *runtime, *policy; /* policy NULL: none named anywhere */
        const char *meminfo;                   /* commitd-meminfo's file */
        enum ociwrap_source socket_from, runtime_from, policy_from, meminfo_from;
};

/* The precedence (borrowed strings; config may be NULL):
 *   policy:  annotation > --commitd-policy > runtimes[name].policy > default_policy;
 *   socket:  --commitd-socket > env_socket > socket > builtin_socket;
 *   runtime: --commitd-runtime > env_runtime > runtimes[name].runtime > runtime > "runc";
 *   meminfo: --commitd-meminfo > meminfo > OCIWRAP_MEMINFO_DEFAULT.
 * Empty strings count as not set. */
void ociwrap_choose(const struct ociwrap_args *a, const struct ociwrap_config *c, const char *name,
                    const char *env_socket, const char *env_runtime, const char *annotation, const char *builtin_socket,
                    struct ociwrap_choice *ret);
const char *ociwrap_source_name(enum ociwrap_source s);

/* The linux.seccomp.flags entry that makes a notified call wait killably once commitd has received it (Linux 5.19,
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV; docs/design.md), and crun's flag for a profile without "flags". */
#define OCIWRAP_FLAG_WAIT_KILLABLE "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
#define OCIWRAP_FLAG_SPEC_ALLOW    "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
/* The first crun release that loads a filter with OCIWRAP_FLAG_WAIT_KILLABLE (crun#1008, September 2022; 1.8.1
 * checked here): before it crun fails a container whose profile names the flag. */
#define OCIWRAP_CRUN_WAIT_KILLABLE_MAJOR 1
#define OCIWRAP_CRUN_WAIT_KILLABLE_MINOR 7

/* What the real runtime makes of linux.seccomp.flags. */
struct ociwrap_seccomp_flags {
        bool wait_killable;   /* it loads the filter with OCIWRAP_FLAG_WAIT_KILLABLE when the profile names it */
        const char *implicit; /* the flag it loads a profile without "flags" with, which a "flags" written for it must
                                 name to keep it: crun's OCIWRAP_FLAG_SPEC_ALLOW; NULL: none (runc) */
};

/* Settles that from the real runtime's answers: features, the standard output of `RUNTIME features` (NULL when it
 * failed: runc < 1.1, crun < 1.8.6), and version, that of `RUNTIME --version` (NULL when it failed). The features'
 * linux.seccomp.supportedFlags, when there, decides (runc lists none it cannot load: 1.1.5 refuses every flag,
 * "seccomp flags are not yet supported by runc"); without it, "crun version X.Y" from OCIWRAP_CRUN_WAIT_KILLABLE_*
 * on does. Anything else, unknown runtimes included, is not given the flag: a runtime may refuse any flag it does not
 * know, and then no container starts. Whether the kernel has the flag is the caller's to check. Pure. */
void ociwrap_seccomp_flags(const char *features, size_t features_len, const char *version,
                           struct ociwrap_seccomp_flags *ret);
