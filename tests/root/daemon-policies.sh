#!/bin/bash
# commitd's policies: a bad file is reported and skipped while the good ones load (at start and on
# reload); live changes create a policy and its cgroup when missing, apply at once, and survive a restart.
set -u
. "$(dirname "$0")/lib.sh"
require_root

start_commitd
policy good '"mode": "strict", "ratio": 80'
printf '{"cgroup": "%s/bad", "ration": 80}\n' "$SCRATCH" >"$POLICIES/bad.json"
stop_commitd
launch_commitd

# At start: the bad file is logged with FILE:LINE:COLUMN and skipped; the good one serves.
grep -q "$POLICIES/bad.json:1:.*unknown key \"ration\".*skipped" "$WORK/commitd.log" ||
	fail "the bad policy file is not reported at start"
[ "$(status_field "$SCRATCH/good" mode)" = strict ] || fail "the good policy did not load next to a bad one"
[ "$(status_field "$SCRATCH/good" ratio)" = 80 ] || fail "ratio of the good policy"

# On reload: the same, with the error line given back to the caller and exit status 1.
err=$("$COMMITCTL" reload 2>&1); rc=$?
[ $rc = 1 ] || fail "reload with a bad file exited $rc, want 1"
expect_in "$err" "bad.json:1:"
expect_in "$err" "unknown key \"ration\""
[ "$(status_field "$SCRATCH/good" mode)" = strict ] || fail "the good policy is gone after reload"

# Live changes: on an existing policy, and on a cgroup that has none (policy and cgroup created).
"$COMMITCTL" set-mode "$SCRATCH/good" always >/dev/null || fail "set-mode"
"$COMMITCTL" set-limit "${SCRATCH#/}/fresh" 32M >/dev/null || fail "set-limit on a new cgroup"
[ -d "$CG_FS/fresh" ] || fail "set-limit did not create the cgroup $CG_FS/fresh"
[ "$(status_field "$SCRATCH/fresh" commit_limit_bytes)" = $((32 << 20)) ] || fail "limit of the new policy"
[ "$(status_field "$SCRATCH/fresh" mode)" = strict ] || fail "a created policy defaults to strict"
"$COMMITCTL" set-ratio "$SCRATCH/fresh" 40 >/dev/null || fail "set-ratio"
[ "$(status_field "$SCRATCH/fresh" limit_bytes)" = None ] || fail "set-ratio must clear the limit"

# A restart keeps all of it.
stop_commitd
launch_commitd
[ "$(status_field "$SCRATCH/good" mode)" = always ] || fail "set-mode did not survive a restart"
[ "$(status_field "$SCRATCH/fresh" ratio)" = 40 ] || fail "set-ratio did not survive a restart"
[ "$(status_field "$SCRATCH/fresh" limit_bytes)" = None ] || fail "the cleared limit came back after restart"
ls -A "$WORK/state/policies/" | grep -q '^\.' && fail "a temporary file was left in the state directory"

# A corrupt or truncated state file: commitd starts from the policy files, moves the bad file aside and says
# so; the other live changes still apply, and the next change writes the file afresh.
stop_commitd
good_state=$(grep -l "\"$SCRATCH/good\"" "$WORK"/state/policies/*.json)
[ -n "$good_state" ] || fail "no state file for $SCRATCH/good"
head -c 40 "$good_state" >"$good_state.cut" && mv "$good_state.cut" "$good_state" # truncated mid-document
: >"$WORK/state/policies/empty.json"
launch_commitd
grep -q "state file $good_state is corrupt .*moved aside to $good_state.corrupt" "$WORK/commitd.log" ||
	fail "the truncated state file is not reported as moved aside"
grep -q "state file $WORK/state/policies/empty.json is corrupt" "$WORK/commitd.log" || fail "the empty state file is not reported"
[ -f "$good_state.corrupt" ] && [ ! -e "$good_state" ] || fail "the truncated state file was not moved aside"
[ "$(status_field "$SCRATCH/good" mode)" = strict ] || fail "the policy file does not rule after its state file was bad"
[ "$(status_field "$SCRATCH/good" ratio)" = 80 ] || fail "ratio after the bad state file"
[ "$(status_field "$SCRATCH/fresh" ratio)" = 40 ] || fail "a good state file was lost next to a bad one"
"$COMMITCTL" set-mode "$SCRATCH/good" always >/dev/null || fail "set-mode after the bad state file"
stop_commitd
launch_commitd
[ "$(status_field "$SCRATCH/good" mode)" = always ] || fail "the change after a bad state file did not persist"
finish
