/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* The bundle annotation naming the policy a container is judged under; passed to the agent as
 * listenerMetadata. */
#define OCISPEC_POLICY_ANNOTATION "io.commitd.policy"

/* Edits an OCI config.json (the parsed object) so the runtime enrolls the container with commitd
 * (SPEC 4): sets linux.seccomp.listenerPath and listenerMetadata (metadata NULL: ""), and adds the
 * notify rules of cli/filter.c to the profile, creating an allow-by-default profile for x86_64, i386 and
 * x32 when there is none. An existing profile keeps its defaultAction and its rules: a call it refuses
 * stays refused, and a call it allows is split into the part commitd is told about and the rest, still
 * allowed. clone3 is refused with ENOSYS wherever the profile would allow it. Applying it twice gives
 * the same config as once. Pure: no I/O.
 *
 * Returns 0 on success. On failure the config may be half edited (callers drop it) and, when ret_error is
 * not NULL, a one-line message naming the JSON path (caller frees): -EINVAL for a config of the wrong
 * shape, -EOPNOTSUPP for a profile whose conditions on a notified call commitd cannot combine with its
 * own without widening what the profile allows, -ENOMEM. */
int ocispec_add_commitd(json_t *config, const char *listener_path, const char *metadata, char **ret_error);

/* Adds flag to linux.seccomp.flags (after ocispec_add_commitd(): the profile is there). A profile without "flags"
 * gets [implicit, flag], implicit being the flag the runtime would load such a profile with (crun's
 * SECCOMP_FILTER_FLAG_SPEC_ALLOW; NULL: none); flags it names already stay. Applying it twice gives the same config
 * as once. -EINVAL with a message when there is no profile or flags is not an array of strings, -ENOMEM. Pure. */
int ocispec_add_seccomp_flag(json_t *config, const char *flag, const char *implicit, char **ret_error);

/* Where commitd-meminfo's view is bound in a container (commitd-meminfo(8)). */
#define OCISPEC_MEMINFO_DESTINATION "/proc/meminfo"

/* Adds a read-only bind mount of source (commitd-meminfo's file) over the container's /proc/meminfo, after every
 * other mount. Applying it twice gives the same config as once. -EEXIST with a message when the bundle mounts
 * something else there already (LXCFS), -EINVAL for mounts that is not an array, -ENOMEM. Pure: no I/O. */
int ocispec_add_meminfo(json_t *config, const char *source, char **ret_error);

/* The value of the annotation OCISPEC_POLICY_ANNOTATION, or NULL when there is none (borrowed from
 * config). -EINVAL with a message when annotations is not an object or the value not a string. */
int ocispec_policy_annotation(const json_t *config, const char **ret, char **ret_error);

/* The container process state a runtime sends the seccomp agent with the listener (runtime-spec
 * "Container process state"): {"fds": ["seccompFd"], "pid": N, "metadata": "...", "state": {"id": "...",
 * "annotations": {...}}}. It comes from runc or crun as root, still every field is checked before use. */
struct ocispec_state {
        char *id;             /* state.id */
        pid_t pid;            /* the container process, > 0; 0 for an exec (runc and crun send 0 for the process
                                 of `exec`: the container is state.id, the process the one that notifies first) */
        size_t n_fds;         /* names in fds: the descriptors that came with the state must be as many */
        size_t seccomp_index; /* the index of "seccompFd" among them: the listener */
        char *policy;         /* state.annotations' OCISPEC_POLICY_ANNOTATION, else metadata; NULL when neither
                                 names one (an empty string names none) */
};

/* Parses a state. Returns 0, or -EBADMSG with *ret_why (a static sentence for the log) when it is not JSON,
 * lacks state.id, fds (with "seccompFd") or a pid that is a process id or 0; -ENOMEM. */
int ocispec_parse_state(const char *buf, size_t len, struct ocispec_state *ret, const char **ret_why);
void ocispec_state_done(struct ocispec_state *s);
