#!/bin/bash
# Issue 11: commitd reads its policies from the ConfigMap of contrib/kubernetes/commitd-daemonset.yaml the way
# the kubelet mounts a ConfigMap volume (its atomic writer: the files in a hidden timestamped directory, "..data"
# a symlink to it, each key a symlink through "..data"); an update of the ConfigMap (a new directory, "..data"
# swapped by rename) reaches commitd at `commitctl reload`, as the DaemonSet's comment says. Then a container
# under the ConfigMap's policy, through the wrapper with the ConfigMap's oci-runtime.json as its config (with the
# test's socket), is refused at the policy's limit with no annotation and no --commitd-policy: default_policy.
set -u
. "$(dirname "$0")/../root/lib.sh"
. "$(dirname "$0")/lib.sh"
require_root
engine_require runc
MANIFEST=$(dirname "$0")/../../contrib/kubernetes/commitd-daemonset.yaml
start_commitd
CGPATH=commitd-e2e-$$
runc_trap

# configmap_write NAME DIR [OLD|NEW]: the data of ConfigMap NAME as the kubelet writes a volume into DIR: a new
# ..TIMESTAMP directory, ..data switched to it by rename, a symlink per key; OLD (a regex) replaced by NEW first.
configmap_write() {
	local stamp
	stamp=..$(date +%Y_%m_%d_%H_%M_%S.%N)
	/usr/bin/python3 - "$MANIFEST" "$1" "$2/$stamp" "${3:-}" <<'PY' || fail "no ConfigMap $1 in $MANIFEST"
import os, re, sys, yaml
manifest, name, out, edit = sys.argv[1:]
for doc in yaml.safe_load_all(open(manifest)):
    if doc and doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == name:
        os.makedirs(out)
        for key, value in doc["data"].items():
            if edit:
                old, new = edit.split("|", 1)
                value = re.sub(old, new, value)
            open(os.path.join(out, key), "w").write(value)
            link = os.path.join(os.path.dirname(out), key)
            if not os.path.islink(link):
                os.symlink(os.path.join("..data", key), link)
        sys.exit(0)
sys.exit(1)
PY
	ln -s "$stamp" "$2/..data_tmp" && mv -T "$2/..data_tmp" "$2/..data"
}

configmap_write commitd-policies "$POLICIES"
"$COMMITCTL" reload >/dev/null || fail "reload of the ConfigMap's policies"
list=$("$COMMITCTL" policy list)
expect_in "$list" "tenant-a"
expect_in "$list" "redis"
[ "$(status_field /commitd-templates/tenant-a limit_bytes)" = $((512 << 20)) ] ||
	fail "tenant-a's limit is not the ConfigMap's 512M: $("$COMMITCTL" status /commitd-templates/tenant-a)"

# kubectl edit: the ConfigMap's tenant-a limit to 64M; the kubelet swaps ..data; commitctl reload.
configmap_write commitd-policies "$POLICIES" '"limit": "512M"|"limit": "64M"'
"$COMMITCTL" reload >/dev/null || fail "reload after the ConfigMap's update"
[ "$(status_field /commitd-templates/tenant-a limit_bytes)" = $((64 << 20)) ] ||
	fail "the ConfigMap's update did not reach commitd: $("$COMMITCTL" status /commitd-templates/tenant-a)"

# The node's wrapper config from the other ConfigMap: its default_policy (tenant-a) takes a container that names
# none; only the socket is the test's.
mkdir -p "$WORK/etc-commitd"
configmap_write commitd-oci-runtime "$WORK/etc-commitd" "/run/commitd/oci.sock|$WORK/oci.sock"
bundle tenant tenant-a steps:4M:1G fork
python3 - "$WORK/tenant/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
del c["annotations"]["io.commitd.policy"]
json.dump(c, open(sys.argv[1], "w"))
PY
out=$(cd "$WORK/tenant" && "$OCI_WRAPPER" --commitd-config "$WORK/etc-commitd/oci-runtime.json" run "e2e-$$-tenant" 2>&1) ||
	fail "runc run through the ConfigMap's config exited $?: $out"
expect_refused_at_64m "$out" "a container under the ConfigMap's default_policy"
grep -q "container e2e-$$-tenant (pid [0-9]*) enrolled in .* under policy tenant-a" "$WORK/commitd.log" ||
	fail "the container was not enrolled under the ConfigMap's default_policy"
finish
