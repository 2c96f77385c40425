# Shared by the shell tests of the root suite. Root tests skip (77) without root, and fail under CI=true.
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
expect_in() { case $1 in *"$2"*) ;; *) fail "expected '$2' in:"$'\n'"$1" ;; esac; }
require_root() {
	[ "$(id -u)" = 0 ] && return 0
	if [ "${CI:-}" = true ]; then echo "FAIL: needs root, and CI=true forbids skipping" >&2; exit 1; fi
	echo "SKIP: needs root" >&2
	exit 77
}
finish() { [ $failures = 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }; exit 0; }

# scripts/test runs the root suite a second time against commitd built with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-sanitize/), named by COMMITD_SANITIZED; its keeper is the one beside it.
# commitctl and the enrolled test programs stay this build's: the daemon is what is tested, and a sanitized
# program could not run in a strict budget (ASan's shadow is terabytes of MAP_NORESERVE, which strict counts).
if [ -n "${COMMITD_SANITIZED:-}" ]; then COMMITD=$COMMITD_SANITIZED; fi

# A commitd of the test's own: its socket, policy and state directories in a scratch directory, and a
# scratch cgroup below the v2 root. Everything is removed on exit, also on failure (trap).
# After start_commitd: $WORK, $POLICIES, $SCRATCH (the scratch cgroup, like /commitd-test-123), $CG_FS (its
# directory), and COMMITD_SOCKET exported for commitctl. COMMITD_ARGS, when set, adds options to commitd.
# Containers that need a cgroup of their own get it below $SCRATCH/containers (--oci-cgroup).
start_commitd() {
	trap cleanup EXIT # first: what follows can fail, and $WORK is the test's
	WORK=$(mktemp -d /tmp/commitd-test.XXXXXX)
	POLICIES=$WORK/policies
	mkdir -p "$POLICIES" "$WORK/state"
	local v2
	v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$v2" ] || { echo "FAIL: no cgroup2 mount" >&2; exit 1; }
	SCRATCH=/commitd-test-$$
	CG_FS=$v2$SCRATCH
	watch_leftovers
	export COMMITD_SOCKET=$WORK/commitd.sock
	# What AddressSanitizer (LeakSanitizer at exit included) finds in any commitd or keeper the test starts goes
	# to $WORK/asan.PID, and cleanup fails the test with it. Exported, as tests start commitd their own ways
	# too; a plain build and every other program ignore it. UBSan's reports: see cleanup.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$WORK/asan"
	launch_commitd
}

# meson ends a test past its timeout with SIGTERM to its process group and SIGKILL 0.5 s later: too soon for
# cleanup, and bash runs no EXIT trap on a signal it does not trap. So a watcher outside that group (setsid)
# waits for the test's shell to be gone, then removes what cleanup did not: the processes left in the scratch
# cgroups (the test's, as cleanup assumes too), those cgroups, and $WORK. After a cleanup it finds nothing.
watch_leftovers() {
	# What it watches goes in its environment, not its command line, where work_pids (e2e) would see $WORK.
	# shellcheck disable=SC2016 # expanded by the watcher's shell
	TEST_PID=$$ TEST_CG=$CG_FS TEST_WORK=$WORK setsid bash -c 'while kill -0 "$TEST_PID" 2>/dev/null; do sleep 0.5; done
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -d "$TEST_CG" ] || break
			find "$TEST_CG" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -KILL "$p"; done
			find "$TEST_CG" -depth -type d -exec rmdir {} + 2>/dev/null
			sleep 0.2
		done
		rm -rf --one-file-system "$TEST_WORK"' </dev/null >/dev/null 2>&1 &
}

# Starts commitd on the test's directories (again, after stop_commitd), waits for its socket.
launch_commitd() {
	"$COMMITD" --foreground --socket "$COMMITD_SOCKET" --oci-socket "$WORK/oci.sock" --policy-dir "$POLICIES" \
		--state-dir "$WORK/state" --oci-cgroup "$SCRATCH/containers" --log-level debug ${COMMITD_ARGS:-} \
		>>"$WORK/commitd.log" 2>&1 &
	COMMITD_PID=$!
	# answering, or dead (no use waiting further)
	wait_for '{ [ -S "$COMMITD_SOCKET" ] && "$COMMITCTL" status >/dev/null 2>&1; } ||
		! kill -0 "$COMMITD_PID" 2>/dev/null' && kill -0 "$COMMITD_PID" 2>/dev/null && return 0
	cat "$WORK/commitd.log" >&2
	echo "FAIL: commitd did not start" >&2
	exit 1
}

stop_commitd() {
	kill "$COMMITD_PID" && wait "$COMMITD_PID" 2>/dev/null
	COMMITD_PID=
}

# Kills what the test started (by pid), stops its commitd, removes the scratch cgroups bottom-up.
cleanup() {
	local rc=$?
	for pid in ${STARTED_PIDS:-}; do kill -KILL "$pid" 2>/dev/null; done
	for pid in ${STARTED_PIDS:-}; do wait "$pid" 2>/dev/null; done # reaped: userdel refuses a user's zombie
	if [ -n "${CG_FS:-}" ] && [ -d "$CG_FS" ]; then
		# processes still in the scratch cgroups were started by this test (commitctl run put them there)
		find "$CG_FS" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
		sleep 0.1
	fi
	# a test that stopped commitd (SIGSTOP) and failed before SIGCONT: a stopped commitd would not exit on SIGTERM
	[ -n "${COMMITD_PID:-}" ] && kill -CONT "$COMMITD_PID" 2>/dev/null
	[ -n "${COMMITD_PID:-}" ] && kill "$COMMITD_PID" 2>/dev/null && wait "$COMMITD_PID" 2>/dev/null
	# the keepers the test's commitds started, which hold their listeners across restarts (not our children:
	# waited for by polling, so that a sanitizer's exit report is written before $WORK goes)
	local keepers=
	for f in "${WORK:-/nonexistent}"/*.keeper.sock.pid; do
		[ -f "$f" ] && kill "$(cat "$f" 2>/dev/null)" 2>/dev/null && keepers="$keepers $(cat "$f")"
	done
	for pid in $keepers; do wait_for '! kill -0 "$pid" 2>/dev/null'; done
	[ -n "${CG_FS:-}" ] && [ -d "$CG_FS" ] && find "$CG_FS" -depth -type d -exec rmdir {} + 2>/dev/null
	for f in "${WORK:-/nonexistent}"/asan.*; do
		[ -f "$f" ] || continue
		echo "FAIL: AddressSanitizer report of pid ${f##*.} ($f):" >&2
		cat "$f" >&2
		failures=$((failures + 1))
	done
	# GCC's UBSan runtime beside ASan writes its reports to stderr whatever log_path says: they are in the logs
	# the tests give commitd ($WORK/*.log; its keeper shares its stderr).
	for f in "${WORK:-/nonexistent}"/*.log; do
		[ -f "$f" ] && grep -q "runtime error: " "$f" || continue
		echo "FAIL: UndefinedBehaviorSanitizer report in $f:" >&2
		grep -A 12 "runtime error: " "$f" | head -80 >&2
		failures=$((failures + 1))
	done
	# users and groups the test made (add_user, add_group), once nothing of theirs runs
	for u in ${TEST_USERS:-}; do userdel "$u" 2>/dev/null; done
	for g in ${TEST_GROUPS:-}; do groupdel "$g" 2>/dev/null; done
	if [ $rc != 0 ] || [ $failures != 0 ]; then
		echo "--- commitd log ---" >&2
		tail -50 "${WORK:-/nonexistent}/commitd.log" >&2 2>/dev/null
	fi
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	exit $((rc != 0 ? rc : failures != 0))
}

# add_group NAME, add_user NAME [useradd options]: a system user or group of the test's, removed by cleanup.
# They go on exit also when the test fails before start_commitd sets the trap (a test's own trap is kept).
add_group() {
	[ -n "$(trap -p EXIT)" ] || trap cleanup EXIT
	groupadd --system "$1" && TEST_GROUPS="${TEST_GROUPS:-} $1"
}
add_user() {
	[ -n "$(trap -p EXIT)" ] || trap cleanup EXIT
	useradd --system --no-create-home --shell /usr/sbin/nologin "${@:2}" "$1" && TEST_USERS="${TEST_USERS:-} $1"
}

# start_commitd_with_reader TAG: the read group $READERS (commitd-TAGg-PID) with one member $READER
# (commitd-TAGr-PID), a tenant $TA (commitd-TAGa-PID) outside it, and commitd started for all of them
# (--socket-mode 0666 --read-group $READERS, $WORK reachable by path). `as USER ARGS...` runs commitctl as USER.
start_commitd_with_reader() {
	READERS=commitd-$1g-$$ READER=commitd-$1r-$$ TA=commitd-$1a-$$
	add_group "$READERS" || fail "groupadd $READERS"
	add_user "$READER" -G "$READERS" || fail "useradd $READER"
	add_user "$TA" || fail "useradd $TA"
	COMMITD_ARGS="--socket-mode 0666 --read-group $READERS"
	start_commitd
	chmod o+x "$WORK" # the socket is reachable by path
}
as() { runuser -u "$1" -- env COMMITD_SOCKET="$COMMITD_SOCKET" "$COMMITCTL" "${@:2}"; }

# refuses_mutations USER CGROUP MESSAGE: every mutating verb run by USER through the test's as() (on CGROUP, a
# new cgroup, and reload) fails with PermissionDenied and MESSAGE.
refuses_mutations() {
	local verb err
	for verb in "set-mode $2 always" "set-ratio $2 80" "set-limit $2 1G" "set-limit $2 none" \
		"set-mode $SCRATCH/new strict" "reload"; do
		# shellcheck disable=SC2086
		err=$(as "$1" $verb 2>&1) && fail "$verb by $1 succeeded"
		expect_in "$err" "PermissionDenied"
		expect_in "$err" "$3"
	done
}

# policy NAME JSON-BODY-FIELDS: writes $POLICIES/NAME.json for cgroup $SCRATCH/NAME.
policy() {
	echo "{\"cgroup\": \"$SCRATCH/$1\", $2}" >"$POLICIES/$1.json"
}

# start_held NAME CMD...: CMD in the background, its input a FIFO held open on fd 9, its output in
# $WORK/NAME.out; returns once it printed WAITING (the workload's "wait"). HELD_PID is CMD's pid (a simple
# command, not a function, so $! is the command's own pid; commitctl run execs).
start_held() {
	local name=$1
	shift
	mkfifo "$WORK/$name.in"
	"$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
	HELD_PID=$!
	STARTED_PIDS="${STARTED_PIDS:-} $HELD_PID"
	exec 9>"$WORK/$name.in"
	wait_for 'grep -q WAITING "$WORK/$name.out"' || fail "$name never waited: $(cat "$WORK/$name.out")"
}

# wait_for CONDITION: up to 60 s (a busy host) for the shell CONDITION (eval'd) to hold; fails (returns 1) after.
wait_for() {
	local end=$((SECONDS + 60))
	until eval "$1"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# logged PATTERN: whether commitd's log matches PATTERN (grep), waiting up to 60 s for it: commitd logs a refusal
# from its loop thread after it answered the call, so a program that just saw ENOMEM can end before the line is
# written, and a busy host starts containers slowly.
logged() {
	local end=$((SECONDS + 60))
	until grep -q -- "$1" "$WORK/commitd.log"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}
# wait_log PATTERN: logged, or the test fails.
wait_log() { logged "$1" || { fail "never logged by commitd: $1"; return 1; }; }

# status_field CGROUP FIELD: one field of commitctl status --json for the cgroup.
status_field() {
	"$COMMITCTL" --json status "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['cgroups'][0]['$2'])"
}
