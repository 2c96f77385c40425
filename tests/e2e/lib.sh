# Shared by the e2e tests: OCI bundles of busybox and the static workload, enrolled through commitd's
# agent socket ($WORK/oci.sock) with the policy named by the io.commitd.policy annotation.
# Needs tests/root/lib.sh sourced and start_commitd run first.

# policy_file NAME FIELDS: a policy template (its own cgroup is never used by a container)
policy_file() { echo "{\"name\": \"$1\", \"cgroup\": \"$SCRATCH/template-$1\", $2}" >"$POLICIES/$1.json"; }

# bundle NAME POLICY WORKLOAD-OPS...: a bundle in $WORK/NAME whose cgroupsPath is $CGPATH/NAME, without
# a seccomp section: the wrapper adds it.
bundle() { # NAME POLICY ARGS...: a bundle in $WORK/NAME
	local name=$1 dir=$WORK/$1 policy=$2
	shift 2
	mkdir -p "$dir/rootfs/bin"
	cp /bin/busybox "$dir/rootfs/bin/"
	cp "$WORKLOAD_STATIC" "$dir/rootfs/bin/workload"
	(cd "$dir" && runc spec)
	python3 - "$dir/config.json" "$policy" "$WORK/oci.sock" "$CGPATH/$name" "$@" <<'PY'
import json, sys
path, policy, sock, cgpath, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/workload"] + args
c["root"] = {"path": "rootfs", "readonly": True}
c.setdefault("annotations", {})["io.commitd.policy"] = policy
c["linux"]["cgroupsPath"] = cgpath
# linux.seccomp is left to the wrapper (contrib/commitd-oci-runtime), as a container engine would.
json.dump(c, open(path, "w"), indent=1)
PY
}

# wrapped RUNTIME ARGS...: the runtime through commitd's wrapper, as an engine configured with it calls it
wrapped() {
	COMMITD_OCI_RUNTIME=$1 COMMITD_OCI_SOCKET=$WORK/oci.sock "$OCI_WRAPPER" "${@:2}"
}

# runtime_start RUNTIME CGPATH: the preamble of the runc and crun tests: root, RUNTIME, a commitd of the test's
# own with policy strict64 (strict, 64 MiB) loaded; CGPATH is the bundles' cgroupsPath parent (bundle).
runtime_start() {
	require_root
	engine_require "$1"
	start_commitd
	CGPATH=$2
	policy_file strict64 '"mode": "strict", "limit": "64M"'
	"$COMMITCTL" reload >/dev/null || fail "reload"
}

# remove_runc_cgroups: the cgroups runc made for the bundles' cgroupsPath $CGPATH/NAME (v1 and v2), bottom-up.
remove_runc_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"$CGPATH" /sys/fs/cgroup/memory/*/*/"$CGPATH"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

# crun_from CGDIR CMD...: CMD from the v2 cgroup directory CGDIR, in a mount namespace without the cgroup2 mount:
# crun 1.8.1 refuses this hybrid host, so it runs with --cgroup-manager=disabled and its container stays there.
crun_from() {
	(
		echo "$BASHPID" >"$1/cgroup.procs" || exit 90
		exec unshare -m --propagation private bash -c 'umount "$(awk '\''$9 == "cgroup2" { print $5; exit }'\'' /proc/self/mountinfo)" && exec "$@"' _ "${@:2}"
	)
}

# runc_trap [ID...]: on exit (failure too) the runc containers ID... deleted (runc kills what still runs), the
# cgroups runc made removed (remove_runc_cgroups), then cleanup (tests/root/lib.sh).
runc_trap() {
	RUNC_IDS="$*"
	trap 'rc=$?; for c in $RUNC_IDS; do runc delete --force "$c" >/dev/null 2>&1; done; remove_runc_cgroups; (exit $rc); cleanup' EXIT
}

# --- commitd-meminfo's view of /proc/meminfo (meminfo-runc.sh, meminfo-podman.sh) ----------------------------

# meminfo_view_start: commitd-meminfo serving $VIEW/meminfo (VIEW=$WORK/meminfo-view) from the test's commitd,
# asking it every second; VIEW_PID is its pid. Ends the test when it does not mount: every later check rests on it.
meminfo_view_start() {
	VIEW=$WORK/meminfo-view
	"$COMMITD_MEMINFO" --mount "$VIEW" --socket "$COMMITD_SOCKET" --interval 1 >"$WORK/view.log" 2>&1 &
	VIEW_PID=$!
	wait_for 'grep -q serving "$WORK/view.log" && stat -f -c %T "$VIEW" | grep -q fuse' ||
		{ fail "commitd-meminfo did not mount: $(cat "$WORK/view.log")"; exit 1; }
}

# meminfo_view_kill: the view killed (by its pid); its mount stays, answering ENOTCONN, as a dead view leaves it.
meminfo_view_kill() {
	[ -n "${VIEW_PID:-}" ] && kill -KILL "$VIEW_PID" 2>/dev/null && wait "$VIEW_PID" 2>/dev/null
	VIEW_PID=
}

# meminfo_view_stop: the view killed and its mount detached, before the test's $WORK goes (a trap's part).
meminfo_view_stop() {
	meminfo_view_kill
	[ -n "${VIEW:-}" ] && umount -l "$VIEW" 2>/dev/null
	return 0
}

# MEMINFO_PROBE: a busybox sh script for a container under a 256 MiB memory limit: prints its commit lines, maps
# 32 MiB, waits (up to 60 s, as wait_for) for its Committed_AS to move, and runs procps' free (the host's /usr,
# bound read-only, with /lib and /lib64 beside it); expect_meminfo_view reads what it prints.
MEMINFO_PROBE='
kb() { /bin/busybox awk -v k="$1:" '\''$1 == k { print $2 }'\'' /proc/meminfo; }
/bin/busybox grep Commit /proc/meminfo
echo "limit=$(kb CommitLimit) before=$(kb Committed_AS) memtotal=$(kb MemTotal)"
b=$(kb Committed_AS)
/bin/workload map:32M sleep:60 >/dev/null & w=$!
end=$(($(/bin/busybox date +%s) + 60))
while [ "$(/bin/busybox date +%s)" -lt $end ] && [ "$(kb Committed_AS)" -lt $((b + 32768)) ]; do /bin/busybox sleep 0.1; done
echo "after=$(kb Committed_AS)"
kill $w; wait $w
/usr/bin/free -k || echo "free exited $?"
'

# meminfo_field NAME OUTPUT: the number MEMINFO_PROBE printed as NAME=.
meminfo_field() { sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$2" | head -1; }

# expect_meminfo_view OUTPUT WHAT: MEMINFO_PROBE, run in a container under strict64 and a 256 MiB memory limit with
# the view over its /proc/meminfo, saw the budget's CommitLimit (64 MiB), a Committed_AS that moved by the 32 MiB
# it mapped and stayed below the limit, MemTotal of the memory limit, and free agreeing.
expect_meminfo_view() {
	local before after
	[ "$(meminfo_field limit "$1")" = 65536 ] || fail "$2: CommitLimit inside is not the budget's 64 MiB: $1"
	before=$(meminfo_field before "$1") after=$(meminfo_field after "$1")
	[ -n "$before" ] && [ "$before" -lt 32768 ] || fail "$2: Committed_AS before mapping: $1"
	[ -n "$after" ] && [ "$after" -ge $((before + 32768)) ] && [ "$after" -lt 65536 ] ||
		fail "$2: Committed_AS did not move by the 32 MiB mapped: $1"
	[ "$(meminfo_field memtotal "$1")" = 262144 ] || fail "$2: MemTotal does not follow the 256 MiB memory limit: $1"
	[ "$(awk '$1 == "Mem:" { print $2 }' <<<"$1")" = 262144 ] || fail "$2: free inside disagrees: $1"
}

# --- Container engines (podman.sh, docker.sh, containerd-*.sh) ---------------------------------------------
# Each engine keeps everything of its own under $WORK (storage, state, sockets, pid files), puts its containers'
# cgroups under $ENGINE_CG (below), and its EXIT trap stops it, removes those cgroups and then fails the test
# for anything left on the host (engine_leftovers).

# engine_require CMD...: fails (never skips: CI=true) when a runtime's or engine's program or busybox-static is
# missing: scripts/deps installs them.
engine_require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "FAIL: $c is not installed (scripts/deps installs it)" >&2; exit 1; }
	done
	[ -x /bin/busybox ] || { echo "FAIL: busybox-static is not installed (scripts/deps)" >&2; exit 1; }
}

# engine_begin: notes what the host has before the engine starts (mount points, network namespaces) and picks
# $ENGINE_CG, the cgroup the engine's containers go under: commitd-e2e-PID below this shell's v1 memory cgroup on
# a hybrid host (never at the root of the v1 memory hierarchy), below its v2 cgroup on a pure v2 host. Engines
# that take an absolute cgroup parent create it in every hierarchy, with the parents it lacks there (the v1 cpu
# hierarchy has no /process_api/...): ENGINE_CG_TOPS lists those, for engine_remove_cgroups.
engine_begin() {
	local own h top part p
	own=$(awk -F: '$2 == "memory" { print $3; exit }' /proc/self/cgroup)
	if [ "$own" = / ]; then
		echo "FAIL: this shell is in the root of the v1 memory hierarchy: the engines' cgroups would go there" >&2
		exit 1
	fi
	[ -n "$own" ] || own=$(awk -F: '$1 == "0" { print $3; exit }' /proc/self/cgroup)
	ENGINE_CG=${own%/}/commitd-e2e-$$
	ENGINE_CG_TOPS=
	for h in /sys/fs/cgroup/*/ "$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/"; do
		[ -f "$h/cgroup.procs" ] || continue
		top=${h%/}
		for part in $(tr / ' ' <<<"$ENGINE_CG"); do
			top=$top/$part
			[ -d "$top" ] || { ENGINE_CG_TOPS="$ENGINE_CG_TOPS $top"; break; }
		done
	done
	awk '{ print $5 }' /proc/self/mountinfo | sort -u >"$WORK/mounts.before"
	ls /run/netns 2>/dev/null | sort >"$WORK/netns.before"
	CONTAINER_PIDS=
	ENGINE_HOST_NEW=
	for p in $ENGINE_HOST_PATHS; do [ -e "$p" ] || ENGINE_HOST_NEW="$ENGINE_HOST_NEW $p"; done
}

# What the engines make on the host whatever their root, state and socket say, deepest first: dockerd's
# trust key and plugin socket directory (fixed paths in Docker 20.10), the runc shim's socket directory and
# runc roots and ctr's FIFOs (fixed below /run/containerd in containerd 1.6), runc's and crun's default state
# roots (podman passes none). engine_begin notes which are missing; engine_leftovers removes those the test
# made (dockerd always writes its key), and fails for a directory with something still in it.
ENGINE_HOST_PATHS="/etc/docker/key.json /run/docker/plugins /run/docker /run/containerd/fifo /run/containerd/s
	/run/containerd/runc/commitd-e2e /run/containerd/runc/k8s.io /run/containerd/runc/moby /run/containerd/runc
	/run/containerd /run/runc /run/crun"

# engine_remove_cgroups: the cgroups the engine made under $ENGINE_CG (and the parents it had to make), once
# its containers have ended: bottom-up, rmdir only (a cgroup that still has a process stays, and
# engine_leftovers reports it).
engine_remove_cgroups() {
	local d
	for d in $ENGINE_CG_TOPS /sys/fs/cgroup/*"$ENGINE_CG" /sys/fs/cgroup/*/"${ENGINE_CG##*/}"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

# engine_leftovers [CONTAINER-ID...]: fails the test for anything the engine left once it was stopped: a process
# whose command line names $WORK (daemons, shims, conmon), a container process (CONTAINER_PIDS), a cgroup of
# $ENGINE_CG or named by a container id anywhere, a container's runtime state, a new mount point (other tests'
# below /tmp aside), a new network namespace, one of ENGINE_HOST_PATHS the test made. Kills what it finds (by
# pid), unmounts what is under $WORK and removes the rest it can, so that cleanup can still remove everything.
engine_leftovers() {
	local p m d name killed= end ids=
	# container ids only (a failed command's words in the list must not match every cgroup)
	for name in "$@"; do [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{7,}$ ]] && ids="$ids $name"; done
	set -- $ids
	for p in $(work_pids); do
		fail "left running: pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-200)"
		kill -KILL "$p" 2>/dev/null && killed="$killed $p"
	done
	# container processes: those the test noted, and any still in the engine's cgroups (a Pod's sandbox)
	for p in $CONTAINER_PIDS $(cat /sys/fs/cgroup/*"$ENGINE_CG"/*/cgroup.procs /sys/fs/cgroup/*"$ENGINE_CG"/cgroup.procs \
		2>/dev/null | sort -u); do
		running "$p" || continue
		case " $killed " in *" $p "*) continue ;; esac
		fail "left running: container process $p ($(cat "/proc/$p/comm" 2>/dev/null))"
		kill -KILL "$p" 2>/dev/null && killed="$killed $p"
	done
	# what was killed leaves its cgroups once it is gone: then they can go too
	end=$((SECONDS + 10))
	for p in $killed; do
		while running "$p" && [ $SECONDS -lt $end ]; do sleep 0.1; done
	done
	[ -n "$killed" ] && engine_remove_cgroups
	for m in $(awk '{ print $5 }' /proc/self/mountinfo | sort -u | comm -13 "$WORK/mounts.before" -); do
		# another test's scratch directory on a shared machine is not this engine's
		case $m in "$WORK"/*) ;; /tmp/*) continue ;; esac
		fail "left mounted: $m"
		case $m in "$WORK"/*) umount -l "$m" ;; esac
	done
	for m in $(ls /run/netns 2>/dev/null | sort | comm -13 "$WORK/netns.before" -); do fail "left a netns: /run/netns/$m"; done
	for d in $ENGINE_CG_TOPS /sys/fs/cgroup/*"$ENGINE_CG"; do [ -d "$d" ] && fail "left a cgroup: $d"; done
	# a container's runtime state (runc's, crun's, the runc shim's)
	for name in "$@"; do
		for d in /run/runc/"$name" /run/crun/"$name" /run/containerd/runc/*/"$name"; do
			[ -e "$d" ] && fail "left the runtime state of container $name: $d" && rm -rf "$d"
		done
	done
	for p in $ENGINE_HOST_NEW; do
		if [ -d "$p" ]; then
			find "$p" -depth -type d -empty -delete 2>/dev/null
		elif [ -e "$p" ]; then
			rm -f "$p"
		fi
		[ -e "$p" ] || continue
		fail "left on the host: $p: $(find "$p" | head -5 | tr '\n' ' ')"
		rm -rf "$p" # the test made it: what is in it is the engine's
	done
	# commitd removes the cgroup it made for a container when the container ends, or at its next upkeep if the
	# cgroup was still busy then: commitd still runs here, so its upkeep gets its time
	for name in "$@"; do
		wait_for "[ -z \"\$(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name '*$name*' 2>/dev/null)\" ]"
		for d in $(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name "*$name*" 2>/dev/null); do
			fail "left a cgroup: $d"
		done
	done
}

# engine_trap STOP: on exit (failure too) STOP (the test's function that stops its engine and containers), then
# the engine's cgroups removed, then what is left reported (engine_leftovers, with the ids in CONTAINER_IDS),
# then cleanup (tests/root/lib.sh).
engine_trap() {
	ENGINE_STOP=$1
	CONTAINER_IDS=
	trap 'rc=$?; "$ENGINE_STOP"; engine_settle; engine_remove_cgroups; engine_leftovers $CONTAINER_IDS; (exit $rc); cleanup' EXIT
}

# engine_settle: what an engine starts as it stops (conmon, and podman's "container cleanup" it runs) gets 30 s
# to end by itself and leave its cgroups.
engine_settle() {
	local end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		[ -z "$(work_pids)" ] && return 0
		sleep 0.2
	done
}

# stop_daemon PID NAME: SIGTERM to a daemon the test started, and up to 60 s (wait_for) for it to exit.
stop_daemon() {
	local daemon_pid=$1
	[ -n "$daemon_pid" ] || return 0
	kill "$daemon_pid" 2>/dev/null
	wait_for '! kill -0 "$daemon_pid" 2>/dev/null' || fail "$2 did not stop in 60 s"
}

# running PID: the process exists and is not a zombie.
running() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# work_pids: the processes whose command line names $WORK (read with builtins: no child of ours names it), but
# the test's commitd and its keeper
work_pids() {
	local p args skip
	skip=" $$ ${COMMITD_PID:-} $(cat "$WORK"/*.keeper.sock.pid 2>/dev/null) "
	for p in /proc/[0-9]*; do
		case $skip in *" ${p#/proc/} "*) continue ;; esac
		mapfile -d '' args 2>/dev/null <"$p/cmdline" || continue
		case "${args[*]}" in *"$WORK"*) echo "${p#/proc/}" ;; esac
	done
}

# image_rootfs_tar TAR: the root of the engines' test image as a tarball: busybox (as /bin/sh too) and the
# static workload (tests/root/workload.c) as /bin/workload. No registry is reachable: engines import it.
image_rootfs_tar() {
	local root=$WORK/image-root
	mkdir -p "$root/bin" "$root/dev" "$root/etc" "$root/proc" "$root/sys" "$root/tmp"
	cp /bin/busybox "$root/bin/"
	ln -s busybox "$root/bin/sh"
	cp "$WORKLOAD_STATIC" "$root/bin/workload"
	tar -C "$root" -cf "$1" .
}

# expect_refused_between OUTPUT LOW-MIB HIGH-MIB WHAT: the workload's "steps" in OUTPUT ended in ENOMEM after
# mapping between LOW and HIGH MiB.
expect_refused_between() {
	local mapped
	mapped=$(sed -n 's/^STEPS mapped=\([0-9]*\) result=ENOMEM$/\1/p' <<<"$1")
	[ -n "$mapped" ] && [ "$mapped" -le $(($3 << 20)) ] && [ "$mapped" -ge $(($2 << 20)) ] ||
		fail "$4: mapped ${mapped:-no} bytes before ENOMEM, want $2 to $3 MiB: $1"
}

# expect_refused_at_64m OUTPUT WHAT: the workload's "steps" in OUTPUT ended in ENOMEM within a 64 MiB budget
# (above 40 MiB: what the container's processes hold besides is small).
expect_refused_at_64m() { expect_refused_between "$1" 40 64 "$2"; }

# expect_container_refused OUTPUT ID CGROUP WHAT: the container ID ran "steps:4M:1G fork" enrolled in CGROUP (a
# grep pattern) under strict64: refused within 64 MiB, its fork too, and the refusal is in commitctl events.
expect_container_refused() {
	CONTAINER_IDS="$CONTAINER_IDS $2"
	expect_refused_at_64m "$1" "$4"
	expect_in "$1" "ENOMEM fork"
	grep -q "container $2 (pid [0-9]*) enrolled in $3 under policy strict64" "$WORK/commitd.log" ||
		fail "$4: the container was not enrolled in $3 under policy strict64"
	expect_events_name "$2" "$4"
}

# expect_not_started OUTPUT WHAT POLICY [SOCKET]: what the engine printed for a container the wrapper did not
# start shows the wrapper's reason (the user sees why, naming commitd): POLICY unknown to commitd, or, with
# SOCKET, no commitd answering there; and the container's program never ran. The exact phrases: an engine's
# own words (a runtime named commitd-nope, a path) must not pass for them.
expect_not_started() {
	case $1 in *"OK map:1M"*) fail "$2: the container's program ran: $1" ;; esac
	if [ -n "${4:-}" ]; then
		expect_in "$1" "commitd does not answer at $4"
		expect_in "$1" "(policy \"$3\")"
	else
		expect_in "$1" "policy \"$3\" is not known to commitd"
	fi
}

# expect_unrefused OUTPUT WHAT: the same workload, unenrolled, mapped its whole 1 GiB and forked.
expect_unrefused() {
	expect_in "$1" "STEPS mapped=$((1 << 30)) result=max"
	expect_in "$1" "OK fork"
}

# expect_status_names ID WHAT: commitctl status shows the running container's budget: the POLICY column and
# --json's "policy" carry strict64@ID with the full container id.
expect_status_names() {
	local human json
	human=$("$COMMITCTL" status 2>&1)
	json=$("$COMMITCTL" --json status 2>&1)
	expect_in "$human" "strict64@$1"
	grep -e '^CGROUP' -e "strict64@$1" <<<"$human" # in the test's log, for docs/containers.md
	python3 -c '
import json, sys
sys.exit(0 if any(c.get("policy") == "strict64@" + sys.argv[1] for c in json.load(sys.stdin)["cgroups"]) else 1)
' "$1" <<<"$json" || fail "$2: status --json has no cgroup under policy strict64@$1: $json"
}

# expect_events_name TEXT WHAT: commitctl events lists a refusal whose cgroup or policy names TEXT.
expect_events_name() {
	"$COMMITCTL" events 2>&1 | grep -- "$1" | tail -1 # in the test's log
	"$COMMITCTL" events 2>&1 | grep -q -- "$1" || fail "$2: commitctl events names no refusal of $1: $("$COMMITCTL" events 2>&1 | tail -5)"
}

# --- podman (podman.sh, meminfo-podman.sh) -------------------------------------------------------------------

# podman_begin RUNTIME STOP: a podman of the test's (after engine_begin) whose containers run on RUNTIME (runc or
# crun) through commitd-oci-runtime, the test's image ($IMAGE: image_rootfs_tar) imported, and the EXIT trap set
# (engine_trap STOP: STOP calls podman_stop, then stops what else the test started). Defines pm (podman with the
# test's options), run_opts (`podman run`'s), runtime_opts SOCKET [POLICY] (the wrapper's, as docs/containers.md
# gives them) and podman_stop. podman's storage, state, locks and events stay under $WORK/podman ($PM, vfs);
# --network none (no netns). crun 1.8 refuses a hybrid host: podman then runs in a mount namespace without the
# cgroup2 mount, with --cgroups=disabled (podman passes crun --cgroup-manager disabled), and commitd gives the
# container a cgroup of its own.
podman_begin() {
	local runtime=$1
	engine_begin

	PM=$WORK/podman
	IMAGE=localhost/commitd-e2e:latest
	mkdir -p "$PM"
	# podman's default lock is the shm segment /dev/shm/libpod_lock, shared by every podman of the host.
	cat >"$PM/containers.conf" <<-EOF
	[engine]
	lock_type = "file"
	EOF
	export CONTAINERS_CONF=$PM/containers.conf
	podman_cmd=(podman --root "$PM/root" --runroot "$PM/run" --tmpdir "$PM/tmp" --volumepath "$PM/volumes"
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
	# Without CAP_SYS_RESOURCE podman's own rlimits (nofile 1048576, nproc at the host's hard limit) cannot be set.
	run_opts=(--network none --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
	V2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	if [ "$runtime" = runc ]; then
		# --runtime-flag reaches only the runtime calls of the podman command given it (create and start of `podman
		# run`); exec, kill and delete come from other podman commands, without it, and the wrapper's defaults (runc,
		# and the listenerPath runc keeps in its state) serve them.
		run_opts+=(--cgroup-parent "$ENGINE_CG")
		pm() { "${podman_cmd[@]}" "$@"; }
		# runtime_opts SOCKET [POLICY]: podman's options for the wrapper, as docs/containers.md gives them
		runtime_opts() {
			echo --runtime "$OCI_WRAPPER" --runtime-flag "commitd-socket=$1" ${2:+--runtime-flag commitd-policy=$2}
		}
	else
		# crun is not the wrapper's default, and every runtime call must reach it, flags or not: the wrapper's
		# default config file says so for the name it is called by, commitd-crun, a symlink that is podman's
		# runtime of that name (engine.runtimes). podman runs in a mount namespace whose /etc has the test's
		# commitd/oci-runtime.json over the host's (a read-only overlayfs: one per podman command, as conmon keeps
		# its own); the host's /etc is untouched. podman runs without cgroups (--cgroups=disabled, which makes it
		# pass crun --cgroup-manager disabled) only runtimes named in runtime_supports_nocgroup.
		mkdir -p "$WORK/etc/commitd"
		echo "{\"socket\": \"$WORK/oci.sock\", \"runtimes\": {\"commitd-crun\": {\"runtime\": \"crun\"}}}" \
			>"$WORK/etc/commitd/oci-runtime.json"
		ln -s "$OCI_WRAPPER" "$PM/commitd-crun"
		cat >>"$PM/containers.conf" <<-EOF
	runtime_supports_nocgroup = ["crun", "krun", "commitd-crun"]
	[engine.runtimes]
	commitd-crun = ["$PM/commitd-crun"]
	EOF
		run_opts+=(--cgroups=disabled)
		# crun 1.8 refuses a hybrid host: podman (and the conmon it leaves) in a mount namespace without cgroup2
		pm() {
			unshare -m --propagation private sh -c 'umount "$0" && mount -t overlay overlay -o "lowerdir=$1:/etc" /etc &&
				shift && exec "$@"' "$V2" "$WORK/etc" "${podman_cmd[@]}" "$@"
		}
		runtime_opts() {
			echo --runtime commitd-crun ${2:+--runtime-flag commitd-policy=$2}
			[ "$1" = "$WORK/oci.sock" ] || echo --runtime-flag "commitd-socket=$1"
		}
	fi

	podman_stop() { pm rm --all --force --time 0 >/dev/null 2>&1; }
	engine_trap "$2"

	image_rootfs_tar "$WORK/image.tar"
	pm import "$WORK/image.tar" "$IMAGE" >/dev/null || fail "podman import"
}

# image_oci_archive TAR NAME: the same root as an OCI image archive (index.json, blobs) that `ctr images import`
# takes, named NAME (io.containerd.image.name), its default command a long sleep (what a Pod's sandbox runs).
image_oci_archive() {
	image_rootfs_tar "$WORK/image-layer.tar"
	python3 - "$WORK/image-layer.tar" "$1" "$2" <<'PY'
import hashlib, io, json, sys, tarfile
layer_path, out, name = sys.argv[1:]
layer = open(layer_path, "rb").read()
def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data
layer_d, _ = blob(layer)
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Cmd": ["/bin/busybox", "sleep", "3600"]},
                     "rootfs": {"type": "layers", "diff_ids": [layer_d]}}).encode()
config_d, _ = blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_d,
                                  "size": len(config)},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_d,
                                   "size": len(layer)}]}).encode()
manifest_d, _ = blob(manifest)
index = json.dumps({"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_d, "size": len(manifest),
    "platform": {"architecture": "amd64", "os": "linux"},
    "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]}}]}).encode()
with tarfile.open(out, "w") as t:
    def add(path, data):
        info = tarfile.TarInfo(path)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    add("index.json", index)
    for d, data in ((layer_d, layer), (config_d, config), (manifest_d, manifest)):
        add("blobs/sha256/" + d.split(":")[1], data)
PY
}

# containerd_start CONFIG-FILE [ETC-UPPER]: a containerd of the test's own (its config names root, state and
# sockets under $WORK/containerd), its log in $WORK/containerd/containerd.log; waits for its socket.
# CONTAINERD_PID. With ETC-UPPER (a directory holding upper/ and work/), containerd, its shims and so the wrapper
# run in a mount namespace of their own whose /etc is the host's with ETC-UPPER/upper over it (overlayfs): the
# wrapper finds its default /etc/commitd/oci-runtime.json there, as on a node, and the host's /etc is untouched.
containerd_start() {
	if [ -n "${2:-}" ]; then
		unshare -m --propagation private sh -c 'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc &&
			exec containerd --config "$2"' _ "$2" "$1" >>"$WORK/containerd/containerd.log" 2>&1 &
	else
		containerd --config "$1" >>"$WORK/containerd/containerd.log" 2>&1 &
	fi
	CONTAINERD_PID=$!
	# answering, or dead (no use waiting further)
	wait_for 'ctr --address "$WORK/containerd/containerd.sock" version >/dev/null 2>&1 ||
		! kill -0 "$CONTAINERD_PID" 2>/dev/null' && kill -0 "$CONTAINERD_PID" 2>/dev/null && return 0
	fail "containerd did not start: $(tail -20 "$WORK/containerd/containerd.log")"
	exit 1
}

# containerd_stop: stops the test's containerd (its shims exit with their containers) and waits for it.
containerd_stop() {
	stop_daemon "${CONTAINERD_PID:-}" containerd
	CONTAINERD_PID=
}

# containerd_config_base: the part of a containerd config that keeps it to $WORK/containerd: root, state,
# sockets (grpc, ttrpc, debug), the native snapshotter (no mounts outside a container's start).
containerd_config_base() {
	cat <<EOF
version = 2
root = "$WORK/containerd/root"
state = "$WORK/containerd/state"
[grpc]
  address = "$WORK/containerd/containerd.sock"
[ttrpc]
  address = "$WORK/containerd/containerd.sock.ttrpc"
[debug]
  address = "$WORK/containerd/debug.sock"
EOF
}
