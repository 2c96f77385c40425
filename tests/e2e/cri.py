#!/usr/bin/python3
# A minimal CRI client (runtime.v1, what the kubelet speaks) for tests/e2e/containerd-cri.sh: crictl is not in
# Debian 12. The messages are encoded by hand (protobuf wire format) with the field numbers of the CRI API
# (k8s.io/cri-api pkg/apis/runtime/v1/api.proto); gRPC is Debian's python3-grpcio.
#   cri.py SOCKET runp NAME HANDLER POLICY|- CGROUP-PARENT LOGDIR    prints the sandbox id (host network)
#   cri.py SOCKET create POD-ID LOGDIR NAME IMAGE CMD...              prints the container id
#   cri.py SOCKET start ID | wait ID SECONDS | pid ID | rmp POD-ID | rmall
#   cri.py SOCKET exec ID SECONDS CMD...                             the command's output; its exit code
import json
import os
import sys
import time

import grpc


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, value):
    """One field: int -> varint, str/bytes -> length-delimited, list -> repeated, dict -> map<string,string>."""
    if value is None:
        return b""
    if isinstance(value, list):
        return b"".join(field(num, v) for v in value)
    if isinstance(value, dict):
        return b"".join(field(num, msg({1: k, 2: v})) for k, v in value.items())
    if isinstance(value, bool) or isinstance(value, int):
        return varint(num << 3) + varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return varint(num << 3 | 2) + varint(len(data)) + data


def msg(fields):
    return b"".join(field(n, v) for n, v in sorted(fields.items()))


def decode(data):
    """Fields of a message: number -> list of ints or bytes."""
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(data, i)
        elif wire == 2:
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            v, i = data[i:i + n], i + n
        else:
            raise ValueError(f"wire type {wire}")
        out.setdefault(num, []).append(v)
    return out


def read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def one(fields, num, default=b""):
    return fields.get(num, [default])[0]


def call(method, request, timeout=120):
    rpc = channel.unary_unary(f"/runtime.v1.RuntimeService/{method}")
    return decode(rpc(request, timeout=timeout))


def sandbox_config(pod):
    """PodSandboxConfig: metadata, log_directory, annotations, linux{cgroup_parent, security_context{namespace
    options: network NODE (no CNI)}}."""
    return msg({1: msg({1: pod["name"], 2: "uid-" + pod["name"], 3: "default"}),
                3: pod["logdir"],
                7: {"io.commitd.policy": pod["policy"]} if pod["policy"] != "-" else None,
                8: msg({1: pod["cgroup_parent"], 2: msg({1: msg({1: 2})})})})


sock, verb, args = sys.argv[1], sys.argv[2], sys.argv[3:]
channel = grpc.insecure_channel("unix://" + sock)
if verb == "runp":
    name, handler, policy, parent, logdir = args
    pod = {"name": name, "policy": policy, "cgroup_parent": parent, "logdir": logdir}
    os.makedirs(logdir, exist_ok=True)
    with open(os.path.join(logdir, "pod.json"), "w") as f:
        json.dump(pod, f)
    print(one(call("RunPodSandbox", msg({1: sandbox_config(pod), 2: handler})), 1).decode())
elif verb == "create":
    pod_id, logdir, name, image, cmd = args[0], args[1], args[2], args[3], args[4:]
    with open(os.path.join(logdir, "pod.json")) as f:
        pod = json.load(f)
    config = msg({1: msg({1: name}), 2: msg({1: image}), 3: cmd[:1], 4: cmd[1:], 11: name + ".log"})
    print(one(call("CreateContainer", msg({1: pod_id, 2: config, 3: sandbox_config(pod)})), 1).decode())
elif verb == "start":
    call("StartContainer", msg({1: args[0]}))
elif verb == "wait":  # ContainerStatus.state: 2 is CONTAINER_EXITED; prints the exit code
    deadline = time.monotonic() + float(args[1])
    while time.monotonic() < deadline:
        status = decode(one(call("ContainerStatus", msg({1: args[0]})), 1))
        if one(status, 3, 0) == 2:
            code = one(status, 7, 0)
            print(code - (1 << 64) if code >= 1 << 63 else code)
            sys.exit(0)
        time.sleep(0.1)
    sys.exit("container did not exit")
elif verb == "pid":  # verbose ContainerStatus: info["info"] is JSON with the pid
    info = call("ContainerStatus", msg({1: args[0], 2: True})).get(2, [])
    entries = dict((one(decode(e), 1).decode(), one(decode(e), 2).decode()) for e in info)
    print(json.loads(entries["info"])["pid"])
elif verb == "exec":
    r = call("ExecSync", msg({1: args[0], 2: args[2:], 3: int(args[1])}), timeout=float(args[1]) + 30)
    sys.stdout.write((one(r, 1) + one(r, 2)).decode(errors="replace"))
    sys.exit(one(r, 3, 0))
elif verb == "rmp":
    call("StopPodSandbox", msg({1: args[0]}))
    call("RemovePodSandbox", msg({1: args[0]}))
elif verb == "rmall":
    for item in call("ListPodSandbox", b"").get(1, []):
        pod_id = one(decode(item), 1)
        call("StopPodSandbox", msg({1: pod_id}))
        call("RemovePodSandbox", msg({1: pod_id}))
else:
    sys.exit(f"cri.py: unknown verb {verb}")
