#!/bin/bash
# Issue 5, least privilege: after setup commitd keeps cap_sys_ptrace, cap_dac_override and cap_checkpoint_restore, nothing else
# (bounding set included), its keeper keeps nothing; with those two it still judges a tenant of another uid;
# started without one it needs, it refuses with a message that names it.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

cap_line() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
want=$(printf '%016x' $(((1 << 19) | (1 << 1) | (1 << 40)))) # CAP_SYS_PTRACE (19), CAP_DAC_OVERRIDE (1), CAP_CHECKPOINT_RESTORE (40)
for k in CapEff CapPrm CapBnd; do
	[ "$(cap_line "$COMMITD_PID" $k)" = "$want" ] || fail "commitd $k is $(cap_line "$COMMITD_PID" $k), want $want"
done
for k in CapInh CapAmb; do
	[ "$(cap_line "$COMMITD_PID" $k)" = 0000000000000000 ] || fail "commitd $k is $(cap_line "$COMMITD_PID" $k)"
done
grep -q "capabilities kept: cap_sys_ptrace, cap_dac_override, cap_checkpoint_restore" "$WORK/commitd.log" || fail "the kept capabilities are not logged"
keeper=$(cat "$WORK/commitd.keeper.sock.pid")
for k in CapEff CapPrm CapBnd; do
	[ "$(cap_line "$keeper" $k)" = 0000000000000000 ] || fail "keeper $k is $(cap_line "$keeper" $k), want none"
done

# A tenant of another uid: reading its smaps needs cap_sys_ptrace; without it commitd could not measure it.
policy nobody '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"
out=$("$COMMITCTL" run --cgroup "$SCRATCH/nobody" -- setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$WORKLOAD" steps:4M:1G) || fail "run as uid 65534 exited $?: $out"
mapped=$(sed -n 's/^STEPS mapped=\([0-9]*\) result=ENOMEM$/\1/p' <<<"$out")
# strict mode keeps back the admin reserve (8 MiB) and total_vm / 32 from a process without CAP_SYS_ADMIN
[ -n "$mapped" ] && [ "$mapped" -le $((64 << 20)) ] && [ "$mapped" -ge $((48 << 20)) ] ||
	fail "uid 65534 in a 64M budget: $out"
logged "refused cgroup=$SCRATCH/nobody pid=[0-9]* comm=workload call=mmap" ||
	fail "the refusal of the uid 65534 tenant is not logged with its command (its /proc was not read)"

# Started without a capability it needs: a clear refusal naming it, before anything is bound.
for cap in cap_sys_ptrace cap_dac_override cap_checkpoint_restore; do
	err=$(capsh --drop=$cap -- -c "exec '$COMMITD' --foreground --socket '$WORK/c-$cap.sock' \
		--oci-socket '$WORK/o-$cap.sock' --policy-dir '$POLICIES' --state-dir '$WORK/s-$cap'" 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "commitd without $cap exited $rc, want 1: $err"
	expect_in "$err" "needs ${cap^^}"
	expect_in "$err" "CapabilityBoundingSet="
	[ ! -e "$WORK/c-$cap.sock" ] || fail "commitd without $cap bound its socket"
done
err=$(capsh --drop=cap_chown -- -c "exec '$COMMITD' --foreground --socket '$WORK/c-chown.sock' --group root \
	--oci-socket '$WORK/o-chown.sock' --policy-dir '$POLICIES' --state-dir '$WORK/s-chown'" 2>&1)
[ $? = 1 ] || fail "commitd --group without cap_chown did not refuse: $err"
expect_in "$err" "needs CAP_CHOWN"
finish
