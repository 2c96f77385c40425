#!/bin/bash
# Issue 5: the keeper. A keeper killed under a running commitd is replaced and handed every listener again;
# a commitd stopped (SIGTERM) or killed leaves its listeners with the keeper and the next one adopts them;
# listeners whose processes all exited while no commitd ran are let go; a second commitd cannot take the
# listeners of a running one; the keeper exits once nothing is enrolled and no commitd runs.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd
KEEPER_PID_FILE=$WORK/commitd.keeper.sock.pid
policy strict '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"

# tenant NAME OPS...: an enrolled workload held at its first "wait" until release NAME (start_held, with its
# FIFO moved off fd 9 so that several can be held at once).
tenant() {
	local name=$1 fd
	shift
	start_held "$name" "$COMMITCTL" run --cgroup "$SCRATCH/strict" -- "$WORKLOAD" "$@"
	exec {fd}>&9 9>&-
	eval "${name}_pid=$HELD_PID ${name}_fd=$fd"
}
release() { local fd="${1}_fd"; echo go >&"${!fd}"; }
adopted() { grep "listeners adopted" "$WORK/commitd.log" | tail -1 | sed 's/.*: \([0-9]*\) listeners adopted.*/\1/'; }

tenant a map:8M wait steps:4M:1G

# 1. The keeper dies under a running commitd: a new one takes over every listener.
old_keeper=$(cat "$KEEPER_PID_FILE")
kill -KILL "$old_keeper"
wait_for '[ -f "$KEEPER_PID_FILE" ] && [ "$(cat "$KEEPER_PID_FILE")" != "$old_keeper" ]' ||
	fail "no new keeper after the first was killed"
grep -q "keeper: connection lost; starting a new keeper" "$WORK/commitd.log" || fail "the lost keeper is not logged"
wait_for 'grep -q "a new keeper holds the in-flight table and 1 listeners" "$WORK/commitd.log"' ||
	fail "the new keeper was not handed the listener"
kill -KILL "$COMMITD_PID"
wait "$COMMITD_PID" 2>/dev/null
launch_commitd
[ "$(adopted)" = 1 ] || fail "after a keeper loss and a commitd kill, $(adopted) listeners adopted, want 1"
release a
wait_for 'grep -q ^STEPS "$WORK/a.out"' || fail "tenant a hangs"
mapped=$(sed -n 's/^STEPS mapped=\([0-9]*\) result=ENOMEM$/\1/p' "$WORK/a.out")
[ -n "$mapped" ] && [ $((mapped + (8 << 20))) -le $((64 << 20)) ] ||
	fail "tenant a after the keeper loss and restart: $(cat "$WORK/a.out")"

# 2. SIGTERM (an upgrade, systemctl restart) keeps the listeners too; one whose processes exit while no
# commitd runs is let go by the keeper.
tenant b map:8M wait steps:4M:1G
tenant c wait
stop_commitd
release c
wait_for '! kill -0 "$c_pid" 2>/dev/null' || fail "tenant c did not exit while commitd was down"
sleep 1.2 # the keeper looks for hung-up listeners once a second while no commitd runs
launch_commitd
[ "$(adopted)" = 1 ] || fail "after SIGTERM, $(adopted) listeners adopted, want 1 (b; c exited meanwhile)"
release b
wait_for 'grep -q ^STEPS "$WORK/b.out"' || fail "tenant b hangs"
grep -q "result=ENOMEM" "$WORK/b.out" || fail "tenant b after SIGTERM and restart: $(cat "$WORK/b.out")"

# 3. A second commitd cannot take the listeners of a running one: the keeper answers it BUSY.
tenant d wait
"$COMMITD" --foreground --socket "$WORK/second.sock" --oci-socket "$WORK/second-oci.sock" --policy-dir "$POLICIES" \
	--state-dir "$WORK/state2" --keeper-socket "$WORK/commitd.keeper.sock" >"$WORK/second.log" 2>&1 &
second=$!
STARTED_PIDS="${STARTED_PIDS:-} $second"
wait_for 'grep -q "keeper: none at" "$WORK/second.log"' ||
	fail "the second commitd did not give up on the busy keeper: $(cat "$WORK/second.log")"
expect_in "$(cat "$WORK/second.log")" "Device or resource busy"
kill "$second" && wait "$second" 2>/dev/null
release d
wait_for '! kill -0 "$d_pid" 2>/dev/null' || fail "tenant d did not finish"

# 4. Nothing enrolled, no commitd: the keeper exits by itself.
keeper=$(cat "$KEEPER_PID_FILE")
stop_commitd
wait_for '! kill -0 "$keeper" 2>/dev/null' || fail "the keeper stays with nothing to hold"
[ ! -e "$KEEPER_PID_FILE" ] || fail "the keeper left its pid file"
finish
