/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* UNIX socket plumbing shared by the control socket, the OCI agent socket and the keeper. */

/* Binds and listens on a UNIX socket of type at path, created with mode (group gid unless (gid_t) -1);
 * replaces a stale socket file, refuses (-EADDRINUSE) one a live process still answers on. */
int unix_listen(const char *path, int type, mode_t mode, gid_t gid, int *ret_fd);
/* Lets group gid connect to the socket file at path as its owning group does (a POSIX ACL entry, rw): the
 * file's mode bits stand for everyone else. -EOPNOTSUPP on a file system without ACLs. */
int unix_grant_group(const char *path, gid_t gid);

/* Appends the descriptors an SCM_RIGHTS message brought to fds[*n], up to max in all, closing the rest.
 * Returns how many came in this message. */
size_t cmsg_collect_fds(struct msghdr *m, int *fds, size_t *n, size_t max);

/* Makes room in fd's send buffer for a datagram of bytes: a UNIX datagram (SOCK_SEQPACKET too) longer than the
 * sender's buffer less 32 bytes is refused with EMSGSIZE. Never shrinks it. */
void unix_sndbuf_fit(int fd, size_t bytes);

/* sendmsg() of iov with fd attached (SCM_RIGHTS) unless it is negative; MSG_NOSIGNAL. */
ssize_t unix_send_with_fd(int sock, struct iovec *iov, size_t n_iov, int fd);
