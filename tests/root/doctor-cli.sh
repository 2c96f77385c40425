#!/bin/bash
# commitctl doctor as a user types it: the words, --what-if, --json and its errors, on this host.
set -u
. "$(dirname "$0")/lib.sh"
require_root

out=$("$COMMITCTL" doctor) || fail "doctor exited $?"
mode=$(cat /proc/sys/vm/overcommit_memory)
limit_kb=$(awk '/^CommitLimit:/ {print $2}' /proc/meminfo)
expect_in "$out" "Host overcommit: vm.overcommit_memory=$mode"
expect_in "$out" "Largest committers by process:"
expect_in "$out" "Largest committers by cgroup:"
case $mode in
0) expect_in "$out" "heuristic mode: the kernel refuses only a single allocation larger than RAM + swap" ;;
1) expect_in "$out" "always mode: the kernel never refuses" ;;
2) expect_in "$out" "strict mode:" ;;
esac

# ratio 0 with no swap: CommitLimit 0, so every allocation would fail.
swap_kb=$(awk '/^SwapTotal:/ {print $2}' /proc/meminfo)
if [ "$swap_kb" = 0 ]; then
	out=$("$COMMITCTL" doctor --what-if mode=2,ratio=0) || fail "what-if exited $?"
	expect_in "$out" "What if mode=2,ratio=0: CommitLimit would be 0B"
	expect_in "$out" "every new allocation and fork() of a process without CAP_SYS_ADMIN would fail with ENOMEM"
fi

# The what-if of the host's own settings in strict mode gives the kernel's CommitLimit.
ratio=$(cat /proc/sys/vm/overcommit_ratio)
json=$("$COMMITCTL" --json doctor --what-if "mode=strict,ratio=$ratio") || fail "json what-if exited $?"
got=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["what_if"]["commit_limit_bytes"], d["what_if"]["overcommit_memory"], len(d["processes"]) > 0)' <<<"$json")
[ "$got" = "$((limit_kb * 1024)) 2 True" ] || fail "what-if of the host's ratio: got '$got', want '$((limit_kb * 1024)) 2 True'"

# Errors: a clear line and exit code 2.
err=$("$COMMITCTL" doctor --what-if mode=3 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] || fail "bad --what-if exited $rc, want 2"
expect_in "$err" "--what-if: cannot use 'mode=3'"
err=$("$COMMITCTL" doctor --top -1 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] || fail "bad --top exited $rc, want 2"
err=$("$COMMITCTL" frobnicate 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] || fail "unknown verb exited $rc, want 2"
expect_in "$err" "unknown verb 'frobnicate'"
finish
