#!/bin/bash
# commitctl's daemon verbs with no commitd: each says it is not running and names the socket (exit 1); usage
# errors are caught before any connection (exit 2); `policy check` works without the daemon.
set -u
. "$(dirname "$0")/lib.sh"
require_root

TMP=$(mktemp -d /tmp/commitctl-nodaemon.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export COMMITD_SOCKET=$TMP/commitd.sock
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# expect RC ARGS...: runs commitctl, checks the exit code, leaves stderr in $err and stdout in $out.
expect() {
	local want=$1
	shift
	out=$("$COMMITCTL" "$@" 2>"$TMP/err"); rc=$?
	err=$(cat "$TMP/err")
	[ $rc = "$want" ] || fail "commitctl $* exited $rc, want $want (stderr: $err)"
}

for verb in "status" "status tenants/a" "set-mode tenants/a strict" "set-ratio /tenants/a 80" \
	"set-limit tenants/a 4G" "set-limit tenants/a none" "policy list" "policy show postgres" "reload" \
	"events" "events --follow" "--json status"; do
	# shellcheck disable=SC2086 # the verb's words split on purpose
	expect 1 $verb
	expect_in "$err" "commitd is not running (no socket at $COMMITD_SOCKET)"
	expect_in "$err" "commitd --foreground"
done
# --socket wins over the environment, and is the path named.
expect 1 --socket "$TMP/other.sock" status
expect_in "$err" "no socket at $TMP/other.sock"

# Usage errors: exit 2 with a line that says what to give, before any connection (a daemon that is not
# there would otherwise give exit 1).
expect 2 set-mode
expect_in "$err" "commitctl set-mode: give CGROUP and MODE"
expect 2 set-mode tenants/a strcit
expect_in "$err" "'strcit' is not a valid mode"
expect_in "$err" "heuristic|always|strict"
expect 2 set-ratio tenants/a -5
expect_in "$err" "'-5' is not a valid ratio"
expect_in "$err" "0 to 10000"
expect 2 set-ratio tenants/a 10001
expect_in "$err" "'10001' is not a valid ratio"
expect 2 set-limit tenants/a 4X
expect_in "$err" "'4X' is not a valid limit"
expect_in "$err" "'none' to clear"
expect 2 set-limit tenants/a
expect_in "$err" "give CGROUP and SIZE"
expect 2 status ../etc
expect_in "$err" "'../etc' is not a cgroup path"
expect 2 policy frobnicate
expect_in "$err" "unknown subcommand 'frobnicate'"
expect 2 policy check
expect 2 events extra
expect_in "$err" "unexpected argument 'extra'"
# Help is not an error.
expect 0 set-mode --help
expect_in "$out" "Usage: commitctl set-mode"

# policy check: the shipped policies pass, with no daemon.
files=()
for f in "$SRC"/policies/*.json; do [ "$(basename "$f")" = schema.json ] || files+=("$f"); done
[ ${#files[@]} -gt 0 ] || fail "no example policies in $SRC/policies"
expect 0 policy check "${files[@]}"
expect_in "$out" "$SRC/policies/postgres.json: ok (policy postgres, cgroup /system.slice/postgresql.service, mode strict"
expect_in "$out" "$SRC/policies/tenants-b.json: ok"
expect_in "$out" "audit"

# A bad file among good ones: its FILE:LINE:COLUMN error, the good one still ok, exit 1.
printf '{\n  "cgroup": "/tenants/x",\n  "mode": "strcit"\n}\n' >"$TMP/bad.json"
expect 1 policy check "$SRC/policies/redis.json" "$TMP/bad.json"
expect_in "$out" "$SRC/policies/redis.json: ok"
expect_in "$err" "$TMP/bad.json:3:11: \"mode\" must be"
printf '{"cgroup": "/tenants/x", "colour": "blue"}\n' >"$TMP/unknown.json"
expect 1 policy check "$TMP/unknown.json"
expect_in "$err" "$TMP/unknown.json:1:"
expect_in "$err" "colour"
expect 1 policy check "$TMP/missing.json"
expect_in "$err" "$TMP/missing.json: No such file or directory"
expect 1 --json policy check "$TMP/bad.json" "$SRC/policies/redis.json"
got=$(python3 -c 'import json,sys; d=json.load(sys.stdin)["files"]; print(d[0]["ok"], d[0]["error"].split(": ")[0], d[1]["ok"], d[1]["policy"]["mode"])' <<<"$out")
[ "$got" = "False $TMP/bad.json:3:11 True always" ] || fail "policy check --json: got '$got'"
finish
