# shellcheck shell=bash
# Shared by the top tests (issue 12): two budgets side by side, one refusing again and again.
# top_budgets: $SCRATCH/calm, strict 1 GiB, holds 4 MiB (under 1%); $SCRATCH/hot, strict 64 MiB, holds 40 MiB (over
# 60%) and has 5 calls refused about every second, for five minutes (cleanup ends both). Returns once calm is
# enrolled and hot has been refused.
top_budgets() {
	local ops=(map:40M) _
	policy calm '"mode": "strict", "limit": "1G", "swap": "0"'
	policy hot '"mode": "strict", "limit": "64M", "swap": "0"'
	"$COMMITCTL" reload >/dev/null || fail "reload"
	"$COMMITCTL" run --policy calm -- "$WORKLOAD" map:4M sleep:300 >"$WORK/calm.out" 2>&1 &
	STARTED_PIDS="${STARTED_PIDS:-} $!"
	for _ in $(seq 300); do ops+=(flood:5 sleep:1); done
	"$COMMITCTL" run --policy hot -- "$WORKLOAD" "${ops[@]}" >"$WORK/hot.out" 2>&1 &
	STARTED_PIDS="${STARTED_PIDS:-} $!"
	wait_for '[ "$(status_field "$SCRATCH/calm" enrolled_processes 2>/dev/null)" = 1 ]' || fail "calm never enrolled"
	wait_for 'grep -q "FLOOD refused=5" "$WORK/hot.out"' || fail "hot was never refused: $(cat "$WORK/hot.out")"
}
