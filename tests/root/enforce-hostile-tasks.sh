#!/bin/bash
# Issue 9, threads and processes: a non-root tenant in a strict 64 MiB budget tries to hold more than it with
# (1) a leader that exits alone (SYS_exit) while its threads go on, (6) forks judged by a thread's stale record,
# (7) threads racing their maps across the re-measures their own refusals cause, (8) children that move to a
# sibling cgroup of their delegated subtree before their first notified call. Each time the program must see
# ENOMEM where the budget says so, and the kernel's own count of what the tenant holds (charged.py: smaps,
# shmem objects) must stay within the budget, give or take one page.
set -u
. "$(dirname "$0")/tenant.sh"

# 8. A delegated subtree, like systemd's Delegate=: $SCRATCH/deleg and its cgroup.procs (and the files a
# delegate gets) belong to the tenant; the budget is on deleg/jail, and deleg/other is the tenant's too.
policies_extra() {
	echo "{\"cgroup\": \"$SCRATCH/deleg/jail\", \"mode\": \"strict\", \"limit\": \"64M\", \"swap\": \"0\"}" \
		>"$POLICIES/deleg-jail.json"
}
start_tenant

# 1. The leader leaves with SYS_exit (not exit_group): a zombie whose /proc/TGID/smaps is empty, while its
# thread holds the address space. The thread forces a refusal (commitd measures again), then maps 32 MiB at a
# time: at most what fits.
start_held leader "${tenant[@]}" "$HOSTILE" leader-exit wait map:1G steps:32M:384M wait
wait_for 'grep -q "^State:.*Z" "/proc/$HELD_PID/status"'
grep -q '^State:.*Z' "/proc/$HELD_PID/status" || fail "1: the leader did not exit alone: $(grep ^State: "/proc/$HELD_PID/status")"
[ -z "$(head -c1 "/proc/$HELD_PID/smaps")" ] || fail "1: the zombie leader's smaps is not empty"
out=$(go leader)
expect_in "$out" "ENOMEM map:1G"
mapped=$(field mapped "$out")
echo "1. leader exited: the thread mapped ${mapped:-?} bytes in 32 MiB steps"
[ "${mapped:-0}" -le $((64 << 20)) ] || fail "1: a thread of an exited leader mapped $mapped bytes in the 64 MiB budget"
expect_in "$out" "result=ENOMEM"
within_budget "1 (leader exited)" "$(charged "$HELD_PID")"
release

# 6. A second thread makes one notified call while the process is small (commitd keeps a record of it); the main
# thread then grows the process to 40 MiB; the second thread forks 15 times. Each fork copies 40 MiB: 40 + 40
# passes 64, every one is refused. Children that were let through hold their copy until the process ends.
start_held fork "${tenant[@]}" "$HOSTILE" t2:map:1M map:40M t2:fork-hold:15 wait
out=$(cat "$WORK/fork.out")
expect_in "$out" "OK map:40M"
admitted=$(field admitted "$out")
children=$(cat /proc/"$HELD_PID"/task/*/children | wc -w)
echo "6. forks from a stale thread record: ${admitted:-?} of 15 admitted, $children children alive"
[ "${admitted:-1}" = 0 ] || fail "6: $admitted of 15 forks of a 40 MiB process admitted in a 64 MiB budget"
[ "$children" = "${admitted:-}" ] || fail "6: $children children alive, $admitted forks admitted"
within_budget "6 (forks from a thread)" "$(charged --tree "$HELD_PID")"
release

# 7. Threads released at once, 20 rounds: mappers (4 MiB each) and refusers (1 TiB each, refused: commitd
# measures again while the mappers' calls are in flight); each round the process reads its own smaps before it
# unmaps what it got. What the kernel charges never passes the budget. First plainly (enforce-escape's race,
# repeated); then with every racer on one CPU and the mappers at SCHED_IDLE, so that a mapper commitd admitted
# waits behind the refusers before the kernel maps its area: a re-measure then cannot see it.
for spec in 20:16:4M:16 20:32:4M:8:4:idle; do
	start_held race "${tenant[@]}" "$HOSTILE" "race:$spec" wait
	rounds=$(grep -c '^ROUND ' "$WORK/race.out")
	[ "$rounds" = 20 ] || fail "7: $rounds of 20 rounds ran: $(cat "$WORK/race.out")"
	worst=0 past=0
	while read -r _ round admitted charged; do
		admitted=${admitted#admitted=} charged=${charged#charged=}
		[ "$charged" -gt "$worst" ] && worst=$charged
		[ "$charged" -gt $((LIMIT + PAGE)) ] && past=$((past + 1))
		[ "$admitted" -ge 1 ] || fail "7 (race:$spec): round $round: no map admitted"
	done < <(grep '^ROUND ' "$WORK/race.out")
	echo "7. race:$spec: at worst $worst bytes charged ($((worst >> 20)) MiB); $past of 20 rounds past the budget"
	[ "$past" = 0 ] || fail "7 (race:$spec): $past of 20 rounds past the budget"
	within_budget "7 (race:$spec, the worst round)" "$worst"
	release
	rm "$WORK/race.in"
done

# 8. The tenant's process (20 MiB) forks children that first move themselves to deleg/other (a plain write:
# nothing commitd sees), then sleep holding their copies. The jail measures only its own cgroup, so a fork
# past the budget would be admitted after each re-measure. What the parent and children hold stays within.
mkdir "$CG_FS/deleg" "$CG_FS/deleg/other"
chown "$USER_T" "$CG_FS/deleg" "$CG_FS/deleg/cgroup.procs" "$CG_FS/deleg/cgroup.threads" \
	"$CG_FS/deleg/cgroup.subtree_control" "$CG_FS/deleg/other" "$CG_FS/deleg/other/cgroup.procs" \
	"$CG_FS/deleg/other/cgroup.threads"
start_held deleg "$COMMITCTL" run --cgroup "$SCRATCH/deleg/jail" -- setpriv --reuid="$USER_T" --regid=nogroup \
	--clear-groups "$HOSTILE" map:20M fork-move:8:"$CG_FS/deleg/other/cgroup.procs" wait
out=$(cat "$WORK/deleg.out")
expect_in "$out" "OK map:20M"
case $out in *MOVE*) fail "8: a child could not move itself: $out" ;; esac
admitted=$(field admitted "$out")
moved=$(wc -w <"$CG_FS/deleg/other/cgroup.procs")
held=$(charged --tree "$HELD_PID")
echo "8. children moved out first: ${admitted:-?} of 8 forks admitted, $moved children in deleg/other"
[ "${admitted:-9}" -le 2 ] || fail "8: $admitted forks of a 20 MiB process admitted in a 64 MiB budget"
expect_in "$out" "ENOMEM fork"
within_budget "8 (children moved out)" "$held"
release

kill -0 "$COMMITD_PID" || fail "commitd died"
finish
