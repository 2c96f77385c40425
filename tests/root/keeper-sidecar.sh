#!/bin/bash
# The Kubernetes DaemonSet's layout (contrib/kubernetes/commitd-daemonset.yaml): commitd-keeper runs on its own
# (its own container there), started before commitd, never by it. commitd uses it; a commitd killed (its
# container restarted) leaves the listeners with it, and the next commitd takes them back from the same keeper.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd
policy strict '"mode": "strict", "limit": "64M"'
stop_commitd
# commitd's own keeper, idle, exits by itself; then the sidecar takes the socket commitd looks for.
wait_for '! [ -S "$WORK/commitd.keeper.sock" ] || ! kill -0 "$(cat "$WORK/commitd.keeper.sock.pid" 2>/dev/null)" 2>/dev/null' ||
	fail "commitd's own keeper did not exit once idle"
rm -f "$WORK/commitd.keeper.sock" "$WORK/commitd.keeper.sock.pid"
own_keepers=$(grep -c "keeper: pid .* serving" "$WORK/commitd.log")
"$(dirname "$COMMITD")/commitd-keeper" --socket "$WORK/commitd.keeper.sock" >>"$WORK/keeper.log" 2>&1 &
sidecar=$!
STARTED_PIDS="${STARTED_PIDS:-} $sidecar"
wait_for '[ -S "$WORK/commitd.keeper.sock" ]' || fail "the sidecar keeper did not start: $(cat "$WORK/keeper.log")"
launch_commitd
wait_for 'grep -q "keeper: commitd pid $COMMITD_PID connected" "$WORK/keeper.log"' ||
	fail "commitd did not use the sidecar keeper: $(cat "$WORK/keeper.log")"

start_held a "$COMMITCTL" run --cgroup "$SCRATCH/strict" -- "$WORKLOAD" map:8M wait steps:4M:1G
kill -KILL "$COMMITD_PID"
wait "$COMMITD_PID" 2>/dev/null
launch_commitd
wait_for 'grep -q "1 listeners adopted" "$WORK/commitd.log"' ||
	fail "the restarted commitd did not adopt the listener: $(grep -i keeper "$WORK/commitd.log" | tail -5)"
kill -0 "$sidecar" || fail "the sidecar keeper is gone"
[ "$(grep -c "keeper: pid .* serving" "$WORK/commitd.log")" = "$own_keepers" ] ||
	fail "commitd started a keeper of its own beside the sidecar"
echo go >&9
wait_for 'grep -q ^STEPS "$WORK/a.out"' || fail "the tenant hangs after the restart"
mapped=$(sed -n 's/^STEPS mapped=\([0-9]*\) result=ENOMEM$/\1/p' "$WORK/a.out")
[ -n "$mapped" ] && [ $((mapped + (8 << 20))) -le $((64 << 20)) ] ||
	fail "the tenant after commitd's restart beside the sidecar: $(cat "$WORK/a.out")"
finish
