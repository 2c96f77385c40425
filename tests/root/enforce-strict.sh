#!/bin/bash
# Issue 3, tests 1 and 2: a strict budget refuses with ENOMEM within one step of the CommitLimit that
# status reports, while a process outside the cgroup maps and forks freely; and the seed, contained: a
# large process cannot fork, a real shell says "fork: Cannot allocate memory", MADV_DONTFORK lets it fork.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

policy strict '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
limit=$(status_field "$SCRATCH/strict" commit_limit_bytes)
[ "$limit" = $((64 << 20)) ] || fail "status reports commit_limit_bytes=$limit, want $((64 << 20))"

# 1. Map 4 MiB at a time: the first ENOMEM comes within one step of the limit.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/strict" -- "$WORKLOAD" steps:4M:1G) || fail "run exited $?"
mapped=$(sed -n 's/^STEPS mapped=\([0-9]*\) result=ENOMEM$/\1/p' <<<"$out")
[ -n "$mapped" ] || fail "no ENOMEM inside the budget: $out"
if [ -n "$mapped" ]; then
	# The program's own libc and stack count too, so it stops a little short of the limit, never past it.
	[ "$mapped" -le "$limit" ] && [ "$mapped" -ge $((limit - 2 * (4 << 20))) ] ||
		fail "first ENOMEM after $mapped bytes; CommitLimit is $limit"
fi
refusals=$(status_field "$SCRATCH/strict" refusals)
[ "$refusals" -ge 1 ] || fail "status shows $refusals refusals"
logged "refused cgroup=$SCRATCH/strict pid=[0-9]* comm=workload call=mmap request=4.0Mi" ||
	fail "the refusal is not logged with its reason"

# Outside the cgroup, the host is untouched: 1 GiB maps and forks.
out=$("$WORKLOAD" map:1G fork)
expect_in "$out" "OK map:1G"
expect_in "$out" "OK fork"

# 2. The seed, contained: 40 MiB of private writable memory cannot be copied by fork() in a 64 MiB budget.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/strict" -- "$WORKLOAD" map:40M fork)
expect_in "$out" "OK map:40M"
expect_in "$out" "ENOMEM fork"
out=$("$COMMITCTL" run --cgroup "$SCRATCH/strict" -- "$WORKLOAD" map:40M dontfork fork)
expect_in "$out" "OK fork"

# A real shell: bash grows a 30 MB variable, then cannot fork for the next command.
err=$("$COMMITCTL" run --cgroup "$SCRATCH/strict" -- bash -c 'x=$(head -c 30000000 /dev/zero | tr "\0" a); /bin/true; echo after' 2>&1)
expect_in "$err" "fork: Cannot allocate memory"
finish
