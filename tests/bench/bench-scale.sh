#!/bin/bash
# Scale (issue 10): commitd with many budgets and many enrolled processes, in one invocation:
#   - start with N policy files (default 1,000): time until it answers `status`;
#   - `commitctl status` of all N budgets (paged: docs/protocol.md);
#   - the cost of a notified mmap+munmap pair with 1 budget and with N budgets (the per-call path must not
#     depend on how many budgets there are);
#   - commitd's RSS with P enrolled processes (default 10,000: children of one enrolled parent, each having
#     made a notified call, so each has a record).
# A benchmark: it prints numbers and asserts nothing. Its own commitd, cgroups and files, removed at the end.
#
# Usage: tests/bench/bench-scale.sh [BUDGETS [PROCESSES]]   (as root, after scripts/build build)
set -u
cd "$(dirname "$0")/../.."
N=${1:-1000}
P=${2:-10000}
BUILD=$PWD/build
[ "$(id -u)" = 0 ] || { echo "bench-scale: run it as root" >&2; exit 2; }
WORK=$(mktemp -d /tmp/bench-scale.XXXXXX)
CG=/commitd-scale-$$
V2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
export COMMITD_SOCKET=$WORK/commitd.sock
DAEMON=
HOLDER=
cleanup() {
	[ -n "$HOLDER" ] && kill -KILL -- -"$HOLDER" 2>/dev/null
	[ -n "$HOLDER" ] && wait "$HOLDER" 2>/dev/null
	[ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
	# 10,000 killed processes leave their cgroup over a few seconds: rmdir until it is empty
	for _ in $(seq 300); do
		[ -d "$V2$CG" ] || break
		find "$V2$CG" -depth -type d -exec rmdir {} + 2>/dev/null
		sleep 0.1
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON/status"; }

start() {
	"$BUILD/daemon/commitd" --foreground --socket "$COMMITD_SOCKET" --oci-socket "$WORK/oci.sock" \
		--policy-dir "$WORK/policies" --state-dir "$WORK/state" --log-level warning 2>>"$WORK/commitd.log" &
	DAEMON=$!
	for _ in $(seq 600); do "$BUILD/cli/commitctl" status >/dev/null 2>&1 && return; sleep 0.01; done
	echo "bench-scale: commitd did not start" >&2
	exit 1
}

# Per-call cost: one enrolled python process maps and unmaps 64 KiB, CALLS times (the first budget's cgroup).
pair_us() {
	"$BUILD/cli/commitctl" run --cgroup "$CG/b1" -- python3 -c '
import mmap, time
n = 20000
t0 = time.perf_counter_ns()
for _ in range(n):
    m = mmap.mmap(-1, 65536)
    m.close()
print((time.perf_counter_ns() - t0) / n / 1000)'
}

mkdir -p "$WORK/policies"
echo "{\"cgroup\": \"$CG/b1\", \"mode\": \"strict\", \"limit\": \"1T\"}" >"$WORK/policies/b1.json"
t=$(date +%s%N); start; echo "start with 1 policy: $(ms "$t") ms to the first status"
one=$(pair_us)
kill "$DAEMON" && wait "$DAEMON" 2>/dev/null

for i in $(seq 2 "$N"); do
	echo "{\"cgroup\": \"$CG/b$i\", \"mode\": \"strict\", \"limit\": \"64M\"}" >"$WORK/policies/b$i.json"
done
t=$(date +%s%N); start; echo "start with $N policies: $(ms "$t") ms to the first status"
t=$(date +%s%N); rows=$("$BUILD/cli/commitctl" status | grep -c "$CG/"); echo "commitctl status of $rows budgets: $(ms "$t") ms"
many=$(pair_us)
echo "notified mmap+munmap pair: $one us with 1 budget, $many us with $N ($(awk -v a="$many" -v b="$one" 'BEGIN { printf "%.3fx", a / b }'))"

rss0=$(rss_kib)
# P children of one enrolled parent: each makes a notified call (a record each), then waits.
setsid "$BUILD/cli/commitctl" run --cgroup "$CG/b1" -- python3 -c '
import mmap, os, signal, sys, time
n = int(sys.argv[1])
for i in range(n):
    if os.fork() == 0:
        m = mmap.mmap(-1, 65536)
        signal.pause()
        os._exit(0)
print("READY", flush=True)
signal.pause()' "$P" >"$WORK/holder.out" 2>&1 &
HOLDER=$!
for _ in $(seq 3000); do grep -q READY "$WORK/holder.out" && break; sleep 0.1; done
sleep 3 # the last children's calls, and an upkeep
procs=$(wc -l <"$V2$CG/b1/cgroup.procs")
echo "commitd RSS: $rss0 KiB with nothing enrolled, $(rss_kib) KiB with $procs enrolled processes"
t=$(date +%s%N); "$BUILD/cli/commitctl" status "$CG/b1" >/dev/null; echo "status of the budget of $procs processes: $(ms "$t") ms"
