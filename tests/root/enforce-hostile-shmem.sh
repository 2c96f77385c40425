#!/bin/bash
# Issue 9, shared memory: a non-root tenant in a strict 64 MiB budget tries to hold more than it with what a
# process's smaps does not show: (3) SysV shmget by the i386 doors, (4a) SysV segments never attached, which
# outlive their creator, (4b) a shared anonymous object cut to one mapped page, (4c) tmpfs pages held by a
# memfd, by a /dev/shm file or by a mapping of a closed memfd. The kernel charges each of them (at full size,
# or per page for tmpfs): the program must see ENOMEM where the budget says so, and the kernel's count of what
# the tenant holds (charged.py: smaps, shmem objects by their size, the uid's SysV segments) stays within the
# budget, give or take one page.
set -u
. "$(dirname "$0")/tenant.sh"
start_tenant

# 3. shmget by the i386 doors: the direct call (395, Linux 5.1+) and ipc(SHMGET) with a version in the call's
# high bits. shmget is a call commitd knows: 1 GiB refused, 1 MiB admitted. The 395 segments are kept until the
# kernel's count is taken; the ipc ones are removed by int80 at once.
out=$(as_tenant "$INT80" shmget395:1G shmget395:1M shmget:1G shmget-v1:1G)
echo "3. i386 shmget: $(echo "$out" | tr '\n' ' ')"
expect_in "$out" "ENOMEM shmget395:1G"
expect_in "$out" "OK shmget395:1M"
expect_in "$out" "ENOMEM shmget:1G"
expect_in "$out" "ENOMEM shmget-v1:1G"
within_budget "3 (i386 shmget)" "$(charged --sysv-uid "$TENANT_UID")"
remove_tenant_segments

# 4a. SysV segments of 16 MiB, created and never attached, until refused: at most what fits. They outlive their
# creator and the kernel still charges them, so a new process in the budget cannot map 32 MiB while they exist;
# once the test removes them (ipcrm), it can.
start_held segs "${tenant[@]}" "$HOSTILE" shm-steps:16M:256M wait
out=$(cat "$WORK/segs.out")
created=$(field created "$out")
echo "4a. SysV segments never attached: ${created:-?} of 16 MiB created"
[ "${created:-99}" -le 4 ] || fail "4a: $created segments of 16 MiB created in a 64 MiB budget"
expect_in "$out" "result=ENOMEM"
within_budget "4a (segments, creator alive)" "$(charged --sysv-uid "$TENANT_UID" "$HELD_PID")"
release
[ -n "$(tenant_segments)" ] || fail "4a: no segment outlived its creator"
start_held after "${tenant[@]}" "$HOSTILE" wait map:32M wait
out=$(go after)
echo "4a. then a new process, $(tenant_segments | wc -l) segments left: $(grep map:32M <<<"$out")"
expect_in "$out" "ENOMEM map:32M"
within_budget "4a (segments, creator gone)" "$(charged --sysv-uid "$TENANT_UID" "$HELD_PID")"
release
remove_tenant_segments
out=$(as_tenant "$HOSTILE" map:32M)
expect_in "$out" "OK map:32M"

# 4b. 48 MiB shared anonymous, cut to its first page: the kernel charged the object whole and keeps it whole
# while a page of it is mapped. A refusal makes commitd measure again; 32 MiB more do not fit.
start_held shared "${tenant[@]}" "$HOSTILE" map-shared:48M trim map:1G map:32M wait
out=$(cat "$WORK/shared.out")
echo "4b. shared anonymous cut to a page: $(grep map:32M <<<"$out")"
expect_in "$out" "OK trim"
expect_in "$out" "ENOMEM map:1G"
expect_in "$out" "ENOMEM map:32M"
within_budget "4b (shared anonymous, one page mapped)" "$(charged "$HELD_PID")"
release

# 4c. 48 MiB of tmpfs pages (charged by the kernel page by page as they are allocated: fallocate), held by an
# open memfd, by an open file of /dev/shm (unlinked), by a shared mapping of a memfd whose fd is closed.
for how in memfd:48M "shmfile:$SHM_PREFIX:48M" memfd-map:48M; do
	start_held tmpfs "${tenant[@]}" "$HOSTILE" "$how" map:1G map:32M wait
	out=$(cat "$WORK/tmpfs.out")
	echo "4c. ${how%%:*}: $(grep map:32M <<<"$out")"
	expect_in "$out" "OK $how"
	expect_in "$out" "ENOMEM map:32M"
	within_budget "4c (${how%%:*})" "$(charged "$HELD_PID")"
	release
	rm "$WORK/tmpfs.in"
done

kill -0 "$COMMITD_PID" || fail "commitd died"
finish
