#!/bin/bash
# Issue 9, fault 14: every cgroup's live policy has a name (and a file in STATE/policies) of its own. '/'
# and '-' once both became '-' (a/x-y and a/x/y were both "a-x-y.json"), and long paths were cut at 63
# characters, so one cgroup lost its limit at the next start. And two policy files of one name are refused:
# the second is reported (log, reload's errors), naming both files.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd
long=$SCRATCH/$(printf 'long%.0s' $(seq 20))

# 1. Live changes on cgroups whose old names collide, then a restart: each keeps its own limit.
declare -A limits=(["$SCRATCH/a/x-y"]=64M ["$SCRATCH/a/x/y"]=32M ["$SCRATCH/a/x_2dy"]=16M ["$SCRATCH/a-x/y"]=8M
	["$long/one"]=24M ["$long/two"]=40M)
for cg in "${!limits[@]}"; do
	"$COMMITCTL" set-limit "$cg" "${limits[$cg]}" >/dev/null || fail "set-limit $cg"
done
stop_commitd
launch_commitd
for cg in "${!limits[@]}"; do
	want=$(numfmt --from=iec "${limits[$cg]}")
	got=$(status_field "$cg" limit_bytes 2>&1)
	[ "$got" = "$want" ] || fail "after a restart $cg has limit $got, want $want"
done
n=$(ls "$WORK/state/policies" | wc -l)
[ "$n" = ${#limits[@]} ] || fail "$n files in STATE/policies for ${#limits[@]} cgroups: $(ls "$WORK/state/policies")"
names=$("$COMMITCTL" --json policy list | python3 -c 'import json,sys; print("\n".join(p["name"] for p in json.load(sys.stdin)["policies"]))')
echo "$names"
[ "$(sort -u <<<"$names" | wc -l)" = ${#limits[@]} ] || fail "policy names are not unique: $names"

# 2. Two policy files with one name: the second (in file-name order) is refused, naming both.
echo "{\"name\": \"dup\", \"cgroup\": \"$SCRATCH/d1\", \"mode\": \"strict\", \"limit\": \"64M\"}" >"$POLICIES/d1.json"
echo "{\"name\": \"dup\", \"cgroup\": \"$SCRATCH/d2\", \"mode\": \"strict\", \"limit\": \"32M\"}" >"$POLICIES/d2.json"
out=$("$COMMITCTL" --json reload 2>&1)
rc=$?
echo "$out"
[ $rc = 1 ] || fail "reload with a skipped file exited $rc, want 1"
expect_in "$out" "$POLICIES/d2.json"
expect_in "$out" "$POLICIES/d1.json"
expect_in "$out" '\"dup\"'
grep -q "$POLICIES/d2.json.*$POLICIES/d1.json" "$WORK/commitd.log" || fail "the duplicate is not logged naming both files"
[ "$(status_field "$SCRATCH/d1" limit_bytes)" = $((64 << 20)) ] || fail "the first policy named dup did not load"
err=$("$COMMITCTL" status "$SCRATCH/d2" 2>&1) && fail "the second policy named dup loaded: $err"
out=$("$COMMITCTL" --json policy show dup) || fail "policy show dup: $out"
expect_in "$out" "$SCRATCH/d1"
# and at start
stop_commitd
launch_commitd
grep -c "$POLICIES/d2.json.*$POLICIES/d1.json" "$WORK/commitd.log" | grep -q 2 || fail "the duplicate is not logged at start"
rm "$POLICIES/d2.json"

# 3. A policy file that took, for another cgroup, the name a live change would give: the live change's policy
# is named by a hash of its path instead, and both keep their limits across a restart.
taken="commitd_2dtest_2d$$-taken"
echo "{\"name\": \"$taken\", \"cgroup\": \"$SCRATCH/elsewhere\", \"limit\": \"48M\"}" >"$POLICIES/handmade.json"
"$COMMITCTL" reload >/dev/null || fail "reload with handmade.json"
"$COMMITCTL" set-limit "$SCRATCH/taken" 56M >/dev/null || fail "set-limit on the cgroup whose name is taken"
name=$(status_field "$SCRATCH/taken" policy)
case $name in "${taken}_h"????????????????) ;; *) fail "the live change on $SCRATCH/taken is named $name" ;; esac
mark=$(wc -l <"$WORK/commitd.log")
stop_commitd
launch_commitd
[ "$(status_field "$SCRATCH/elsewhere" limit_bytes)" = $((48 << 20)) ] || fail "the handmade policy lost its limit"
[ "$(status_field "$SCRATCH/taken" limit_bytes)" = $((56 << 20)) ] || fail "the live change lost its limit"
tail -n +"$mark" "$WORK/commitd.log" | grep "is taken by" && fail "a name clash at start"
finish
