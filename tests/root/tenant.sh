# shellcheck shell=bash
# Shared by the enforce-hostile-*.sh tests (issue 9): a commitd of the test's own (lib.sh), a throwaway
# non-root user enrolled by root in a strict 64 MiB budget, and what the kernel says that user holds.
# After start_tenant: $USER_T, $TENANT_UID, $LIMIT (the budget of $SCRATCH/jail, bytes), $PAGE, the array
# tenant=(commitctl run ... setpriv ...) to put before a program, and the helpers below.
. "$(dirname "$0")/lib.sh"
require_root

CHARGED=$(dirname "$0")/charged.py
PAGE=$(getconf PAGESIZE)
SHM_PREFIX=/dev/shm/commitd-hostile-$$

# Kills what the test started, then removes what the tenant made that outlives its processes (SysV segments,
# tmpfs files) and the user, then lib.sh's cleanup (commitd, cgroups, $WORK). The user's processes are all in
# the scratch cgroups (commitctl run put them there; children moved themselves within it): gone first, or
# userdel refuses.
# shellcheck disable=SC2317 # called by the trap
tenant_cleanup() {
	local rc=$?
	for pid in ${STARTED_PIDS:-}; do kill -KILL "$pid" 2>/dev/null; done
	if [ -n "${CG_FS:-}" ] && [ -d "$CG_FS" ]; then
		wait_for 'pids=$(find "$CG_FS" -name cgroup.procs -exec cat {} + 2>/dev/null)
			[ -z "$pids" ] || { for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done; false; }'
	fi
	remove_tenant_segments
	rm -f "$SHM_PREFIX"*
	if [ -n "${USER_T:-}" ]; then
		wait_for 'userdel "$USER_T" 2>/dev/null || ! getent passwd "$USER_T" >/dev/null'
		getent passwd "$USER_T" >/dev/null && echo "FAIL: cannot remove user $USER_T" >&2
	fi
	(exit "$rc")
	cleanup
}

# The tenant's SysV segments: created by its uid, possibly by processes long gone.
tenant_segments() {
	[ -n "${TENANT_UID:-}" ] && awk -v u="$TENANT_UID" 'NR > 1 && $8 == u { print $2 }' /proc/sysvipc/shm
}

remove_tenant_segments() {
	local id
	for id in $(tenant_segments); do ipcrm -m "$id" 2>/dev/null; done
}

# start_tenant: commitd (COMMITD_ARGS apply), the user, the strict 64 MiB budget $SCRATCH/jail, and any more
# policies the test's function policies_extra writes, if it defines one.
start_tenant() {
	start_commitd
	trap tenant_cleanup EXIT
	USER_T=commitd-hst-$$
	useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_T" || { fail "useradd"; exit 1; }
	TENANT_UID=$(id -u "$USER_T")
	policy jail '"mode": "strict", "limit": "64M", "swap": "0"'
	if declare -F policies_extra >/dev/null; then policies_extra; fi
	"$COMMITCTL" reload >/dev/null || fail "reload"
	LIMIT=$(status_field "$SCRATCH/jail" commit_limit_bytes)
	[ "$LIMIT" = $((64 << 20)) ] || { fail "policy not loaded"; exit 1; }
	tenant=("$COMMITCTL" run --cgroup "$SCRATCH/jail" -- setpriv --reuid="$USER_T" --regid=nogroup --clear-groups)
}

as_tenant() { "${tenant[@]}" "$@"; }

# go NAME [N [SECONDS]]: lets the held program run to its next wait (its Nth WAITING, default 2) or its end,
# waiting at most SECONDS of clock (default 60, as wait_for); prints its output so far.
go() {
	local end=$((SECONDS + ${3:-60}))
	echo >&9
	until [ "$(grep -c WAITING "$WORK/$1.out")" -ge "${2:-2}" ] || ! kill -0 "$HELD_PID" 2>/dev/null; do
		[ $SECONDS -lt $end ] || break
		sleep 0.05
	done
	cat "$WORK/$1.out"
}

# release: lets the held program run to its end and waits for it.
release() {
	echo >&9
	exec 9>&-
	wait "$HELD_PID"
}

# charged [--tree] [--sysv-uid UID] PID...: bytes the kernel charges for what the processes hold (charged.py).
charged() { python3 "$CHARGED" -v "$@"; }

# within_budget WHAT BYTES: the kernel's count may pass the budget by one page at most (SPEC 7).
within_budget() {
	[ "$2" -le $((LIMIT + PAGE)) ] && return 0
	fail "$1: the kernel charges $2 bytes ($(($2 >> 20)) MiB) for what the tenant holds, past the budget of $LIMIT ($((LIMIT >> 20)) MiB)"
}

# field KEY TEXT: the number after "KEY=" in TEXT (first match), e.g. field mapped "$(cat out)".
field() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$2" | head -1; }
