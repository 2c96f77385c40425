#!/bin/bash
# The sample alert rules (contrib/prometheus/commitd.rules.yml) pass `promtool check rules` (Debian's
# prometheus package), and `promtool test rules` (tests/data/commitd.rules.test.yml) sees each alert fire where
# it should, with its labels and text, and stay quiet where it should not. Without promtool: skip (77), a
# failure under CI=true.
set -u
cd "${MESON_SOURCE_ROOT:-$(dirname "$0")/../..}" || exit 1
if ! command -v promtool >/dev/null; then
	[ "${CI:-}" = true ] && { echo "FAIL: promtool missing (scripts/deps installs prometheus), and CI=true forbids skipping" >&2; exit 1; }
	echo "SKIP: promtool missing: scripts/deps installs Debian's prometheus" >&2
	exit 77
fi
failures=0
out=$(promtool check rules contrib/prometheus/commitd.rules.yml 2>&1) || { echo "FAIL: promtool check rules: $out" >&2; failures=1; }
case $out in *"SUCCESS: 4 rules found"*) ;; *) echo "FAIL: want 4 rules checked: $out" >&2; failures=1 ;; esac
out=$(cd tests/data && promtool test rules commitd.rules.test.yml 2>&1) || { echo "FAIL: promtool test rules: $out" >&2; failures=1; }

# The checks can fail: promtool rejects an expression that does not parse, and a rule test whose alert does
# not fire.
bad=$(mktemp -d /tmp/commitd-rules.XXXXXX)
trap 'rm -rf "$bad"' EXIT
sed 's/> 0.9$/> > 0.9/' contrib/prometheus/commitd.rules.yml >"$bad/bad.rules.yml"
promtool check rules "$bad/bad.rules.yml" >/dev/null 2>&1 && { echo "FAIL: promtool accepted a broken expression" >&2; failures=1; }
sed 's/ > 0.9$/ > 0.99/' contrib/prometheus/commitd.rules.yml >"$bad/commitd.rules.yml"
sed "s|../../contrib/prometheus/commitd.rules.yml|$bad/commitd.rules.yml|" tests/data/commitd.rules.test.yml >"$bad/test.yml"
promtool test rules "$bad/test.yml" >/dev/null 2>&1 && { echo "FAIL: promtool test rules passed a rule raised to 99%" >&2; failures=1; }
exit $failures
