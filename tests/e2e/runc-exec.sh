#!/bin/bash
# Issue 11: `runc exec` into a running enrolled container. runc 1.1.5 sends the exec's listener with a state
# naming the exec's own pid and the container's id (crun sends pid 0: tests/e2e/crun-shared.sh). commitd
# takes it as an exec of the container already enrolled under that id, checks that the process is in the
# container's cgroup, and judges it under the container's budget: refused beside the 32 MiB the container
# holds, not killed, and the container keeps its budget. status shows the container's 64-character id whole
# (its policy was named after the first 31). A container that shares its cgroup gets one of its
# own, but an exec is not a container: it must not get a fresh budget of its own (a first version of the fix
# gave it one: the exec mapped 52 MiB beside the container's 32 MiB in 64 MiB). A listener handed over as an
# exec of the container by a process outside it is refused, fail closed.
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
runtime_start runc commitd-e2e-$$
ID=e2e-$$-exec-$(printf '%064d' 0)
ID=${ID:0:64} # as long as Docker's and containerd's ids: status names it whole
runc_trap "$ID"

bundle holder strict64 map:32M wait
start_held holder wrapped runc run --bundle "$WORK/holder" "$ID"
holder=$HELD_PID
[ "$(status_field "/$CGPATH/holder" policy 2>/dev/null)" = "strict64@$ID" ] || fail "the container is not enrolled under strict64@ID"
[ "$(status_field "/$CGPATH/holder" container 2>/dev/null)" = "$ID" ] || fail "status --json does not name the whole container id"
table=$("$COMMITCTL" status)
expect_in "$(head -1 <<<"$table")" "POLICY"
grep -qE "^/$CGPATH/holder +strict64@$ID +strict " <<<"$table" || fail "the table's line of the container:"$'\n'"$table"

out=$(wrapped runc exec "$ID" /bin/workload steps:4M:1G 2>&1) || fail "runc exec exited $?: $out"
expect_refused_between "$out" 8 32 "the exec'd process beside the container's 32 MiB in 64 MiB"
grep -q "container $ID: an exec (pid [0-9]*) enrolled in /$CGPATH/holder" "$WORK/commitd.log" || fail "the exec was not enrolled"
grep -q "refused cgroup=/$CGPATH/holder .*comm=workload call=mmap.*limit=64Mi" "$WORK/commitd.log" ||
	fail "the exec'd process's refusal is not logged under the container's cgroup"
# The container goes on, its budget intact.
[ "$(status_field "/$CGPATH/holder" policy 2>/dev/null)" = "strict64@$ID" ] || fail "the exec's end took the container's budget"

# An "exec" from outside the container (a listener of a process in neither its cgroup nor its pid namespace,
# handed over with the container's id and pid 0): refused, fail closed, never judged under its budget.
out=$("$OCIEXEC" "$WORK/oci.sock" "$ID" 2>&1) || fail "ociexec exited $?: $out"
[ "$(head -1 <<<"$out")" = "MMAP ENOMEM" ] || fail "a foreign process named as the container's exec was not refused: $out"
grep -q "MMAP OK" <<<"$out" && fail "a foreign process named as the container's exec was admitted: $out"
grep -q "container $ID: exec refused: pid [0-9]*: its process is neither in the container's cgroup nor in its pid namespace" \
	"$WORK/commitd.log" || fail "the foreign exec's refusal is not logged"

echo >&9
exec 9>&-
wait "$holder" || fail "the container exited $?: $(cat "$WORK/holder.out")"
finish
