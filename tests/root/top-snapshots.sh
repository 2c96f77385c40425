#!/bin/bash
# Issue 12: commitctl top without a terminal prints snapshots: one by default, N with --iterations, --delay
# apart; budgets by use, refusals per second from the second snapshot on, the last refusal's reason; --json;
# --order. A tenant sees its own budget only, a member of the read group every one, as with status.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/top-lib.sh"
require_root
start_commitd_with_reader t
top_budgets
chown "$TA" "$CG_FS/calm" "$CG_FS/calm/cgroup.procs"

# rows FILE: each snapshot's rows as "CGROUP REF/S" (REF/S: the first word after the bar), snapshots apart by "--".
rows() { awk '/^CGROUP / {if (n++) print "--"; on = 1; next} /^$/ {on = 0} on {r = $0; sub(/^[^]]*\] */, "", r); split(r, w, " "); print $1, w[1]}' "$1"; }
rate_of() { grep "^$SCRATCH/$1 " "$2" | tail -1 | sed 's/^[^]]*\] *//' | awk '{print $1}'; }

# 1. Two snapshots 2 s apart (hot is refused about every second): hot on top by use both times, no rate in the
# first, a rate above 0 for hot and 0.0 for calm in the second.
"$COMMITCTL" top --iterations 2 --delay 2 </dev/null >"$WORK/two.out" 2>&1 || fail "top --iterations 2 exited $?"
got=$(rows "$WORK/two.out")
case $got in
"$SCRATCH/hot -
$SCRATCH/calm -
--
$SCRATCH/hot "[0-9]*.[0-9]"
$SCRATCH/calm 0.0") ;;
*) fail "top --iterations 2: rows '$got' in:"$'\n'"$(cat "$WORK/two.out")" ;;
esac
[ "$(rate_of hot "$WORK/two.out")" != 0.0 ] || fail "hot's refusals per second are 0.0: $(cat "$WORK/two.out")"
expect_in "$(grep "^$SCRATCH/hot " "$WORK/two.out" | tail -1)" "(workload) mmap 1.0Gi: committed"
expect_in "$(head -1 "$WORK/two.out")" "host: CommitLimit "
expect_in "$(head -1 "$WORK/two.out")" "vm.overcommit_memory $(cat /proc/sys/vm/overcommit_memory) ("
expect_in "$(sed -n 2p "$WORK/two.out")" "2 budgets, by use, every 2s"

# 2. Not a terminal, no --iterations: one snapshot. --order name: calm first.
"$COMMITCTL" top --order name >"$WORK/one.out" 2>&1 || fail "top exited $?"
[ "$(rows "$WORK/one.out" | awk '{print $1}' | tr '\n' ' ')" = "$SCRATCH/calm $SCRATCH/hot " ] ||
	fail "top --order name: $(cat "$WORK/one.out")"

# 3. --json: a line per snapshot, the same order and numbers.
"$COMMITCTL" --json top --iterations 2 --delay 2 >"$WORK/json.out" || fail "top --json exited $?"
python3 - "$SCRATCH" "$WORK/json.out" <<'PY' || fail "top --json: $(cat "$WORK/json.out")"
import json, sys
scratch = sys.argv[1]
snaps = [json.loads(l) for l in open(sys.argv[2])]
assert len(snaps) == 2, len(snaps)
for s in snaps:
    assert s["order"] == "use" and "commit_limit_bytes" in s["host"], s
    mine = [b for b in s["budgets"] if b["cgroup"].startswith(scratch + "/")]
    assert [b["cgroup"] for b in mine] == [scratch + "/hot", scratch + "/calm"], mine
hot, calm = [b for b in snaps[1]["budgets"] if b["cgroup"].startswith(scratch + "/")]
assert all(b["refusals_per_second"] is None for b in snaps[0]["budgets"]), snaps[0]
assert hot["refusals_per_second"] > 0 and calm["refusals_per_second"] == 0, (hot, calm)
assert hot["commit_limit_bytes"] == 64 << 20 and hot["use_percent"] >= 60, hot
assert hot["last_refusal"]["call"] == "mmap" and hot["last_refusal"]["cgroup"] == hot["cgroup"], hot
assert calm["last_refusal"] is None and calm["refused"] == 0, calm
PY

# 4. Who sees what: the tenant its own budget, the reader both.
out=$(as "$TA" top) || fail "the tenant's top exited $?: $out"
[ "$(rows <(printf '%s\n' "$out") | awk '{print $1}')" = "$SCRATCH/calm" ] || fail "the tenant's top: $out"
out=$(as "$READER" top) || fail "the reader's top exited $?: $out"
[ "$(rows <(printf '%s\n' "$out") | awk '{print $1}' | tr '\n' ' ')" = "$SCRATCH/hot $SCRATCH/calm " ] ||
	fail "the reader's top: $out"
expect_in "$out" "(workload) mmap 1.0Gi: committed" # the reader follows events too

# 5. Wrong options are usage errors (2); without commitd, 1 and the reason.
for bad in "--iterations 0" "--iterations x" "--delay 0.01" "--delay 4000" "--order size" "extra"; do
	# shellcheck disable=SC2086
	"$COMMITCTL" top $bad >/dev/null 2>&1
	rc=$?
	[ $rc = 2 ] || fail "top $bad exited $rc, want 2"
done
stop_commitd
err=$("$COMMITCTL" top 2>&1)
rc=$?
[ $rc = 1 ] || fail "top without commitd exited $rc, want 1"
expect_in "$err" "commitctl top: commitd is not running"
finish
