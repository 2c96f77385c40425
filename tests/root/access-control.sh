#!/bin/bash
# Access control, as real non-root users. commitd runs with --socket-mode 0666, so connecting is no guard and
# each method's check is: a plain user may change nothing (set-mode, set-ratio, set-limit, reload, enroll); a
# tenant whose cgroup is delegated to it (its v2 directory chowned to the tenant, as systemd's Delegate= does)
# reads that cgroup and what lies below it, and nothing of another tenant: not its status, not whether it
# exists, not its policy, not its refusals (recent or followed).
set -u
. "$(dirname "$0")/lib.sh"
require_root
COMMITD_ARGS="--socket-mode 0666"
start_commitd

TA=commitd-ta-$$ TB=commitd-tb-$$ PLAIN=commitd-tp-$$
# shellcheck disable=SC2317 # called by the trap
access_cleanup() {
	local rc=$?
	# The followers run as the tenants, and userdel refuses a user that a process (a zombie too) still has.
	for pid in ${STARTED_PIDS:-}; do kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
	for u in "$TA" "$TB" "$PLAIN"; do userdel "$u" 2>/dev/null || echo "warning: userdel $u failed" >&2; done
	(exit "$rc")
	cleanup
}
trap access_cleanup EXIT
for u in "$TA" "$TB" "$PLAIN"; do
	useradd --system --no-create-home --shell /usr/sbin/nologin "$u" || fail "useradd $u"
done
chmod o+x "$WORK" # the socket is reachable by path
[ "$(stat -c %a "$COMMITD_SOCKET")" = 666 ] || fail "--socket-mode 0666: the socket is $(stat -c %a "$COMMITD_SOCKET")"

# Two tenants with a strict 64 MiB budget each, delegated like systemd does it (the directory and its
# cgroup.procs chowned). A sub-cgroup root makes inside A's subtree is A's too.
policy a '"mode": "strict", "limit": "64M", "swap": "0"'
policy b '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
mkdir -p "$CG_FS/a" "$CG_FS/b"
chown "$TA" "$CG_FS/a" "$CG_FS/a/cgroup.procs"
chown "$TB" "$CG_FS/b" "$CG_FS/b/cgroup.procs"
"$COMMITCTL" set-mode "$SCRATCH/a/sub" strict >/dev/null || fail "set-mode a/sub"
"$COMMITCTL" set-mode "$SCRATCH/rootonly" strict >/dev/null || fail "set-mode rootonly"

# 1. Every mutating method is refused to a plain user and to a tenant, even on its own cgroup, and changes
# nothing.
for u in "$PLAIN" "$TA"; do
	refuses_mutations "$u" "$SCRATCH/a" "needs root or the commitd group"
	err=$(as "$u" run --cgroup "$SCRATCH/a" -- true 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "run (enroll) by $u exited $rc, want 1: $err"
	expect_in "$err" "PermissionDenied"
done
[ "$(status_field "$SCRATCH/a" mode)" = strict ] || fail "a refused set-mode changed tenant a"
[ "$(status_field "$SCRATCH/a" limit_bytes)" = $((64 << 20)) ] || fail "a refused set-limit changed tenant a"
[ ! -d "$CG_FS/new" ] || fail "a refused set-mode created the cgroup"
[ "$(status_field "$SCRATCH/a" enrolled_processes)" = 0 ] || fail "a refused enroll left a process"

# 2. status: a tenant lists its own cgroups only; the plain user none; root all.
list() { python3 -c 'import json,sys; print(" ".join(c["cgroup"] for c in json.load(sys.stdin)["cgroups"]))'; }
got=$(as "$TA" --json status | list)
[ "$got" = "$SCRATCH/a $SCRATCH/a/sub" ] || [ "$got" = "$SCRATCH/a/sub $SCRATCH/a" ] ||
	fail "tenant A's status lists '$got', want its own two cgroups"
got=$(as "$TB" --json status | list)
[ "$got" = "$SCRATCH/b" ] || fail "tenant B's status lists '$got'"
got=$(as "$PLAIN" --json status | list)
[ -z "$got" ] || fail "a user without cgroups sees '$got'"
out=$(as "$PLAIN" status) || fail "status by a plain user failed: $out"
expect_in "$out" "No cgroups of yours"
got=$("$COMMITCTL" --json status | list)
for cg in a a/sub b rootonly; do expect_in "$got" "$SCRATCH/$cg"; done

# status CGROUP: its own, yes; another tenant's, an unknown and a non-existent one all get the same
# PermissionDenied, so nothing tells them apart. Root still gets NoSuchCgroup for the unknown one.
out=$(as "$TA" status "$SCRATCH/a") || fail "tenant A's status of its own cgroup: $out"
expect_in "$out" "$SCRATCH/a "
expect_in "$out" "strict"
out=$(as "$TA" status "$SCRATCH/a/sub") || fail "tenant A's status of its sub-cgroup: $out"
as "$TA" status "$SCRATCH/a/nothing" 2>&1 | grep -q NoSuchCgroup || fail "inside its own subtree, unknown is NoSuchCgroup"
msg() { as "$TA" status "$1" 2>&1 | sed "s|$1|X|g"; }
err_b=$(msg "$SCRATCH/b")
expect_in "$err_b" "PermissionDenied"
expect_in "$err_b" "delegated to it"
[ "$(msg "$SCRATCH/rootonly")" = "$err_b" ] || fail "root's cgroup and B's answer differently: $(msg "$SCRATCH/rootonly")"
[ "$(msg "$SCRATCH/nosuch")" = "$err_b" ] || fail "a missing cgroup and B's answer differently: $(msg "$SCRATCH/nosuch")"
[ "$(msg /)" = "$err_b" ] || fail "the root cgroup: $(msg /)"
as "$TA" status "$SCRATCH/b" >/dev/null 2>&1 && fail "tenant A read tenant B's status"
"$COMMITCTL" status "$SCRATCH/nosuch" 2>&1 | grep -q NoSuchCgroup || fail "root: an unknown cgroup is not NoSuchCgroup"

# 3. Policies: listed and shown for the tenant's own cgroups only; another's name is as unknown as a made-up one.
names() { python3 -c 'import json,sys; print(" ".join(sorted(p["cgroup"] for p in json.load(sys.stdin)["policies"])))'; }
got=$(as "$TA" --json policy list | names)
[ "$got" = "$SCRATCH/a $SCRATCH/a/sub" ] || fail "tenant A's policy list: '$got'"
[ -z "$(as "$PLAIN" --json policy list | names)" ] || fail "a plain user lists policies"
out=$(as "$TA" --json policy show a) || fail "tenant A's policy show of its own: $out"
expect_in "$out" "$SCRATCH/a"
as "$TA" policy show b >/dev/null 2>&1 && fail "tenant A saw policy b"
err_b=$(as "$TA" policy show b 2>&1 | sed 's/"b"/"X"/')
expect_in "$err_b" "PermissionDenied"
[ "$(as "$TA" policy show nosuch 2>&1 | sed 's/"nosuch"/"X"/')" = "$err_b" ] || fail "a missing policy and B's answer differently"
"$COMMITCTL" policy show nosuch 2>&1 | grep -q NoSuchPolicy || fail "root: an unknown policy is not NoSuchPolicy"

# 4. Events. Followers of A, of the plain user and of root watch while each tenant is refused once (the
# budget is 64 MiB, the request 1 GiB; commitctl run as root, the workload as the tenant).
"$COMMITCTL" --json events --follow >"$WORK/follow-root.out" 2>&1 &
STARTED_PIDS="${STARTED_PIDS:-} $!"
wait_log "events --follow by pid $! uid 0: following"
for u in "$TA" "$PLAIN"; do
	# setpriv execs (runuser would fork, and its pid is not the follower's)
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env COMMITD_SOCKET="$COMMITD_SOCKET" "$COMMITCTL" \
		--json events --follow >"$WORK/follow-$u.out" 2>&1 &
	STARTED_PIDS="${STARTED_PIDS:-} $!"
	wait_log "events --follow by pid $! uid $(id -u "$u"): following"
done
for t in a:"$TA" b:"$TB"; do
	out=$("$COMMITCTL" run --cgroup "$SCRATCH/${t%%:*}" -- setpriv --reuid="${t#*:}" --regid=nogroup --clear-groups \
		"$WORKLOAD" map:1G)
	expect_in "$out" "ENOMEM map:1G"
done
cgroups_of() { python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["cgroup"] for l in sys.stdin if l.startswith("{")})))'; }
# Both refusals reach root's follower (and A's) in the loop pass that pushes them to every follower.
wait_for '[ "$(cgroups_of <"$WORK/follow-root.out")" = "$SCRATCH/a $SCRATCH/b" ] &&
	[ "$(cgroups_of <"$WORK/follow-$TA.out")" = "$SCRATCH/a" ]'
[ "$(cgroups_of <"$WORK/follow-root.out")" = "$SCRATCH/a $SCRATCH/b" ] || fail "root's follower: $(cat "$WORK/follow-root.out")"
[ "$(cgroups_of <"$WORK/follow-$TA.out")" = "$SCRATCH/a" ] || fail "tenant A's follower: $(cat "$WORK/follow-$TA.out")"
[ -z "$(cgroups_of <"$WORK/follow-$PLAIN.out")" ] || fail "the plain user's follower: $(cat "$WORK/follow-$PLAIN.out")"
[ "$(as "$TA" --json events | cgroups_of)" = "$SCRATCH/a" ] || fail "tenant A's recent events: $(as "$TA" --json events)"
[ "$(as "$TB" --json events | cgroups_of)" = "$SCRATCH/b" ] || fail "tenant B's recent events: $(as "$TB" --json events)"
[ -z "$(as "$PLAIN" --json events | cgroups_of)" ] || fail "the plain user sees events"
[ "$("$COMMITCTL" --json events | cgroups_of)" = "$SCRATCH/a $SCRATCH/b" ] || fail "root's recent events"
# The refusal of B's process was judged as B's (the workload ran as B): nothing of it names A.
grep -q "$TB\|$SCRATCH/b" "$WORK/follow-$TA.out" && fail "tenant A's follower saw something of B"

kill -0 "$COMMITD_PID" || fail "commitd died"
finish
