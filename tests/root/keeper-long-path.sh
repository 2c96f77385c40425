#!/bin/bash
# Issue 9, fault 13: a listener is handed to the keeper whatever the length of its cgroup's path. Its tag
# (cgroup, pid) once had to fit in 1024 bytes: a process enrolled in a deeper cgroup was not kept, and after
# a commitd restart its calls failed with ENOSYS. Here the cgroup's path is about 3000 bytes (twelve nested
# directories); commitd is killed (SIGKILL) and started again, and the process's next mmap is judged as
# before.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd
long=$SCRATCH
for i in $(seq -w 12); do long=$long/$(printf "d$i%.0s" $(seq 82)); done # 12 x 247 bytes
echo "cgroup path: ${#long} bytes"
[ ${#long} -ge 2950 ] || fail "the path is only ${#long} bytes"
"$COMMITCTL" set-limit "$long" 64M >/dev/null || fail "set-limit on the long path"

start_held t "$COMMITCTL" run --cgroup "$long" -- "$WORKLOAD" map:8M wait map:8M map:1G
exec {held}>&9 9>&-
expect_in "$(cat "$WORK/t.out")" "OK map:8M"
[ "$(status_field "$long" enrolled_processes)" = 1 ] || fail "not enrolled: $(cat "$WORK/t.out")"
grep -q "cannot hand over the listener" "$WORK/commitd.log" && fail "the listener was not handed to the keeper"

kill -KILL "$COMMITD_PID"
wait "$COMMITD_PID" 2>/dev/null
launch_commitd
adopted=$(grep "listeners adopted" "$WORK/commitd.log" | tail -1)
expect_in "$adopted" ": 1 listeners adopted"
echo go >&"$held"
wait_for 'grep -q "map:1G" "$WORK/t.out"'
out=$(cat "$WORK/t.out")
echo "$out"
[ "$(grep -c "^OK map:8M$" <<<"$out")" = 2 ] || fail "the mmap after the restart did not succeed"
expect_in "$out" "ENOMEM map:1G" # judged by the cgroup's 64 MiB
grep -q ENOSYS <<<"$out" && fail "the listener was lost across the restart: ENOSYS"
finish
