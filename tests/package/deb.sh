#!/bin/bash
# Builds the Debian packages from a copy of this tree, then installs, restarts, upgrades, removes and purges them
# under a real systemd: a Debian 12 root (debootstrap from Debian's mirror) booted with systemd-nspawn. Never
# installs anything on the host. The suite "package" (tests/package/meson.build); about 5 minutes.
# Exit 77 when not root or a tool is missing (scripts/deps installs them); 0 pass, 1 fail.
#   COMMITD_NSPAWN_ROOT  the pristine root, made once and reused (default /var/tmp/commitd-nspawn-root);
#                        each run boots a copy of it, removed at the end.
set -u
[ "$(id -u)" = 0 ] || { echo "not root: skipped"; exit 77; }
for t in dpkg-buildpackage lintian debootstrap systemd-nspawn nsenter; do
	command -v $t >/dev/null || { echo "no $t: skipped (apt-get install debhelper debootstrap systemd-container lintian)"; exit 77; }
done
src=$(cd "$(dirname "$0")/../.." && pwd)
root=${COMMITD_NSPAWN_ROOT:-/var/tmp/commitd-nspawn-root}
work=$(mktemp -d /var/tmp/commitd-deb-test.XXXXXX)
nspawn_pid=
fail=0
cleanup() {
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		kill -TERM "$nspawn_pid"   # nspawn asks the container's systemd to power off
		for _ in $(seq 30); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 1; done
		kill -KILL "$nspawn_pid" 2>/dev/null
	fi
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fail=1; }

# 1. The packages, from a clean copy of what is committed plus the work tree's changes.
mkdir "$work/commitd-0.1.0"
(cd "$src" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$work/commitd-0.1.0"
if (cd "$work/commitd-0.1.0" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
	ok "dpkg-buildpackage -us -uc -b"
else
	tail -30 "$work/build.log"; not_ok "dpkg-buildpackage"; exit 1
fi
# The same packages as 0.1.0-2, for a real upgrade in step 6: unpacked, the version (and the = dependencies on
# it) changed in their control files, packed again. dpkg runs the whole upgrade, maintainer scripts and all.
mkdir "$work/repack"
for deb in "$work"/*_0.1.0-1_amd64.deb; do
	d="$work/repack/$(basename "$deb" .deb)"
	dpkg-deb -R "$deb" "$d" && sed -i 's/0\.1\.0-1/0.1.0-2/g' "$d/DEBIAN/control" &&
		dpkg-deb -b "$d" "${deb%_0.1.0-1_amd64.deb}_0.1.0-2_amd64.deb" >/dev/null || { not_ok "repack $deb as 0.1.0-2"; exit 1; }
done
ok "0.1.0-2 packed for the upgrade"
TMPDIR=$work lintian "$work"/commitd_*.changes >"$work/lintian.log" 2>&1 # its temporary files go with $work
if grep -q '^E:' "$work/lintian.log"; then grep '^E:' "$work/lintian.log"; not_ok "lintian: errors"; else ok "lintian: no error"; fi

# 2. A Debian 12 root with systemd, made once.
if [ ! -x "$root/lib/systemd/systemd" ]; then
	debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$root" >"$work/debootstrap.log" 2>&1 ||
		{ tail "$work/debootstrap.log"; not_ok "debootstrap"; exit 1; }
	echo commitd-nspawn >"$root/etc/hostname"
fi
cp -a "$root" "$work/root"
mkdir "$work/root/debs" && cp "$work"/*.deb "$work/root/debs/"
cat >"$work/root/root/alloc.sh" <<'EOS'
#!/bin/sh
# One allocation of 100 MiB, past the 64 MiB budget, then 3000 of 4 MiB (dd's buffer); one line per failure.
dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null && echo "100 MiB ADMITTED" || echo "100 MiB refused"
i=0; f=0
while [ $i -lt 3000 ]; do
	dd if=/dev/zero of=/dev/null bs=4M count=1 2>/tmp/dd.err || { f=$((f+1)); echo "FAIL $i: $(cat /tmp/dd.err)"; }
	i=$((i+1))
done
echo "done: $i runs, $f failures"
EOS
chmod +x "$work/root/root/alloc.sh"
# A service, enrolled the way README.md says: its policy names the service's cgroup, and a drop-in runs its
# command under `commitctl run --policy`, so it stays in the cgroup systemd made for it.
cat >"$work/root/etc/systemd/system/alloc.service" <<'EOS'
[Unit]
Description=deb.sh's service: allocations while commitd restarts
[Service]
Type=exec
ExecStart=/root/alloc.sh
EOS
mkdir "$work/root/etc/systemd/system/alloc.service.d"
cat >"$work/root/etc/systemd/system/alloc.service.d/commitd.conf" <<'EOS'
[Unit]
Wants=commitd.service
After=commitd.service
[Service]
ExecStart=
ExecStart=/usr/bin/commitctl run --policy alloc -- /root/alloc.sh
EOS

# 3. Boot it. No systemd is PID 1 on these hosts, so no bus and no machined: --keep-unit --register=no.
# commitd needs CAP_CHECKPOINT_RESTORE, which nspawn does not grant by default; CAP_BPF and CAP_PERFMON let
# it try its BPF iterator, and bpf() is refused by nspawn's own syscall filter unless allowed. commitd-meminfo mounts with /dev/fuse, not in nspawn's /dev unless bound.
systemd-nspawn -D "$work/root" --register=no --keep-unit -b \
	--capability=CAP_CHECKPOINT_RESTORE,CAP_BPF,CAP_PERFMON --system-call-filter=bpf --bind=/dev/fuse </dev/null >"$work/console.log" 2>&1 &
nspawn_pid=$!
# Commands run in the container by entering the namespaces of its PID 1 (nspawn's child).
leader=
in_ct() { nsenter -t "$leader" -a "$@"; }
for _ in $(seq 60); do
	leader=$(ps --ppid "$nspawn_pid" -o pid= 2>/dev/null | head -1 | tr -d ' ')
	[ -n "$leader" ] && [ "$(in_ct systemctl is-system-running 2>/dev/null)" = running ] && break
	sleep 1
done
[ -n "$leader" ] && [ "$(in_ct systemctl is-system-running 2>/dev/null)" = running ] ||
	{ cat "$work/console.log"; not_ok "systemd-nspawn boot"; exit 1; }
ok "a Debian 12 systemd booted in systemd-nspawn"

# 4. Install (the container's apt fetches the dependencies from Debian's mirror).
in_ct sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends /debs/commitd_0.1.0-1_amd64.deb /debs/commitd-exporter_0.1.0-1_amd64.deb /debs/commitd-meminfo_0.1.0-1_amd64.deb' \
	>"$work/install.log" 2>&1 && ok "apt-get install the three packages, 0.1.0-1" ||
	{ tail "$work/install.log"; not_ok "install"; }
unit_active() { # $1: the unit; its journal is printed when it is not active
	[ "$(in_ct systemctl is-active "$1")" = active ] && { ok "$1.service active"; return; }
	in_ct journalctl -u "$1" --no-pager | tail -20; not_ok "$1.service not active"
}
unit_active commitd
unit_active commitd-exporter
# The exporter (DynamicUser=, in commitd-read) reaches the socket, which belongs to --group commitd, through
# the read group's ACL entry: commitd_up 1 on /metrics.
in_ct bash -c 'exec 3<>/dev/tcp/127.0.0.1/9847 && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3' 2>/dev/null |
	grep -q '^commitd_up 1' && ok "commitd-exporter serves commitd_up 1 through the read group" || not_ok "exporter: no commitd_up 1"
unit_active commitd-meminfo
in_ct grep -q '^CommitLimit:' /run/commitd/meminfo/meminfo && ok "commitd-meminfo serves /run/commitd/meminfo/meminfo" ||
	not_ok "no /run/commitd/meminfo/meminfo"
# The unit's SystemCallFilter= lets bpf() through (nspawn's own filter needs --system-call-filter=bpf above).
# commitd says which way it measures: the iterator's line, not only the absence of the smaps-only one.
if in_ct journalctl -u commitd | grep -q "measuring areas with the BPF task_vma iterator"; then
	ok "the BPF task_vma iterator loads under the unit's sandbox"
else
	not_ok "the BPF task_vma iterator does not load under the unit's sandbox: $(in_ct journalctl -u commitd | grep -m1 -o 'smaps only.*')"
fi
in_ct getent group commitd commitd-read >/dev/null && ok "groups commitd and commitd-read" || not_ok "groups"
in_ct sh -c 'cp /usr/share/doc/commitd/examples/policies/demo.json /etc/commitd/policies/ && systemctl reload commitd && sleep 1 && commitctl policy list | grep -q "^demo"' &&
	ok "systemctl reload loads a policy" || not_ok "reload"

# 5. Refusals at NOTICE in the journal.
in_ct commitctl run --policy demo -- dd if=/dev/zero of=/dev/null bs=100M count=1 >/dev/null 2>&1 &&
	not_ok "100 MiB in a 64 MiB strict budget was admitted" || ok "100 MiB refused in a 64 MiB strict budget"
in_ct journalctl -u commitd -p notice..notice | grep -q "refused cgroup=/commitd-demo" &&
	ok "the refusal is in the journal at NOTICE" || not_ok "no refusal at NOTICE in the journal"

apt_remove='DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq commitd-exporter commitd-meminfo commitd'
keeper_listeners() { # 0 with no keeper
	in_ct sh -c 'k=$(cat /run/commitd/commitd.keeper.sock.pid 2>/dev/null); ls -l /proc/${k:-none}/fd 2>/dev/null | grep -c "seccomp notify"'
}
enroll_sleeper() { # prints the pid of an enrolled sleep, once its listener is with the keeper
	in_ct sh -c 'commitctl run --policy demo -- sleep 600 >/dev/null 2>&1 & echo $!'
	for _ in $(seq 100); do [ "$(keeper_listeners)" -ge 1 ] 2>/dev/null && return; sleep 0.2; done
}
wait_until() { local i; for i in $(seq 150); do eval "$1" && return 0; sleep 0.2; done; return 1; }
# 6. The service allocates through five restarts of commitd and the upgrade to 0.1.0-2: the keeper keeps its
# listener, no call fails (ENOSYS would be a failure), and the service stays in its own cgroup. The upgrade
# restarts commitd and leaves commitd-meminfo running. Then systemctl stop ends an enrolled service whole.
echo '{ "name": "alloc", "cgroup": "/system.slice/alloc.service", "mode": "strict", "limit": "64M" }' >"$work/alloc.json"
in_ct sh -c 'cat >/etc/commitd/policies/alloc.json && systemctl reload commitd' <"$work/alloc.json"
wait_until 'in_ct commitctl policy list | grep -q "^alloc"' || not_ok "policy alloc not loaded"
meminfo_pid=$(in_ct systemctl show -P MainPID commitd-meminfo)
in_ct systemctl start alloc
wait_until '[ "$(keeper_listeners)" = 1 ]' || not_ok "alloc.service is not enrolled"
main=$(in_ct systemctl show -P MainPID alloc)
in_ct grep -qx "0::/system.slice/alloc.service" "/proc/$main/cgroup" && ok "the enrolled service stays in its own cgroup" ||
	{ in_ct cat "/proc/$main/cgroup"; not_ok "alloc.service's main process left its cgroup"; }
in_ct sh -c 'for n in 1 2 3 4 5; do systemctl restart commitd; sleep 1; done
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /debs/commitd_0.1.0-2_amd64.deb /debs/commitd-exporter_0.1.0-2_amd64.deb /debs/commitd-meminfo_0.1.0-2_amd64.deb >/root/upgrade.log 2>&1 || echo "UPGRADE FAILED"' \
	>"$work/restart.log" 2>&1
grep -q FAILED "$work/restart.log" && not_ok "upgrade to 0.1.0-2 over a running instance" || ok "upgrade to 0.1.0-2 over a running instance"
[ "$(in_ct systemctl show -P ActiveState alloc)" = active ] && ok "alloc.service still allocating after the restarts and the upgrade" ||
	not_ok "alloc.service ended before the restarts and the upgrade did: they were not under load"
[ "$(in_ct dpkg-query -W -f='${Version}' commitd)" = 0.1.0-2 ] && ok "commitd 0.1.0-2 installed" || not_ok "commitd not upgraded"
[ "$(in_ct systemctl show -P MainPID commitd-meminfo)" = "$meminfo_pid" ] && ok "the upgrade did not restart commitd-meminfo" ||
	not_ok "the upgrade restarted commitd-meminfo"
wait_until '[ "$(in_ct systemctl show -P ActiveState alloc)" != active ]' || not_ok "alloc.service did not end"
[ "$(in_ct systemctl show -P Result alloc)" = success ] || not_ok "alloc.service: $(in_ct systemctl show -P Result alloc)"
out=$(in_ct journalctl -u alloc -o cat)
echo "$out" | grep -qx "100 MiB refused" && ok "alloc.service's 100 MiB refused" || not_ok "alloc.service's 100 MiB not refused"
echo "$out" | grep -qx "done: 3000 runs, 0 failures" && ok "5 restarts and an upgrade under the service's allocations: 0 failures" ||
	{ echo "$out" | tail -5; not_ok "under restarts: failures"; }
in_ct journalctl -u commitd -p notice..notice | grep -q "refused cgroup=/system.slice/alloc.service" &&
	ok "the service's refusal is in commitd's journal at NOTICE" || not_ok "no refusal of alloc.service at NOTICE"
n=$(in_ct journalctl -u commitd | grep -c "1 listeners adopted")
[ "$n" -ge 6 ] && ok "the listener was adopted after each restart ($n)" || not_ok "adopted $n times, not 6"
in_ct systemctl start alloc
wait_until '[ "$(keeper_listeners)" = 1 ]' || not_ok "alloc.service is not enrolled again"
in_ct systemctl stop alloc
if [ "$(in_ct systemctl show -P ActiveState alloc)" = inactive ] && wait_until '[ "$(keeper_listeners)" = 0 ]'; then
	ok "systemctl stop ends the enrolled service, and commitd lets its listener go"
else
	not_ok "systemctl stop alloc: $(in_ct systemctl show -P ActiveState alloc), the keeper holds $(keeper_listeners)"
fi

# 7. Remove while a process is enrolled: refused, with what to do, and commitd keeps serving. With the process
# gone, a plain remove goes through. Reinstalled, a forced remove leaves the keeper holding the listener of the
# process still enrolled, and the keeper exits by itself once that process ends.
sleeper=$(enroll_sleeper)
if in_ct sh -c "$apt_remove" >"$work/remove1.log" 2>&1; then
	not_ok "apt-get remove went through with a process enrolled"
else
	grep -q "not removed: commitd-keeper (pid [0-9]*) holds 1 listener(s) of enrolled processes" "$work/remove1.log" &&
		grep -q "COMMITD_FORCE_REMOVE=1" "$work/remove1.log" && grep -q "commitd-demo" "$work/remove1.log" &&
		ok "remove refused while a process is enrolled, naming its budget and the way out" ||
		{ cat "$work/remove1.log"; not_ok "remove refused without the message"; }
fi
[ "$(in_ct systemctl is-active commitd)" = active ] && [ "$(in_ct dpkg-query -W -f='${Status}' commitd)" = "install ok installed" ] &&
	ok "after the refusal commitd is installed and active" || not_ok "the refused remove left commitd broken"
in_ct kill "$sleeper"
wait_until '[ "$(keeper_listeners)" = 0 ]' || not_ok "the keeper still holds a listener after the sleeper ended"
in_ct sh -c "$apt_remove" >"$work/remove2.log" 2>&1 && ok "remove once nothing is enrolled" ||
	{ tail "$work/remove2.log"; not_ok "remove with nothing enrolled"; }
wait_until '! in_ct pgrep -x commitd-keeper >/dev/null' && ok "no keeper left after the remove" || not_ok "a keeper is left after the remove"

in_ct sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /debs/commitd_0.1.0-2_amd64.deb' \
	>"$work/reinstall.log" 2>&1 || { tail "$work/reinstall.log"; not_ok "reinstall"; }
wait_until 'in_ct commitctl status >/dev/null 2>&1' || not_ok "commitd does not answer after the reinstall"
sleeper=$(enroll_sleeper)
if in_ct sh -c "COMMITD_FORCE_REMOVE=1 $apt_remove" >"$work/remove3.log" 2>&1 && [ "$(keeper_listeners)" = 1 ] &&
	in_ct kill -0 "$sleeper"; then
	ok "COMMITD_FORCE_REMOVE=1 removes, and the keeper keeps the enrolled process's listener"
else
	tail "$work/remove3.log"; not_ok "forced remove"
fi
in_ct kill "$sleeper"
wait_until '! in_ct pgrep -x commitd-keeper >/dev/null' && ok "the keeper exits once its last process ends" ||
	not_ok "the keeper stayed after its last process ended"

in_ct sh -c 'rm /etc/commitd/policies/demo.json /etc/commitd/policies/alloc.json; DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq commitd commitd-exporter commitd-meminfo' \
	>"$work/purge.log" 2>&1 && ok "apt-get purge" || { tail "$work/purge.log"; not_ok "purge"; }
left=$(in_ct sh -c 'ls -d /etc/commitd /var/lib/commitd /run/commitd /lib/systemd/system/commitd* /etc/systemd/system/*.wants/commitd* /usr/sbin/commitd* 2>/dev/null; for p in /proc/[0-9]*; do case $(cat $p/comm 2>/dev/null) in commit*) echo "$p";; esac; done')
[ -z "$left" ] && ok "purge left nothing" || not_ok "purge left: $left"

[ $fail = 0 ] && echo "PASS" || echo "FAIL"
exit $fail
