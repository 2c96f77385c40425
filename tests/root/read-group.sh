#!/bin/bash
# commitd --read-group, as real non-root users: a member of the read group reads every budget (status, policy
# list and show, events recent and followed, metrics with the daemon's own numbers) and every mutating method
# is refused to it with an error that names the read group, changing nothing; a tenant outside the group still
# reads only its own cgroups.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd_with_reader r
[ "$(stat -c %G "$COMMITD_SOCKET")" = "$READERS" ] || fail "without --group the socket's group is not the read group"

policy a '"mode": "strict", "limit": "64M", "swap": "0"'
policy b '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
mkdir -p "$CG_FS/a" "$CG_FS/b"
chown "$TA" "$CG_FS/a" "$CG_FS/a/cgroup.procs"

# The reader follows events before anything is refused (setpriv execs, so $! is the follower).
setpriv --reuid="$READER" --regid="$(id -g "$READER")" --init-groups env COMMITD_SOCKET="$COMMITD_SOCKET" \
	"$COMMITCTL" --json events --follow >"$WORK/follow-reader.out" 2>&1 &
STARTED_PIDS="${STARTED_PIDS:-} $!"
wait_log "events --follow by pid $! uid $(id -u "$READER"): following"
for cg in a b; do
	out=$("$COMMITCTL" run --policy "$cg" -- "$WORKLOAD" map:1G)
	expect_in "$out" "ENOMEM map:1G"
done
wait_for 'grep -q "$SCRATCH/b" "$WORK/follow-reader.out"' # the follower's copy of the last refusal

# 1. Reads: everything.
list() { python3 -c 'import json,sys; print(" ".join(sorted(c["cgroup"] for c in json.load(sys.stdin)[sys.argv[1]])))' "$1"; }
cgroups_of() { python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["cgroup"] for l in sys.stdin if l.startswith("{")})))'; }
[ "$(as "$READER" --json status | list cgroups)" = "$SCRATCH/a $SCRATCH/b" ] ||
	fail "the reader's status: $(as "$READER" --json status)"
out=$(as "$READER" status "$SCRATCH/b") || fail "the reader's status of b: $out"
as "$READER" status "$SCRATCH/nosuch" 2>&1 | grep -q NoSuchCgroup || fail "the reader: an unknown cgroup is not NoSuchCgroup"
[ "$(as "$READER" --json policy list | list policies)" = "$SCRATCH/a $SCRATCH/b" ] || fail "the reader's policy list"
out=$(as "$READER" --json policy show b) || fail "the reader's policy show b: $out"
expect_in "$out" "$SCRATCH/b"
[ "$(as "$READER" --json events | cgroups_of)" = "$SCRATCH/a $SCRATCH/b" ] || fail "the reader's recent events"
[ "$(cgroups_of <"$WORK/follow-reader.out")" = "$SCRATCH/a $SCRATCH/b" ] ||
	fail "the reader's follower: $(cat "$WORK/follow-reader.out")"
metrics=$(as "$READER" metrics) || fail "the reader's metrics: $metrics"
for cg in a b; do
	expect_in "$metrics" "commitd_budget_refused_calls_total{cgroup=\"$SCRATCH/$cg\",call=\"mmap\"} 1"
done
expect_in "$metrics" "commitd_keeper_up 1"
expect_in "$metrics" "commitd_judge_duration_seconds_count"

# 2. Every mutating method refused, with the read group named, and nothing changed.
refuses_mutations "$READER" "$SCRATCH/b" "read group (--read-group), which reads every budget and changes nothing"
err=$(as "$READER" run --cgroup "$SCRATCH/b" -- true 2>&1)
rc=$?
[ $rc = 1 ] || fail "run (enroll) by the reader exited $rc, want 1: $err"
expect_in "$err" "PermissionDenied"
[ "$(status_field "$SCRATCH/b" mode)" = strict ] || fail "a refused set-mode changed b"
[ "$(status_field "$SCRATCH/b" limit_bytes)" = $((64 << 20)) ] || fail "a refused set-limit changed b"
[ ! -d "$CG_FS/new" ] || fail "a refused set-mode created the cgroup"
[ "$(status_field "$SCRATCH/b" enrolled_processes)" = 0 ] || fail "a refused enroll left a process"

# 3. A tenant outside the group: its own only, and none of the daemon's numbers.
[ "$(as "$TA" --json status | list cgroups)" = "$SCRATCH/a" ] || fail "tenant A's status: $(as "$TA" --json status)"
as "$TA" status "$SCRATCH/b" 2>&1 | grep -q PermissionDenied || fail "tenant A read b's status"
[ "$(as "$TA" --json events | cgroups_of)" = "$SCRATCH/a" ] || fail "tenant A's events"
[ "$(as "$TA" --json metrics | list budgets)" = "$SCRATCH/a" ] || fail "tenant A's metrics: $(as "$TA" --json metrics)"
metrics=$(as "$TA" metrics) || fail "tenant A's metrics: $metrics"
case $metrics in *"$SCRATCH/b"* | *commitd_keeper_up* | *commitd_judge_duration*) fail "tenant A's metrics show more than its own: $metrics" ;; esac
expect_in "$metrics" "commitd_host_commit_limit_bytes"
err=$(as "$TA" set-mode "$SCRATCH/a" always 2>&1) && fail "tenant A changed its mode"
expect_in "$err" "needs root or the commitd group"

kill -0 "$COMMITD_PID" || fail "commitd died"

# 4. With --group too, at the default mode 0660, the socket is the admins' group's, and the read group's members
# connect by an ACL entry (the exporter's case); anyone else cannot connect at all.
ADMINS=commitd-rw-$$
add_group "$ADMINS" || fail "groupadd $ADMINS"
stop_commitd
COMMITD_ARGS="--group $ADMINS --read-group $READERS"
launch_commitd
[ "$(stat -c %a:%G "$COMMITD_SOCKET")" = "660:$ADMINS" ] || fail "the socket is $(stat -c %a:%G "$COMMITD_SOCKET")"
[ "$(as "$READER" --json status | list cgroups)" = "$SCRATCH/a $SCRATCH/b" ] ||
	fail "the reader cannot read through the 0660 socket: $(as "$READER" status 2>&1)"
err=$(as "$READER" set-mode "$SCRATCH/b" always 2>&1) && fail "the reader changed b through the 0660 socket"
expect_in "$err" "read group (--read-group)"
err=$(as "$TA" status 2>&1) && fail "tenant A connected to the 0660 socket: $err"
expect_in "$err" "the socket is for root, commitd's group and its read group"
grep -q "cannot let the read group connect" "$WORK/commitd.log" && fail "commitd could not set the socket's ACL"
finish
