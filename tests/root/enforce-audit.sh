#!/bin/bash
# Issue 3, test 6: an audit policy ("enforce": false) refuses nothing and logs each would-be refusal, with
# what an enforcing policy would have said; the same budget enforcing refuses.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

policy audit '"mode": "strict", "limit": "64M", "enforce": false'
policy enforcing '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
[ "$(status_field "$SCRATCH/audit" enforce)" = False ] || fail "status does not show enforce false"

# Everything the strict budget would refuse is admitted: steps far past the limit, a large map, a fork.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/audit" -- "$WORKLOAD" steps:8M:128M map:128M fork 2>&1)
expect_in "$out" "STEPS mapped=$((128 << 20)) result=max"
expect_in "$out" "OK map:128M"
expect_in "$out" "OK fork"
would=$(status_field "$SCRATCH/audit" refusals)
# 8 MiB steps from 64 MiB to 128 MiB, the map and the fork: at least 10 would-be refusals (fewer than the 20
# a second the log takes before it rate-limits).
[ "$would" -ge 10 ] || fail "status counts $would would-be refusals, want >= 10"

# Logged as would-be refusals, in the log and in events, never as refusals.
grep -q "would refuse (audit) cgroup=$SCRATCH/audit pid=[0-9]* comm=workload call=mmap request=128Mi .* mode=strict level=$SCRATCH/audit\$" \
	"$WORK/commitd.log" || fail "the would-be refusal of map:128M is not logged"
grep -q "would refuse (audit) cgroup=$SCRATCH/audit .* call=clone " "$WORK/commitd.log" || # glibc's fork()
	fail "the would-be refusal of fork is not logged"
grep -q "^<[0-9]>refused cgroup=$SCRATCH/audit " "$WORK/commitd.log" && fail "an audit policy logged a refusal"
events=$("$COMMITCTL" --json events)
python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.strip()]
audit = [e for e in ev if e["cgroup"] == sys.argv[1]]
assert audit, "no events for the audit cgroup"
assert all(e["enforced"] is False for e in audit), "an audit event says enforced"
assert any(e["call"] in ("fork", "clone") for e in audit), "no would-be refusal of fork"
' "$SCRATCH/audit" <<<"$events" || fail "events: $events"
expect_in "$("$COMMITCTL" events)" "would refuse (audit)"

# The same budget, enforcing, refuses what the audit one let through.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/enforcing" -- "$WORKLOAD" map:128M 2>&1)
expect_in "$out" "ENOMEM map:128M"
logged "^<[0-9]>refused cgroup=$SCRATCH/enforcing " || fail "the enforcing refusal is not logged"
finish
