/* SPDX-License-Identifier: MIT */
#pragma once

struct daemon;
struct loop_source;

/* The OCI seccomp agent (runtime-spec linux.seccomp.listenerPath): runc >= 1.1 and crun >= 0.19 connect
 * once per container process and send the container process state (JSON) with the listener fd. */
#define OCI_MAX_STATE (256u * 1024)
/* The longest container id taken: runc's and crun's are 64 hex digits; its listener's tag must fit the keeper. */
#define OCI_MAX_ID 1024

/* The agent socket's side of the daemon (struct daemon's oci), served by the loop thread. */
struct oci {
        struct loop_source *source;
        char *path;
        char *default_policy; /* --oci-default-policy, or NULL */
};

/* Serves path (mode 0600: runtimes run as root). default_policy may be NULL: a container that names no
 * policy is then refused. */
int oci_start(struct daemon *d, const char *path, const char *default_policy);
void oci_stop(struct daemon *d);
