#!/bin/bash
# Issue 3, test 5: budgets nest. A request must fit every ancestor that has a policy, each in its own mode;
# the tighter one refuses and the refusal names it, whether it is the ancestor or the cgroup itself.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

# nested_policy FILE CGROUP BODY: a policy for a cgroup below the scratch one.
nested_policy() { echo "{\"cgroup\": \"$SCRATCH/$2\", $3}" >"$POLICIES/$1.json"; }
# last_event FIELD: a field of the most recent refusal (events --json prints one object per line).
last_event() { "$COMMITCTL" --json events | tail -1 | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

nested_policy parent parent '"mode": "strict", "limit": "64M"'
nested_policy child parent/child '"mode": "strict", "limit": "1G"'
nested_policy loose loose '"mode": "always"'
nested_policy tight loose/tight '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"

# The child alone would admit 128 MiB (1 GiB budget); the parent's 64 MiB refuses it.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/parent/child" -- "$WORKLOAD" map:16M map:128M 2>&1)
expect_in "$out" "OK map:16M"
expect_in "$out" "ENOMEM map:128M"
[ "$(last_event level)" = "$SCRATCH/parent" ] || fail "the refusal names level $(last_event level), not $SCRATCH/parent"
[ "$(last_event cgroup)" = "$SCRATCH/parent/child" ] || fail "the refusal names cgroup $(last_event cgroup)"
[ "$(last_event limit_bytes)" = $((64 << 20)) ] || fail "the refusal shows the child's limit, not the parent's"
logged "refused cgroup=$SCRATCH/parent/child pid=[0-9]* comm=workload call=mmap request=128Mi .* level=$SCRATCH/parent\$" ||
	fail "the log does not name the parent as the level that refused"
[ "$(status_field "$SCRATCH/parent" refusals)" -ge 1 ] || fail "the parent counts no refusal"

# The ancestor's budget holds what its descendants commit: two programs' 40 MiB do not both fit in 64 MiB.
mkfifo "$WORK/in"
"$COMMITCTL" run --cgroup "$SCRATCH/parent/child" -- "$WORKLOAD" map:40M wait <"$WORK/in" >"$WORK/out" 2>&1 &
holder=$!
STARTED_PIDS="${STARTED_PIDS:-} $holder"
exec 3>"$WORK/in"
wait_for 'grep -q WAITING "$WORK/out"'
expect_in "$(cat "$WORK/out")" "OK map:40M"
out=$("$COMMITCTL" run --cgroup "$SCRATCH/parent/child" -- "$WORKLOAD" map:40M 2>&1)
expect_in "$out" "ENOMEM map:40M"
[ "$(last_event level)" = "$SCRATCH/parent" ] || fail "the second 40 MiB is refused by $(last_event level)"
exec 3>&-
wait "$holder"

# The other way round: an always ancestor admits anything, its strict child refuses, and names itself.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/loose/tight" -- "$WORKLOAD" map:128M 2>&1)
expect_in "$out" "ENOMEM map:128M"
[ "$(last_event level)" = "$SCRATCH/loose/tight" ] || fail "the tight child's refusal names $(last_event level)"
out=$("$COMMITCTL" run --cgroup "$SCRATCH/loose" -- "$WORKLOAD" map:1G 2>&1)
expect_in "$out" "OK map:1G"
finish
