#!/bin/bash
# commitd-exporter --textfile, as a non-root member of commitd's read group, into a directory of its own as
# node_exporter's textfile collector reads it: the exposition (promtool accepts it) with a refusal counted,
# written atomically (a new file renamed over the old one, never the old one rewritten; no temporary file left),
# readable by others; every --interval until SIGTERM; commitd_up 0 alone once commitd is down, and the one-shot
# mode's exit code says so; a directory it cannot write and bad options are clear errors.
set -u
. "$(dirname "$0")/lib.sh"
require_root
command -v promtool >/dev/null || { fail "promtool missing: scripts/deps installs Debian's prometheus"; finish; }
READERS=commitd-tg-$$ USER_=commitd-tu-$$
add_group "$READERS" || fail "groupadd $READERS"
add_user "$USER_" -G "$READERS" || fail "useradd $USER_"
COMMITD_ARGS="--read-group $READERS"
start_commitd
chmod o+x "$WORK" # the socket is reachable by path
DIR=$WORK/textfile
FILE=$DIR/commitd.prom
mkdir "$DIR" && chown "$USER_" "$DIR"
as_exporter() {
	setpriv --reuid="$USER_" --regid="$(id -g "$USER_")" --init-groups "$EXPORTER" --socket "$COMMITD_SOCKET" "$@"
}
# only_file: the directory holds the textfile and nothing else (no temporary file left behind).
only_file() { [ "$(ls -A "$DIR")" = commitd.prom ] || fail "the directory holds: $(ls -A "$DIR")"; }

policy tight '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
expect_in "$("$COMMITCTL" run --policy tight -- "$WORKLOAD" map:1G 2>&1)" "ENOMEM map:1G"
refused="commitd_budget_refused_calls_total{cgroup=\"$SCRATCH/tight\",call=\"mmap\"}"

# 1. Once: the exposition, checked by promtool, mode 0644 for the collector's user.
err=$(as_exporter --textfile "$FILE" 2>&1) || fail "one-shot --textfile exited $?: $err"
lint=$(promtool check metrics <"$FILE" 2>&1) || fail "promtool check metrics rejects the textfile: $lint"
for line in "commitd_up 1" "$refused 1" "commitd_keeper_up 1"; do
	grep -qxF "$line" "$FILE" || fail "no line '$line' in the textfile"
done
[ "$(stat -c %a:%U "$FILE")" = "644:$USER_" ] || fail "the textfile is $(stat -c %a:%U "$FILE")"
only_file

# 2. Atomically: the old file, kept by a hard link, is untouched by the next write, which is a new inode.
ln "$FILE" "$WORK/old.prom"
cp "$FILE" "$WORK/old.copy"
expect_in "$("$COMMITCTL" run --policy tight -- "$WORKLOAD" map:1G 2>&1)" "ENOMEM map:1G"
as_exporter --textfile "$FILE" 2>/dev/null || fail "the second one-shot --textfile failed"
[ "$(stat -c %i "$FILE")" != "$(stat -c %i "$WORK/old.prom")" ] || fail "the textfile was rewritten in place"
cmp -s "$WORK/old.prom" "$WORK/old.copy" || fail "the old textfile's content changed under a reader"
grep -qxF "$refused 2" "$FILE" || fail "the second write does not count the second refusal"
only_file

# 3. Every --interval: a third refusal appears without a restart, each write a new file; SIGTERM ends it.
# (setpriv itself, not as_exporter: a function in the background is a subshell, and $! would be the shell's)
setpriv --reuid="$USER_" --regid="$(id -g "$USER_")" --init-groups "$EXPORTER" --socket "$COMMITD_SOCKET" \
	--textfile "$FILE" --interval 1 2>"$WORK/interval.log" &
pid=$!
STARTED_PIDS="${STARTED_PIDS:-} $pid"
expect_in "$("$COMMITCTL" run --policy tight -- "$WORKLOAD" map:1G 2>&1)" "ENOMEM map:1G"
wait_for 'grep -qxF "$refused 3" "$FILE"' || fail "the interval mode never wrote the third refusal"
ino=$(stat -c %i "$FILE")
wait_for '[ "$(stat -c %i "$FILE")" != "$ino" ]' || fail "the interval mode stopped writing"

# 4. commitd down: commitd_up 0 alone replaces its last numbers, and promtool accepts that too.
stop_commitd
wait_for 'grep -qxF "commitd_up 0" "$FILE"' || fail "with commitd down the textfile says: $(cat "$FILE")"
grep -q "^commitd_budget" "$FILE" && fail "the textfile kept commitd's numbers with commitd down"
promtool check metrics <"$FILE" >/dev/null 2>&1 || fail "promtool rejects the commitd-down textfile"
grep -q "<3>commitd-exporter: commitd is not reachable at $COMMITD_SOCKET" "$WORK/interval.log" ||
	fail "the interval mode did not log commitd down: $(cat "$WORK/interval.log")"
kill -TERM "$pid"
wait_for '! kill -0 "$pid" 2>/dev/null' || fail "the interval mode did not end on SIGTERM"
wait "$pid" || fail "the interval mode exited $? on SIGTERM, want 0"
only_file
err=$(as_exporter --textfile "$FILE" 2>&1)
rc=$?
[ $rc = 1 ] || fail "one-shot with commitd down exited $rc, want 1"
expect_in "$err" "commitd is not reachable at $COMMITD_SOCKET: No such file or directory"
grep -qxF "commitd_up 0" "$FILE" || fail "the one-shot with commitd down did not write commitd_up 0"

# 4b. A commitd that answers, but slowly, page after page: each page within the 10 s a receive may take, and never
# the last. A scrape waits 10 s for the whole answer, not 10 s a page for ever. Such a commitd cannot be made to
# order, so a stub speaks the protocol on a socket of its own: one page each 0.5 s, each naming a next one. The
# exporter holds SIGTERM for its own loop: timeout kills it.
STUB=$WORK/slow.sock
python3 - "$STUB" "$WORK/pages" <<'EOS' &
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o666)
s.listen(1)
c, _ = s.accept()
pages = 0
while True:
    req = json.loads(c.recv(65536))
    time.sleep(0.5)
    pages += 1
    open(sys.argv[2], "w").write(str(pages))
    c.send(json.dumps({"version": 1, "id": req["id"], "result": {"budgets": [{}], "next": "p%d" % pages}}).encode())
EOS
STARTED_PIDS="${STARTED_PIDS:-} $!"
wait_for '[ -S "$STUB" ]' || fail "the stub did not listen"
err=$(timeout -k 5 60 setpriv --reuid="$USER_" --regid="$(id -g "$USER_")" --init-groups "$EXPORTER" --socket "$STUB" \
	--textfile "$FILE" 2>&1)
rc=$?
[ $rc = 1 ] || fail "one-shot against a commitd slow page after page exited $rc, want 1 (124 or 137: still waiting at 60 s)"
expect_in "$err" "commitd at $STUB did not give its numbers: no whole answer to metrics within 10 s"
[ "$(cat "$WORK/pages" 2>/dev/null || echo 0)" -ge 5 ] || fail "the stub served $(cat "$WORK/pages" 2>/dev/null) pages, not several"
grep -qxF "commitd_up 0" "$FILE" || fail "the slow commitd's scrape did not write commitd_up 0"

# 5. Errors: a directory it cannot write; bad options.
err=$(as_exporter --textfile "$WORK/notmine.prom" 2>&1)
rc=$?
[ $rc = 1 ] || fail "writing into root's directory exited $rc, want 1"
expect_in "$err" "cannot write $WORK/notmine.prom: Permission denied"
for args in "--interval 0" "--interval 1s" "--listen 127.0.0.1:0"; do
	# shellcheck disable=SC2086
	err=$(as_exporter --textfile "$FILE" $args 2>&1)
	rc=$?
	[ $rc = 2 ] || fail "--textfile with $args exited $rc, want 2: $err"
done
only_file
finish
