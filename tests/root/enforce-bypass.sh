#!/bin/bash
# Enforcement issue, test 7: bypass attempts from an enrolled process. The 32-bit doors of a 64-bit process
# (mmap2, fork, clone, ipc(SHMGET) and clone3 through `int $0x80`; old_mmap, whose arguments sit in memory; the
# x32 ABI), clone3, pkey_mprotect, MADV_DOFORK, threads, posix_spawn and vfork: each is accounted or refused, and libc still
# works (threads and posix_spawn fall back from clone3 to clone).
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

policy jail '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
[ "$(status_field "$SCRATCH/jail" commit_limit_bytes)" = $((64 << 20)) ] || fail "policy not loaded"
run() { "$COMMITCTL" run --cgroup "$SCRATCH/jail" -- "$@"; }

# Outside the cgroup every door opens (the host overcommits), so a refusal inside is commitd's doing.
out=$("$INT80" mmap2:1G mmap2-shared:100M oldmmap:4M fork clone shmget:100M clone3 pkey-mprotect:1G x32mmap:4M)
for op in mmap2:1G mmap2-shared:100M oldmmap:4M fork clone shmget:100M pkey-mprotect:1G; do
	expect_in "$out" "OK $op"
done
expect_in "$out" "EINVAL clone3"
x32=yes
case $out in *"ENOSYS x32mmap"*) x32=no ;; esac # the kernel has no x32 ABI (CONFIG_X86_X32_ABI off)

# Descendants carry the filter: a grandchild of the enrolled shell is filtered too.
out=$(run bash -c 'bash -c "grep ^Seccomp: /proc/self/status"')
expect_in "$out" "Seccomp:	2"

# The i386 table: mmap2 is judged like mmap, fork and clone copy the address space, ipc(SHMGET) is shmem.
out=$(run "$INT80" mmap2:40M mmap2:40M)
expect_in "$out" "OK mmap2:40M"
expect_in "$out" "ENOMEM mmap2:40M"
out=$(run "$INT80" mmap2-shared:100M shmget:100M shmget-v1:100M)
expect_in "$out" "ENOMEM mmap2-shared:100M"
expect_in "$out" "ENOMEM shmget:100M"
expect_in "$out" "ENOMEM shmget-v1:100M" # a version in ipc's high bits must not slip past the filter
out=$(run "$INT80" mmap2:40M fork clone)
expect_in "$out" "ENOMEM fork"
expect_in "$out" "ENOMEM clone"
logged "refused cgroup=$SCRATCH/jail pid=[0-9]* comm=int80 call=mmap request=40Mi" ||
	fail "no refusal of the i386 mmap2 in the log"
# old_mmap's arguments are in memory the filter cannot read: it is refused outright; so is i386 clone3.
out=$(run "$INT80" oldmmap:4M clone3)
expect_in "$out" "ENOSYS oldmmap:4M"
expect_in "$out" "ENOSYS clone3"

# The x32 ABI: the filter notifies its mmap, and commitd must judge it like the 64-bit one. On a kernel with
# x32 the call maps; without, a call that commitd judges is refused before the kernel says ENOSYS, so the
# refusal proves the call was judged either way.
out=$(run "$INT80" x32mmap:100M)
expect_in "$out" "ENOMEM x32mmap:100M"
[ $x32 = yes ] || echo "note: no x32 ABI in this kernel: the x32 check rests on commitd refusing before the kernel says ENOSYS" >&2

# pkey_mprotect adds PROT_WRITE exactly like mprotect, and the kernel charges it then.
out=$(run "$INT80" pkey-mprotect:100M)
expect_in "$out" "ENOMEM pkey-mprotect:100M"

# MADV_DOFORK makes a MADV_DONTFORK mapping copyable again: the next fork copies and charges it. The first
# fork, with the 40 MiB marked DONTFORK, fits the budget; after DOFORK the same fork does not.
out=$(run "$INT80" map:40M dontfork fork64 dofork fork64)
expect_in "$out" "OK fork64"$'\n'"OK dofork"$'\n'"ENOMEM fork64"

# clone3: flags in memory, so the filter says ENOSYS; libc falls back to clone for threads and
# posix_spawn, which share the address space (CLONE_VM) and so cost no fork charge: with 40 MiB mapped in a
# 64 MiB budget a thread, vfork and posix_spawn work, while fork, which copies the 40 MiB, is refused.
admitted_before=$(status_field "$SCRATCH/jail" admitted)
out=$(run "$WORKLOAD" map:40M clone3 thread vfork spawn thread spawn fork)
expect_in "$out" "OK map:40M"
expect_in "$out" "ENOSYS clone3"
expect_in "$out" "OK thread"
expect_in "$out" "OK vfork"
expect_in "$out" "OK spawn"
expect_in "$out" "ENOMEM fork"
[ "$(grep -c "^OK" <<<"$out")" = 6 ] || fail "expected 6 OK lines: $out"
logged "refused cgroup=$SCRATCH/jail pid=[0-9]* comm=workload call=clone" ||
	fail "no refusal of the fork (clone) in the log"
# The thread stacks and the spawn child's stack are mmaps: accounted (admitted), not waved through.
admitted=$(status_field "$SCRATCH/jail" admitted)
[ "$admitted" -gt "$admitted_before" ] || fail "admitted stayed at $admitted: the calls were not judged"
# And the spawned child itself runs under the filter: posix_spawn does not shed it.
out=$(run bash -c 'sh -c "grep ^Seccomp: /proc/self/status"')
expect_in "$out" "Seccomp:	2"

# Small ones still pass the same doors.
out=$(run "$INT80" mmap2:4M mmap2-shared:1M shmget:1M fork clone)
for op in mmap2:4M mmap2-shared:1M shmget:1M fork clone; do expect_in "$out" "OK $op"; done
finish
