#!/bin/bash
# Enforcement issue, test 8: real programs run unharmed while enrolled under a generous strict budget: a
# shell running pipelines and subshells, python3 allocating and spawning a subprocess, and redis-server
# answering PING/SET/GET and forking for BGSAVE. Each one's exit status and output are checked, and each
# is shown to have been enrolled and judged (admitted calls grow, no refusals).
# Needs the Debian packages python3 and redis-server (redis-cli comes with redis-tools, its dependency).
set -u
. "$(dirname "$0")/lib.sh"
require_root
for p in python3 redis-server redis-cli; do
	command -v "$p" >/dev/null || { echo "FAIL: $p is not installed (apt-get install redis-server python3)" >&2; exit 1; }
done
start_commitd

policy prog '"mode": "strict", "limit": "1G", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
[ "$(status_field "$SCRATCH/prog" mode)" = strict ] || fail "policy not loaded as strict"
run() { "$COMMITCTL" run --cgroup "$SCRATCH/prog" -- "$@"; }
admitted() { status_field "$SCRATCH/prog" admitted; }

# 1. sh: a pipeline, a subshell, command substitution, a background job, and the exit status of each.
before=$(admitted)
out=$(run sh -c '
	set -e
	n=$(seq 1 20000 | sort -rn | head -n 3 | tr "\n" " ")
	echo "pipeline: $n"
	(cd / && echo "subshell: $(pwd)"; exit 3) || echo "subshell exit: $?"
	sleep 0.1 & wait $!
	echo "background: $?"
	x=$(sh -c "echo nested")
	echo "$x"
	grep ^Seccomp: /proc/self/status
	exit 7')
rc=$?
[ $rc = 7 ] || fail "sh exited $rc, want 7"
expect_in "$out" "pipeline: 20000 19999 19998 "
expect_in "$out" "subshell: /"
expect_in "$out" "subshell exit: 3"
expect_in "$out" "background: 0"
expect_in "$out" "nested"
expect_in "$out" "Seccomp:	2" # the grep ran enrolled: the filter reached the grandchild
[ "$(admitted)" -gt "$before" ] || fail "sh made no call commitd judged: was it enrolled?"

# 2. python3: 200 MB of objects, a subprocess (fork+exec or posix_spawn), a multiprocessing-free thread pool.
before=$(admitted)
out=$(run python3 -c '
import subprocess, sys, threading
blocks = [bytearray(1 << 20) for _ in range(200)]
print("allocated", sum(len(b) for b in blocks) >> 20, "MiB")
r = subprocess.run(["sh", "-c", "echo child; exit 5"], capture_output=True, text=True)
print("subprocess", r.returncode, r.stdout.strip())
out = []
ts = [threading.Thread(target=lambda i=i: out.append(i * i)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("threads", sum(out))
del blocks
sys.exit(4)')
rc=$?
[ $rc = 4 ] || fail "python3 exited $rc, want 4"
expect_in "$out" "allocated 200 MiB"
expect_in "$out" "subprocess 5 child"
expect_in "$out" "threads 140"
[ "$(admitted)" -gt "$before" ] || fail "python3 made no call commitd judged: was it enrolled?"

# 3. redis-server on a private port of 127.0.0.1, its data in the scratch directory.
port=$((20000 + $$ % 20000))
mkdir "$WORK/redis"
# commitctl run execs redis-server: the pid is the server's.
"$COMMITCTL" run --cgroup "$SCRATCH/prog" -- redis-server --port "$port" --bind 127.0.0.1 --dir "$WORK/redis" \
	--save '' --appendonly no --daemonize no --enable-debug-command local --logfile "$WORK/redis/log" \
	>/dev/null 2>&1 &
REDIS_PID=$!
STARTED_PIDS="${STARTED_PIDS:-} $REDIS_PID"
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
wait_for '[ "$(cli PING 2>/dev/null)" = PONG ] || ! kill -0 $REDIS_PID 2>/dev/null'
[ "$(cli PING 2>&1)" = PONG ] || fail "redis-server does not answer PING: $(tail -5 "$WORK/redis/log" 2>&1)"
grep -q "^Seccomp:	2" /proc/$REDIS_PID/status 2>/dev/null || fail "redis-server is not under the filter"
enrolled=$(status_field "$SCRATCH/prog" enrolled_processes)
[ "$enrolled" -ge 1 ] || fail "status shows $enrolled enrolled processes while redis runs"
[ "$(cli SET key value-$$)" = OK ] || fail "SET"
[ "$(cli GET key)" = "value-$$" ] || fail "GET"
# 10 MB of values, so the fork of BGSAVE has something to copy.
expect_in "$(cli DEBUG POPULATE 10000 k 1000)" OK
[ "$(cli DBSIZE)" -ge 10001 ] || fail "DBSIZE is $(cli DBSIZE)"
before=$(admitted)
expect_in "$(cli BGSAVE)" "Background saving started"
wait_for '[ "$(cli INFO persistence | tr -d "\r" | sed -n "s/^rdb_bgsave_in_progress://p")" = 0 ]'
info=$(cli INFO persistence | tr -d '\r')
expect_in "$info" "rdb_bgsave_in_progress:0"
expect_in "$info" "rdb_last_bgsave_status:ok"
[ -s "$WORK/redis/dump.rdb" ] || fail "BGSAVE wrote no dump.rdb"
[ "$(admitted)" -gt "$before" ] || fail "the BGSAVE fork was not judged"
[ "$(status_field "$SCRATCH/prog" refusals)" = 0 ] || fail "commitd refused calls of a program within its budget"
[ "$(cli GET key)" = "value-$$" ] || fail "GET after BGSAVE"
cli SHUTDOWN NOSAVE >/dev/null 2>&1
wait $REDIS_PID
rc=$?
[ $rc = 0 ] || fail "redis-server exited $rc after SHUTDOWN"
grep -q "ready to exit, bye bye" "$WORK/redis/log" || fail "redis-server did not shut down cleanly: $(tail -5 "$WORK/redis/log")"
finish
