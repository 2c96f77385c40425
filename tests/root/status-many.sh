#!/bin/bash
# Issue 10: a status of every budget works at any count. With 1,000 policies the reply once passed the 64 KiB
# message cap ("InternalError: the reply would pass 65536 bytes"); now a reply holds what fits and names the
# next page, and `commitctl status` asks to the end.
set -u
. "$(dirname "$0")/lib.sh"
require_root
start_commitd

N=1000
for i in $(seq -w $N); do policy "p$i" '"mode": "strict", "limit": "64M"'; done
"$COMMITCTL" reload >/dev/null || fail "reload of $N policies"

rows=$("$COMMITCTL" status | grep -c "$SCRATCH/p")
[ "$rows" = $N ] || fail "commitctl status shows $rows of $N cgroups"
"$COMMITCTL" --json status >"$WORK/status.json" || fail "commitctl --json status failed"
python3 - "$N" "$SCRATCH" "$WORK/status.json" <<'PY' || fail "commitctl --json status is not every cgroup once, in order"
import json, sys
n, scratch = int(sys.argv[1]), sys.argv[2]
names = [c["cgroup"] for c in json.load(open(sys.argv[3]))["cgroups"] if c["cgroup"].startswith(scratch + "/")]
assert names == sorted(set(names)) and len(names) == n, (len(names), len(set(names)))
PY
# metrics pages the same way: every budget once, and the exposition is still one valid whole.
"$COMMITCTL" metrics >"$WORK/metrics.prom" || fail "commitctl metrics failed"
rows=$(grep -c "^commitd_budget_info{cgroup=\"$SCRATCH/p" "$WORK/metrics.prom")
[ "$rows" = $N ] || fail "commitctl metrics shows $rows of $N budgets"
# promtool is missing only where scripts/deps did not run: a failure, not a silent pass (tests/root/metrics.sh)
command -v promtool >/dev/null || fail "promtool missing: scripts/deps installs Debian's prometheus"
promtool check metrics <"$WORK/metrics.prom" >/dev/null 2>&1 || fail "promtool rejects the metrics of $N budgets"

# The protocol itself: a first page with "next", the page after it starts past it, the last has none.
python3 - "$COMMITD_SOCKET" <<'PY' || fail "status pages"
import json, socket, sys
def call(params):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(json.dumps({"version": 1, "id": 1, "method": "status", "params": params}).encode())
    reply = json.loads(s.recv(70000))
    s.close()
    return reply["result"]
first = call({})
assert "next" in first and len(first["cgroups"]) > 10, first.keys()
second = call({"after": first["next"]})
assert second["cgroups"][0]["cgroup"] > first["next"]
pages, page = 2, second
while "next" in page:
    page = call({"after": page["next"]})
    pages += 1
print(f"{pages} pages of at most {len(first['cgroups'])} cgroups")
PY
finish
