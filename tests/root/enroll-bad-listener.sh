#!/bin/bash
# Issue 9, fault 12: only a seccomp listener is taken as one. A pipe sent as "the listener" once made a
# listener thread spin at 98% CPU writing millions of log lines. On the control socket (enroll) and on the
# OCI agent socket, a descriptor that is not a seccomp notify fd is refused at the door with a clear error;
# commitd starts no thread for it, burns no CPU, and keeps serving; a real listener is still taken.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd
policy tmpl '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
cpu() { awk '{ print $14 + $15 }' "/proc/$COMMITD_PID/stat"; }
threads() { ls "/proc/$COMMITD_PID/task" | wc -l; }
threads0=$(threads)

# 1. enroll over the raw control socket with a pipe, /dev/null, a socket, an eventfd, a memfd and a pidfd.
python3 - "$COMMITD_SOCKET" "$SCRATCH" <<'PY' || fail "raw enroll checks failed (see above)"
import json, os, socket, sys
path, scratch = sys.argv[1:]
failures = 0
r, w = os.pipe()
a, b = socket.socketpair()
fds = {"a pipe": r, "/dev/null": os.open("/dev/null", os.O_RDONLY), "a socket": a.fileno(),
       "an eventfd": os.eventfd(0), "a memfd": os.memfd_create("x"), "a pidfd": os.pidfd_open(os.getpid())}
for what, fd in fds.items():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    req = json.dumps({"version": 1, "id": 5, "method": "enroll", "params": {"cgroup": scratch + "/bad"}})
    socket.send_fds(s, [req.encode()], [fd])
    reply = json.loads(s.recv(65536))
    err = reply.get("error", {})
    if err.get("name") != "InvalidParams" or "not a seccomp listener" not in err.get("message", ""):
        print(f"FAIL: enroll with {what}: {reply}", file=sys.stderr)
        failures += 1
    s.send(b'{"version": 1, "id": 6, "method": "status"}')
    if "result" not in json.loads(s.recv(65536)):
        print(f"FAIL: the connection no longer serves after enroll with {what}", file=sys.stderr)
        failures += 1
    s.close()
sys.exit(1 if failures else 0)
PY

# 2. The OCI agent: a container state whose seccompFd is a pipe. Its "container process" is a sleep in
# $SCRATCH/oci, so that nothing outside the scratch cgroup is touched even if it were taken.
mkdir -p "$CG_FS/oci"
sleep 60 &
sleeper=$!
STARTED_PIDS="${STARTED_PIDS:-} $sleeper"
echo "$sleeper" >"$CG_FS/oci/cgroup.procs"
python3 - "$WORK/oci.sock" "$sleeper" <<'PY' || fail "the OCI agent did not close the connection"
import array, json, os, socket, sys
path, pid = sys.argv[1], int(sys.argv[2])
state = {"ociVersion": "1.0.2", "fds": ["seccompFd"], "pid": pid,
         "state": {"id": "badfd", "status": "creating", "pid": pid, "bundle": "/x",
                   "annotations": {"io.commitd.policy": "tmpl"}}}
r, w = os.pipe()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendmsg([json.dumps(state).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r]))])
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
assert s.recv(1) == b""
PY
logged "container badfd"
grep -q "container badfd refused: .*not a seccomp listener" "$WORK/commitd.log" ||
	fail "the OCI agent did not refuse the pipe: $(grep "badfd" "$WORK/commitd.log")"
err=$("$COMMITCTL" status "$SCRATCH/oci" 2>&1) && fail "the refused container got a budget: $err"

# 3. Nothing was started for any of them: no thread, no CPU, no flood of log lines.
cpu0=$(cpu)
sleep 1
used=$(($(cpu) - cpu0))
[ "$used" -le 20 ] || fail "commitd used $used clock ticks of CPU in 1 s after the bad descriptors (spinning)"
[ "$(threads)" = "$threads0" ] || fail "commitd has $(threads) threads, had $threads0 before the bad descriptors"
lines=$(wc -l <"$WORK/commitd.log")
[ "$lines" -lt 500 ] || fail "commitd wrote $lines log lines"

# 4. A real listener is still taken.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/ok" -- "$WORKLOAD" map:8M) || fail "commitctl run: $out"
expect_in "$out" "OK map:8M"
kill -0 "$COMMITD_PID" || fail "commitd died"
finish
