#!/bin/bash
# Issue 9, mappings: a non-root tenant in a strict 64 MiB budget tries to hold more than it with (2) an smaps
# too big for commitd to read (16 000 mappings of a file with a long path: smaps passes 64 MiB), (5)
# mremap(MREMAP_DONTUNMAP), which leaves the old area accountable and charges the new one, and what execve()
# commits for a program's image, which no call shows. The program must see
# ENOMEM where the budget says so, and the kernel's count of what the tenant holds (charged.py) stays within
# the budget, give or take one page.
set -u
. "$(dirname "$0")/tenant.sh"
start_tenant

# 2. A one-page file under 15 directories of 250-letter names (a path of 3 800 bytes, which every smaps
# header of its mappings repeats), readable by the tenant; 16 000 private read-only mappings of it, each at
# offset 0 so that no two can merge. Then 4 GiB in 32 MiB steps by the main thread, and 1 GiB by a new thread
# (each of whose calls, until commitd knows it, makes commitd read the whole smaps): each stops once the budget
# is full.
chmod 711 "$WORK"
long=$WORK/long
name=$(printf 'd%.0s' $(seq 250))
for _ in $(seq 15); do long=$long/$name; done
mkdir -p "$long"
chmod -R a+rX "$WORK/long"
head -c 4096 /dev/zero >"$long/file"
chmod 644 "$long/file"
ln -s "$long/file" "$WORK/file" # a short name to open; smaps prints the long one
for who in main t2; do
	steps=steps:32M:4G
	[ $who = t2 ] && steps=t2:steps:32M:1G # 16 times the budget; each call may cost commitd a read of 64 MiB
	start_held "maps-$who" "${tenant[@]}" "$HOSTILE" "filemaps:$WORK/file:16000" wait "$steps" wait
	expect_in "$(cat "$WORK/maps-$who.out")" "OK filemaps:"
	size=$(wc -c <"/proc/$HELD_PID/smaps")
	[ "$size" -gt $((64 << 20)) ] || fail "2: the tenant's smaps is $size bytes, not past 64 MiB: the setup failed"
	out=$(go "maps-$who" 2 200)
	mapped=$(field mapped "$out")
	echo "2. smaps of $((size >> 20)) MiB, 32 MiB steps by the $who thread: ${mapped:-?} bytes mapped ($(grep STEPS <<<"$out"))"
	[ "${mapped:-$((1 << 30))}" -le $((64 << 20)) ] || fail "2 ($who): $mapped bytes mapped in a 64 MiB budget"
	expect_in "$out" "result=ENOMEM"
	within_budget "2 (smaps past 64 MiB, $who thread)" "$(charged "$HELD_PID")"
	release
done

# 5. 40 MiB private writable, moved with MREMAP_MAYMOVE|MREMAP_DONTUNMAP at the same length: the kernel charges
# the new 40 MiB (move_vma()) and the old area stays accountable: 80 MiB, refused.
start_held mremap "${tenant[@]}" "$HOSTILE" mremap-dontunmap:40M wait
out=$(cat "$WORK/mremap.out")
echo "5. mremap DONTUNMAP: $(grep mremap <<<"$out")"
expect_in "$out" "ENOMEM mremap-dontunmap:40M"
within_budget "5 (mremap DONTUNMAP)" "$(charged "$HELD_PID")"
release

# exec: what execve() commits (a 32 MiB bss) is in no call commitd sees. A holder maps 16 MiB; then a program
# whose image commits 32 MiB starts in the same budget and maps 24 MiB: 16 + 32 + 24 is past 64, refused
# (judged on a ledger without the image, it was admitted: 72 MiB held).
start_held holder "${tenant[@]}" "$WORKLOAD" map:16M wait
holder=$HELD_PID
exec 8>&9 # the holder's input, kept open while fd 9 is the next program's
start_held image "${tenant[@]}" "$BIGIMAGE"
out=$(cat "$WORK/image.out")
echo "exec of a 32 MiB image beside 16 MiB: $(grep map:24M <<<"$out")"
expect_in "$out" "ENOMEM map:24M"
within_budget "exec (a 32 MiB image)" "$(charged "$holder" "$HELD_PID")"
release
HELD_PID=$holder
exec 9>&8 8>&-
release

kill -0 "$COMMITD_PID" || fail "commitd died"
finish
