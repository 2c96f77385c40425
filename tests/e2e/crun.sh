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

# A caught signal during a judged call: crun (1.7 and later) loads the filter with
# SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV when linux.seccomp.flags names it, and the wrapper names it (with crun's
# SPEC_ALLOW, which a profile without flags gets): once commitd has received a call only a fatal signal ends the
# wait, as under `commitctl run` (tests/root/enforce-signals.sh, whose sigcall runs here under a 1 ms SIGALRM
# without SA_RESTART). At most half interrupted (the window before commitd's receive: 0 to 2 of 40 here), the rest
# refused. The same bundle without the flag, run by crun itself: 40 of 40 interrupted (EINTR from mmap and brk).
field() { sed -n "s/^SIGCALL .*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
bundle signals strict64
cp "$SIGCALL_STATIC" "$WORK/signals/rootfs/bin/sigcall"
python3 - "$WORK/signals/config.json" <<'PY2'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/sigcall", "12000", "40"]
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY2
out=$(cd "$WORK/signals" && crun_from "$CG_FS/crun" timeout 120 env COMMITD_OCI_RUNTIME=crun COMMITD_OCI_SOCKET="$WORK/oci.sock" \
	"$OCI_WRAPPER" --cgroup-manager=disabled run "e2e-$$-signals" 2>&1) || fail "crun run (signals) exited $?: $out"
echo "crun through the wrapper: $out"
flags=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["linux"]["seccomp"].get("flags"))' \
	"$WORK/signals/config.json")
[ "$flags" = "['SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']" ] ||
	fail "the wrapper did not ask crun for SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: flags $flags"
eintr=$(field eintr "$out") enomem=$(field enomem "$out") signals=$(field signals "$out")
[ "$(field calls "$out")" = 40 ] && [ "$(field other "$out")" = 0 ] && [ "${signals:-0}" -ge 40 ] ||
	fail "sigcall in the crun container did not make its calls under the timer: $out"
[ "${eintr:-40}" -le 20 ] && [ $((${enomem:-0} + ${eintr:-0})) = 40 ] ||
	fail "$eintr of 40 judged calls in the crun container interrupted by a signal (EINTR): $out"
# A static program's refused brk is answered with its break, as the kernel does (glibc's page-rounding sbrk leaves
# two admitted targets in the heap's last page: the later is the break), not with 0.
[ "$(field zero "$out")" = 0 ] || fail "a static program's refused brk answered 0, not the break: $out"
python3 - "$WORK/signals/config.json" <<'PY2'
import json, sys
c = json.load(open(sys.argv[1]))
del c["linux"]["seccomp"]["flags"]
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY2
out=$(cd "$WORK/signals" && crun_from "$CG_FS/crun" timeout 120 crun --cgroup-manager=disabled run "e2e-$$-signals-plain" 2>&1) ||
	fail "crun run (signals, no flags) exited $?: $out"
echo "crun without the flag: $out"
[ "$(field eintr "$out")" -gt 20 ] 2>/dev/null ||
	fail "without the flag the signal should interrupt most judged calls, or this test tests nothing: $out"
finish
