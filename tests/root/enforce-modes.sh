#!/bin/bash
# Issue 3, test 3: a live mode switch on one running program. The same process, held between steps by the
# workload's `wait`, sees strict refuse at the limit, always admit far past it, and the kernel-family
# heuristic refuse only a single request larger than ram + swap; then strict again.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

# The workload reads its next "go on" from a FIFO and writes to a file; wait_step N waits for its Nth WAITING.
start_workload() {
	mkfifo "$WORK/in"
	"$COMMITCTL" run --cgroup "$1" -- "$WORKLOAD" "${@:2}" <"$WORK/in" >"$WORK/out" 2>&1 &
	WL_PID=$!
	STARTED_PIDS="${STARTED_PIDS:-} $WL_PID"
	exec 3<>"$WORK/in"
}
wait_step() {
	local want=$1
	wait_for '[ "$(grep -c "^WAITING\$" "$WORK/out")" -ge "$want" ] || ! kill -0 "$WL_PID" 2>/dev/null'
	[ "$(grep -c '^WAITING$' "$WORK/out")" -ge "$1" ] && return 0
	fail "the workload did not reach wait number $1: $(cat "$WORK/out")"
}
go_on() { echo >&3; }

policy x '"mode": "strict", "limit": "64M", "ram": "256M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
[ "$(status_field "$SCRATCH/x" mode)" = strict ] || fail "policy not loaded as strict"

start_workload "$SCRATCH/x" steps:4M:1G wait map:1G wait map:512M map:128M wait map:1M wait
wait_step 1
out=$(cat "$WORK/out")
# strict: refused at the limit (within one step), never past it.
mapped=$(sed -n 's/^STEPS mapped=\([0-9]*\) result=ENOMEM$/\1/p' <<<"$out")
[ -n "$mapped" ] || fail "strict: no ENOMEM: $out"
if [ -n "$mapped" ]; then
	[ "$mapped" -le $((64 << 20)) ] && [ "$mapped" -ge $(((64 - 8) << 20)) ] ||
		fail "strict: first ENOMEM after $mapped bytes, limit 64 MiB"
fi

# always: 1 GiB past a 64 MiB limit is admitted (the host, in mode 0 with plenty of ram, admits it too).
"$COMMITCTL" set-mode "$SCRATCH/x" always >/dev/null || fail "set-mode always"
[ "$(status_field "$SCRATCH/x" mode)" = always ] || fail "mode is not always after set-mode"
go_on
wait_step 2
expect_in "$(cat "$WORK/out")" "OK map:1G"

# heuristic (kernel family): ram + swap = 256 MiB; 512 MiB alone is refused, 128 MiB is not, although the
# cgroup has committed far more than 256 MiB already (the heuristic does not look at Committed_AS).
"$COMMITCTL" set-mode "$SCRATCH/x" heuristic >/dev/null || fail "set-mode heuristic"
go_on
wait_step 3
out=$(cat "$WORK/out")
expect_in "$out" "ENOMEM map:512M"
expect_in "$out" "OK map:128M"

# strict again: the cgroup is far past its limit now, so even 1 MiB is refused.
"$COMMITCTL" set-mode "$SCRATCH/x" strict >/dev/null || fail "set-mode strict"
go_on
wait_step 4
expect_in "$(cat "$WORK/out")" "ENOMEM map:1M"
go_on
exec 3>&-
wait "$WL_PID" || fail "workload exited $?"

# Each refusal names its mode (events --json prints one object per line).
events=$("$COMMITCTL" --json events)
modes=$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["mode"] for l in sys.stdin if l.strip()))' <<<"$events")
[ "$modes" = "strict heuristic strict" ] || fail "refusals by mode: '$modes', want 'strict heuristic strict'"
finish
