#!/usr/bin/python3
# Issue 11: contrib/kubernetes/ checked offline (no kubelet or API server here). Each manifest against a schema of
# the fields it uses, written from the Kubernetes API reference (v1.27: RuntimeClass node.k8s.io/v1, ConfigMap v1,
# DaemonSet apps/v1, Pod v1): required fields, types, enums, name formats, and no field the API does not have
# (a typo such as "hostPid" is an error, as `kubectl apply --validate=strict` makes it). Then what ties the files
# together: the handler name, the annotation, the wrapper's path, the policies (through `commitctl policy check`),
# the wrapper's config (through the wrapper), commitd's flags (through `commitd --help`), and what commitd needs of
# the node.
# Args: none, or the files' directory; env COMMITCTL, COMMITD, OCI_WRAPPER (meson's root_env).
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "contrib", "kubernetes")
errors = []


def err(where, what):
    errors.append(f"{where}: {what}")


DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                            r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")

# A schema is a dict: field -> (type, required, sub-schema or check). Types: str, bool, int, dict (an object with
# the sub-schema), list (of the sub-schema), map (string -> string), any (not descended into).
def name_check(rx, what):
    return lambda where, v: rx.match(v) or err(where, f"{v!r} is not a valid {what}")


def enum(*values):
    return lambda where, v: v in values or err(where, f"{v!r} is not one of {values}")


def abspath(where, v):
    return v.startswith("/") or err(where, f"{v!r} is not an absolute path")


METADATA = {
    "name": (str, True, name_check(DNS_SUBDOMAIN, "DNS subdomain name")),
    "namespace": (str, False, name_check(DNS_LABEL, "DNS label")),
    "labels": ("map", False, None),
    "annotations": ("map", False, None),
}
TEMPLATE_METADATA = {k: v for k, v in METADATA.items() if k != "name"}
CAPABILITIES = {"add": (list, False, str), "drop": (list, False, str)}
SECURITY_CONTEXT = {
    "privileged": (bool, False, None),
    "allowPrivilegeEscalation": (bool, False, None),
    "readOnlyRootFilesystem": (bool, False, None),
    "runAsUser": (int, False, None),
    "runAsNonRoot": (bool, False, None),
    "capabilities": (dict, False, CAPABILITIES),
    "seccompProfile": (dict, False, {"type": (str, True, enum("RuntimeDefault", "Unconfined", "Localhost")),
                                     "localhostProfile": (str, False, None)}),
}
VOLUME_MOUNT = {
    "name": (str, True, None),
    "mountPath": (str, True, abspath),
    "readOnly": (bool, False, None),
    "subPath": (str, False, None),
    "mountPropagation": (str, False, enum("None", "HostToContainer", "Bidirectional")),
}
RESOURCES = {"requests": ("quantities", False, None), "limits": ("quantities", False, None)}
CONTAINER = {
    "name": (str, True, name_check(DNS_LABEL, "DNS label")),
    "image": (str, True, None),  # optional in the API, required by every workload controller
    "command": (list, False, str),
    "args": (list, False, str),
    "env": (list, False, {"name": (str, True, None), "value": (str, False, None)}),
    "securityContext": (dict, False, SECURITY_CONTEXT),
    "resources": (dict, False, RESOURCES),
    "volumeMounts": (list, False, VOLUME_MOUNT),
    "imagePullPolicy": (str, False, enum("Always", "IfNotPresent", "Never")),
}
HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")
VOLUME = {
    "name": (str, True, name_check(DNS_LABEL, "DNS label")),
    "hostPath": (dict, False, {"path": (str, True, abspath), "type": (str, False, enum(*HOST_PATH_TYPES))}),
    "configMap": (dict, False, {"name": (str, True, name_check(DNS_SUBDOMAIN, "DNS subdomain name")),
                                "defaultMode": (int, False, None), "optional": (bool, False, None)}),
    "emptyDir": (dict, False, {}),
}
TOLERATION = {
    "key": (str, False, None),
    "operator": (str, False, enum("Exists", "Equal")),
    "value": (str, False, None),
    "effect": (str, False, enum("NoSchedule", "PreferNoSchedule", "NoExecute")),
}
POD_SPEC = {
    "containers": (list, True, CONTAINER),
    "initContainers": (list, False, CONTAINER),
    "volumes": (list, False, VOLUME),
    "hostPID": (bool, False, None),
    "hostNetwork": (bool, False, None),
    "priorityClassName": (str, False, None),
    "nodeSelector": ("map", False, None),
    "tolerations": (list, False, TOLERATION),
    "runtimeClassName": (str, False, name_check(DNS_SUBDOMAIN, "DNS subdomain name")),
    "restartPolicy": (str, False, enum("Always", "OnFailure", "Never")),
    "terminationGracePeriodSeconds": (int, False, None),
}
KINDS = {
    ("node.k8s.io/v1", "RuntimeClass"): {
        "handler": (str, True, name_check(DNS_LABEL, "DNS label (RuntimeClass handler)")),
        "overhead": (dict, False, {"podFixed": ("quantities", False, None)}),
        "scheduling": (dict, False, {"nodeSelector": ("map", False, None), "tolerations": (list, False, TOLERATION)}),
    },
    ("v1", "ConfigMap"): {"data": ("map", False, None), "immutable": (bool, False, None)},
    ("apps/v1", "DaemonSet"): {"spec": (dict, True, {
        "selector": (dict, True, {"matchLabels": ("map", False, None)}),
        "template": (dict, True, {"metadata": (dict, False, TEMPLATE_METADATA), "spec": (dict, True, POD_SPEC)}),
        "updateStrategy": (dict, False, {
            "type": (str, False, enum("RollingUpdate", "OnDelete")),
            "rollingUpdate": (dict, False, {"maxUnavailable": ("intorstr", False, None),
                                            "maxSurge": ("intorstr", False, None)})}),
        "minReadySeconds": (int, False, None),
    })},
    ("v1", "Pod"): {"spec": (dict, True, POD_SPEC)},
}
TYPES = {str: "string", bool: "boolean", int: "integer", dict: "object", list: "list"}


def check(where, obj, schema):
    if not isinstance(obj, dict):
        return err(where, f"is {type(obj).__name__}, not an object")
    for key in obj:
        if key not in schema:
            err(where, f"unknown field {key!r}")
    for key, (typ, required, sub) in schema.items():
        here = f"{where}.{key}"
        if key not in obj:
            if required:
                err(where, f"missing required field {key!r}")
            continue
        v = obj[key]
        if typ == "map":
            if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
                err(here, "must map strings to strings (quote numbers and booleans)")
        elif typ == "quantities":
            if not isinstance(v, dict) or not all(QUANTITY.match(str(x)) for x in v.values()):
                err(here, f"not a map of quantities: {v!r}")
        elif typ == "intorstr":
            if not isinstance(v, (int, str)) or isinstance(v, bool):
                err(here, "must be an integer or a percentage string")
        elif typ is int and isinstance(v, bool) or not isinstance(v, typ):
            err(here, f"must be a {TYPES[typ]}")
        elif typ is dict:
            check(here, v, sub)
        elif typ is list:
            for i, item in enumerate(v):
                if isinstance(sub, dict):
                    check(f"{here}[{i}]", item, sub)
                elif not isinstance(item, sub):
                    err(f"{here}[{i}]", f"must be a {TYPES[sub]}")
        elif callable(sub):
            sub(here, v)


def check_object(where, doc):
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in KINDS:
        return err(where, f"apiVersion/kind {key} is none this check knows")
    schema = dict(KINDS[key], apiVersion=(str, True, None), kind=(str, True, None),
                  metadata=(dict, True, METADATA))
    check(where, doc, schema)
    for field in ("labels", "annotations"):
        for k in (doc.get("metadata", {}).get(field) or {}):
            QUALIFIED_NAME.match(k) or err(f"{where}.metadata.{field}", f"{k!r} is not a valid key")
    for k in (doc.get("data") or {}) if key[1] == "ConfigMap" else ():
        CONFIGMAP_KEY.match(k) or err(f"{where}.data", f"{k!r} is not a valid ConfigMap key")
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec") if key[1] == "DaemonSet" else spec if key[1] == "Pod" else None
    if key[1] == "DaemonSet":
        sel = spec.get("selector", {}).get("matchLabels") or {}
        labels = spec.get("template", {}).get("metadata", {}).get("labels") or {}
        if not sel or any(labels.get(k) != v for k, v in sel.items()):
            err(where, "spec.selector.matchLabels must be non-empty and match spec.template.metadata.labels")
    if isinstance(pod, dict):
        volumes = [v.get("name") for v in pod.get("volumes") or []]
        if len(set(volumes)) != len(volumes):
            err(where, "two volumes share a name")
        for v in pod.get("volumes") or []:
            if sum(s in v for s in ("hostPath", "configMap", "emptyDir")) != 1:
                err(where, f"volume {v.get('name')!r} must have exactly one source")
        names = []
        for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
            names.append(c.get("name"))
            for m in c.get("volumeMounts") or []:
                if m.get("name") not in volumes:
                    err(where, f"container {c.get('name')!r} mounts {m.get('name')!r}, which is no volume")
                if m.get("mountPropagation") == "Bidirectional" and not c.get("securityContext", {}).get("privileged"):
                    err(where, f"container {c.get('name')!r}: Bidirectional propagation needs privileged")
        if len(set(names)) != len(names):
            err(where, "two containers share a name")


docs = {}
for name in sorted(os.listdir(DIR)):
    if name.endswith(".yaml"):
        with open(os.path.join(DIR, name)) as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if doc is None:
                    continue
                check_object(f"{name}[{i}] {doc.get('kind')}", doc)
                docs[(doc.get("kind"), doc.get("metadata", {}).get("name"))] = doc
with open(os.path.join(DIR, "containerd-commitd.toml"), "rb") as f:
    containerd = tomllib.load(f)
with open(os.path.join(DIR, "crio-commitd.conf"), "rb") as f:
    crio = tomllib.load(f)


def get(d, *path):
    for p in path:
        d = d.get(p, {}) if isinstance(d, dict) else {}
    return d


# What ties them together.
rc = docs.get(("RuntimeClass", "commitd"))
ds = docs.get(("DaemonSet", "commitd"))
pod = docs.get(("Pod", "worker"))
policies = docs.get(("ConfigMap", "commitd-policies"))
ocicfg = docs.get(("ConfigMap", "commitd-oci-runtime"))
for what, doc in (("RuntimeClass commitd", rc), ("DaemonSet commitd", ds), ("Pod worker", pod),
                  ("ConfigMap commitd-policies", policies), ("ConfigMap commitd-oci-runtime", ocicfg)):
    doc or err("contrib/kubernetes", f"no {what}")
if not errors:
    handler = rc["handler"]
    cri = get(containerd, "plugins", "io.containerd.grpc.v1.cri", "containerd")
    containerd.get("version") == 2 or err("containerd-commitd.toml", "not config version 2")
    runtime = get(cri, "runtimes", handler)
    runtime or err("containerd-commitd.toml", f"no runtime for the RuntimeClass handler {handler!r}")
    runtime.get("runtime_type") == "io.containerd.runc.v2" or err("containerd-commitd.toml", "runtime_type")
    "io.commitd.policy" in runtime.get("pod_annotations", []) or err("containerd-commitd.toml", "pod_annotations")
    get(cri, "runtimes", "runc", "runtime_type") == "io.containerd.runc.v2" or \
        err("containerd-commitd.toml", "no runc runtime beside commitd: Pods without the RuntimeClass would not run")
    cri.get("default_runtime_name") == "runc" or err("containerd-commitd.toml", "default_runtime_name is not runc")
    crio_rt = get(crio, "crio", "runtime", "runtimes", handler)
    crio_rt or err("crio-commitd.conf", f"no runtime for the RuntimeClass handler {handler!r}")
    "io.commitd.policy" in crio_rt.get("allowed_annotations", []) or err("crio-commitd.conf", "allowed_annotations")
    # the wrapper's path on the node: what the init container installs, what both runtimes call
    spec = ds["spec"]["template"]["spec"]
    install = " ".join(" ".join(c.get("command", [])) for c in spec.get("initContainers", []))
    wrapper = get(runtime, "options", "BinaryName")
    crio_rt.get("runtime_path") == wrapper or err("crio-commitd.conf", f"runtime_path is not {wrapper}")
    host_paths = {v["name"]: v["hostPath"]["path"] for v in spec.get("volumes", []) if "hostPath" in v}
    installed = False
    for c in spec.get("initContainers", []):
        for m in c.get("volumeMounts", []):
            if m["name"] in host_paths and wrapper.startswith(host_paths[m["name"]] + "/"):
                installed = installed or (m["mountPath"] + wrapper[len(host_paths[m["name"]]):]) in install
    installed or err("commitd-daemonset.yaml", f"no init container installs the wrapper at {wrapper}")
    # the Pod example: the RuntimeClass, and a policy the ConfigMap has
    pod["spec"].get("runtimeClassName") == rc["metadata"]["name"] or err("pod-example.yaml", "runtimeClassName")
    names = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key, text in policies.get("data", {}).items():
            path = os.path.join(tmp, key)
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([os.environ.get("COMMITCTL", "commitctl"), "policy", "check", path],
                               capture_output=True, text=True)
            r.returncode == 0 or err(f"ConfigMap commitd-policies {key}", f"commitctl policy check: {r.stdout}{r.stderr}")
            names[json.loads(text).get("name", key[:-5])] = key
    pod_policy = pod["metadata"].get("annotations", {}).get("io.commitd.policy")
    pod_policy in names or err("pod-example.yaml", f"policy {pod_policy!r} is not in the ConfigMap")
    oci = json.loads(ocicfg["data"]["oci-runtime.json"])
    oci.get("default_policy") in names or err("ConfigMap commitd-oci-runtime", "default_policy is not in the ConfigMap")
    # the wrapper's own parser takes the node's config (--version reads it, then runs the real runtime's)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        f.write(ocicfg["data"]["oci-runtime.json"])
        f.flush()
        r = subprocess.run([os.environ.get("OCI_WRAPPER", "commitd-oci-runtime"), "--commitd-config", f.name,
                            "--version"], capture_output=True, text=True)
        r.returncode == 0 and "agent socket " + oci.get("socket", "?") in r.stdout or \
            err("ConfigMap commitd-oci-runtime", f"commitd-oci-runtime does not take it: {r.stdout}{r.stderr}")
    # commitd: its flags exist, and the node's paths it needs are mounted where it looks
    c = next(c for c in spec["containers"] if c["name"] == "commitd")
    helptext = subprocess.run([os.environ.get("COMMITD", "commitd"), "--help"], capture_output=True, text=True)
    for flag in (a for a in c["command"] if a.startswith("--")):
        flag in helptext.stdout + helptext.stderr or err("commitd-daemonset.yaml", f"commitd has no option {flag}")
    spec.get("hostPID") is True or err("commitd-daemonset.yaml", "hostPID: commitd reads /proc of container processes")
    c.get("securityContext", {}).get("privileged") is True or \
        err("commitd-daemonset.yaml", "privileged: the host's cgroup namespace and a writable cgroupfs")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for path, source in (("/run/commitd", "/run/commitd"), ("/sys/fs/cgroup", "/sys/fs/cgroup"),
                         ("/var/lib/commitd", "/var/lib/commitd"), ("/etc/commitd/policies", "commitd-policies")):
        v = volumes.get(mounts.get(path), {})
        if source not in (get(v, "hostPath", "path"), get(v, "configMap", "name")):
            err("commitd-daemonset.yaml", f"commitd's {path} is not {source}")
    os.path.dirname(oci.get("socket", "")) == "/run/commitd" or \
        err("ConfigMap commitd-oci-runtime", "the wrapper's socket is not in /run/commitd, where commitd serves it")

for e in errors:
    print("FAIL:", e, file=sys.stderr)
print(f"{len(docs)} manifests, 2 runtime snippets: {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
