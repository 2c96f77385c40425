#!/bin/bash
# Issue 3, test 4: what counts (SPEC 3.1). MAP_NORESERVE is honoured in modes 0 and 1 and ignored in mode 2;
# shared anonymous memory and SysV shm are charged; mprotect adding write is charged; brk and mremap growth
# are charged. Each charge is shown by a refusal past a strict limit, beside an uncharged control that the
# same limit admits.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

policy strict '"mode": "strict", "limit": "64M"'
policy heur '"mode": "heuristic", "ram": "256M", "swap": "0"'
policy always '"mode": "always"'
policy strictbig '"mode": "strict", "limit": "4G"'
"$COMMITCTL" reload >/dev/null || fail "reload"

run_in() { "$COMMITCTL" run --cgroup "$SCRATCH/$1" -- "$WORKLOAD" "${@:2}" 2>&1; }

# Strict, 64 MiB: every kind of charge is refused at 128 MiB and admitted at 16 MiB; a read-only private
# mapping charges nothing, so 128 MiB of it is admitted.
out=$(run_in strict map-ro:128M)
expect_in "$out" "OK map-ro:128M"
for op in map map-noreserve map-shared shm mprotect brk mremap; do
	out=$(run_in strict "$op:128M")
	expect_in "$out" "ENOMEM $op:128M"
	out=$(run_in strict "$op:16M")
	expect_in "$out" "OK $op:16M"
done
# mprotect charges only an area that is not accountable yet (mprotect_fixup()): 40 MiB made read-only and
# writable again after it was touched keeps its one charge, so it fits in 64 MiB. (Untouched, the kernel
# uncharges it on the way to read-only and charges it again: it fits too.)
out=$(run_in strict map:40M fill:4K reprotect)
expect_in "$out" "OK reprotect"
out=$(run_in strict map:40M reprotect)
expect_in "$out" "OK reprotect"
# The charges add up: three 16 MiB charges of different kinds fit in 64 MiB, a fourth does not.
out=$(run_in strict map-shared:16M shm:16M mprotect:16M brk:16M mremap:16M)
expect_in "$out" "OK map-shared:16M"
expect_in "$out" "OK shm:16M"
expect_in "$out" "OK mprotect:16M"
expect_in "$out" "ENOMEM brk:16M"
expect_in "$out" "ENOMEM mremap:16M"

# Heuristic (ram + swap = 256 MiB): a single 512 MiB request is refused, unless it is MAP_NORESERVE.
out=$(run_in heur map:512M map-noreserve:512M map-shared:512M)
expect_in "$out" "ENOMEM map:512M"
expect_in "$out" "OK map-noreserve:512M"
expect_in "$out" "ENOMEM map-shared:512M"

# Always admits everything; what it counts shows MAP_NORESERVE honoured there and ignored in strict: a held
# 1 GiB MAP_NORESERVE area counts in a strict cgroup, not in an always one.
mkfifo "$WORK/in"
for cg in always strictbig; do
	"$COMMITCTL" run --cgroup "$SCRATCH/$cg" -- "$WORKLOAD" map-noreserve:1G wait <"$WORK/in" >"$WORK/out.$cg" 2>&1 &
	STARTED_PIDS="${STARTED_PIDS:-} $!"
	held="${held:-} $!"
done
exec 3>"$WORK/in" # both readers hold the FIFO until it closes
wait_for '[ "$(cat "$WORK/out.always" "$WORK/out.strictbig" | grep -c "^WAITING\$")" = 2 ]'
expect_in "$(cat "$WORK/out.always")" "OK map-noreserve:1G"
expect_in "$(cat "$WORK/out.strictbig")" "OK map-noreserve:1G"
committed=()
for cg in always strictbig; do
	"$COMMITCTL" set-mode "$SCRATCH/$cg" "$(status_field "$SCRATCH/$cg" mode)" >/dev/null || fail "set-mode $cg (re-measures)"
	committed[${#committed[@]}]=$(status_field "$SCRATCH/$cg" committed_bytes)
done
[ "${committed[0]}" -lt $((64 << 20)) ] || fail "always counts ${committed[0]} bytes: MAP_NORESERVE counted"
[ "${committed[1]}" -ge $((1 << 30)) ] && [ "${committed[1]}" -lt $(((1 << 30) + (64 << 20))) ] ||
	fail "strict counts ${committed[1]} bytes: MAP_NORESERVE not counted"
exec 3>&-
for pid in $held; do wait "$pid" || fail "a holding workload exited $?"; done
finish
