#!/bin/bash
# Issue 9: a real PostgreSQL 15 server enrolled in a strict 400 MiB budget, as a throwaway non-root user, its data
# and socket directories in the test's scratch directory. One query sorts 8 million rows in memory
# (work_mem = 2GB), which needs more commit than the budget has. Under the kernel's own strict mode the backend
# gets ENOMEM from brk/mmap, PostgreSQL reports "ERROR:  out of memory" and the server stays up; that is what
# commitd must give too: the query fails with "out of memory", the postmaster is the same process and never
# restarted its children (no "terminated by signal", no "reinitializing" in its log), a session opened before
# the query still answers, a new session works, and commitd logged its brk/mmap refusals.
# The report behind it: glibc's "break adjusted to free malloc space" (SIGABRT) in the backend, then crash
# recovery, because a refused brk was answered with a break below the real one.
# Needs the Debian packages postgresql-15 and postgresql-client-15 (scripts/deps).
set -u
. "$(dirname "$0")/lib.sh"
require_root
PGBIN=/usr/lib/postgresql/15/bin
for p in "$PGBIN/initdb" "$PGBIN/postgres" /usr/bin/psql; do
	[ -x "$p" ] || { echo "FAIL: $p is not installed (apt-get install postgresql-15 postgresql-client-15)" >&2; exit 1; }
done
start_commitd

USER_T=commitd-pg-$$
PG_PID=
# Stops what the test started (the server as PostgreSQL wants it, else SIGKILL), then removes what the server
# left that outlives its processes: its SysV interlock segment and its /dev/shm segments (the user's own: the
# user is the test's), then the user. lib.sh's cleanup removes the cgroups and $WORK.
# running PID: alive and not a zombie (kill -0 succeeds on a zombie)
running() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]
}
# shellcheck disable=SC2317 # called by the trap
pg_cleanup() {
	local rc=$? uid
	if [ -n "$PG_PID" ] && running "$PG_PID"; then
		kill -INT "$PG_PID" 2>/dev/null # fast shutdown
		wait_for '! running "$PG_PID"'
	fi
	# reaped too: userdel refuses a user that a zombie still has
	for pid in ${STARTED_PIDS:-}; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	if [ -n "${CG_FS:-}" ] && [ -d "$CG_FS" ]; then
		find "$CG_FS" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
		wait_for '[ -z "$(find "$CG_FS" -name cgroup.procs -exec cat {} + 2>/dev/null)" ]'
	fi
	if uid=$(id -u "$USER_T" 2>/dev/null); then
		# /proc/sysvipc/shm: key shmid perms size cpid lpid nattch uid gid cuid ...
		awk -v u="$uid" 'NR > 1 && $10 == u { print $2 }' /proc/sysvipc/shm | while read -r id; do ipcrm -m "$id"; done
		find /dev/shm -maxdepth 1 -user "$uid" -name 'PostgreSQL.*' -delete 2>/dev/null
		userdel "$USER_T" 2>/dev/null || echo "warning: userdel $USER_T failed" >&2
	fi
	if [ $rc != 0 ] || [ $failures != 0 ]; then
		echo "--- postgres log ---" >&2
		tail -40 "$WORK/pg/log" >&2 2>/dev/null
	fi
	(exit "$rc")
	cleanup
}
trap pg_cleanup EXIT
useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_T" || { fail "useradd"; exit 1; }
chmod o+x "$WORK" # the user reaches its directories through it
mkdir -p "$WORK/pg/sock"
chown -R "$USER_T:" "$WORK/pg"
as_user() { setpriv --reuid="$USER_T" --regid="$(id -g "$USER_T")" --clear-groups --reset-env "$@"; }

# initdb outside any budget: only the server is judged.
out=$(as_user "$PGBIN/initdb" -D "$WORK/pg/data" -U pg --auth=trust --no-sync --no-instructions 2>&1) ||
	{ fail "initdb: $out"; exit 1; }

policy pg '"mode": "strict", "limit": "400M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
[ "$(status_field "$SCRATCH/pg" commit_limit_bytes)" = $((400 << 20)) ] || { fail "policy not loaded"; exit 1; }

# A small server, so that it fits with room to spare and the sort is what passes the budget. jit off: the sort,
# not LLVM, is what this test loads.
"$COMMITCTL" run --cgroup "$SCRATCH/pg" -- setpriv --reuid="$USER_T" --regid="$(id -g "$USER_T")" --clear-groups \
	--reset-env "$PGBIN/postgres" -D "$WORK/pg/data" -k "$WORK/pg/sock" -c listen_addresses='' \
	-c shared_buffers=16MB -c max_connections=10 -c max_worker_processes=2 -c max_parallel_workers_per_gather=0 \
	-c jit=off -c log_min_messages=log >"$WORK/pg/log" 2>&1 &
PG_PID=$! # commitctl run and setpriv exec: the postmaster's own pid
STARTED_PIDS="${STARTED_PIDS:-} $PG_PID"
psql_pg=(psql -X -q -A -t -h "$WORK/pg/sock" -U pg -d postgres)
sql() { "${psql_pg[@]}" -v ON_ERROR_STOP=1 "$@" 2>&1; }
wait_for '[ "$(sql -c "select 1")" = 1 ] || ! kill -0 "$PG_PID" 2>/dev/null'
[ "$(sql -c 'select 1')" = 1 ] || { fail "postgres does not answer: $(tail -5 "$WORK/pg/log")"; exit 1; }
grep -q "^Seccomp:	2" "/proc/$PG_PID/status" || fail "the postmaster is not under the filter"
[ "$(head -1 "$WORK/pg/data/postmaster.pid")" = "$PG_PID" ] || fail "postmaster.pid names another process"
echo "idle server: committed $(status_field "$SCRATCH/pg" committed_bytes) bytes of $((400 << 20))"

# The session opened before the big query: psql reading a FIFO held open on fd 8.
mkfifo "$WORK/early.in"
"${psql_pg[@]}" <"$WORK/early.in" >"$WORK/early.out" 2>&1 &
EARLY_PID=$!
STARTED_PIDS="${STARTED_PIDS:-} $EARLY_PID"
trap '' PIPE # a psql that lost its server: the echo below fails instead of killing the test
exec 8>"$WORK/early.in"
echo "select 'early', pg_backend_pid();" >&8
wait_for 'grep -q "^early|" "$WORK/early.out"'
early_backend=$(sed -n 's/^early|//p' "$WORK/early.out")
[ -n "$early_backend" ] || fail "the early session did not answer: $(cat "$WORK/early.out")"

# One session, as a long-lived backend lives: a sort of 1 million rows that fits (its 8 MB blocks, mmapped and
# freed, raise glibc's mmap threshold, so the next query's blocks come from brk and the heap grows far past what
# the backend inherited from the postmaster), then 8 million rows of (int, 32-character text) sorted in memory,
# more than 400 MiB of tuples and SortTuples, then the 1 million rows again in the same backend, whose heap has
# gone through the refusals. psql goes on after an error (no ON_ERROR_STOP).
out=$("${psql_pg[@]}" 2>&1 <<'SQL'
set work_mem = '2GB';
select 'before', g from generate_series(1, 1000000) g order by md5(g::text) offset 999999;
select 'big', g from generate_series(1, 8000000) g order by md5(g::text) offset 7999999;
select 'after', g from generate_series(1, 1000000) g order by md5(g::text) offset 999999;
SQL
)
echo "the session of the big query:"$'\n'"$out"
expect_in "$out" "before|"
expect_in "$out" "ERROR:  out of memory"
case $out in *"big|"*) fail "the 8 million row sort did not fail: is 400 MiB enough for it on this machine?" ;; esac
expect_in "$out" "after|"
refusals=$(grep -c "refused cgroup=$SCRATCH/pg pid=[0-9]* comm=postgres call=\(brk\|mmap\)" "$WORK/commitd.log")
[ "$refusals" -ge 1 ] || fail "commitd logged no brk/mmap refusal of postgres"
echo "commitd refusals logged: $refusals ($(grep -c "refused cgroup=$SCRATCH/pg .* call=brk" "$WORK/commitd.log") brk)"

# The server lived through it.
sleep 0.5 # a postmaster that restarts its children logs it as soon as it reaps the dead one
kill -0 "$PG_PID" 2>/dev/null || fail "the postmaster $PG_PID died"
[ "$(head -1 "$WORK/pg/data/postmaster.pid" 2>/dev/null)" = "$PG_PID" ] || fail "postmaster.pid no longer names $PG_PID"
log=$(cat "$WORK/pg/log")
case $log in *"terminated by signal"*) fail "a server process was killed: $(grep -m3 "terminated by signal" <<<"$log")" ;; esac
case $log in *"reinitializing"*) fail "the postmaster restarted the cluster (crash recovery)" ;; esac
case $log in *"break adjusted to free malloc space"*) fail "glibc malloc aborted in a backend: a refused brk was answered with a wrong break" ;; esac
echo "select 'early', pg_backend_pid();" >&8 || fail "the session opened before the query is gone"
wait_for '[ "$(grep -c "^early|" "$WORK/early.out")" -ge 2 ]'
[ "$(sed -n 's/^early|//p' "$WORK/early.out" | sed -n 2p)" = "$early_backend" ] ||
	fail "the session opened before the query does not answer on backend $early_backend: $(cat "$WORK/early.out")"
[ "$(sql -c 'select 1')" = 1 ] || fail "a new session does not work: $(sql -c 'select 1')"
[ "$(sql -c 'select count(*) from generate_series(1, 100000)')" = 100000 ] || fail "a small query fails after the refusals"

exec 8>&-
wait "$EARLY_PID" 2>/dev/null
kill -INT "$PG_PID"
wait "$PG_PID" 2>/dev/null
rc=$?
[ $rc = 0 ] || fail "postgres exited $rc after a fast shutdown"
PG_PID=
finish
