#!/bin/bash
# Robustness over the life of enrolled processes: fork/exit churn under one listener (upkeep forgets the dead,
# so the tracked count returns to the live one), a caller killed while its call waits for commitd's answer
# (commitd held with SIGSTOP: nobody gets a wrong answer, commitd keeps serving), a cgroup removed after its
# processes exited (status and the next enrollment behave), and listeners whose processes all exited
# (commitd's descriptors and threads return to where they were).
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

policy jail '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
fds() { find "/proc/$COMMITD_PID/fd" -mindepth 1 | wc -l; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$COMMITD_PID/status"; }
# settle: until commitd's descriptor and thread counts are back to $1 and $2 (HUPs are handled in the loop).
settle() {
	local want_fds=$1 want_threads=$2
	wait_for '[ "$(fds)" = "$want_fds" ] && [ "$(threads)" = "$want_threads" ]'
}
fds0=$(fds) threads0=$(threads)

# 1. Churn. One listener (the shell stays), 150 short-lived children that each map and fork, then the shell
# becomes a waiting workload. Every child was tracked at its first notified call; once they exited, upkeep
# (every 2 s) forgets them: the count is the live one, the workload's single pid.
# Each child exits right after its fork's child: nothing of them lives on, so nothing of them stays charged (once,
# their forks' charges piled up as ghosts of the listener and the budget refused the shell's forks).
start_held churn "$COMMITCTL" run --cgroup "$SCRATCH/jail" -- bash -c \
	'for i in $(seq 150); do "$0" map:1M fork || exit 1; done; exec "$0" map:1M wait' "$WORKLOAD"
churn=$HELD_PID
refused=$(grep -c '^ENOMEM' "$WORK/churn.out")
[ "$refused" = 0 ] || fail "$refused of the churn's calls were refused in a 64 MiB budget it never nears: $(sort "$WORK/churn.out" | uniq -c | head -5)"
live=$(find "$CG_FS/jail" -name cgroup.procs -exec cat {} + | wc -l)
[ "$live" = 1 ] || fail "$live processes live in the jail, want 1"
wait_for '[ "$(status_field "$SCRATCH/jail" enrolled_processes)" = "$live" ]'
n=$(status_field "$SCRATCH/jail" enrolled_processes)
[ "$n" = "$live" ] || fail "commitd tracks $n processes after the churn, $live live"
# The survivor is still judged correctly: its budget is what it holds, not what the dead held.
admitted=$(status_field "$SCRATCH/jail" admitted)
[ "$admitted" -ge 300 ] || fail "only $admitted calls admitted during the churn"
echo >&9
exec 9>&-
wait "$churn" || fail "the churn run failed: $(cat "$WORK/churn.out")"

# 2. A caller killed while its call is pending. commitd is stopped; VICTIM asks for 40 MiB and BYSTANDER for
# 1 MiB, both wait for an answer; VICTIM is killed; commitd continues. The bystander gets its OK, then a
# refusal of what does not fit, and the dead one's 40 MiB were never charged.
start_held victim "$COMMITCTL" run --cgroup "$SCRATCH/jail" -- "$WORKLOAD" wait map:40M wait
victim=$HELD_PID
exec 8>&9
start_held bystander "$COMMITCTL" run --cgroup "$SCRATCH/jail" -- "$WORKLOAD" wait map:1M map:100M map:40M wait
bystander=$HELD_PID
kill -STOP "$COMMITD_PID"
# A stop reaches each thread when it next runs: on a busy host that can be after the echoes below. Wait until
# every thread of commitd is stopped.
wait_for '! grep -h "^State:" /proc/"$COMMITD_PID"/task/*/status | grep -qv "T (stopped)"'
echo >&8 # the victim's mmap reaches the kernel and waits for commitd
echo >&9 # and so does the bystander's
sleep 0.3
grep -q "map:" "$WORK/victim.out" "$WORK/bystander.out" &&
	fail "a call was answered while commitd was stopped: $(cat "$WORK/victim.out" "$WORK/bystander.out"); commitd's threads: $(grep -h '^State:' /proc/"$COMMITD_PID"/task/*/status | sort | uniq -c | tr '\n' ' ')"
kill -KILL "$victim"
sleep 0.2
kill -CONT "$COMMITD_PID"
wait "$victim" 2>/dev/null
wait_for '[ "$(grep -c WAITING "$WORK/bystander.out")" -ge 2 ]'
out=$(cat "$WORK/bystander.out")
expect_in "$out" "OK map:1M"$'\n'"ENOMEM map:100M"$'\n'"OK map:40M"
kill -0 "$COMMITD_PID" || fail "commitd died"
"$COMMITCTL" status "$SCRATCH/jail" >/dev/null || fail "commitd does not answer after the killed caller"
echo >&9
exec 9>&- 8>&-
wait "$bystander"

# 3. A cgroup removed once its processes exited. Without a policy, commitd stops listing it and, asked by name,
# says NoSuchCgroup; with a policy it keeps the policy and lists 0 processes. Enrolling again recreates the
# cgroup and enforces as before.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/plain" -- "$WORKLOAD" map:1M) || fail "run in plain: $out"
rmdir "$CG_FS/plain" || fail "cannot remove the plain cgroup"
sleep 2.5 # an upkeep runs over the removed cgroup
"$COMMITCTL" --json status | grep -q "\"$SCRATCH/plain\"" && fail "status still lists the removed cgroup"
err=$("$COMMITCTL" status "$SCRATCH/plain" 2>&1) && fail "status of the removed cgroup succeeded: $err"
expect_in "$err" "NoSuchCgroup"
out=$("$COMMITCTL" run --cgroup "$SCRATCH/plain" -- "$WORKLOAD" map:1M) || fail "enroll again in plain: $out"
expect_in "$out" "OK map:1M"
rmdir "$CG_FS/jail" || fail "cannot remove the jail cgroup"
sleep 2.5
[ "$(status_field "$SCRATCH/jail" enrolled_processes)" = 0 ] || fail "the removed jail lists processes"
[ "$(status_field "$SCRATCH/jail" mode)" = strict ] || fail "the jail's policy is gone with its cgroup"
out=$("$COMMITCTL" run --cgroup "$SCRATCH/jail" -- "$WORKLOAD" map:40M map:40M) || fail "enroll again in jail: $out"
expect_in "$out" "OK map:40M"$'\n'"ENOMEM map:40M"
[ -d "$CG_FS/jail" ] || fail "enrolling did not recreate the jail cgroup"

# 4. Listeners whose processes all exited: 20 runs, 5 at a time, each holding a listener, a thread and a
# process record while it lives. Afterwards commitd is back to its descriptors and threads from the start.
for round in 1 2 3 4; do
	runs=
	for _ in 1 2 3 4 5; do
		"$COMMITCTL" run --cgroup "$SCRATCH/jail" -- "$WORKLOAD" map:1M fork sleep:1 >/dev/null &
		runs="$runs $!"
	done
	STARTED_PIDS="${STARTED_PIDS:-} $runs"
	sleep 0.5
	[ "$round" = 1 ] && { [ "$(threads)" -ge $((threads0 + 5)) ] || fail "5 listeners but $(threads) threads (from $threads0)"; }
	# shellcheck disable=SC2086
	wait $runs # not a bare wait: commitd is a child of this shell too
done
settle "$fds0" "$threads0" || fail "commitd holds $(fds) descriptors and $(threads) threads, started with $fds0 and $threads0"
sleep 2.5
[ "$(status_field "$SCRATCH/jail" enrolled_processes)" = 0 ] || fail "processes still tracked after every run ended"

kill -0 "$COMMITD_PID" || fail "commitd died"
finish
