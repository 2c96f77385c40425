/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The keeper (commitd-keeper, daemon/keeper.c) holds a copy of every descriptor commitd must not lose when it
 * dies: each seccomp listener (a closed listener turns its processes' notified calls into ENOSYS) and the
 * in-flight table (notify.c). It is a descriptor store and nothing more, like systemd's fd store: it never
 * reads a listener, so it cannot answer wrongly. One commitd at a time talks to it over a SOCK_SEQPACKET
 * socket (mode 0600, uid 0 only), one datagram per message: a struct keeper_header, then up to
 * KEEPER_MAX_DATA bytes of data; PUT and ENTRY carry their descriptor as SCM_RIGHTS. */

#define KEEPER_MAX_ENTRIES 8192
/* A listener's tag is JSON of a cgroup path up to PATH_MAX, a pid, a policy name and a container id, escaped:
 * keeper-client.c checks that the worst case fits. A datagram this size is well within what SOCK_SEQPACKET
 * takes (the send buffer, unix_sndbuf_fit()). */
#define KEEPER_MAX_DATA (32u * 1024)
/* What keepers before this one took, and still take while they run: they answer END with max_data 0. */
#define KEEPER_LEGACY_MAX_DATA 1024u

enum keeper_op {
        KEEPER_PUT = 1, /* commitd -> keeper: hold fd under key (replacing what was there) with data */
        KEEPER_DEL,     /* commitd -> keeper: close what key holds */
        KEEPER_LIST,    /* commitd -> keeper: send every entry */
        KEEPER_ENTRY,   /* keeper -> commitd: one entry, its fd attached */
        KEEPER_END,     /* keeper -> commitd: the last answer to LIST */
        KEEPER_BUSY,    /* keeper -> a second commitd: another one is connected */
};

/* KEEPER_PUT flag: the fd is a listener. While no commitd is connected the keeper drops watched fds that hang
 * up (every task of the filter exited); with --exit-when-idle it exits once it holds no watched fd. */
#define KEEPER_F_WATCH 1u

struct keeper_header {
        uint32_t op;
        uint32_t key;
        uint32_t flags;
        uint32_t max_data; /* END: the most data this keeper takes in one message; 0 means KEEPER_LEGACY_MAX_DATA */
};

/* commitd's side (keeper-client.c). */

/* A connection to the keeper. */
struct keeper_conn {
        int fd;            /* -1: none */
        uint32_t max_data; /* the most data it takes in one message: its answer to LIST says */
};

/* Connects to the keeper at socket_path; when none answers there, starts binary (detached, in its own
 * session) and connects to it. Then asks for every entry it holds and calls cb for each (cb owns entry_fd).
 * Retries while another commitd is still connected (a killed one whose descriptors the kernel has not closed
 * yet) or the keeper went away meanwhile, for a few seconds. Returns 0 with *ret connected, or -errno. */
typedef void (*keeper_entry_t)(uint32_t key, const char *data, int entry_fd, void *userdata);
int keeper_open(const char *socket_path, const char *binary, keeper_entry_t cb, void *userdata,
                struct keeper_conn *ret);
/* -E2BIG for data longer than the connected keeper takes (a keeper started by an older commitd). */
int keeper_put(const struct keeper_conn *k, uint32_t key, uint32_t flags, const char *data, int payload_fd);
int keeper_del(const struct keeper_conn *k, uint32_t key);
