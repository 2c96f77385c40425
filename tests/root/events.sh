#!/bin/bash
# Refusals reach `commitctl events` (recent and --follow) with their reason, and a flood of them is
# logged at NOTICE with a rate limit and a count of what was suppressed, while every call is still answered.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd
policy tight '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"

"$COMMITCTL" --json events --follow >"$WORK/follow.out" 2>&1 &
follower=$!
STARTED_PIDS="$follower"
wait_log "events --follow by pid $follower uid 0: following"

out=$("$COMMITCTL" run --cgroup "$SCRATCH/tight" -- "$WORKLOAD" flood:200) || fail "run exited $?"
expect_in "$out" "FLOOD refused=200"

# The log: at most 20 refusal lines in a second, then a count of the rest; nothing is lost from events.
lines=$(grep -c "^<5>refused cgroup=$SCRATCH/tight" "$WORK/commitd.log")
[ "$lines" -ge 1 ] && [ "$lines" -lt 200 ] || fail "$lines refusal lines logged for 200 refusals: no rate limit"
sleep 1.1
"$WORKLOAD" map:1M >/dev/null # a second later, the next refusal logs the suppressed count
"$COMMITCTL" run --cgroup "$SCRATCH/tight" -- "$WORKLOAD" map:1G >/dev/null
grep -q "more refusals not logged in the last second (rate limit)" "$WORK/commitd.log" ||
	fail "the suppressed refusals are not counted in the log"

recent=$("$COMMITCTL" --json events)
n=$(python3 -c 'import sys; print(sum(1 for l in sys.stdin if l.strip()))' <<<"$recent")
[ "$n" -ge 200 ] || fail "events lists $n refusals, want the 200 of the flood (ring of 256)"
check_event='
import json, sys
e = json.loads(sys.stdin.readline())
want = {"cgroup": sys.argv[1], "level": sys.argv[1], "comm": "workload", "call": "mmap",
        "request_bytes": 1 << 30, "limit_bytes": 64 << 20, "mode": "strict", "enforced": True}
bad = {k: (e.get(k), v) for k, v in want.items() if e.get(k) != v}
print(bad or "", file=sys.stderr)
sys.exit(1 if bad or e.get("pid", 0) <= 0 else 0)'
python3 -c "$check_event" "$SCRATCH/tight" <<<"$recent" || fail "an event lacks its reason"

kill "$follower" 2>/dev/null; wait "$follower" 2>/dev/null
followed=$(grep -c '"call": *"mmap"' "$WORK/follow.out")
[ "$followed" -ge 200 ] || fail "events --follow saw $followed refusals as they happened, want >= 200"
finish
