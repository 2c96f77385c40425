#!/bin/bash
# Issue 13: commitd-meminfo's view of /proc/meminfo. Run as a user of commitd's read group (--user) once mounted,
# it shows a reader in a budget that budget's CommitLimit and Committed_AS (moving when the budget maps memory),
# the tightest of nested levels, and the memory lines of the reader's memory cgroup limit; a reader in no budget
# gets the host's file. Killed under a reading loop, every read returns (ENOTCONN while it is dead, never a hang);
# started again, it detaches the dead mount and serves again. `commitctl run --meminfo` binds it over the command's
# /proc/meminfo in a mount namespace of its own (root only; a tenant is told why), and `commitctl doctor` run there
# explains the budget, not the host.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd_with_reader m
VIEWER=$READER # the view runs as a member of the read group
VIEW=$WORK/view
MEMCG= # a v1 memory cgroup of the test's, with a limit
# The view is stopped (by its pid) before its mount is detached, and both before cleanup removes $WORK.
trap 'rc=$?; [ -n "${VIEW_PID:-}" ] && kill -KILL "$VIEW_PID" 2>/dev/null && wait "$VIEW_PID" 2>/dev/null
	umount -l "$VIEW" 2>/dev/null; [ -n "$MEMCG" ] && rmdir "$MEMCG" 2>/dev/null; (exit $rc); cleanup' EXIT

# A check later steps rest on: fail at once rather than wait out theirs too.
die() { fail "$@"; exit 1; }
start_view() {
	"$COMMITD_MEMINFO" --mount "$VIEW" --socket "$COMMITD_SOCKET" --interval 1 --user "$VIEWER" --log-level debug \
		>>"$WORK/view.log" 2>&1 &
	VIEW_PID=$!
	wait_for 'grep -q "serving" "$WORK/view.log" && stat -f -c %T "$VIEW" | grep -q fuse' ||
		die "commitd-meminfo did not mount: $(cat "$WORK/view.log")"
}
# line KEY FILE-TEXT: the kB number of KEY
kb() { awk -v k="$1:" '$1 == k { print $2 }'; }

policy outer '"mode": "strict", "limit": "512M", "swap": "0"'
echo "{\"cgroup\": \"$SCRATCH/outer/inner\", \"mode\": \"strict\", \"limit\": \"64M\", \"swap\": \"0\"}" >"$POLICIES/inner.json"
"$COMMITCTL" reload >/dev/null || fail "reload"
start_view
[ "$(stat -c %U "/proc/$VIEW_PID")" = "$VIEWER" ] || fail "commitd-meminfo does not run as $VIEWER"
# Every capability set empty, the bounding set too (nothing to regain through execve), no_new_privs, and no uid
# or gid of root left (real, effective, saved, filesystem).
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
	grep -q "^$set:[[:space:]]*0*\$" "/proc/$VIEW_PID/status" ||
		fail "commitd-meminfo kept capabilities: $(grep "^$set:" "/proc/$VIEW_PID/status")"
done
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$VIEW_PID/status" || fail "commitd-meminfo without no_new_privs"
[ "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$VIEW_PID/status")" = "$(id -u "$VIEWER") $(id -u "$VIEWER") $(id -u "$VIEWER") $(id -u "$VIEWER")" ] ||
	fail "commitd-meminfo kept a uid of root: $(grep '^Uid:' "/proc/$VIEW_PID/status")"
[ "$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$VIEW_PID/status")" = "$(id -g "$VIEWER") $(id -g "$VIEWER") $(id -g "$VIEWER") $(id -g "$VIEWER")" ] ||
	fail "commitd-meminfo kept a gid of root: $(grep '^Gid:' "/proc/$VIEW_PID/status")"
grep -qw 0 <<<"$(awk '$1 == "Groups:"' "/proc/$VIEW_PID/status" | cut -d: -f2)" &&
	fail "commitd-meminfo kept root's group: $(grep '^Groups:' "/proc/$VIEW_PID/status")"

# 1. A reader in no budget: the host's commit lines.
host=$(cat "$VIEW/meminfo") || fail "reading the view as the host"
[ "$(kb CommitLimit <<<"$host")" = "$(kb CommitLimit </proc/meminfo)" ] || fail "the host's CommitLimit: $host"
[ "$(kb MemTotal <<<"$host")" = "$(kb MemTotal </proc/meminfo)" ] || fail "the host's MemTotal: $host"
[ "$(wc -l <<<"$host")" = "$(wc -l </proc/meminfo)" ] || fail "the view lost lines of the host's file"

# 2. A reader in the inner budget: 64 MiB, the tighter level; its Committed_AS moves when the budget maps 32 MiB.
wait_for '[ "$(status_field "$SCRATCH/outer/inner" commit_limit_bytes 2>/dev/null)" = $((64 << 20)) ]'
read_in() { "$COMMITCTL" run --policy "$1" -- cat "$VIEW/meminfo"; }
wait_for '[ "$(read_in inner | kb CommitLimit)" = 65536 ]' || die "the inner budget's CommitLimit: $(read_in inner)"
before=$(read_in inner | kb Committed_AS)
[ -n "$before" ] && [ "$before" -lt 32768 ] || fail "Committed_AS of the idle budget: $before kB"
start_held holder "$COMMITCTL" run --policy inner -- "$WORKLOAD" map:32M wait
wait_for '[ "$(read_in inner | kb Committed_AS)" -ge $((before + 32768)) ]' ||
	fail "Committed_AS did not move by 32 MiB: $before kB, then $(read_in inner | kb Committed_AS) kB"
[ "$(read_in inner | kb Committed_AS)" = "$(($(status_field "$SCRATCH/outer/inner" committed_bytes) >> 10))" ] ||
	wait_for '[ "$(read_in inner | kb Committed_AS)" = "$(($(status_field "$SCRATCH/outer/inner" committed_bytes) >> 10))" ]' ||
	fail "the view and status disagree"
# The outer level, with 512 MiB, is not the one that refuses first: a reader in the outer budget sees its own.
wait_for '[ "$(read_in outer | kb CommitLimit)" = 524288 ]' || fail "the outer budget's CommitLimit: $(read_in outer)"
# Made tighter than the inner one, the outer level is what the inner reader sees.
"$COMMITCTL" set-limit "$SCRATCH/outer" 48M >/dev/null || fail "set-limit outer"
wait_for '[ "$(read_in inner | kb CommitLimit)" = 49152 ]' || fail "the tighter outer level: $(read_in inner)"
echo go >&9

# 3. The reader's memory cgroup limits memory (v1 on a hybrid host, else v2): MemTotal follows it, and free, with
# the view bound over /proc/meminfo in a mount namespace of its own (what the runtime wrapper does), agrees.
bound='mount --bind "$1/meminfo" /proc/meminfo && cat /proc/meminfo && echo --- && free -k'
own=$(awk -F: '$2 == "memory" { print $3; exit }' /proc/self/cgroup)
if [ -n "$own" ] && [ "$own" != / ]; then
	MEMCG=/sys/fs/cgroup/memory$own/commitd-meminfo-$$
	mkdir "$MEMCG" && echo $((256 << 20)) >"$MEMCG/memory.limit_in_bytes" || fail "a v1 memory cgroup"
	out=$(bash -c 'echo $$ >"$1/cgroup.procs" && exec "${@:2}"' _ "$MEMCG" \
		"$COMMITCTL" run --policy inner -- unshare -m --propagation private bash -c "$bound" _ "$VIEW")
else
	echo $((256 << 20)) >"$CG_FS/outer/inner/memory.max" || fail "memory.max"
	out=$("$COMMITCTL" run --policy inner -- unshare -m --propagation private bash -c "$bound" _ "$VIEW")
fi
[ "$(kb MemTotal <<<"$out")" = 262144 ] || fail "MemTotal under a 256 MiB memory limit: $out"
[ "$(kb MemAvailable <<<"$out")" -le 262144 ] || fail "MemAvailable above the limit: $out"
[ "$(awk '$1 == "Mem:" { print $2 }' <<<"$out")" = 262144 ] || fail "free's total disagrees: $out"
[ "$(kb CommitLimit <<<"$out")" = 49152 ] || fail "CommitLimit with the memory limit: $out"
[ -n "$MEMCG" ] && { rmdir "$MEMCG" || fail "rmdir $MEMCG"; }
MEMCG=

# 4. Killed and started again under a reading loop: every read returns, ENOTCONN while dead, the numbers after.
(
	for i in $(seq 400); do
		timeout 10 cat "$VIEW/meminfo" >/dev/null 2>"$WORK/read.err"
		rc=$?
		if [ $rc = 0 ]; then echo ok; elif [ $rc = 124 ]; then echo HANG; else echo "error $(cat "$WORK/read.err")"; fi
		sleep 0.01
	done
) >"$WORK/reads.log" &
reader=$!
STARTED_PIDS="${STARTED_PIDS:-} $reader"
sleep 1
kill -KILL "$VIEW_PID"
wait "$VIEW_PID" 2>/dev/null
VIEW_PID=
wait_for 'grep -q "not connected" "$WORK/reads.log"' || die "no read failed visibly while the view was dead"
start_view
wait "$reader" || fail "the reading loop"
grep -q HANG "$WORK/reads.log" && fail "a read hung: $(sort "$WORK/reads.log" | uniq -c)"
tail -5 "$WORK/reads.log" | grep -qv '^ok$' && fail "reads fail after the restart: $(tail -5 "$WORK/reads.log")"
grep -q "detached the dead mount" "$WORK/view.log" || fail "the restart did not detach the dead mount"
echo "reads: $(sort "$WORK/reads.log" | uniq -c | tr '\n' ' ')"
wait_for '[ "$(read_in inner | kb CommitLimit)" = 49152 ]' || fail "after the restart: $(read_in inner)"

# 4b. commitd stuck (stopped, its socket still accepting): once the view's refresh has given up on it, a reader in
# no budget gets the host's file without waiting for an answer that cannot come. The view logs each wait (debug).
# While commitd answers, such a reader waits once per cat: for the text made at open, which its read then serves.
waits() { grep -c "waited for commitd's answer" "$WORK/view.log"; }
n=$(waits)
cat "$VIEW/meminfo" >/dev/null || fail "a read while commitd answers"
[ "$(waits)" = $((n + 1)) ] || fail "a reader in no budget waited $(($(waits) - n)) times for one cat, want once"
gave_up=$(grep -c "cannot read the budgets from commitd" "$WORK/view.log")
kill -STOP "$COMMITD_PID"
wait_for '[ "$(grep -c "cannot read the budgets from commitd" "$WORK/view.log")" -gt "$gave_up" ]' ||
	fail "the view's refresh never gave up on the stopped commitd: $(tail -5 "$WORK/view.log")"
n=$(waits)
for i in 1 2 3 4 5; do
	out=$(timeout 60 cat "$VIEW/meminfo") || { fail "read $i while commitd was stuck"; break; }
	[ "$(kb CommitLimit <<<"$out")" = "$(kb CommitLimit </proc/meminfo)" ] || fail "not the host's file: $out"
done
kill -CONT "$COMMITD_PID"
[ "$(waits)" = "$n" ] ||
	fail "readers waited $(($(waits) - n)) times for commitd while it was stuck: $(grep "waited for" "$WORK/view.log" | tail -5)"
wait_for '[ "$(read_in inner | kb CommitLimit)" = 49152 ]' || fail "after commitd went on: $(read_in inner)"

# 5. commitctl run --meminfo: the command, in a mount namespace of its own, reads its budget in /proc/meminfo; the
# host's namespace keeps the host's file. Without the view it is refused (nothing runs); a tenant is told why not.
host_limit=$(kb CommitLimit </proc/meminfo)
out=$("$COMMITCTL" run --policy inner --meminfo-file "$VIEW/meminfo" -- cat /proc/meminfo) || fail "run --meminfo: $out"
[ "$(kb CommitLimit <<<"$out")" = 49152 ] || fail "run --meminfo: the command does not read its budget: $out"
[ "$(kb CommitLimit </proc/meminfo)" = "$host_limit" ] && ! awk '$5 == "/proc/meminfo"' /proc/self/mountinfo | grep -q . ||
	fail "run --meminfo changed the host's /proc/meminfo: $(awk '$5 == "/proc/meminfo"' /proc/self/mountinfo)"
err=$("$COMMITCTL" run --policy inner --meminfo-file "$WORK/none" -- echo RAN 2>&1) && fail "run --meminfo without a view ran"
expect_in "$err" "commitd-meminfo does not serve it"
case $err in *RAN*) fail "run --meminfo without a view ran the command: $err" ;; esac
err=$(setpriv --reuid "$VIEWER" --regid "$VIEWER" --clear-groups "$COMMITCTL" run --policy inner --meminfo-file \
	"$VIEW/meminfo" -- echo RAN 2>&1) && fail "run --meminfo as a tenant ran: $err"
expect_in "$err" "only root (CAP_SYS_ADMIN)"

# 6. commitctl doctor there reads the view: it reports the budget's CommitLimit (the tighter outer level's 48 MiB)
# and its Committed_AS (which doctor's own memory moves: only bounded), says they are the budget's, names the
# host's mode as the host's only, and lists the budget's processes only (doctor's own), not the host's.
json=$("$COMMITCTL" run --policy inner --meminfo-file "$VIEW/meminfo" -- "$COMMITCTL" --json doctor) ||
	fail "doctor under run --meminfo: $json"
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
host_mode = int(open("/proc/sys/vm/overcommit_memory").read())
ok = (d.get("meminfo_view") is True and d["commit_limit_bytes"] == 48 << 20 and
      0 <= d["committed_bytes"] < d["commit_limit_bytes"] and
      d["headroom_bytes"] < d["commit_limit_bytes"] - d["committed_bytes"] + 4096 and
      d["host_overcommit_memory"] == host_mode and "mode" not in d and "commitd budget" in d["summary"] and
      d["processes"] and all(p["cgroup"] == sys.argv[2] for p in d["processes"]))
sys.exit(0 if ok else 1)
' "$json" "$SCRATCH/outer/inner" || fail "doctor under run --meminfo does not report the budget: $json"
human=$("$COMMITCTL" run --policy inner --meminfo-file "$VIEW/meminfo" -- "$COMMITCTL" doctor --top 3)
expect_in "$human" "commitd-meminfo's view of this process's commitd budget"
expect_in "$human" "CommitLimit       48Mi"
case $human in *"Host overcommit"*) fail "doctor in the view describes the host's CommitLimit: $human" ;; esac
# --what-if there, which recomputes the host's CommitLimit, is refused (exit 2, and why) before doctor measures every
# process: run as a user that is not root, a measure would say first that it leaves other users' processes out.
err=$("$COMMITCTL" run --policy inner --meminfo-file "$VIEW/meminfo" -- setpriv --reuid "$VIEWER" --regid "$VIEWER" \
	--clear-groups "$COMMITCTL" doctor --what-if mode=2 2>&1 >/dev/null)
rc=$?
[ $rc = 2 ] || fail "doctor --what-if in the view exited $rc, want 2: $err"
expect_in "$err" "run it on the host"
case $err in *"not root"*) fail "doctor measured every process before refusing --what-if: $err" ;; esac
# The host's own doctor is unchanged: no view there.
expect_in "$("$COMMITCTL" doctor --top 1)" "Host overcommit"
finish
