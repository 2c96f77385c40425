#!/bin/bash
# Issue 9, fault 11: enroll moves the process that connected, or nothing. The peer is taken as a pidfd when
# the connection is accepted (SO_PEERPIDFD), so a pid that has since passed to another process is never
# moved; and nothing is moved until everything else about the enroll checked out.
#  1. A failed enroll (the descriptor is a pipe, not a listener) leaves the connector in its cgroup.
#  2. A connector that exited before its enroll is refused, and the process that now holds its pid (forced
#     with clone3's set_tid) stays where it was.
#  3. The same on a kernel without SO_PEERPIDFD (before Linux 6.5; made so by a seccomp filter on a second
#     commitd): SO_PEERCRED's pid and its start time at accept.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd
mkdir -p "$CG_FS/home"

# 1. The connector (python, moved first into $SCRATCH/home) sends an enroll into $SCRATCH/moved with a pipe.
out=$(python3 - "$COMMITD_SOCKET" "$SCRATCH" "$CG_FS" <<'PY'
import json, os, socket, sys
path, scratch, cg_fs = sys.argv[1:]
with open(f"{cg_fs}/home/cgroup.procs", "w") as f:
    f.write(str(os.getpid()))
def mine():
    return [l[3:].strip() for l in open("/proc/self/cgroup") if l.startswith("0::")][0]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(path)
r, w = os.pipe()
req = json.dumps({"version": 1, "id": 3, "method": "enroll", "params": {"cgroup": scratch + "/moved"}})
socket.send_fds(s, [req.encode()], [r])
print("REPLY", s.recv(65536).decode())
print("CGROUP", mine())
PY
)
echo "$out"
reply=$(sed -n 's/^REPLY //p' <<<"$out")
expect_in "$reply" '"error"'
expect_in "$reply" "InvalidParams"
[ "$(sed -n 's/^CGROUP //p' <<<"$out")" = "$SCRATCH/home" ] ||
	fail "a refused enroll moved its connector: it is in $(sed -n 's/^CGROUP //p' <<<"$out"), was in $SCRATCH/home"

# 2. The dead connector's connection, its pid now another process's.
# dead_connector SOCKET LOG: the check of part 2 against the commitd at SOCKET, which logs to LOG.
dead_connector() {
	local out reply before after
	out=$("$PEERPID" "$1" "$SCRATCH/victim") || fail "peerpid: $out"
	echo "$out"
	reply=$(sed -n 's/^REPLY //p' <<<"$out")
	expect_in "$reply" "PermissionDenied"
	expect_in "$reply" "exited"
	before=$(sed -n 's/^BEFORE //p' <<<"$out")
	after=$(sed -n 's/^AFTER //p' <<<"$out")
	[ -n "$before" ] && [ "$before" = "$after" ] || fail "the pid's new holder was moved from $before to $after"
	grep -q "enroll.*refused.*exited" "$2" || fail "the refusal is not logged"
	# A live connector is still enrolled (and moved) as before.
	out=$(COMMITD_SOCKET=$1 "$COMMITCTL" run --cgroup "$SCRATCH/ok" -- cat /proc/self/cgroup) || fail "commitctl run: $out"
	expect_in "$out" "0::$SCRATCH/ok"
}
dead_connector "$COMMITD_SOCKET" "$WORK/commitd.log"

# 3. The same without SO_PEERPIDFD.
"$PEERPID" no-pidfd "$COMMITD" --foreground --socket "$WORK/old.sock" --oci-socket "$WORK/old-oci.sock" \
	--policy-dir "$POLICIES" --state-dir "$WORK/state-old" --log-level debug >"$WORK/old.log" 2>&1 &
old=$!
STARTED_PIDS="${STARTED_PIDS:-} $old"
wait_for 'COMMITD_SOCKET=$WORK/old.sock "$COMMITCTL" status >/dev/null 2>&1'
dead_connector "$WORK/old.sock" "$WORK/old.log"
kill "$old" && wait "$old"
kill -0 "$COMMITD_PID" || fail "commitd died"
finish
