#!/bin/bash
# Issue 13 in a podman container: podman 4.3 runs it on runc through commitd-oci-runtime (podman_begin, as
# podman.sh does) with --runtime-flag commitd-meminfo=FILE naming the view commitd-meminfo serves. Inside, `grep
# Commit /proc/meminfo` shows the budget's CommitLimit (strict64: 64 MiB) and a Committed_AS that moves by the
# 32 MiB the container maps; under `--memory 256m` MemTotal follows the limit and procps' free (the host's /usr,
# read-only) agrees, and so does `commitctl doctor`. podman leaves nothing on the host (engine_leftovers). `--memory-swap 256m`: podman's default
# is twice --memory, and a policy without "swap" adds the cgroup's finite swap limit to CommitLimit
# (commitd.policy(5)), which would be 64 + 256 MiB here.
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
require_root
engine_require podman conmon runc
start_commitd
policy_file strict64 '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
# The containers end before the view stops, and the view's mount is gone before engine_leftovers looks.
meminfo_podman_stop() {
	podman_stop
	meminfo_view_stop
}
podman_begin runc meminfo_podman_stop
meminfo_view_start

out=$(pm run --rm "${run_opts[@]}" $(runtime_opts "$WORK/oci.sock" strict64) \
	--runtime-flag "commitd-meminfo=$VIEW/meminfo" --memory 256m --memory-swap 256m --cidfile "$PM/view.cid" \
	-v /usr:/usr:ro -v /usr/lib:/lib:ro -v /usr/lib64:/lib64:ro "$IMAGE" /bin/busybox sh -c "$MEMINFO_PROBE" 2>&1) ||
	fail "podman run exited $?: $out"
CONTAINER_IDS="$CONTAINER_IDS $(cat "$PM/view.cid" 2>/dev/null)"
echo "$out"
expect_meminfo_view "$out" "podman run --runtime-flag commitd-meminfo"

# commitctl doctor inside (this build's, bound read-only; its libraries are the host's /usr) reports the budget
# from the view, says so, and names the host's mode as the host's only.
out=$(pm run --rm "${run_opts[@]}" $(runtime_opts "$WORK/oci.sock" strict64) \
	--runtime-flag "commitd-meminfo=$VIEW/meminfo" --memory 256m --memory-swap 256m --cidfile "$PM/doctor.cid" \
	-v /usr:/usr:ro -v /usr/lib:/lib:ro -v /usr/lib64:/lib64:ro -v "$COMMITCTL:/bin/commitctl:ro" "$IMAGE" \
	/bin/busybox sh -c '/bin/commitctl --json doctor && echo --- && /bin/commitctl doctor' 2>&1) ||
	fail "podman run (doctor) exited $?: $out"
CONTAINER_IDS="$CONTAINER_IDS $(cat "$PM/doctor.cid" 2>/dev/null)"
echo "$out"
python3 -c '
import json, sys
d = json.loads(sys.argv[1].split("\n---\n")[0])
ok = (d.get("meminfo_view") is True and d["commit_limit_bytes"] == 64 << 20 and
      0 <= d["committed_bytes"] < d["commit_limit_bytes"] and d["mem_total_bytes"] == 256 << 20 and
      d["host_overcommit_memory"] == int(open("/proc/sys/vm/overcommit_memory").read()) and "mode" not in d)
sys.exit(0 if ok else 1)
' "$out" || fail "commitctl doctor --json inside does not report the budget: $out"
expect_in "$out" "commitd-meminfo's view of this process's commitd budget"
expect_in "$out" "CommitLimit       64Mi"
finish
