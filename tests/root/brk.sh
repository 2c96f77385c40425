#!/bin/bash
# Issue 9: glibc's malloc and sbrk through brk refusals (tests/root/brk.c), enrolled in a strict 64 MiB budget,
# commitd re-measuring every second (--upkeep-interval 1). Each phase runs as its own process: malloc, sbrk (odd
# increments: an unaligned break), fork (a child growing a heap it partly inherited) and threads (two threads
# growing one arena). After every growth that may have been refused, libc's break must be the kernel's; every
# block keeps its pattern; no phase dies of a signal (glibc's heap checks abort); commitd refused brk calls.
set -u
. "$(dirname "$0")/lib.sh"
require_root
COMMITD_ARGS="--upkeep-interval 1"
start_commitd

policy brk '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
[ "$(status_field "$SCRATCH/brk" commit_limit_bytes)" = $((64 << 20)) ] || { fail "policy not loaded"; exit 1; }

for phase in malloc sbrk fork threads; do
	before=$(status_field "$SCRATCH/brk" refusals)
	out=$("$COMMITCTL" run --cgroup "$SCRATCH/brk" -- "$BRK" "$phase" 64M 2>&1)
	rc=$?
	echo "--- $phase (exit $rc)"
	# the first failures of each kind are enough to read
	awk '/^FAIL/ { k = $0; sub(/\(.*/, "", k); if (seen[k]++ >= 3) { more++; next } } { print } END { if (more) print "(" more " similar FAIL lines not shown)" }' <<<"$out"
	if [ $rc -gt 128 ]; then
		fail "$phase: killed by signal $((rc - 128)) ($(kill -l $((rc - 128))))"
	elif [ $rc != 0 ]; then
		fail "$phase: exited $rc: $(grep -c '^FAIL' <<<"$out") failed checks, first: $(grep -m1 '^FAIL' <<<"$out")"
	else
		expect_in "$out" "OK $phase:"
	fi
	[ "$(status_field "$SCRATCH/brk" refusals)" -gt "$before" ] || fail "$phase: commitd counted no refusal"
done
logged "refused cgroup=$SCRATCH/brk pid=[0-9]* comm=brk call=brk" ||
	fail "commitd logged no refused brk"
finish
