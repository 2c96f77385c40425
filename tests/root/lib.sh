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
