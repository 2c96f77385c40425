#!/bin/bash
# Issue 11, never `/`, never shared: crun 1.8.1 on this hybrid host runs with --cgroup-manager=disabled (in a
# mount namespace without the cgroup2 mount), so its container stays in the cgroup of whoever started it; under
# an engine that is `/`. Here the container is started from a cgroup shared with an enrolled neighbour: commitd
# moves the container into a cgroup of its own below the shared one before judging it, the neighbour is not judged by the
# container's 64 MiB budget (it maps 100 MiB), the container is, and so is a `crun exec` into it, whose process
# (left in its caller's cgroup by crun) commitd moves into the container's cgroup. When the container ends its
# cgroup is gone. One started from `/` gets its cgroup below --oci-cgroup. (Before: the policy went onto the shared cgroup, the neighbour was refused, and every exec
# died: commitd refused its pid 0.)
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
runtime_start crun unused
ID=e2e-$$-shared
OWN=$SCRATCH/shared/commitd-$ID
mkdir -p "$CG_FS/shared"

V2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
crun_wrapped() { # CGDIR ARGS...: crun through the wrapper, started from CGDIR
	crun_from "$1" "$OCI_WRAPPER" --commitd-socket "$WORK/oci.sock" --commitd-runtime crun \
		--cgroup-manager=disabled "${@:2}"
}
crun_shared_cleanup() {
	local rc=$?
	exec 8>&- 9>&-
	for c in "$ID" "e2e-$$-rooted"; do
		crun_from "$CG_FS" crun --cgroup-manager=disabled delete --force "$c" >/dev/null 2>&1
	done
	(exit $rc)
	cleanup
}
trap crun_shared_cleanup EXIT

# The neighbour: enrolled in the shared cgroup, no policy of its own; it maps 100 MiB once told to.
start_held neighbour "$COMMITCTL" run --cgroup "$SCRATCH/shared" -- "$WORKLOAD" wait map:100M wait

# The container, from the same cgroup: 32 MiB mapped, then it waits on its stdin (a FIFO held on fd 8).
bundle holder strict64 map:32M wait
mkfifo "$WORK/holder.in"
crun_wrapped "$CG_FS/shared" run --bundle "$WORK/holder" "$ID" <"$WORK/holder.in" >"$WORK/holder.out" 2>&1 &
holder=$!
STARTED_PIDS="${STARTED_PIDS:-} $holder"
exec 8>"$WORK/holder.in"
wait_for 'grep -q WAITING "$WORK/holder.out"' || fail "the container never waited: $(cat "$WORK/holder.out")"
grep -q "container $ID: its cgroup $SCRATCH/shared is shared with other processes; moved into $OWN, a cgroup of its own" \
	"$WORK/commitd.log" || fail "commitd did not give the container a cgroup of its own"
[ "$(status_field "$OWN" policy 2>/dev/null)" = "strict64@$ID" ] || fail "status does not show $OWN under strict64@$ID"
[ "$(status_field "$SCRATCH/shared" policy 2>/dev/null)" = None ] || fail "the shared cgroup got a policy"
[ -n "$(cat "$CG_FS/shared/commitd-$ID/cgroup.procs")" ] || fail "no process in the container's own cgroup"

# The neighbour maps past the container's budget: not its budget.
echo >&9
wait_for '[ "$(grep -c WAITING "$WORK/neighbour.out")" -ge 2 ]'
expect_in "$(cat "$WORK/neighbour.out")" "OK map:100M"

# crun exec into it: its process starts in its caller's cgroup, is moved into the container's, and is judged
# under the container's budget (32 MiB held by the container's first process): refused, not killed.
out=$(crun_wrapped "$CG_FS/shared" exec "$ID" /bin/workload steps:4M:1G 2>&1) || fail "crun exec exited $?: $out"
expect_refused_between "$out" 8 32 "the exec'd process beside the container's 32 MiB in 64 MiB"
grep -q "container $ID: exec'd pid [0-9]* moved from $SCRATCH/shared into the container's cgroup $OWN" \
	"$WORK/commitd.log" || fail "the exec'd process was not moved into the container's cgroup"

# The container ends: its cgroup goes.
echo >&8
exec 8>&-
wait "$holder" || fail "the container exited $?: $(cat "$WORK/holder.out")"
expect_in "$(cat "$WORK/holder.out")" "OK map:32M"
wait_for '[ ! -d "$CG_FS/shared/commitd-$ID" ]' || fail "the container's cgroup is still there after it ended"
"$COMMITCTL" status "$OWN" >/dev/null 2>&1 && fail "the ended container is still in status"

# A container process in a shared cgroup whose id cannot name a cgroup: refused, logged, the shared cgroup never
# given its policy (its mmaps fail: nobody holds its listener).
out=$(bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" "$3" "bad id" strict64' _ "$CG_FS/shared" "$OCIEXEC" "$WORK/oci.sock" 2>&1)
[ "$(head -1 <<<"$out")" = "MMAP ENOSYS" ] || fail "a container that could not get a cgroup of its own was judged: $out"
grep -q "container bad id refused: its cgroup is shared and its id cannot name a cgroup of its own" "$WORK/commitd.log" ||
	fail "the refusal of a container that could not get a cgroup of its own is not logged"
[ "$(status_field "$SCRATCH/shared" policy 2>/dev/null)" = None ] || fail "the shared cgroup got a policy"

# Started from `/`, as under an engine: a cgroup of its own below --oci-cgroup ($SCRATCH/containers here),
# judged there, gone after.
ROOTED=e2e-$$-rooted
bundle rooted strict64 steps:4M:1G
out=$(crun_wrapped "$V2" run --bundle "$WORK/rooted" "$ROOTED" 2>&1) || fail "crun run from / exited $?: $out"
expect_refused_at_64m "$out" "the container started from /"
grep -q "container $ROOTED: its cgroup / is the root; moved into $SCRATCH/containers/$ROOTED, a cgroup of its own" \
	"$WORK/commitd.log" || fail "the container started from / did not get a cgroup of its own below --oci-cgroup"
grep -q "refused cgroup=/ " "$WORK/commitd.log" && fail "something was judged in /"
wait_for '[ ! -d "$CG_FS/containers/$ROOTED" ]' || fail "the cgroup of the container started from / is still there"
finish
