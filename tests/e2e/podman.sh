#!/bin/bash
# Issue 11: podman 4.3 runs its containers through commitd-oci-runtime with runc or crun (the argument), the
# way docs/containers.md tells a user to. conmon passes the runtime no environment but PATH, XDG_RUNTIME_DIR and
# PWD, and podman gives --runtime-flag only to the runtime calls of the command it was given to: with runc the
# wrapper takes the agent socket and the policy from `--runtime-flag commitd-...` (runc, the default, serves
# every other call); with crun a runtime of podman's names the wrapper's config file, which says crun. A
# container is refused at its policy's 64 MiB; the same program in an unenrolled container maps 1 GiB; status
# and events name the container; `podman exec` is judged under the container's budget; an unknown policy or a
# commitd that is down keeps the container from starting, naming commitd; and podman leaves nothing on the host.
#
# podman's storage, state, locks and events stay under $WORK (vfs); --network none (no netns).
# crun 1.8 refuses a hybrid host: podman then runs in a mount namespace without the cgroup2 mount, with
# --cgroups=disabled (podman passes crun --cgroup-manager disabled), and commitd gives the container a cgroup
# of its own.
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
RUNTIME=${1:?usage: podman.sh runc|crun}
require_root
engine_require podman conmon "$RUNTIME"
start_commitd
policy_file strict64 '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
podman_begin "$RUNTIME" podman_stop

# Refused at the budget: the policy comes from the runtime flag (no annotation).
out=$(pm run --rm "${run_opts[@]}" $(runtime_opts "$WORK/oci.sock" strict64) --cidfile "$PM/strict.cid" "$IMAGE" \
	/bin/workload steps:4M:1G fork 2>&1) || fail "podman run (strict) exited $?: $out"
strict=$(cat "$PM/strict.cid" 2>/dev/null)
# runc: podman's cgroup for it below the test's; crun: the one commitd made for it, named by its id
[ "$RUNTIME" = runc ] && cg="$ENGINE_CG/libpod-$strict" || cg=".*/$strict"
expect_container_refused "$out" "$strict" "$cg" "podman run --runtime-flag commitd-policy=strict64"

# The same program in a container of the same image, without the wrapper: nothing refuses it.
out=$(pm run --rm "${run_opts[@]}" --runtime "$RUNTIME" "$IMAGE" /bin/workload steps:4M:1G fork 2>&1) ||
	fail "podman run (unenrolled) exited $?: $out"
expect_unrefused "$out"

# A running container, its policy from the annotation: status names it with its full id, in a cgroup of its own
# (never the engine's, never /), and `podman exec` is judged under its budget.
held=$(pm run -d "${run_opts[@]}" $(runtime_opts "$WORK/oci.sock") --annotation io.commitd.policy=strict64 "$IMAGE" \
	/bin/busybox sleep 600 2>&1) || fail "podman run -d exited $?: $held"
held=${held##*$'\n'}
CONTAINER_IDS="$CONTAINER_IDS $held"
wait_log "container $held (pid [0-9]*) enrolled"
pid=$(pm inspect --format '{{.State.Pid}}' "$held")
CONTAINER_PIDS="$CONTAINER_PIDS $pid"
expect_status_names "$held" "podman run -d"
cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
[ -n "$cg" ] && [ "$cg" != / ] && [ "$cg" != "$own" ] ||
	fail "the container runs in cgroup '$cg', not one of its own (podman's is $own)"
[ "$(status_field "$cg" policy)" = "strict64@$held" ] ||
	fail "the container's cgroup $cg is not under its budget: $("$COMMITCTL" status "$cg" 2>&1)"
out=$(pm exec "$held" /bin/workload steps:4M:1G 2>&1)
expect_refused_at_64m "$out" "podman exec"
expect_events_name "$held" "podman exec"
pm rm --force --time 0 "$held" >/dev/null || fail "podman rm"

# A policy commitd does not have, or commitd down: the container does not start, and podman says why.
out=$(pm run --rm "${run_opts[@]}" $(runtime_opts "$WORK/oci.sock" nope) "$IMAGE" /bin/workload map:1M 2>&1) &&
	fail "a container started under policy nope: $out"
expect_not_started "$out" "podman run, policy nope" nope
out=$(pm run --rm "${run_opts[@]}" $(runtime_opts "$WORK/nobody.sock" strict64) "$IMAGE" /bin/workload map:1M 2>&1) &&
	fail "a container started with commitd down: $out"
expect_not_started "$out" "podman run, commitd down" strict64 "$WORK/nobody.sock"
finish
