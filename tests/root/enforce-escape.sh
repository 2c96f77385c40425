#!/bin/bash
# A hostile tenant enrolled in a strict 64 MiB budget tries to leave it, as a non-root user where it can be one
# (commitctl run as root enrolls, setpriv drops to the user): (1) moved to a cgroup outside its budget (root
# does the move: the user cannot), (2) the i386 and x32 doors for brk, mmap2, fork and clone, (3) clone3,
# (4) seccomp filters of its own: a second listener, an allow-all filter, a RET_TRACE filter, (5) threads
# racing mmaps against one refusal. Each time the program sees ENOMEM (or ENOSYS, EBUSY) where the budget says
# so, and commitd's numbers and the kernel's smaps never pass the budget.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

USER_T=commitd-esc-$$
# shellcheck disable=SC2317 # called by the trap
escape_cleanup() {
	local rc=$?
	userdel "$USER_T" 2>/dev/null
	(exit "$rc")
	cleanup
}
trap escape_cleanup EXIT
useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_T" || fail "useradd"

policy jail '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
LIMIT=$(status_field "$SCRATCH/jail" commit_limit_bytes)
[ "$LIMIT" = $((64 << 20)) ] || fail "policy not loaded"
# as_tenant PROG ARGS: enrolled by root in the jail, then running as the unprivileged user.
tenant=("$COMMITCTL" run --cgroup "$SCRATCH/jail" -- setpriv --reuid="$USER_T" --regid=nogroup --clear-groups)
as_tenant() { "${tenant[@]}" "$@"; }

out=$(as_tenant "$WORKLOAD" map:1M)
expect_in "$out" "OK map:1M" # the user runs, enrolled
out=$(as_tenant bash -c 'id -u; grep ^Seccomp: /proc/self/status')
expect_in "$out" "$(id -u "$USER_T")"
expect_in "$out" "Seccomp:	2"

# go NAME: lets the held workload run to its next wait (or its end), then shows its output.
go() {
	local name=$1 want=${2:-2}
	echo >&9
	wait_for '[ "$(grep -c WAITING "$WORK/$name.out")" -ge "$want" ] || ! kill -0 "$HELD_PID" 2>/dev/null'
	cat "$WORK/$1.out"
}

# 1. Moved out. 40 MiB mapped, the process is then put (by root) into a cgroup outside the jail. Its next
# 40 MiB would fit the jail only if the jail forgot the first 40: refused. And the jail still counts them.
mkdir "$CG_FS/outside"
start_held move "${tenant[@]}" "$WORKLOAD" map:40M wait map:40M map:1M wait
echo "$HELD_PID" >"$CG_FS/outside/cgroup.procs" || fail "cannot move the process"
grep -q "^0::$SCRATCH/outside$" "/proc/$HELD_PID/cgroup" || fail "the process did not move: $(cat "/proc/$HELD_PID/cgroup")"
out=$(go move)
expect_in "$out" "ENOMEM map:40M"
expect_in "$out" "OK map:1M"
sleep 2.5 # an upkeep re-measures the jail from its cgroup
committed=$(status_field "$SCRATCH/jail" committed_bytes)
[ "$committed" -ge $((40 << 20)) ] || fail "the jail counts $committed bytes: the 40 MiB of the moved process are forgotten"
echo >&9
exec 9>&-
wait "$HELD_PID"
rmdir "$CG_FS/outside"

# 2. The 32-bit doors, as the tenant. i386 brk grows the same heap as brk (int80 is not PIE, so its break is
# below 4 GiB); mmap2, fork and clone are the i386 table's; x32 fork is refused by commitd before the kernel
# (which may lack x32 and say ENOSYS) would run it: ENOMEM proves it was judged.
out=$(as_tenant "$INT80" brk:40M brk:40M)
expect_in "$out" "OK brk:40M"$'\n'"ENOMEM brk:40M"
out=$(as_tenant "$INT80" mmap2:40M mmap2:40M fork clone x32fork x32mmap:40M)
expect_in "$out" "OK mmap2:40M"$'\n'"ENOMEM mmap2:40M"
for op in fork clone x32fork x32mmap:40M; do expect_in "$out" "ENOMEM $op"; done
out=$(as_tenant "$INT80" mmap2:4M fork clone brk:4M)
for op in mmap2:4M fork clone brk:4M; do expect_in "$out" "OK $op"; done

# 3. clone3 is ENOSYS, from the 64-bit and the i386 table; libc falls back (thread works).
out=$(as_tenant "$WORKLOAD" clone3 thread)
expect_in "$out" "ENOSYS clone3"$'\n'"OK thread"
out=$(as_tenant "$INT80" clone3)
expect_in "$out" "ENOSYS clone3"

# 4. Filters of its own. A second listener: EBUSY (the kernel's has_duplicate_listener()), so the tenant can
# never answer its own calls. An allow-all filter and a RET_TRACE filter on mmap: commitd's USER_NOTIF takes
# precedence over both (seccomp_run_filters() keeps the action of highest precedence), so a mapping that
# fits still maps (commitd said CONTINUE; without a tracer RET_TRACE alone would be ENOSYS) and one past the
# budget is still ENOMEM.
out=$(as_tenant "$WORKLOAD" seccomp-listener map:1G)
expect_in "$out" "EBUSY seccomp-listener"
expect_in "$out" "ENOMEM map:1G"
out=$(as_tenant "$WORKLOAD" seccomp-allow map:1M map:1G)
expect_in "$out" "OK seccomp-allow"$'\n'"OK map:1M"$'\n'"ENOMEM map:1G"
out=$(as_tenant "$WORKLOAD" seccomp-trace map:1M map:1G)
expect_in "$out" "OK seccomp-trace"$'\n'"OK map:1M"$'\n'"ENOMEM map:1G"
out=$(as_tenant bash -c '"$0" seccomp-allow; "$0" fork map:1G' "$WORKLOAD") # its children too
expect_in "$out" "ENOMEM map:1G"

# 5. 32 threads released at once, each mapping 4 MiB into the 64 MiB budget: some are refused, and what was
# admitted (held while we look) fits: commitd's committed_bytes and the kernel's smaps both stay within.
start_held race "${tenant[@]}" "$WORKLOAD" race:32:4M wait
out=$(cat "$WORK/race.out")
expect_in "$out" "RACE admitted="
admitted=$(sed -n 's/^RACE admitted=\([0-9]*\).*/\1/p' "$WORK/race.out")
[ "${admitted:-0}" -ge 1 ] && [ "$admitted" -lt 16 ] || fail "$admitted of 32 racing 4 MiB maps admitted in 64 MiB"
smaps_ac=$(awk '/^[0-9a-f]+-/ { size = 0 } /^Size:/ { size = $2 } /^VmFlags:.* ac( |$)/ { sum += size } END { print sum * 1024 }' "/proc/$HELD_PID/smaps")
[ "$smaps_ac" -le "$LIMIT" ] || fail "smaps says $smaps_ac accountable bytes, past the budget of $LIMIT"
[ "$smaps_ac" -ge $((admitted * 4 << 20)) ] || fail "smaps says $smaps_ac bytes, less than the $admitted maps admitted"
committed=$(status_field "$SCRATCH/jail" committed_bytes)
[ "$committed" -le "$LIMIT" ] || fail "commitd's committed_bytes $committed passes the commit limit $LIMIT"
echo >&9
exec 9>&-
wait "$HELD_PID"

kill -0 "$COMMITD_PID" || fail "commitd died"
finish
