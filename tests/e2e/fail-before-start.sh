#!/bin/bash
# Issue 11: a container commitd would not judge never starts. Through the wrapper, real runc: a container whose
# policy commitd does not know, one that names no policy, and one whose agent socket nobody serves all end at
# `runc run` with exit 1 and a message naming commitd, the socket and the policy, before runc runs: commitd is
# never handed the container. (Before, each such container started and its
# first allocation failed with ENOSYS: the static workload died with exit 127, nothing naming commitd.)
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
runtime_start runc commitd-e2e-$$

runc_trap e2e-$$-{unknown,nopolicy,down,ok}

# not_started NAME EXPECTED-MESSAGE [WRAPPER-OPTIONS...]: runc run through the wrapper exits 1 with exactly
# the message, and runc never started the container (commitd was never handed its listener).
not_started() {
	local name=$1 want=$2 out rc
	shift 2
	out=$(cd "$WORK/$name" && wrapped runc "$@" run "e2e-$$-$name" 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "$name: runc run through the wrapper exited $rc, want 1: $out"
	[ "$out" = "$want" ] || fail "$name: message"$'\n'"$out"$'\n'"want"$'\n'"$want"
	# runc run deletes a container and its cgroups when it ends: only commitd's log shows one that ran
	grep -q "container e2e-$$-$name" "$WORK/commitd.log" && fail "$name: runc started the container: commitd was handed it"
}

bundle unknown nosuch steps:4M:1G
not_started unknown "commitd-oci-runtime: policy \"nosuch\" is not known to commitd at $WORK/oci.sock (commitctl policy list shows the loaded ones), so the container is not started"

bundle nopolicy "" steps:4M:1G
not_started nopolicy "commitd-oci-runtime: the container names no policy and commitd at $WORK/oci.sock has no --oci-default-policy, so it is not started: set the annotation io.commitd.policy=NAME, --commitd-policy NAME (podman: --runtime-flag commitd-policy=NAME), or \"default_policy\" or runtimes.\"commitd-oci-runtime\".policy in /etc/commitd/oci-runtime.json"

bundle down strict64 steps:4M:1G
not_started down "commitd-oci-runtime: commitd does not answer at $WORK/down.sock (connect: No such file or directory), so the container (policy \"strict64\") is not started: start commitd, or name its agent socket (--commitd-socket, \"socket\" in /etc/commitd/oci-runtime.json)" \
	--commitd-socket "$WORK/down.sock"

# The same bundle with commitd there starts and is refused at its budget: the checks above are about commitd.
out=$(cd "$WORK/down" && COMMITD_OCI_RUNTIME=runc "$OCI_WRAPPER" --commitd-socket "$WORK/oci.sock" run "e2e-$$-ok" 2>&1) ||
	fail "runc run with commitd there exited $?: $out"
expect_in "$out" "result=ENOMEM"
finish
