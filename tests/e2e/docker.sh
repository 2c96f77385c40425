#!/bin/bash
# Issue 11: Docker 20.10 (Debian 12's docker.io) runs its containers through commitd-oci-runtime configured in
# daemon.json: a runtime per policy, "runtimes": {"commitd-strict64": {"path": WRAPPER, "runtimeArgs":
# ["--commitd-socket=...", "--commitd-policy=strict64"]}}. Docker 20.10 has no --annotation (API 1.41), so the
# runtime's name picks the policy. A container is refused at its 64 MiB; the same program under runc maps
# 1 GiB; status and events name the container; `docker exec` is judged under its budget; a runtime whose policy
# commitd does not have keeps the container from starting, naming commitd; and nothing is left on the host.
#
# dockerd is the test's own: data root, exec root, pid file and socket under $WORK, with the containerd it
# starts itself (state and socket under its exec root), vfs storage (no mounts), no bridge, no iptables, and
# its containers' cgroups under $ENGINE_CG (cgroupfs driver).
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
require_root
engine_require dockerd containerd containerd-shim-runc-v2 runc
# /usr/local/bin may hold another Docker's client: the test talks to Debian's, as a Debian user would.
DOCKER_CLI=/usr/bin/docker
[ -x "$DOCKER_CLI" ] || { echo "FAIL: $DOCKER_CLI is not installed (docker.io; scripts/deps)" >&2; exit 1; }
start_commitd
policy_file strict64 '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
engine_begin

D=$WORK/docker
mkdir -p "$D"
cat >"$D/daemon.json" <<EOF
{
  "runtimes": {
    "commitd-strict64": {
      "path": "$OCI_WRAPPER",
      "runtimeArgs": ["--commitd-socket=$WORK/oci.sock", "--commitd-policy=strict64"]
    },
    "commitd-nope": {
      "path": "$OCI_WRAPPER",
      "runtimeArgs": ["--commitd-socket=$WORK/oci.sock", "--commitd-policy=nope"]
    },
    "commitd-down": {
      "path": "$OCI_WRAPPER",
      "runtimeArgs": ["--commitd-socket=$WORK/nobody.sock", "--commitd-policy=strict64"]
    }
  }
}
EOF
dk() { "$DOCKER_CLI" -H "unix://$D/docker.sock" "$@"; }

docker_stop() {
	[ -n "${DOCKERD_PID:-}" ] || return 0
	dk rm --force $(dk ps --all --quiet 2>/dev/null) >/dev/null 2>&1
	stop_daemon "$DOCKERD_PID" dockerd # stops the containerd it started too
}
engine_trap docker_stop

dockerd --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/dockerd.pid" -H "unix://$D/docker.sock" \
	--config-file "$D/daemon.json" --storage-driver vfs --exec-opt native.cgroupdriver=cgroupfs \
	--cgroup-parent "$ENGINE_CG" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
	--userland-proxy=false >"$D/dockerd.log" 2>&1 &
DOCKERD_PID=$!
wait_for 'dk version >/dev/null 2>&1' || { fail "dockerd did not start: $(tail -20 "$D/dockerd.log")"; exit 1; }

image_rootfs_tar "$WORK/image.tar"
dk import "$WORK/image.tar" commitd-e2e:latest >/dev/null || fail "docker import"

# Refused at the budget: the runtime's runtimeArgs name the policy.
out=$(dk run --rm --network none --runtime commitd-strict64 --cidfile "$D/strict.cid" commitd-e2e \
	/bin/workload steps:4M:1G fork 2>&1) || fail "docker run --runtime commitd-strict64 exited $?: $out"
strict=$(cat "$D/strict.cid" 2>/dev/null)
expect_container_refused "$out" "$strict" "$ENGINE_CG/$strict" "docker run --runtime commitd-strict64"

# The same program in a container of the same image under runc: nothing refuses it.
out=$(dk run --rm --network none --runtime runc commitd-e2e /bin/workload steps:4M:1G fork 2>&1) ||
	fail "docker run --runtime runc exited $?: $out"
expect_unrefused "$out"

# A running container: status names it with its full id, and `docker exec` is judged under its budget.
held=$(dk run -d --network none --runtime commitd-strict64 commitd-e2e /bin/busybox sleep 600 2>&1) ||
	fail "docker run -d exited $?: $held"
CONTAINER_IDS="$CONTAINER_IDS $held"
if wait_log "container $held (pid [0-9]*) enrolled"; then
	CONTAINER_PIDS="$CONTAINER_PIDS $(dk inspect --format '{{.State.Pid}}' "$held")"
	expect_status_names "$held" "docker run -d"
	out=$(dk exec "$held" /bin/workload steps:4M:1G 2>&1)
	expect_refused_at_64m "$out" "docker exec"
	expect_events_name "$held" "docker exec"
	dk rm --force "$held" >/dev/null || fail "docker rm"
fi

# A policy commitd does not have, or commitd down: the container does not start, and Docker says why.
# The wrapper's reason must reach `docker run` (through the runtime's --log file: containerd reads no stderr).
out=$(dk run --rm --network none --runtime commitd-nope commitd-e2e /bin/workload map:1M 2>&1) &&
	fail "a container started under policy nope: $out"
expect_not_started "$out" "docker run, policy nope" nope
out=$(dk run --rm --network none --runtime commitd-down commitd-e2e /bin/workload map:1M 2>&1) &&
	fail "a container started with commitd down: $out"
expect_not_started "$out" "docker run, commitd down" strict64 "$WORK/nobody.sock"
finish
