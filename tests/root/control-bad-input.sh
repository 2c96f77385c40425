#!/bin/bash
# Enforcement issue, test 9: bad input on the control socket. Malformed, oversized and unknown requests,
# envelopes with fields missing or wrong, bad parameters, stray descriptors, a client that sends half a
# request and stalls, idle and flooding clients, and non-root callers of set-mode: each gets a clear error
# with its name from docs/protocol.md, and commitd keeps serving the others.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

# A throwaway user (with its own user group) and an admin group, removed on exit with everything else.
USER_T=commitd-test-$$
GROUP_T=commitd-tg-$$
# shellcheck disable=SC2317 # called by the trap
bad_input_cleanup() {
	local rc=$?
	userdel "$USER_T" 2>/dev/null
	groupdel "$GROUP_T" 2>/dev/null
	(exit "$rc")
	cleanup
}
trap bad_input_cleanup EXIT

# 1. The raw protocol, one case per connection, each followed by a good request on the same connection.
python3 - "$COMMITD_SOCKET" "$COMMITD_PID" "$SCRATCH" <<'EOF' || fail "raw protocol checks failed (see above)"
import json, os, select, socket, sys, time

path, daemon_pid, scratch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        failures += 1


def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    return s


def recv(s):
    data = s.recv(1 << 17)
    return json.loads(data) if data else None


def ask(s, raw, fds=()):
    raw = raw if isinstance(raw, bytes) else raw.encode()
    if fds:
        socket.send_fds(s, [raw], list(fds))
    else:
        s.send(raw)
    return recv(s)


def good(s, what):
    r = ask(s, '{"version": 1, "id": 4242, "method": "status"}')
    check(r is not None and r.get("id") == 4242 and "cgroups" in r.get("result", {}),
          f"{what}: the connection no longer serves a good request: {r}")


def expect(raw, name, rid, what, fds=()):
    s = conn()
    try:
        r = ask(s, raw, fds)
    except (OSError, ValueError) as e:
        check(False, f"{what}: no reply ({e})")
        return
    err = (r or {}).get("error") or {}
    check(r is not None and r.get("version") == 1 and err.get("name") == name and r.get("id") == rid,
          f"{what}: want error {name} with id {rid}, got {r}")
    check(len(err.get("message", "")) >= 15, f"{what}: the message does not say what is wrong: {r}")
    good(s, what)
    s.close()


head = '{"version": 1, "id": 7, '
expect(head + '"meth', "InvalidRequest", 0, "half a JSON object")
expect("this is not JSON", "InvalidRequest", 0, "not JSON")
expect("[1, 2, 3]", "InvalidRequest", 0, "a JSON array")
expect(b'{"version": 1, "id": 7, "method": "st\xffatus"}', "InvalidRequest", 0, "invalid UTF-8")
expect('{"id": 7, "method": "status"}', "InvalidRequest", 7, "no version")
expect('{"version": "1", "id": 7, "method": "status"}', "InvalidRequest", 7, "version as a string")
expect('{"version": 1, "method": "status"}', "InvalidRequest", 0, "no id")
expect('{"version": 1, "id": "7", "method": "status"}', "InvalidRequest", 0, "id as a string")
expect(head + '"params": {}}', "InvalidRequest", 7, "no method")
expect(head + '"method": 5}', "InvalidRequest", 7, "method as a number")
expect(head + '"method": "status", "params": [1]}', "InvalidRequest", 7, "params as an array")
expect(head + '"method": "status", "extra": true}', "InvalidRequest", 7, "an unknown envelope field")
expect(head + '"method": "status", "method": "reload"}', "InvalidRequest", 0, "a duplicate key")
expect('{"version": 2, "id": 7, "method": "status"}', "UnsupportedVersion", 7, "version 2")
expect(head + '"method": "frobnicate"}', "UnknownMethod", 7, "an unknown method")
expect(head + '"method": "set-mode", "params": {"cgroup": "x"}}', "InvalidParams", 7, "set-mode without mode")
expect(head + '"method": "set-mode", "params": {"mode": 2}}', "InvalidParams", 7, "set-mode without cgroup")
expect(head + '"method": "set-mode", "params": {"cgroup": "x", "mode": 9}}', "InvalidParams", 7, "mode 9")
expect(head + '"method": "set-mode", "params": {"cgroup": "../x", "mode": 2}}', "InvalidParams", 7, "cgroup ..")
expect(head + '"method": "set-ratio", "params": {"cgroup": "x", "ratio": -1}}', "InvalidParams", 7, "ratio -1")
expect(head + '"method": "status", "params": {"cgroup": "x", "colour": 1}}', "InvalidParams", 7, "unknown param")
expect(head + '"method": "events", "params": {"follow": "yes"}}', "InvalidParams", 7, "follow as a string")
expect(head + '"method": "status", "params": {"cgroup": "/no/such/cgroup"}}', "NoSuchCgroup", 7, "unknown cgroup")
expect(head + '"method": "policy-show", "params": {"name": "nope"}}', "NoSuchPolicy", 7, "unknown policy")
expect(head + '"method": "enroll", "params": {"cgroup": "x"}}', "InvalidParams", 7, "enroll without a listener")

# Sizes: 65536 bytes is the largest request (here a status padded with spaces); one byte more, or 70000,
# is MessageTooLarge (and, truncated by the kernel, has no id to echo).
status = '{"version": 1, "id": 8, "method": "status"}'
s = conn()
r = ask(s, status + " " * (65536 - len(status)))
check(r is not None and r.get("id") == 8 and "result" in r, f"a request of exactly 65536 bytes: {r}")
s.close()
expect(status + " " * (65537 - len(status)), "MessageTooLarge", 0, "65537 bytes")
big = head + '"method": "status", "params": {"cgroup": "' + "a" * 70000 + '"}}'
expect(big, "MessageTooLarge", 0, "70000 bytes")

# Descriptors: a request carries at most one; more is InvalidRequest. None of them may stay open in commitd.
def fd_count():
    return len(os.listdir(f"/proc/{daemon_pid}/fd"))


time.sleep(0.2)  # the connections above are closed: let commitd see their hang-ups
before = fd_count()
devnull = os.open("/dev/null", os.O_RDONLY)
expect(status, "InvalidRequest", 0, "two descriptors", fds=(devnull, devnull))
for _ in range(20):
    s = conn()
    ask(s, status, fds=(devnull, devnull, devnull))
    r = ask(s, status, fds=(devnull,))  # one stray descriptor on a method that takes none
    check(r is not None and "result" in r, f"status with a stray descriptor: {r}")
    s.close()
os.close(devnull)
time.sleep(0.2)
check(fd_count() <= before, f"commitd holds {fd_count() - before} more descriptors after stray ones were sent")

# 2. Stalls. A sends half a request and never reads its reply, C connects and says nothing, F sends requests
# as fast as it can and never reads a reply: once F's queue is full commitd drops F rather than wait for it.
# Meanwhile B is answered at once.
a = conn()
a.send((head + '"method": "sta').encode())
c = conn()
f = conn()
f.setblocking(False)
sent = 0
dropped = False
deadline = time.monotonic() + 3
while sent < 5000 and time.monotonic() < deadline:  # until commitd's replies to F fill F's queue
    try:
        f.send(status.encode())
        sent += 1
    except BlockingIOError:
        select.select([], [f], [], 0.2)
    except (BrokenPipeError, ConnectionResetError):
        dropped = True  # commitd would have had to wait for F to read: it disconnected F instead
        break
check(sent > 0, "the flooding client could send nothing")
check(dropped, f"a client that never reads its replies was not disconnected after {sent} requests")
for i in range(5):
    t = time.monotonic()
    b = conn()
    b.settimeout(2)
    try:
        r = ask(b, f'{{"version": 1, "id": {100 + i}, "method": "status"}}')
    except OSError as e:
        r = f"no reply: {e}"
    took = time.monotonic() - t
    check(isinstance(r, dict) and r.get("id") == 100 + i and "result" in r, f"status beside stalled clients: {r}")
    check(took < 1.0, f"status beside stalled clients took {took:.2f} s")
    b.close()
    if not isinstance(r, dict):
        break
r = recv(a)
check(r is not None and r["error"]["name"] == "InvalidRequest", f"the half request, once read: {r}")
good(a, "after the half request")
for s in (a, c, f):
    s.close()

# 3. Too many connections of one uid: the one past the limit is told ResourceLimit; a slot freed is reusable.
held = []
r = None
for _ in range(64):
    held.append(conn())
    # commitd sends nothing to an accepted client that has not asked: the first one with a message is refused
    ready, _, _ = select.select(held, [], [], 0.1)
    if ready:
        r = recv(ready[0])
        break
check(r is not None and r.get("error", {}).get("name") == "ResourceLimit", f"connection past the limit: {r}")
for s in held:
    s.close()
time.sleep(0.2)
s = conn()
good(s, "after the connections were closed")
sys.exit(1 if failures else 0)
EOF
kill -0 "$COMMITD_PID" || fail "commitd died"
"$COMMITCTL" status >/dev/null || fail "commitctl status does not answer after the bad input"

# 4. Non-root callers. The scratch directory is opened (o+x) so the socket is reachable by path.
groupadd --system "$GROUP_T" || fail "groupadd"
useradd --system --no-create-home --shell /usr/sbin/nologin -G "$GROUP_T" "$USER_T" || fail "useradd"
chmod o+x "$WORK"
as_user() { runuser -u "$USER_T" -- env COMMITD_SOCKET="$1" "$COMMITCTL" "${@:2}"; }

# 4a. The socket is 0660 root:root: the user cannot even connect, and is told so (exit 1, what to do).
err=$(as_user "$COMMITD_SOCKET" set-mode "$SCRATCH/u" strict 2>&1)
rc=$?
[ $rc = 1 ] || fail "set-mode by a non-root user on a 0660 root socket exited $rc, want 1"
expect_in "$err" "Permission denied"
expect_in "$err" "try sudo"

# 4b. The socket opened to everyone (0666): connecting is no longer the guard, the per-method credential
# check (SO_PEERCRED) is. Reading is allowed; set-mode is PermissionDenied and changes nothing.
chmod 0666 "$COMMITD_SOCKET"
out=$(as_user "$COMMITD_SOCKET" --json status 2>&1) || fail "status by a non-root user: $out"
expect_in "$out" '"cgroups"'
err=$(as_user "$COMMITD_SOCKET" set-mode "$SCRATCH/u" strict 2>&1)
rc=$?
[ $rc = 1 ] || fail "set-mode by a non-root user exited $rc, want 1"
expect_in "$err" "PermissionDenied"
expect_in "$err" "needs root or the commitd group"
for verb in "set-ratio $SCRATCH/u 80" "set-limit $SCRATCH/u 1G" "reload"; do
	# shellcheck disable=SC2086
	err=$(as_user "$COMMITD_SOCKET" $verb 2>&1) && fail "$verb by a non-root user succeeded"
	expect_in "$err" "PermissionDenied"
done
[ ! -d "$CG_FS/u" ] || fail "a refused set-mode created the cgroup"
err=$("$COMMITCTL" status "$SCRATCH/u" 2>&1) && fail "a refused set-mode created a policy: $err"
expect_in "$err" "NoSuchCgroup"

# 4c. A second commitd with --group: its socket is root:GROUP 0660, and a member of the group may mutate.
"$COMMITD" --foreground --socket "$WORK/group.sock" --oci-socket "$WORK/group-oci.sock" --policy-dir "$POLICIES" --state-dir "$WORK/state2" \
	--group "$GROUP_T" --log-level debug >>"$WORK/commitd2.log" 2>&1 &
COMMITD2_PID=$!
STARTED_PIDS="${STARTED_PIDS:-} $COMMITD2_PID"
wait_for 'COMMITD_SOCKET=$WORK/group.sock "$COMMITCTL" status >/dev/null 2>&1'
[ "$(stat -c %a:%G "$WORK/group.sock")" = "660:$GROUP_T" ] || fail "group socket is $(stat -c %a:%G "$WORK/group.sock")"
out=$(as_user "$WORK/group.sock" set-mode "$SCRATCH/g" strict 2>&1) || fail "set-mode by a member of --group: $out"
[ "$(COMMITD_SOCKET=$WORK/group.sock status_field "$SCRATCH/g" mode)" = strict ] || fail "the member's set-mode did not apply"
kill "$COMMITD2_PID" && wait "$COMMITD2_PID"

# After all of it the first commitd still answers, and root may still change it.
kill -0 "$COMMITD_PID" || fail "commitd died"
"$COMMITCTL" status >/dev/null || fail "commitctl status does not answer at the end"
"$COMMITCTL" set-mode "$SCRATCH/r" strict >/dev/null || fail "root's set-mode after the bad input"
finish
