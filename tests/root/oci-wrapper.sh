#!/bin/bash
# OCI runtime wrapper (SPEC 4): `create` and `run` get commitd's seccomp rules and listenerPath written into
# the bundle, then the real runtime runs with the arguments the wrapper was given; every other command
# passes through untouched; a bundle it cannot read is left as it was, with exit 1 and the reason. The real
# runtime is a stub recording its argv and the config.json it sees (runc/crun themselves: tests/e2e).
# Needs neither root nor a daemon.
set -u
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/commitd-oci-wrapper.XXXXXX)
trap 'rm -rf "$T"' EXIT
B=$T/bundle
mkdir -p "$B/rootfs"
cat >"$T/runtime" <<'EOF'
#!/bin/bash
# The stub runtime: argv one per line, the bundle's config.json as it is now, then the exit status asked for.
printf '%s\n' "$0" "$@" >"$STUB_OUT/argv"
cp "$STUB_BUNDLE/config.json" "$STUB_OUT/seen.json" 2>/dev/null
exit "${STUB_EXIT:-0}"
EOF
chmod +x "$T/runtime"
export COMMITD_OCI_RUNTIME=$T/runtime COMMITD_OCI_SOCKET=$T/oci.sock STUB_OUT=$T STUB_BUNDLE=$B

config() {
	cat >"$B/config.json" <<'EOF'
{"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"},
 "annotations": {"io.commitd.policy": "redis"},
 "linux": {"namespaces": [{"type": "pid"}],
  "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
   "syscalls": [{"names": ["read", "write", "mmap", "brk", "exit_group"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["fork"], "action": "SCMP_ACT_ERRNO"}]}}}
EOF
	chmod 640 "$B/config.json"
	cp "$B/config.json" "$T/orig.json"
	rm -f "$T/argv" "$T/seen.json"
}

# wrap ARGS...: runs the wrapper, leaves $out (stderr) and $rc.
wrap() {
	out=$("$OCI_WRAPPER" "$@" 2>&1 >/dev/null)
	rc=$?
}

# The argv the stub got, one per line, must be the runtime and then exactly ARGS.
expect_argv() {
	local want
	want=$(printf '%s\n' "$COMMITD_OCI_RUNTIME" "$@")
	[ "$(cat "$T/argv" 2>/dev/null)" = "$want" ] || fail "runtime argv: want"$'\n'"$want"$'\n'"got"$'\n'"$(cat "$T/argv" 2>/dev/null)"
}

# The config the runtime saw is enrolled: commitd's socket, the policy as metadata, notify on mmap/brk only
# where the profile allowed them, fork still refused, the rest of the config as it was.
expect_enrolled() {
	python3 - "$T/seen.json" "$T/orig.json" "$1" <<'EOF' || fail "$2: the runtime did not see an enrolled config"
import json, sys
seen, orig, sock = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
s = seen["linux"]["seccomp"]
assert s["listenerPath"] == sock, s["listenerPath"]
assert s["listenerMetadata"] == "redis", s["listenerMetadata"]
assert s["defaultAction"] == "SCMP_ACT_ERRNO"
notify = sorted({n for e in s["syscalls"] if e["action"] == "SCMP_ACT_NOTIFY" for n in e["names"]})
assert notify == ["brk", "mmap"], notify
assert any(e["names"] == ["fork"] and e["action"] == "SCMP_ACT_ERRNO" for e in s["syscalls"])
assert any(e["names"] == ["clone3"] and e.get("errnoRet") == 38 for e in s["syscalls"]) is False  # default refuses it
for k in orig:
    if k != "linux":
        assert seen[k] == orig[k], k
assert seen["linux"]["namespaces"] == orig["linux"]["namespaces"]
EOF
}

# 1. create with global options before the command and --bundle DIR after it.
config
wrap --root "$T/state" --log "$T/log" --log-format json create --bundle "$B" --pid-file "$T/pid" ctr1
[ $rc = 0 ] || fail "create --bundle: exit $rc: $out"
expect_argv --root "$T/state" --log "$T/log" --log-format json create --bundle "$B" --pid-file "$T/pid" ctr1
expect_enrolled "$T/oci.sock" "create --bundle"
cmp -s "$T/seen.json" "$B/config.json" || fail "the runtime saw another config than the one on disk"
[ "$(stat -c %a "$B/config.json")" = 640 ] || fail "config.json mode $(stat -c %a "$B/config.json"), want 640"
[ -z "$(find "$B" -maxdepth 1 -name '.config.json.commitd-*')" ] || fail "a temporary file was left in the bundle"

# 2. Idempotent: a second create (a retry) rewrites the bundle to the same bytes.
cp "$B/config.json" "$T/once.json"
wrap create --bundle "$B" ctr1
[ $rc = 0 ] || fail "second create: exit $rc: $out"
cmp -s "$T/once.json" "$B/config.json" || fail "a second create changed the config again"

# 3. run with -b DIR and with --bundle=DIR; the runtime's exit status is the wrapper's (it execs).
for form in "-b $B" "--bundle=$B"; do
	config
	# shellcheck disable=SC2086 # the form is two words or one on purpose
	STUB_EXIT=3 wrap run $form --detach ctr2
	[ $rc = 3 ] || fail "run $form: exit $rc, want the runtime's 3: $out"
	# shellcheck disable=SC2086
	expect_argv run $form --detach ctr2
	expect_enrolled "$T/oci.sock" "run $form"
done

# 4. No --bundle: the current directory, as runc and crun default; the socket's default when unset.
config
(cd "$B" && unset COMMITD_OCI_SOCKET && "$OCI_WRAPPER" create ctr3) || fail "create in the bundle directory"
expect_argv create ctr3
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["linux"]["seccomp"]["listenerPath"]; assert p.startswith("/") and p.endswith(".sock"), p' \
	"$T/seen.json" || fail "default agent socket not used"

# 5. Other commands pass through untouched, also with a bundle that would not parse.
for cmd in "state ctr1" "kill ctr1 KILL" "delete --force ctr1" "--root $T/state ps ctr1" "--version"; do
	config
	# shellcheck disable=SC2086
	STUB_EXIT=7 wrap $cmd
	[ $rc = 7 ] || fail "$cmd: exit $rc, want the runtime's 7: $out"
	# shellcheck disable=SC2086
	expect_argv $cmd
	cmp -s "$T/orig.json" "$B/config.json" || fail "$cmd changed config.json"
done
echo '{ not json' >"$B/config.json"
STUB_EXIT=0 wrap delete ctr1
[ $rc = 0 ] || fail "delete with an unparsable bundle: exit $rc: $out"
expect_argv delete ctr1

# 6. A bundle that cannot be enrolled: untouched, exit 1, the reason, and the runtime never runs.
bad() { # CONFIG-TEXT EXPECTED-MESSAGE
	printf '%s\n' "$1" >"$B/config.json"
	cp "$B/config.json" "$T/orig.json"
	rm -f "$T/argv"
	wrap create --bundle "$B" ctr4
	[ $rc = 1 ] || fail "bad config '$1': exit $rc, want 1"
	[ "$out" = "$2" ] || fail "bad config '$1': message"$'\n'"$out"$'\n'"want"$'\n'"$2"
	cmp -s "$T/orig.json" "$B/config.json" || fail "bad config '$1' was changed"
	[ ! -e "$T/argv" ] || fail "bad config '$1': the runtime ran"
}
bad '{"linux": {"seccomp": []}}' "commitd-oci-runtime: $B/config.json: linux.seccomp: not an object"
bad '{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}}}' \
	"commitd-oci-runtime: $B/config.json: linux.seccomp.syscalls: not an array"
bad '{"linux": ' "commitd-oci-runtime: $B/config.json: line 2, column 0: unexpected token near end of file"
bad '{"a": 1, "a": 2}' "commitd-oci-runtime: $B/config.json: line 1, column 12: duplicate object key near '\"a\"'"
bad '["config"]' "commitd-oci-runtime: $B/config.json: the top level is not an object"
rm -f "$B/config.json" "$T/argv"
wrap run --bundle "$B" ctr5
[ $rc = 1 ] && [ "$out" = "commitd-oci-runtime: $B/config.json: No such file or directory" ] ||
	fail "missing config.json: exit $rc: $out"

# 7. A runtime that is not there: the wrapper says so.
config
COMMITD_OCI_RUNTIME=$T/no-such-runtime wrap state ctr1
[ $rc = 127 ] || fail "missing runtime: exit $rc, want 127"
expect_in "$out" "commitd-oci-runtime: cannot run $T/no-such-runtime: No such file or directory"

finish
