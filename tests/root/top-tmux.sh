#!/bin/bash
# Issue 12: commitctl top on a terminal, driven in tmux (a server of the test's own, a fixed window size) and read
# off the screen: the refusing budget is the first row, sort keys reorder, a narrower and shorter window after
# SIGWINCH cuts rows instead of wrapping them, q and ^C quit, and either way the terminal is as before (stty
# settings, main screen, cursor shown).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/top-lib.sh"
require_root
command -v tmux >/dev/null || { fail "tmux missing: scripts/deps installs it"; finish; }
start_commitd
TMUX_SOCKET=$WORK/tmux.sock
tm() { tmux -S "$TMUX_SOCKET" "$@"; }
# The tmux server (and the shell and top in it) go before lib.sh's cleanup removes $WORK.
# shellcheck disable=SC2317 # called by the trap
top_cleanup() {
	local rc=$?
	tm kill-server 2>/dev/null
	(exit "$rc")
	cleanup
}
trap top_cleanup EXIT
top_budgets

# The pane: top twice, each framed by the terminal's settings before and after and its exit status; the second
# once the test has read the screen the first left.
cat >"$WORK/pane.sh" <<PANE
for run in 1 2; do
	while [ ! -e "$WORK/go.\$run" ]; do sleep 0.1; done
	stty -g >"$WORK/stty-before.\$run"
	COMMITD_SOCKET="$COMMITD_SOCKET" "$COMMITCTL" top --delay 2
	echo \$? >"$WORK/top-rc.\$run"
	stty -g >"$WORK/stty-after.\$run"
	echo "TOP-DONE \$run"
done
exec sleep 600
PANE
touch "$WORK/go.1"
tm -f /dev/null new-session -d -s top -x 200 -y 30 "bash --norc --noprofile $WORK/pane.sh" || fail "tmux new-session"

screen() { tm capture-pane -p -t top; }
# row N: the Nth budget row (the table starts at line 5: host, status, error, column header).
row() { screen | sed -n "$((4 + $1))p"; }
first_is() { case $(row 1) in "$1 "*) return 0 ;; *) return 1 ;; esac; }
dump() { echo "--- screen ---" >&2; screen >&2; }

# By use (the default): hot, 40 MiB of 64, above calm, 4 MiB of 1 GiB; once two polls made a rate, hot's row
# has one and its last refusal's reason.
wait_for 'first_is "$SCRATCH/hot" && row 1 | grep -q "(workload) mmap 1.0Gi: committed "' ||
	{ fail "hot is not the first row with its last refusal"; dump; }
case $(row 2) in "$SCRATCH/calm "*) ;; *) fail "calm is not the second row: $(row 2)" ;; esac
expect_in "$(screen | sed -n 2p)" "2 budgets, by use"
expect_in "$(screen | sed -n 4p)" "CGROUP"

# n: by name, calm first; u: by use, hot first again; n, then r: by refusals per second, hot first again (its rate
# is above calm's 0.0).
tm send-keys -t top n
wait_for 'first_is "$SCRATCH/calm"' || { fail "n did not sort by name"; dump; }
expect_in "$(screen | sed -n 2p)" "by name"
tm send-keys -t top u
wait_for 'first_is "$SCRATCH/hot"' || { fail "u did not sort by use"; dump; }
expect_in "$(screen | sed -n 2p)" "by use"
tm send-keys -t top n
wait_for 'first_is "$SCRATCH/calm"' || { fail "n did not sort by name"; dump; }
tm send-keys -t top r
wait_for 'first_is "$SCRATCH/hot"' || { fail "r did not sort by refusals per second"; dump; }
expect_in "$(screen | sed -n 2p)" "by refusals"

# A window 70 columns wide and 5 lines high (SIGWINCH): every line cut to the width (the status line is still
# line 2, not wrapped onto), one budget row, and the host line still on top (nothing scrolled). Made larger
# again, both rows are back.
tm resize-window -t top -x 70 -y 5 || fail "tmux resize-window"
wait_for '[ "$(screen | sed -n 5p | cut -c1-3)" = "..." ]' || { fail "the CGROUP column was not cut at 70 columns"; dump; }
expect_in "$(screen | sed -n 1p)" "host: CommitLimit"
expect_in "$(screen | sed -n 2p)" "2 budgets"
expect_in "$(screen | sed -n 5p)" "/hot "
[ "$(screen | grep -c -e "/hot " -e "/calm ")" = 1 ] || { fail "not one budget row in a 5-line window"; dump; }
tm resize-window -t top -x 200 -y 30
wait_for 'first_is "$SCRATCH/hot" && [ "$(row 2 | cut -d" " -f1)" = "$SCRATCH/calm" ]' ||
	{ fail "both rows are not back in a 30-line window"; dump; }

# restored RUN: top exited 0, stty settings as before, the main screen back, the cursor shown.
restored() {
	local run=$1 shown
	wait_for '[ -s "$WORK/stty-after.$run" ]' || { fail "top (run $run) did not exit"; dump; return; }
	[ "$(cat "$WORK/top-rc.$run")" = 0 ] || fail "top (run $run) exited $(cat "$WORK/top-rc.$run")"
	cmp -s "$WORK/stty-before.$run" "$WORK/stty-after.$run" ||
		fail "top (run $run) left the terminal changed: $(cat "$WORK/stty-before.$run") -> $(cat "$WORK/stty-after.$run")"
	shown=$(tm display-message -p -t top '#{alternate_on} #{cursor_flag}')
	[ "$shown" = "0 1" ] || fail "top (run $run) left the alternate screen on or the cursor hidden: $shown"
	wait_for 'screen | grep -q "TOP-DONE $run"' || { fail "the shell did not go on after top (run $run)"; dump; }
}
tm send-keys -t top q
restored 1
# The second top: quit by ^C (SIGINT), once it drew.
touch "$WORK/go.2"
wait_for '[ "$(tm display-message -p -t top "#{alternate_on}")" = 1 ] && first_is "$SCRATCH/hot"' ||
	{ fail "the second top did not draw"; dump; }
tm send-keys -t top C-c
restored 2
finish
