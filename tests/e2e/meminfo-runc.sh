#!/bin/bash
# Issue 13 in a runc container: with commitd-meminfo serving, commitd-oci-runtime binds its view over the
# container's /proc/meminfo (the policy's "meminfo", on by default for containers). Inside, `grep Commit
# /proc/meminfo` shows the budget's CommitLimit (64 MiB) and a Committed_AS that moves by the 32 MiB the container
# maps; the memory lines follow the container's 256 MiB memory limit and procps' free agrees. A policy with
# "meminfo": false, and a view that is not running, leave the host's file (the container still starts, and the
# wrapper says why on stderr).
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
runtime_start runc commitd-e2e-$$
policy_file plain '"mode": "strict", "limit": "64M", "meminfo": false'
"$COMMITCTL" reload >/dev/null || fail "reload"
VIEW=$WORK/meminfo-view
runc_trap e2e-$$-{view,plain,down}
# The view stops (by its pid) before its mount is detached, and both before runc_trap's cleanup removes $WORK.
trap 'rc=$?; [ -n "${VIEW_PID:-}" ] && kill -KILL "$VIEW_PID" 2>/dev/null && wait "$VIEW_PID" 2>/dev/null
	umount -l "$VIEW" 2>/dev/null
	for c in $RUNC_IDS; do runc delete --force "$c" >/dev/null 2>&1; done; remove_runc_cgroups; (exit $rc); cleanup' EXIT

"$COMMITD_MEMINFO" --mount "$VIEW" --socket "$COMMITD_SOCKET" --interval 1 >"$WORK/view.log" 2>&1 &
VIEW_PID=$!
wait_for 'grep -q serving "$WORK/view.log" && stat -f -c %T "$VIEW" | grep -q fuse' ||
	fail "commitd-meminfo did not mount: $(cat "$WORK/view.log")"

# meminfo_bundle NAME POLICY: a bundle whose container prints its commit lines, maps 32 MiB, waits (bounded) for
# its Committed_AS to move, and runs procps' free (the host's /usr, read-only) under a 256 MiB memory limit.
meminfo_bundle() {
	bundle "$1" "$2"
	ln -s usr/lib "$WORK/$1/rootfs/lib"
	ln -s usr/lib64 "$WORK/$1/rootfs/lib64"
	mkdir -p "$WORK/$1/rootfs/usr"
	python3 - "$WORK/$1/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/busybox", "sh", "-c", """
kb() { /bin/busybox awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
echo "limit=$(kb CommitLimit) before=$(kb Committed_AS) memtotal=$(kb MemTotal)"
b=$(kb Committed_AS)
/bin/workload map:32M sleep:60 >/dev/null & w=$!
i=0
while [ $i -lt 300 ] && [ "$(kb Committed_AS)" -lt $((b + 32768)) ]; do i=$((i + 1)); /bin/busybox sleep 0.1; done
echo "after=$(kb Committed_AS)"
kill $w; wait $w
/usr/bin/free -k || echo "free exited $?"
"""]
c["process"]["env"] = ["PATH=/bin"]
c["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]})
c["linux"].setdefault("resources", {})["memory"] = {"limit": 256 << 20}
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
}
field() { sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$2" | head -1; }

meminfo_bundle view strict64
out=$(cd "$WORK/view" && wrapped runc --commitd-meminfo "$VIEW/meminfo" run "e2e-$$-view" 2>&1) ||
	fail "runc run (view) exited $?: $out"
echo "$out"
grep -q '"/proc/meminfo"' "$WORK/view/config.json" || fail "the wrapper did not bind the view"
[ "$(field limit "$out")" = 65536 ] || fail "CommitLimit inside is not the budget's 64 MiB: $out"
before=$(field before "$out") after=$(field after "$out")
[ -n "$before" ] && [ "$before" -lt 32768 ] || fail "Committed_AS before mapping: $out"
[ -n "$after" ] && [ "$after" -ge $((before + 32768)) ] && [ "$after" -lt 65536 ] ||
	fail "Committed_AS did not move by the 32 MiB mapped: $out"
[ "$(field memtotal "$out")" = 262144 ] || fail "MemTotal does not follow the 256 MiB memory limit: $out"
[ "$(awk '$1 == "Mem:" { print $2 }' <<<"$out")" = 262144 ] || fail "free inside disagrees: $out"

# "meminfo": false: the host's file, no bind mount.
meminfo_bundle plain plain
out=$(cd "$WORK/plain" && wrapped runc --commitd-meminfo "$VIEW/meminfo" run "e2e-$$-plain" 2>&1) ||
	fail "runc run (plain) exited $?: $out"
[ "$(field limit "$out")" = "$(awk '$1 == "CommitLimit:" { print $2 }' /proc/meminfo)" ] ||
	fail "a policy with meminfo false does not see the host's CommitLimit: $out"
grep -q '"/proc/meminfo"' "$WORK/plain/config.json" && fail "the wrapper bound the view for meminfo false"

# The view not running: the container starts with the host's file, and the wrapper says why.
kill -KILL "$VIEW_PID"
wait "$VIEW_PID" 2>/dev/null
VIEW_PID=
meminfo_bundle down strict64
out=$(cd "$WORK/down" && wrapped runc --commitd-meminfo "$VIEW/meminfo" run "e2e-$$-down" 2>&1) ||
	fail "runc run (view down) exited $?: $out"
expect_in "$out" "no view of /proc/meminfo for the container (policy strict64)"
[ "$(field limit "$out")" = "$(awk '$1 == "CommitLimit:" { print $2 }' /proc/meminfo)" ] ||
	fail "without the view the container does not see the host's CommitLimit: $out"
finish
