#!/bin/bash
# Issue 9, fault 10: the control socket always has room for an admin (SPEC 7). Eight tenants (real users;
# commitd with --socket-mode 0666) each try to follow events on 16 connections, as 8 x 16 `commitctl events
# --follow` once did, filling all 128 client slots and locking root out. Now each uid follows on at most 4
# connections (the 5th is told ResourceLimit, saying why), and the tenants then open every plain connection
# they can; still root's `status` and `run`, and a member of the --group group, get through.
set -u
. "$(dirname "$0")/lib.sh"
require_root
ADMINS=commitd-ag-$$
add_group "$ADMINS" || fail "groupadd"
COMMITD_ARGS="--socket-mode 0666 --group $ADMINS"
start_commitd
chmod o+x "$WORK" # the socket is reachable by path
TENANTS=
for i in $(seq 8); do
	add_user "commitd-t$i-$$" || fail "useradd"
	TENANTS="$TENANTS commitd-t$i-$$"
done
ADMIN=commitd-ad-$$
add_user "$ADMIN" -G "$ADMINS" || fail "useradd admin"
# as USER CMD...: CMD as the user.
as() { setpriv --reuid="$1" --regid="$1" --init-groups env COMMITD_SOCKET="$COMMITD_SOCKET" "${@:2}"; }

# hold USER MODE: python as USER opening 16 connections to commitd and holding them. MODE follow: each asks
# for events with follow (a refused one is closed, as commitctl would); plain: each stays silent. Prints one
# line "MODE held=N refused=K: the first refusal" once it is done, then holds until killed.
hold() {
	setpriv --reuid="$1" --regid="$1" --init-groups env python3 - "$COMMITD_SOCKET" "$2" <<'PY' &
import json, select, signal, socket, sys, time
path, mode = sys.argv[1:]
held, refusals = [], []
for _ in range(16):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    if mode == "follow":
        s.send(b'{"version": 1, "id": 1, "method": "events", "params": {"follow": true}}')
        s.settimeout(5)
        reply = json.loads(s.recv(1 << 17))
    else:  # commitd says nothing to a client it took; one it refused gets an error at once
        ready, _, _ = select.select([s], [], [], 0.2)
        reply = json.loads(s.recv(1 << 17) or b"{}") if ready else {"result": {}}
    if "error" in reply:
        refusals.append(reply["error"]["name"] + ": " + reply["error"]["message"])
        s.close()
    else:
        held.append(s)
print(f"{mode} held={len(held)} refused={len(refusals)}: {refusals[0] if refusals else ''}", flush=True)
signal.pause()
PY
	STARTED_PIDS="${STARTED_PIDS:-} $!"
}
wait_lines() { local want=$1; wait_for '[ "$(cat "$WORK"/hold-*.out 2>/dev/null | wc -l)" -ge "$want" ]'; }

# 1. Followers: 16 asked per tenant, 4 held.
for u in $TENANTS; do hold "$u" follow >"$WORK/hold-$u-follow.out" 2>&1; done
wait_lines 8 || fail "the followers did not finish: $(cat "$WORK"/hold-*.out)"
cat "$WORK"/hold-*-follow.out
for u in $TENANTS; do
	out=$(cat "$WORK/hold-$u-follow.out")
	expect_in "$out" "follow held=4 refused=12: ResourceLimit"
	expect_in "$out" "follows events on 4 connections"
done
# the 5th follower through commitctl: exit 1 and the reason
u=$(echo $TENANTS | cut -d' ' -f1)
err=$(as "$u" timeout 5 "$COMMITCTL" events --follow 2>&1)
rc=$?
[ $rc = 1 ] || fail "a 5th follower of uid $u exited $rc, want 1: $err"
expect_in "$err" "ResourceLimit"
expect_in "$err" "4 connections"

# 2. Then every plain connection the tenants can get: 8 x 16 more asked for.
for u in $TENANTS; do hold "$u" plain >"$WORK/hold-$u-plain.out" 2>&1; done
wait_lines 16 || fail "the plain holders did not finish: $(cat "$WORK"/hold-*.out)"
cat "$WORK"/hold-*-plain.out
held=$(cat "$WORK"/hold-*.out | sed -n 's/.*held=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s }')
echo "tenants hold $held connections"
[ "$held" -le 112 ] || fail "tenants hold $held connections: more than the 112 slots not kept for admins"
grep -q "ResourceLimit: too many connections.*kept for admins" "$WORK"/hold-*-plain.out ||
	fail "no tenant was told the remaining slots are kept for admins"

# 3. Admins still get in: root's status and run, and the --group member's status.
out=$("$COMMITCTL" status 2>&1) || fail "root's status with the tenants' connections held: $out"
out=$("$COMMITCTL" run --cgroup "$SCRATCH/r" -- "$WORKLOAD" map:8M 2>&1) || fail "root's run: $out"
expect_in "$out" "OK map:8M"
out=$(as "$ADMIN" "$COMMITCTL" --json status 2>&1) || fail "the --group member's status: $out"
expect_in "$out" '"cgroups"'
# and a tenant does not
err=$(as "$u" "$COMMITCTL" status 2>&1) && fail "a tenant got a connection past its share: $err"
expect_in "$err" "ResourceLimit"
kill -0 "$COMMITD_PID" || fail "commitd died"
finish
