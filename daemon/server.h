/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

#include "protocol.h"
#include "unixsock.h"

struct daemon;
struct loop_source;

#define SERVER_MAX_CLIENTS           128
#define SERVER_ADMIN_SLOTS           16 /* of those, the last ones: admins only (SPEC 7: always room for an admin) */
#define SERVER_MAX_CLIENTS_PER_UID   16
#define SERVER_MAX_FOLLOWERS_PER_UID 4 /* events --follow connections: they are exempt from the idle timeout */
#define SERVER_FOLLOW_SNDBUF         (256 * 1024)    /* the kernel doubles it: ~512 KiB of events queued per follower */
#define SERVER_IDLE_USEC             (60u * 1000000) /* a client silent this long is closed (followers excepted) */

struct client {
        int fd;
        struct loop_source *source;
        struct ucred cred;   /* SO_PEERCRED at connect: the kernel's word, not the client's */
        int pidfd;           /* the process that connected (SO_PEERPIDFD, Linux 6.5+), or -1 */
        uint64_t start_time; /* without a pidfd: cred.pid's start time at connect; 0 when it was gone already */
        bool admin;
        bool reader; /* in the read group (--read-group): reads every cgroup, changes nothing */
        bool follow;
        uint64_t last_usec;
        struct daemon *daemon;
        struct client *next;
};

/* The control socket's side of the daemon (struct daemon's server), served by the loop thread only. */
struct server {
        struct loop_source *listen_source;
        struct client *clients;
        size_t n_clients;
        char *socket_path;
        char rx[PROTOCOL_MAX_MESSAGE + 1]; /* the request being read: one at a time */
};

/* The pid of the process that connected, as long as that process lives: the pid its pidfd names now, or, on
 * kernels without SO_PEERPIDFD, cred.pid while its start time is the one read at connect. Never the pid's next
 * holder. -ESRCH when the process has exited. */
int server_peer_pid(const struct client *c, pid_t *ret);

/* Whether c may start following events: its uid follows on fewer than SERVER_MAX_FOLLOWERS_PER_UID connections. */
bool server_may_follow(const struct client *c);

/* Binds the control socket (mode 0660 or 0666, group admin_gid when set) and serves it in d's loop. Refuses
 * to take over a socket another commitd still answers on. */
int server_start(struct daemon *d, const char *path, mode_t mode);
/* Closes clients idle past SERVER_IDLE_USEC. */
void server_upkeep(struct daemon *d);
void server_stop(struct daemon *d);
