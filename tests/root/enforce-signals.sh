#!/bin/bash
# A caught signal while commitd judges a call. The kernel's strict mode never answers mmap or brk with EINTR
# (and glibc's brk() takes a -EINTR for the new break: the process crashes at its next sbrk). commitctl run
# loads the filter with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once commitd has received a call, only a fatal
# signal ends the wait for its answer. Left: a signal that comes before commitd has received the call
# (microseconds) still interrupts it; with SA_RESTART the call then restarts (docs/design.md).
# Each refusal here rests on an exact measure of 12,000 areas read from smaps (tens of milliseconds), during
# which a 1 ms timer fires many times: without the flag every call is interrupted (40 of 40, checked), and with
# SA_RESTART each restart is judged again and interrupted again, forever; with it, only the few caught before
# commitd's receive (3 of 40 here; a busy host widens that window, hence the bound of half).
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

policy tight '"mode": "strict", "limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload"

field() { sed -n "s/^SIGCALL .*$1=\([0-9]*\).*/\1/p" <<<"$2"; }

# Without SA_RESTART: at most half interrupted (the window before commitd's receive), the rest refused.
out=$("$COMMITCTL" run --cgroup "$SCRATCH/tight" -- "$SIGCALL" 12000 40) || fail "sigcall exited $?: $out"
calls=$(field calls "$out") enomem=$(field enomem "$out") eintr=$(field eintr "$out") other=$(field other "$out")
signals=$(field signals "$out")
echo "without SA_RESTART: $out"
[ "${calls:-0}" = 40 ] || fail "sigcall did not make its calls: $out"
[ "${other:-1}" = 0 ] || fail "answers other than ENOMEM and EINTR: $out"
[ "${signals:-0}" -ge 40 ] || fail "the timer fired only ${signals:-0} times in 40 judged calls: not tested: $out"
[ "${eintr:-40}" -le 20 ] || fail "$eintr of 40 judged calls interrupted by a signal (EINTR): $out"
[ $((${enomem:-0} + ${eintr:-0})) = 40 ] || fail "not every call refused or interrupted: $out"

# With SA_RESTART every call is refused, as the kernel's own would be (an interrupted one restarts).
out=$("$COMMITCTL" run --cgroup "$SCRATCH/tight" -- "$SIGCALL" 12000 40 restart) || fail "sigcall exited $?: $out"
echo "with SA_RESTART: $out"
[ "$(field enomem "$out")" = 40 ] || fail "with SA_RESTART not every call was refused: $out"
# Each refused brk answered the break itself, as the kernel does, not commitd's 0 for a break it cannot name.
[ "$(field zero "$out")" = 0 ] || fail "refused brk answered 0, not the break: $out"
logged "refused cgroup=$SCRATCH/tight .* call=brk" || fail "no brk refusal logged"
finish
