# Shared by the e2e tests: OCI bundles of busybox and the static workload, enrolled through commitd's
# agent socket ($WORK/oci.sock) with the policy named by the io.commitd.policy annotation.
# Needs tests/root/lib.sh sourced and start_commitd run first.

# policy_file NAME FIELDS: a policy template (its own cgroup is never used by a container)
policy_file() { echo "{\"name\": \"$1\", \"cgroup\": \"$SCRATCH/template-$1\", $2}" >"$POLICIES/$1.json"; }

# bundle NAME POLICY WORKLOAD-OPS...: a bundle in $WORK/NAME whose cgroupsPath is $CGPATH/NAME
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
masked = lambda i, m, v: {"index": i, "value": m, "valueTwo": v, "op": "SCMP_CMP_MASKED_EQ"}
c["linux"]["seccomp"] = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "listenerPath": sock,
    "syscalls": [
        {"names": ["mmap"], "action": "SCMP_ACT_NOTIFY", "args": [masked(2, 2, 2), masked(3, 3, 2)]},
        {"names": ["mmap"], "action": "SCMP_ACT_NOTIFY", "args": [masked(3, 0x21, 0x21)]},
        {"names": ["brk", "fork", "mremap", "shmget"], "action": "SCMP_ACT_NOTIFY"},
        {"names": ["clone"], "action": "SCMP_ACT_NOTIFY", "args": [masked(0, 0x100, 0)]},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
    ],
}
json.dump(c, open(path, "w"), indent=1)
PY
}
