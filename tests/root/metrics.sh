#!/bin/bash
# commitctl metrics from a real commitd: promtool (Debian's prometheus package) accepts the exposition, and a
# refused call of an enrolled process is counted under its cgroup and call, as are its budget, the level that
# refused, the daemon's judgements and the host's own numbers.
set -u
. "$(dirname "$0")/lib.sh"
require_root
command -v promtool >/dev/null || { fail "promtool missing: scripts/deps installs Debian's prometheus"; finish; }
start_commitd
policy tight '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"

# Two refused mappings, one admitted fork, then held: enrolled while metrics are read.
start_held tight "$COMMITCTL" run --policy tight -- "$WORKLOAD" map:1G map:1G fork wait
expect_in "$(cat "$WORK/tight.out")" "ENOMEM map:1G"

out=$("$COMMITCTL" metrics) || fail "commitctl metrics exited $?"
printf '%s\n' "$out" >"$WORK/metrics.prom"
lint=$(promtool check metrics <"$WORK/metrics.prom" 2>&1) || fail "promtool check metrics rejects it: $lint"

# The check can fail: promtool rejects a counter without _total and a sample without HELP.
printf '# HELP x_bad A counter.\n# TYPE x_bad counter\nx_bad 1\n' | promtool check metrics >/dev/null 2>&1 &&
	fail "promtool accepted a counter without _total: the check above proves nothing"

has() { grep -qxF -- "$1" "$WORK/metrics.prom" || fail "no line '$1' in the exposition"; }
cg=$SCRATCH/tight
has "commitd_budget_refused_calls_total{cgroup=\"$cg\",call=\"mmap\"} 2"
has "commitd_budget_refused_calls_total{cgroup=\"$cg\",call=\"clone\"} 0"
has "commitd_budget_admitted_calls_total{cgroup=\"$cg\",call=\"clone\"} 1"
has "commitd_budget_level_refusals_total{cgroup=\"$cg\"} 2"
has "commitd_budget_would_refuse_calls_total{cgroup=\"$cg\",call=\"mmap\"} 0"
has "commitd_budget_info{cgroup=\"$cg\",policy=\"tight\",mode=\"strict\",enforce=\"true\"} 1"
has "commitd_budget_commit_limit_bytes{cgroup=\"$cg\"} $((64 << 20))"
has "commitd_budget_enrolled_processes{cgroup=\"$cg\"} 1"
has "commitd_budget_listeners{cgroup=\"$cg\"} 1"
has "commitd_listeners 1"
has "commitd_keeper_up 1"
has "commitd_listeners_recovered 0"
has "commitd_build_info{version=\"$("$COMMITD" --version | awk '{print $2}')\"} 1"
has "commitd_host_overcommit_memory $(cat /proc/sys/vm/overcommit_memory)"
has "commitd_host_commit_limit_bytes $(($(awk '/^CommitLimit:/ {print $2}' /proc/meminfo) * 1024))"
grep -q "^commitd_host_committed_bytes [1-9][0-9]*$" "$WORK/metrics.prom" || fail "no host Committed_AS"
# Every judged call is in the histogram (at least the two refusals and the fork), +Inf equal to the count; each
# refusal re-measured the budget first.
n=$(awk '/^commitd_judge_duration_seconds_count / {print $2}' "$WORK/metrics.prom")
inf=$(awk '/^commitd_judge_duration_seconds_bucket\{le="\+Inf"\} / {print $2}' "$WORK/metrics.prom")
if [ "${n:-0}" -lt 3 ] || [ "$n" != "$inf" ]; then fail "judge histogram: count '$n', +Inf bucket '$inf'"; fi
m=$(awk '/^commitd_remeasure_duration_seconds_count / {print $2}' "$WORK/metrics.prom")
[ "${m:-0}" -ge 2 ] || fail "remeasures counted: '$m', want at least one per refusal"

# --json: the same numbers as commitd sent them.
"$COMMITCTL" --json metrics | python3 -c '
import json, sys
m = json.load(sys.stdin)
b = [b for b in m["budgets"] if b["cgroup"] == sys.argv[1]][0]
sys.exit(0 if b["refused"]["mmap"] == 2 and m["daemon"]["keeper_up"] else 1)' "$cg" || fail "metrics --json"

# A restarted commitd adopts the held listener from the keeper, and says so.
stop_commitd
launch_commitd
out=$("$COMMITCTL" metrics) || fail "commitctl metrics after the restart exited $?"
expect_in "$out" "commitd_listeners_recovered 1"
expect_in "$out" "commitd_budget_listeners{cgroup=\"$cg\"} 1"

echo >&9 # let the workload end
finish
