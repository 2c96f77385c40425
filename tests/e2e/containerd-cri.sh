#!/bin/bash
# Issue 11: containerd 1.6's CRI plugin loads contrib/kubernetes/containerd-commitd.toml as docs/containers.md
# tells a node's admin to (an `imports` entry): the plugin comes up ("ok" in `ctr plugins ls`), and the
# configuration containerd runs with has the "commitd" handler (runc v2 shim, the wrapper as BinaryName, the
# io.commitd.policy pod annotation passed through) and the "runc" handler beside it. No kubelet or CRI client
# (crictl is not in Debian 12) runs here, so no Pod is started: containerd-ctr.sh runs containers through the
# same shim and wrapper.
#
# containerd is the test's own: root, state and sockets under $WORK/containerd.
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
require_root
engine_require containerd ctr
SNIPPET=$(cd "$(dirname "$0")/../../contrib/kubernetes" && pwd)/containerd-commitd.toml
[ -f "$SNIPPET" ] || { echo "FAIL: $SNIPPET is missing" >&2; exit 1; }
start_commitd
engine_begin
mkdir -p "$WORK/containerd"
{
	echo "imports = [\"$SNIPPET\"]"
	containerd_config_base
} >"$WORK/containerd/config.toml"

engine_trap containerd_stop
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
finish
