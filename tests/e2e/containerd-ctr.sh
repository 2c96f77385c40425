#!/bin/bash
# Issue 11: containerd 1.6 (Debian 12) through ctr, the runc v2 shim calling commitd-oci-runtime in place of
# runc: `ctr run --runc-binary WRAPPER --annotation io.commitd.policy=strict64`, and the BinaryName route,
# `--runc-binary` a symlink named commitd-strict64 whose entry in /etc/commitd/oci-runtime.json names the policy
# (no annotation). A container is refused at its 64 MiB; the same program under plain runc maps 1 GiB; status
# and events name the container; `ctr task exec` is judged under its budget; an unknown policy keeps the
# container from starting, naming commitd; and nothing is left on the host.
#
# containerd is the test's own (root, state and sockets under $WORK/containerd), without its CRI plugin (that is
# containerd-cri.sh). ctr gives the runtime no arguments of its own: the wrapper reads the agent socket and the
# symlink's policy from its default config file, which containerd (and so its shims) sees in a mount namespace of
# its own with the test's file over /etc (the host's /etc is untouched). Images and containers use the native
# snapshotter (no overlay mounts); the containers' cgroups are under $ENGINE_CG.
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
require_root
engine_require containerd ctr containerd-shim-runc-v2 runc
start_commitd
policy_file strict64 '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
engine_begin

mkdir -p "$WORK/containerd"
{
	echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'
	containerd_config_base
} >"$WORK/containerd/config.toml"
IMAGE=docker.io/library/commitd-e2e:latest
c() { ctr --address "$WORK/containerd/containerd.sock" --namespace commitd-e2e "$@"; }
# wrapped_run ID POLICY ARGS...: the container through the wrapper, its policy by annotation
wrapped_run() {
	c run --rm --snapshotter native --runc-binary "$OCI_WRAPPER" --cgroup "$ENGINE_CG/$1" \
		--annotation "io.commitd.policy=$2" "$IMAGE" "${@:1:1}" "${@:3}"
}

ctr_stop() {
	local t
	[ -n "${CONTAINERD_PID:-}" ] || return 0
	for t in $(c tasks list --quiet 2>/dev/null); do c tasks kill --signal SIGKILL "$t" >/dev/null 2>&1; done
	sleep 0.2
	for t in $(c containers list --quiet 2>/dev/null); do
		c tasks delete --force "$t" >/dev/null 2>&1
		c containers delete "$t" >/dev/null 2>&1
	done
	containerd_stop
}
engine_trap ctr_stop
mkdir -p "$WORK/etc/upper/commitd" "$WORK/etc/work" "$WORK/bin"
cat >"$WORK/etc/upper/commitd/oci-runtime.json" <<EOF
{"socket": "$WORK/oci.sock", "runtimes": {"commitd-strict64": {"policy": "strict64"}}}
EOF
ln -s "$OCI_WRAPPER" "$WORK/bin/commitd-strict64"
containerd_start "$WORK/containerd/config.toml" "$WORK/etc"

image_oci_archive "$WORK/image.oci.tar" "$IMAGE"
c images import --snapshotter native "$WORK/image.oci.tar" >/dev/null || fail "ctr images import"

# Refused at the budget.
id=e2e-$$-strict
out=$(wrapped_run "$id" strict64 /bin/workload steps:4M:1G fork 2>&1) || fail "ctr run (strict) exited $?: $out"
expect_container_refused "$out" "$id" "$ENGINE_CG/$id" "ctr run --runc-binary WRAPPER"

# The BinaryName route: the runtime's name picks the policy, with no annotation.
id=e2e-$$-byname
out=$(c run --rm --snapshotter native --runc-binary "$WORK/bin/commitd-strict64" --cgroup "$ENGINE_CG/$id" "$IMAGE" \
	"$id" /bin/workload steps:4M:1G fork 2>&1) || fail "ctr run (commitd-strict64) exited $?: $out"
expect_container_refused "$out" "$id" "$ENGINE_CG/$id" "ctr run --runc-binary commitd-strict64"

# The same program in a container of the same image under plain runc: nothing refuses it.
out=$(c run --rm --snapshotter native --cgroup "$ENGINE_CG/e2e-$$-plain" "$IMAGE" "e2e-$$-plain" \
	/bin/workload steps:4M:1G fork 2>&1) || fail "ctr run (unenrolled) exited $?: $out"
expect_unrefused "$out"

# A running container: status names it, and `ctr task exec` is judged under its budget.
held=e2e-$$-held
c run -d --snapshotter native --runc-binary "$OCI_WRAPPER" --cgroup "$ENGINE_CG/$held" \
	--annotation io.commitd.policy=strict64 "$IMAGE" "$held" /bin/busybox sleep 600 >/dev/null ||
	fail "ctr run -d exited $?"
CONTAINER_IDS="$CONTAINER_IDS $held"
if wait_log "container $held (pid [0-9]*) enrolled"; then
	CONTAINER_PIDS="$CONTAINER_PIDS $(c tasks list | awk -v id="$held" '$1 == id { print $2 }')"
	expect_status_names "$held" "ctr run -d"
	out=$(c tasks exec --exec-id e1 "$held" /bin/workload steps:4M:1G 2>&1)
	expect_refused_at_64m "$out" "ctr task exec"
	grep -q "refused cgroup=$ENGINE_CG/$held pid=[0-9]* comm=workload" "$WORK/commitd.log" ||
		fail "the exec'd program's refusal is not logged in the container's cgroup"
	c tasks kill --signal SIGKILL "$held" >/dev/null
	wait_for '! c tasks list | grep -q "^$held .*RUNNING"' || fail "the killed task $held still runs"
	c tasks delete "$held" >/dev/null || fail "ctr tasks delete"
	c containers delete "$held" >/dev/null || fail "ctr containers delete"
fi

# A policy commitd does not have: the container does not start, and ctr says why.
out=$(wrapped_run "e2e-$$-nope" nope /bin/workload map:1M 2>&1) && fail "a container started under policy nope: $out"
expect_not_started "$out" "ctr run, policy nope" nope
finish
