#!/bin/bash
# The whole tree is formatted with the one .clang-format.
cd "${MESON_SOURCE_ROOT:-$(dirname "$0")/..}" || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find lib cli daemon tests -name '*.[ch]')
[ -n "$files" ] || { echo "no C files found" >&2; exit 1; }
clang-format --dry-run -Werror $files
