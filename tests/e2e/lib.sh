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

# need RUNTIME: the runtime and busybox-static, or a failure naming the package (never a skip: CI=true).
need() {
	command -v "$1" >/dev/null || { echo "FAIL: $1 is not installed (apt-get install $1)" >&2; exit 1; }
	[ -x /bin/busybox ] || { echo "FAIL: busybox-static is not installed" >&2; exit 1; }
}

# remove_runc_cgroups: the cgroups runc made for the bundles' cgroupsPath $CGPATH/NAME (v1 and v2), bottom-up.
remove_runc_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"$CGPATH" /sys/fs/cgroup/memory/*/*/"$CGPATH" "$CG_FS/../$CGPATH"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}
