#!/bin/bash
# Issue 11: containerd 1.6's CRI plugin with contrib/kubernetes/containerd-commitd.toml, as docs/containers.md
# tells a node's admin to install it (an `imports` entry). First the file itself: the plugin comes up ("ok" in
# `ctr plugins ls`) and containerd runs with the "commitd" handler (runc v2 shim, the wrapper as BinaryName, the
# io.commitd.policy pod annotation passed through) and the "runc" handler beside it. Then Pods, started through
# the CRI as the kubelet starts them (tests/e2e/cri.py: crictl is not in Debian 12), with the same file less
# one path (BinaryName: this build's wrapper, not the node's /opt/commitd/bin copy): a Pod of the commitd
# handler whose only word on its budget is its annotation has its container refused at 64 MiB, named by status
# and events, and an exec into it judged; the same program in a Pod of the runc handler maps 1 GiB; a Pod whose
# policy commitd does not have does not start, and the CRI error carries the wrapper's reason.
#
# containerd is the test's own: root, state and sockets under $WORK/containerd; host-network Pods (no CNI);
# their cgroups under $ENGINE_CG. The agent socket reaches the wrapper through containerd's environment.
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
require_root
engine_require containerd ctr containerd-shim-runc-v2 runc
/usr/bin/python3 -c 'import grpc' 2>/dev/null || { echo "FAIL: python3-grpcio is not installed (scripts/deps)" >&2; exit 1; }
SNIPPET=$(cd "$(dirname "$0")/../../contrib/kubernetes" && pwd)/containerd-commitd.toml
[ -f "$SNIPPET" ] || { echo "FAIL: $SNIPPET is missing" >&2; exit 1; }
start_commitd
policy_file strict64 '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
engine_begin
mkdir -p "$WORK/containerd"
{
	echo "imports = [\"$SNIPPET\"]"
	containerd_config_base
} >"$WORK/containerd/config.toml"

cri() { /usr/bin/python3 "$(dirname "$0")/cri.py" "$WORK/containerd/containerd.sock" "$@"; }
cri_stop() {
	[ -n "${CONTAINERD_PID:-}" ] && [ -f "$WORK/containerd/pods" ] && cri rmall >/dev/null 2>&1
	containerd_stop
}
engine_trap cri_stop
containerd_start "$WORK/containerd/config.toml"

plugins=$(ctr --address "$WORK/containerd/containerd.sock" plugins ls 2>&1)
grep -Eq '^io\.containerd\.grpc\.v1 +cri +linux/amd64 +ok *$' <<<"$plugins" ||
	fail "containerd's CRI plugin is not up with the snippet: $(grep -E 'cri|error' <<<"$plugins")"
grep -i 'failed to load plugin io.containerd.grpc.v1.cri\|invalid\|unknown' "$WORK/containerd/containerd.log" |
	grep -v 'level=info' && fail "containerd logged errors loading the snippet"

# The configuration containerd runs with (the main file and the import merged): both handlers, as documented.
containerd --config "$WORK/containerd/config.toml" config dump >"$WORK/containerd/dump.toml" 2>&1 ||
	fail "containerd config dump: $(cat "$WORK/containerd/dump.toml")"
python3 - "$WORK/containerd/dump.toml" <<'PY' || fail "the running configuration lacks the documented handlers"
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
cri = c["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
commitd, runc = cri["runtimes"].get("commitd", {}), cri["runtimes"].get("runc", {})
problems = []
if commitd.get("runtime_type") != "io.containerd.runc.v2": problems.append("commitd: runtime_type")
if "io.commitd.policy" not in commitd.get("pod_annotations", []): problems.append("commitd: pod_annotations")
if not commitd.get("options", {}).get("BinaryName", "").endswith("/commitd-oci-runtime"):
    problems.append("commitd: options.BinaryName")
if runc.get("runtime_type") != "io.containerd.runc.v2": problems.append("runc: runtime_type")
if cri.get("default_runtime_name") != "runc": problems.append("default_runtime_name")
for p in problems: print("FAIL: config dump:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
containerd_stop

# Pods through the CRI with the snippet's handlers.
sed "s|^\( *BinaryName = \).*|\1\"$OCI_WRAPPER\"|" "$SNIPPET" >"$WORK/containerd/commitd.toml"
grep -q "BinaryName = \"$OCI_WRAPPER\"" "$WORK/containerd/commitd.toml" || fail "the snippet has no BinaryName line"
# This sandbox lacks CAP_SYS_RESOURCE: a Pod sandbox's oom_score_adj of -998 could not be set.
printf '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n' >>"$WORK/containerd/commitd.toml"
{
	echo "imports = [\"$WORK/containerd/commitd.toml\"]"
	containerd_config_base
} >"$WORK/containerd/config.toml"
COMMITD_OCI_SOCKET=$WORK/oci.sock containerd_start "$WORK/containerd/config.toml"
touch "$WORK/containerd/pods"
k() { ctr --address "$WORK/containerd/containerd.sock" --namespace k8s.io "$@"; }
IMAGE=docker.io/library/commitd-e2e:latest
image_oci_archive "$WORK/image.oci.tar" "$IMAGE"
k images import "$WORK/image.oci.tar" >/dev/null || fail "ctr images import"
# the Pod sandbox's image (containerd 1.6's default sandbox_image), here the test image: no registry
k images tag "$IMAGE" registry.k8s.io/pause:3.6 >/dev/null || fail "ctr images tag"
# cri_log DIR NAME: a container's output from its CRI log (each line "TIME STREAM TAG TEXT")
cri_log() { sed 's/^[^ ]* std[a-z]* [FP] //' "$1/$2.log"; }

# A Pod of the commitd handler, its budget named by its annotation alone.
pod=$(cri runp worker commitd strict64 "$ENGINE_CG" "$WORK/pods/worker") || fail "RunPodSandbox (commitd): $pod"
CONTAINER_IDS="$CONTAINER_IDS $pod"
cid=$(cri create "$pod" "$WORK/pods/worker" steps "$IMAGE" /bin/workload steps:4M:1G fork) ||
	fail "CreateContainer: $cid"
cri start "$cid" || fail "StartContainer"
code=$(cri wait "$cid" 120) || fail "the Pod's container did not end"
out=$(cri_log "$WORK/pods/worker" steps)
[ "$code" = 0 ] || fail "the Pod's container exited $code: $out"
expect_container_refused "$out" "$cid" "$ENGINE_CG/$cid" "a Pod of the commitd handler"
grep -q "container $pod (pid [0-9]*) enrolled in .* under policy strict64" "$WORK/commitd.log" ||
	fail "the Pod's sandbox was not enrolled under its annotation's policy"

# A running container of that Pod: status names it, and an exec into it (ExecSync) is judged under its budget.
held=$(cri create "$pod" "$WORK/pods/worker" held "$IMAGE" /bin/busybox sleep 600) || fail "CreateContainer: $held"
cri start "$held" || fail "StartContainer (held)"
CONTAINER_IDS="$CONTAINER_IDS $held"
if wait_log "container $held (pid [0-9]*) enrolled"; then
	CONTAINER_PIDS="$CONTAINER_PIDS $(cri pid "$held")"
	expect_status_names "$held" "a running Pod's container"
	out=$(cri exec "$held" 60 /bin/workload steps:4M:1G)
	expect_refused_at_64m "$out" "ExecSync into the Pod's container"
	expect_events_name "$held" "ExecSync into the Pod's container"
fi
cri rmp "$pod" || fail "StopPodSandbox/RemovePodSandbox"

# The same program in a Pod of the runc handler (no RuntimeClass): nothing refuses it.
pod=$(cri runp plain runc - "$ENGINE_CG" "$WORK/pods/plain") || fail "RunPodSandbox (runc): $pod"
CONTAINER_IDS="$CONTAINER_IDS $pod"
cid=$(cri create "$pod" "$WORK/pods/plain" steps "$IMAGE" /bin/workload steps:4M:1G fork) || fail "CreateContainer: $cid"
cri start "$cid" && cri wait "$cid" 120 >/dev/null || fail "the runc Pod's container did not run"
expect_unrefused "$(cri_log "$WORK/pods/plain" steps)"
cri rmp "$pod" || fail "StopPodSandbox/RemovePodSandbox (runc)"

# A Pod whose policy commitd does not have: its sandbox does not start, and the CRI says why.
out=$(cri runp nope commitd nope "$ENGINE_CG" "$WORK/pods/nope" 2>&1) && fail "a Pod started under policy nope: $out"
expect_not_started "$out" "a Pod under policy nope" nope
finish
