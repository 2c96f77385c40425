#!/bin/bash
# Issue 4 (first part), crun: crun 1.8.1 refuses hybrid cgroup hosts, so it runs in a private mount
# namespace without the cgroup2 mount and with --cgroup-manager=disabled: the container stays in the
# cgroup of the shell that starts it, which this test first moves into a scratch v2 cgroup. crun sends its
# state pretty-printed; commitd enrolls the container by its annotation and refuses at the budget.
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
runtime_start crun unused
mkdir -p "$CG_FS/crun"

bundle strict strict64 steps:4M:1G fork
out=$(cd "$WORK/strict" && crun_from "$CG_FS/crun" timeout 60 env COMMITD_OCI_RUNTIME=crun COMMITD_OCI_SOCKET="$WORK/oci.sock" \
	"$OCI_WRAPPER" --cgroup-manager=disabled run "e2e-$$-crun" 2>&1) ||
	fail "crun run exited $?: $out"
expect_refused_at_64m "$out" "the crun container"
expect_in "$out" "ENOMEM fork"
# The shell and crun share the cgroup it started in: the container got one of its own (tests/e2e/crun-shared.sh).
grep -q "container e2e-$$-crun (pid [0-9]*) enrolled in $SCRATCH/crun/commitd-e2e-$$-crun under policy strict64" "$WORK/commitd.log" ||
	fail "the crun container was not enrolled by its annotation"
finish
