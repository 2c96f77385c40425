#!/bin/bash
# OCI runtime wrapper (SPEC 4, docs/commitd-oci-runtime.8): `create` and `run` get commitd's seccomp rules and
# listenerPath written into the bundle once commitd's agent socket said the container's policy is loaded, then
# the real runtime runs with the arguments the wrapper was given less its own --commitd-* options; every other
# command passes through untouched; a bundle it cannot read, a policy commitd does not know, no policy at all
# or commitd down: nothing is started, exit 1 and the reason. Its settings come from options, the environment
# and its config file, in that order. The real runtime is a stub recording its argv and the config.json it
# sees (runc/crun themselves: tests/e2e); commitd is a real one of the test's.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd
echo "{\"name\": \"redis\", \"cgroup\": \"$SCRATCH/template-redis\", \"mode\": \"always\"}" >"$POLICIES/redis.json"
"$COMMITCTL" reload >/dev/null || fail "reload"

T=$WORK/t
mkdir -p "$T"
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
export COMMITD_OCI_RUNTIME=$T/runtime COMMITD_OCI_SOCKET=$WORK/oci.sock STUB_OUT=$T STUB_BUNDLE=$B

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
expect_enrolled "$WORK/oci.sock" "create --bundle"
cmp -s "$T/seen.json" "$B/config.json" || fail "the runtime saw another config than the one on disk"
[ "$(stat -c %a "$B/config.json")" = 640 ] || fail "config.json mode $(stat -c %a "$B/config.json"), want 640"
[ -z "$(find "$B" -maxdepth 1 -name '.config.json.??????')" ] || fail "a temporary file was left in the bundle"

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
	expect_enrolled "$WORK/oci.sock" "run $form"
done

# 4. No --bundle: the current directory, as runc and crun default.
config
(cd "$B" && "$OCI_WRAPPER" create ctr3) || fail "create in the bundle directory"
expect_argv create ctr3
expect_enrolled "$WORK/oci.sock" "create in the bundle directory"

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
	wrap --commitd-policy redis create --bundle "$B" ctr4
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
expect_in "$out" "commitd-oci-runtime: cannot run $T/no-such-runtime (the real runtime, from the environment): No such file or directory"

# 8. Fails before start: commitd down, a policy it does not know, no policy anywhere. The runtime never runs,
# the bundle stays as it was, and the message names commitd, its socket and the policy.
not_started() { # WHAT EXPECTED-MESSAGE WRAPPER-ARGS...
	local what=$1 want=$2
	shift 2
	rm -f "$T/argv"
	cp "$B/config.json" "$T/before.json"
	wrap "$@"
	[ $rc = 1 ] || fail "$what: exit $rc, want 1: $out"
	[ "$out" = "$want" ] || fail "$what: message"$'\n'"$out"$'\n'"want"$'\n'"$want"
	[ ! -e "$T/argv" ] || fail "$what: the runtime ran"
	cmp -s "$T/before.json" "$B/config.json" || fail "$what: config.json was changed"
}
config
not_started "commitd down" "commitd-oci-runtime: commitd does not answer at $T/down.sock (connect: No such file or directory), so the container (policy \"redis\") is not started: start commitd, or name its agent socket (--commitd-socket, \"socket\" in /etc/commitd/oci-runtime.json)" \
	--commitd-socket "$T/down.sock" create --bundle "$B" ctr6
sed -i 's/"io.commitd.policy": "redis"/"io.commitd.policy": "nosuch"/' "$B/config.json"
not_started "unknown policy" "commitd-oci-runtime: policy \"nosuch\" is not known to commitd at $WORK/oci.sock (commitctl policy list shows the loaded ones), so the container is not started" \
	run --bundle "$B" ctr6
sed -i 's/"annotations": {"io.commitd.policy": "nosuch"},//' "$B/config.json"
not_started "no policy" "commitd-oci-runtime: the container names no policy and commitd at $WORK/oci.sock has no --oci-default-policy, so it is not started: set the annotation io.commitd.policy=NAME, --commitd-policy NAME (podman: --runtime-flag commitd-policy=NAME), or \"default_policy\" or runtimes.\"commitd-oci-runtime\".policy in /etc/commitd/oci-runtime.json" \
	create --bundle "$B" ctr6

# 9. Options instead of the environment, among the runtime's global options, in both spellings (podman's
# --runtime-flag commitd-policy=redis gives --commitd-policy=redis after conmon's --systemd-cgroup): they
# select socket, runtime and policy, and the runtime never sees them.
expect_metadata() { # WHAT: the config the runtime saw names commitd's socket and the policy redis
	python3 - "$T/seen.json" "$WORK/oci.sock" <<'PY' || fail "$1: the runtime did not see the socket and policy redis"
import json, sys
s = json.load(open(sys.argv[1]))["linux"]["seccomp"]
assert s["listenerPath"] == sys.argv[2] and s["listenerMetadata"] == "redis", s
PY
}
config
sed -i 's/"annotations": {"io.commitd.policy": "redis"},//' "$B/config.json"
(unset COMMITD_OCI_RUNTIME COMMITD_OCI_SOCKET
	"$OCI_WRAPPER" --commitd-socket "$WORK/oci.sock" --systemd-cgroup --commitd-runtime="$T/runtime" \
		--commitd-policy=redis create --bundle "$B" ctr7 2>"$T/err") || fail "create with options: $(cat "$T/err")"
expect_argv --systemd-cgroup create --bundle "$B" ctr7
expect_metadata "options"
# The annotation beats the option.
config
sed -i 's/"io.commitd.policy": "redis"/"io.commitd.policy": "nosuch"/' "$B/config.json"
not_started "annotation over option" "commitd-oci-runtime: policy \"nosuch\" is not known to commitd at $WORK/oci.sock (commitctl policy list shows the loaded ones), so the container is not started" \
	--commitd-policy redis create --bundle "$B" ctr7
wrap --commitd-polcy=redis create --bundle "$B" ctr7
[ $rc = 2 ] && [ "$out" = "commitd-oci-runtime: unknown option --commitd-polcy (known: --commitd-config, --commitd-socket, --commitd-runtime, --commitd-policy, --commitd-meminfo, --commitd-help) (see commitd-oci-runtime --help)" ] ||
	fail "a misspelt option: exit $rc: $out"

# 10. The config file, and a runtime name selecting policy and runtime with no annotation and no option
# (containerd's BinaryName pointing at a symlink commitd-redis -> commitd-oci-runtime).
printf '{"socket": "%s", "runtime": "%s",\n "runtimes": {"commitd-redis": {"policy": "redis", "runtime": "%s"}}}\n' \
	"$WORK/oci.sock" "$T/no-such-runtime" "$T/runtime" >"$T/oci-runtime.json"
ln -s "$OCI_WRAPPER" "$T/commitd-redis"
config
sed -i 's/"annotations": {"io.commitd.policy": "redis"},//' "$B/config.json"
(unset COMMITD_OCI_RUNTIME COMMITD_OCI_SOCKET
	"$T/commitd-redis" --commitd-config "$T/oci-runtime.json" create --bundle "$B" ctr8 2>"$T/err") ||
	fail "create through the runtime name: $(cat "$T/err")"
expect_argv create --bundle "$B" ctr8
expect_metadata "the runtime name"
# Called by another name, the top level's runtime is used (here one that is not there).
(unset COMMITD_OCI_RUNTIME COMMITD_OCI_SOCKET
	"$OCI_WRAPPER" --commitd-config="$T/oci-runtime.json" state ctr8 2>"$T/err")
rc=$?
[ $rc = 127 ] && grep -q "cannot run $T/no-such-runtime (the real runtime, from the config file)" "$T/err" ||
	fail "the config's runtime: exit $rc: $(cat "$T/err")"
wrap --commitd-config "$T/missing.json" state ctr8
[ $rc = 1 ] && [ "$out" = "commitd-oci-runtime: $T/missing.json: No such file or directory" ] ||
	fail "a config named but missing: exit $rc: $out"
echo '{"runtimes": {"commitd-redis": {"polcy": "redis"}}}' >"$T/typo.json"
wrap --commitd-config "$T/typo.json" state ctr8
[ $rc = 1 ] && [ "$out" = "commitd-oci-runtime: $T/typo.json: commitd-redis: unknown key \"polcy\" (known keys: policy, runtime)" ] ||
	fail "an unknown key in the config: exit $rc: $out"

# 11. Its own help and version.
rm -f "$T/argv"
help=$("$OCI_WRAPPER" --help) || fail "--help exited $?"
expect_in "$help" "Usage: commitd-oci-runtime [--commitd-OPTION VALUE...]"
expect_in "$help" "--commitd-policy NAME"
[ ! -e "$T/argv" ] || fail "--help ran the runtime"
version=$("$OCI_WRAPPER" --version) || fail "--version exited $?"
[[ "$(head -1 <<<"$version")" =~ ^commitd-oci-runtime\ version\ [0-9.]+\ \(commitd\ agent\ socket\ $WORK/oci.sock\)$ ]] ||
	fail "--version's first line: $version"
expect_argv --version

# 12. No policy named anywhere, and commitd has --oci-default-policy: the container starts under it (the
# metadata stays empty: commitd applies its default); a default commitd does not know stops it.
stop_commitd
COMMITD_ARGS="--oci-default-policy redis" launch_commitd
config
sed -i 's/"annotations": {"io.commitd.policy": "redis"},//' "$B/config.json"
wrap create --bundle "$B" ctr9
[ $rc = 0 ] || fail "create under commitd's default policy: exit $rc: $out"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["linux"]["seccomp"]["listenerMetadata"] == ""' \
	"$T/seen.json" || fail "the default policy: the metadata is not empty"
stop_commitd
COMMITD_ARGS="--oci-default-policy nosuch" launch_commitd
config
sed -i 's/"annotations": {"io.commitd.policy": "redis"},//' "$B/config.json"
not_started "unknown default" "commitd-oci-runtime: policy \"nosuch\" (commitd's --oci-default-policy) is not known to commitd at $WORK/oci.sock (commitctl policy list shows the loaded ones), so the container is not started" \
	create --bundle "$B" ctr9

finish
