#!/bin/bash
# Issue 13 in a runc container: with commitd-meminfo serving, commitd-oci-runtime binds its view over the
# container's /proc/meminfo (the policy's "meminfo", on by default for containers). Inside, `grep Commit
# /proc/meminfo` shows the budget's CommitLimit (64 MiB) and a Committed_AS that moves by the 32 MiB the container
# maps; the memory lines follow the container's 256 MiB memory limit and procps' free agrees. A policy with
# "meminfo": false, and a view that is not running, leave the host's file (the container still starts, and the
# wrapper says why on stderr and, as a warning, in the runtime's --log file).
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
runtime_start runc commitd-e2e-$$
policy_file plain '"mode": "strict", "limit": "64M", "meminfo": false'
"$COMMITCTL" reload >/dev/null || fail "reload"
runc_trap e2e-$$-{view,plain,down}
# The view stops before runc_trap's cleanup removes $WORK.
trap 'rc=$?; meminfo_view_stop
	for c in $RUNC_IDS; do runc delete --force "$c" >/dev/null 2>&1; done; remove_runc_cgroups; (exit $rc); cleanup' EXIT
meminfo_view_start

# meminfo_bundle NAME POLICY: a bundle whose container runs MEMINFO_PROBE under a 256 MiB memory limit, the host's
# /usr bound read-only for its free.
meminfo_bundle() {
	bundle "$1" "$2"
	ln -s usr/lib "$WORK/$1/rootfs/lib"
	ln -s usr/lib64 "$WORK/$1/rootfs/lib64"
	mkdir -p "$WORK/$1/rootfs/usr"
	python3 - "$WORK/$1/config.json" "$MEMINFO_PROBE" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/busybox", "sh", "-c", sys.argv[2]]
c["process"]["env"] = ["PATH=/bin"]
c["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]})
c["linux"].setdefault("resources", {})["memory"] = {"limit": 256 << 20}
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
}

meminfo_bundle view strict64
out=$(cd "$WORK/view" && wrapped runc --commitd-meminfo "$VIEW/meminfo" run "e2e-$$-view" 2>&1) ||
	fail "runc run (view) exited $?: $out"
echo "$out"
grep -q '"/proc/meminfo"' "$WORK/view/config.json" || fail "the wrapper did not bind the view"
expect_meminfo_view "$out" "runc run"

# "meminfo": false: the host's file, no bind mount.
meminfo_bundle plain plain
out=$(cd "$WORK/plain" && wrapped runc --commitd-meminfo "$VIEW/meminfo" run "e2e-$$-plain" 2>&1) ||
	fail "runc run (plain) exited $?: $out"
[ "$(meminfo_field limit "$out")" = "$(awk '$1 == "CommitLimit:" { print $2 }' /proc/meminfo)" ] ||
	fail "a policy with meminfo false does not see the host's CommitLimit: $out"
grep -q '"/proc/meminfo"' "$WORK/plain/config.json" && fail "the wrapper bound the view for meminfo false"

# The view not running: the container starts with the host's file, and the wrapper says why.
meminfo_view_kill
meminfo_bundle down strict64
out=$(cd "$WORK/down" && wrapped runc --commitd-meminfo "$VIEW/meminfo" --log "$WORK/down.log" --log-format json \
	run "e2e-$$-down" 2>&1) || fail "runc run (view down) exited $?: $out"
expect_in "$out" "no view of /proc/meminfo for the container (policy strict64)"
# The note is in the runtime's --log too, where containerd's shim reads a runtime's words: a warning, not the error
# line it would take for a failure of the container's start.
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(l["level"] == "warning" and "no view of /proc/meminfo for the container (policy strict64)" in l["msg"]
                  for l in lines) and not any(l["level"] == "error" for l in lines) else 1)
' "$WORK/down.log" || fail "the runtime's --log has no warning with the note: $(cat "$WORK/down.log")"
[ "$(meminfo_field limit "$out")" = "$(awk '$1 == "CommitLimit:" { print $2 }' /proc/meminfo)" ] ||
	fail "without the view the container does not see the host's CommitLimit: $out"
finish
