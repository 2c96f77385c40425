#!/bin/bash
# Runs one libFuzzer target for COMMITD_FUZZ_SECONDS (default 20) from its seed corpus, as a meson test.
# New inputs go to corpus-NAME in the build directory, never into the tree; a crash is saved as
# crash-NAME-* there and fails the test. libFuzzer exits 77 on a crash by default, which meson would count
# as a skip: every failure exits 1 here.
set -u
target=$1 seeds=$2
name=$(basename "$target")
mkdir -p "corpus-$name" || exit 1
exec "$target" -max_total_time="${COMMITD_FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=1024 \
	-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 -artifact_prefix="$PWD/$name-" \
	"corpus-$name" "$seeds"
