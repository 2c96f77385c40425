#!/bin/bash
# commitd-exporter between a real commitd and a real Prometheus server (Debian's prometheus), as a non-root
# member of commitd's read group, as its unit runs it: Prometheus scrapes it every second and loads the sample
# rules (contrib/prometheus/commitd.rules.yml). A refusal of an enrolled process reaches Prometheus' query API
# under its cgroup and call, and raises CommitdRefusals; a budget held above 90% raises CommitdBudgetNearLimit;
# promtool accepts /metrics; with commitd stopped /metrics is 503 naming the socket, and CommitdDown is raised.
set -u
. "$(dirname "$0")/lib.sh"
require_root
for p in prometheus promtool curl; do
	command -v $p >/dev/null || { fail "$p missing: scripts/deps installs it"; finish; }
done
RULES=$(cd "$(dirname "$0")/../../contrib/prometheus" && pwd)/commitd.rules.yml
READERS=commitd-eg-$$ USER_=commitd-eu-$$
add_group "$READERS" || fail "groupadd $READERS"
add_user "$USER_" -G "$READERS" || fail "useradd $USER_"
COMMITD_ARGS="--read-group $READERS" # the socket is root's and the read group's, 0660
start_commitd
chmod o+x "$WORK" # the socket is reachable by path

# Bad addresses: a clear message and exit code 2, before anything is bound.
for a in 127.0.0.1 localhost:9847 127.0.0.1:65536 '[::1:9847' 300.1.1.1:80 127.0.0.1:+80 '127.0.0.1: 80' '[::1]:-0' \
	127.0.0.1:000009847 :9847; do
	err=$("$EXPORTER" --listen "$a" 2>&1)
	rc=$?
	[ $rc = 2 ] || fail "--listen $a exited $rc, want 2: $err"
	expect_in "$err" "--listen '$a': "
done

# The exporter on a free port of the kernel's choosing, which it logs.
setpriv --reuid="$USER_" --regid="$(id -g "$USER_")" --init-groups \
	"$EXPORTER" --listen 127.0.0.1:0 --socket "$COMMITD_SOCKET" 2>"$WORK/exporter.log" &
STARTED_PIDS="${STARTED_PIDS:-} $!"
wait_for 'grep -q "serving /metrics on 127.0.0.1:[1-9]" "$WORK/exporter.log" 2>/dev/null' ||
	{ fail "the exporter did not start: $(cat "$WORK/exporter.log")"; finish; }
PORT=$(sed -n 's|.*serving /metrics on 127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$WORK/exporter.log")
EXPORTER_URL=http://127.0.0.1:$PORT
err=$("$EXPORTER" --listen "127.0.0.1:$PORT" 2>&1)
rc=$?
[ $rc = 1 ] || fail "a second exporter on a port in use exited $rc, want 1"
expect_in "$err" "cannot listen on 127.0.0.1:$PORT: Address already in use"

# Prometheus, scraping it every second and evaluating the rules every second, on a free port of its own.
PROM_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ["$RULES"]
scrape_configs:
  - job_name: commitd
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
STARTED_PIDS="${STARTED_PIDS:-} $!"
PROM=http://127.0.0.1:$PROM_PORT
wait_for 'curl -sf "$PROM/-/ready" >/dev/null' || { fail "Prometheus is not ready: $(tail -20 "$WORK/prometheus.log")"; finish; }

# query EXPR: one line per series of an instant query, "LABELS VALUE".
query() {
	python3 - "$PROM" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
for s in json.load(urllib.request.urlopen(url, timeout=5))["data"]["result"]:
    print(",".join("%s=%s" % kv for kv in sorted(s["metric"].items())), s["value"][1])
EOF
}
has_series() { query "$1" 2>/dev/null | grep -q .; }
# poll CONDITION: as wait_for, up to 60 s, but counted in seconds, not tries: each query takes a while.
poll() {
	local end=$((SECONDS + 60))
	while [ $SECONDS -lt $end ]; do
		eval "$1" && return 0
		sleep 0.5
	done
	return 1
}

# A budget held above 90% of its limit: CommitdBudgetNearLimit waits 5 minutes, pending until then. Its
# counters are then known to Prometheus at 0, so that a refusal is an increase (a Prometheus that started a
# moment ago alerts on increases only: contrib/prometheus/commitd.rules.yml).
policy full '"mode": "strict", "limit": "64M", "swap": "0"'
"$COMMITCTL" reload >/dev/null || fail "reload"
start_held full "$COMMITCTL" run --policy full -- "$WORKLOAD" map:59M wait
expect_in "$(cat "$WORK/full.out")" "OK map:59M"
refused="commitd_budget_refused_calls_total{cgroup=\"$SCRATCH/full\",call=\"mmap\"}"
poll 'has_series "ALERTS{alertname=\"CommitdBudgetNearLimit\",cgroup=\"$SCRATCH/full\",alertstate=\"pending\"}"' ||
	fail "CommitdBudgetNearLimit is not pending: $(query "commitd_budget_committed_bytes{cgroup=\"$SCRATCH/full\"}") $(query ALERTS)"
poll 'has_series "$refused == 0"' || fail "Prometheus never saw the budget's counters: $(query "$refused")"
has_series 'ALERTS{alertname=~"CommitdDown|CommitdRefusals"}' && fail "alerts with nothing refused: $(query ALERTS)"
has_series 'up{job="commitd"} == 1' || fail "Prometheus' target is not up: $(query up)"

# A refusal in that budget: Prometheus finds it counted, and CommitdRefusals fires.
expect_in "$("$COMMITCTL" run --policy full -- "$WORKLOAD" map:1G 2>&1)" "ENOMEM map:1G"
poll 'has_series "$refused == 1"' || fail "Prometheus never saw the refusal: $(query "$refused")"
poll 'has_series "ALERTS{alertname=\"CommitdRefusals\",cgroup=\"$SCRATCH/full\",alertstate=\"firing\"}"' ||
	fail "CommitdRefusals did not fire: $(query ALERTS)"

# /metrics as a scraper sees it: the exposition of a reader (commitd's own numbers too), promtool's approval.
curl -sf -D "$WORK/headers" -o "$WORK/metrics.prom" "$EXPORTER_URL/metrics" || fail "curl /metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/headers" || fail "content type: $(cat "$WORK/headers")"
lint=$(promtool check metrics <"$WORK/metrics.prom" 2>&1) || fail "promtool check metrics rejects /metrics: $lint"
printf '# HELP x_bad A counter.\n# TYPE x_bad counter\nx_bad 1\n' | promtool check metrics >/dev/null 2>&1 &&
	fail "promtool accepted a counter without _total: the check above proves nothing"
for line in "commitd_up 1" "$refused 1" "commitd_keeper_up 1" "commitd_budget_enrolled_processes{cgroup=\"$SCRATCH/full\"} 1"; do
	grep -qxF "$line" "$WORK/metrics.prom" || fail "no line '$line' in /metrics"
done
grep -q '^commitd_judge_duration_seconds_count [1-9]' "$WORK/metrics.prom" || fail "no judge histogram in /metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$EXPORTER_URL/nosuch")" = 404 ] || fail "/nosuch is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$EXPORTER_URL/metrics")" = 405 ] || fail "POST is not 405"

# commitd stopped: 503 saying why and where, Prometheus' target down, CommitdDown raised.
echo >&9 # the held workload ends
stop_commitd
code=$(curl -s -o "$WORK/body" -w '%{http_code}' "$EXPORTER_URL/metrics")
[ "$code" = 503 ] || fail "with commitd stopped /metrics is $code, want 503"
expect_in "$(cat "$WORK/body")" "commitd is not reachable at $COMMITD_SOCKET: No such file or directory"
poll 'has_series "up{job=\"commitd\"} == 0"' || fail "Prometheus' target stayed up: $(query up)"
poll 'has_series "ALERTS{alertname=\"CommitdDown\"}"' || fail "CommitdDown not raised: $(query ALERTS)"
grep -q "<3>commitd-exporter: commitd is not reachable at $COMMITD_SOCKET" "$WORK/exporter.log" ||
	fail "the exporter did not log commitd down: $(cat "$WORK/exporter.log")"

# commitd back: the next scrape is answered again.
launch_commitd
[ "$(curl -s -o /dev/null -w '%{http_code}' "$EXPORTER_URL/metrics")" = 200 ] || fail "/metrics after commitd came back"
finish
