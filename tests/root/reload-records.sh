#!/bin/bash
# Issue 9, item 9: reload (commitctl reload, SIGHUP) must not free a budget entry that a process record still
# points at. A process enrolled in jail moves itself into jail/sub (no policy, no listener of its own) before
# its first notified call; its refusal makes commitd judge it in jail/sub's entry. Before the fix, reload freed
# that entry: the sanitized commitd (scripts/test's second run) reported a heap-use-after-free in judged_pids,
# and the plain one judged the next call from freed memory. After each reload the process is still judged in
# its budget, and commitd still answers.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

policy jail '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
mkdir -p "$CG_FS/jail/sub" || fail "mkdir jail/sub"

start_held mover "$COMMITCTL" run --cgroup "$SCRATCH/jail" -- sh -c \
	"echo \$\$ > '$CG_FS/jail/sub/cgroup.procs' && exec '$WORKLOAD' map:1G wait map:1G map:4M wait map:1G map:4M wait"
expect_in "$(cat "$WORK/mover.out")" "ENOMEM map:1G"
grep -qx "$HELD_PID" "$CG_FS/jail/sub/cgroup.procs" || fail "the process did not move into jail/sub"

"$COMMITCTL" reload >/dev/null || fail "reload with a record in jail/sub"
echo >&9
wait_for '[ "$(grep -c WAITING "$WORK/mover.out")" -ge 2 ]'
out=$(cat "$WORK/mover.out")
[ "$(grep -c '^ENOMEM map:1G' <<<"$out")" = 2 ] || fail "after reload: the second 1G map was not refused: $out"
[ "$(grep -c '^OK map:4M' <<<"$out")" = 1 ] || fail "after reload: the 4M map was not admitted: $out"

kill -HUP "$COMMITD_PID" || fail "SIGHUP"
logged "reload (SIGHUP): " || fail "SIGHUP was not logged"
echo >&9
wait_for '[ "$(grep -c WAITING "$WORK/mover.out")" -ge 3 ]'
out=$(cat "$WORK/mover.out")
[ "$(grep -c '^ENOMEM map:1G' <<<"$out")" = 3 ] || fail "after SIGHUP: the third 1G map was not refused: $out"
[ "$(grep -c '^OK map:4M' <<<"$out")" = 2 ] || fail "after SIGHUP: the second 4M map was not admitted: $out"

kill -0 "$COMMITD_PID" 2>/dev/null || fail "commitd died"
"$COMMITCTL" status "$SCRATCH/jail" >/dev/null || fail "status after the reloads"
finish
