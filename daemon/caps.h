/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Capabilities (the one file including <sys/capability.h>). commitd runs as uid 0 and keeps, after setup, only
 *   CAP_SYS_PTRACE    reading /proc/PID/smaps, maps and stat of enrolled processes of every user (procfs asks
 *                     for ptrace read access: PTRACE_MODE_READ_FSCREDS)
 *   CAP_DAC_OVERRIDE  creating cgroups and moving processes in delegated subtrees owned by other users
 *   CAP_CHECKPOINT_RESTORE  stat() of /proc/PID/map_files/START-END: the size of a shmem object a process maps
 *                     but holds no descriptor of (a shared anonymous object cut to one page is charged whole)
 * and needs CAP_CHOWN during setup only, to hand the control socket to --group. */

/* 0, or -EPERM with *ret_missing naming the first capability commitd needs and does not have. */
int caps_check(bool need_chown, const char **ret_missing);
/* Drops every capability but the three above, from the bounding set too: nothing commitd execs (the keeper)
 * can regain them. */
int caps_drop_to_runtime(void);
/* Drops every capability (the keeper needs none). */
int caps_drop_all(void);
/* Empties the bounding set: no execve(), even as uid 0, can give a capability back. Needs CAP_SETPCAP, so it
 * comes before a setuid() away from root, which clears it with the rest (capabilities(7)). */
int caps_drop_bounding(void);
