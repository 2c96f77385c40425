#!/bin/bash
# Real programs under a strict budget far from its limit, against the same programs not enrolled (issue 10):
# wall time of a Python, a Node and a JVM start with a small program each, a gcc compile of commitd's lib/, and
# Redis throughput (redis-benchmark SET/GET against a redis-server enrolled or not). Each pair runs ROUNDS times
# interleaved (enrolled, plain, enrolled, ...) in this one invocation; it prints medians and their ratio.
# A benchmark: it asserts nothing. Its own commitd, cgroup and files, all removed at the end.
#
# Usage: tests/bench/bench-programs.sh [ROUNDS]   (as root, after scripts/build build)
set -u
cd "$(dirname "$0")/../.."
ROUNDS=${1:-7}
BUILD=$PWD/build
[ "$(id -u)" = 0 ] || { echo "bench-programs: run it as root" >&2; exit 2; }
for p in python3 node java javac gcc redis-server redis-benchmark; do
	command -v $p >/dev/null || { echo "bench-programs: $p is missing (apt-get install python3 nodejs default-jdk gcc redis-server)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/bench-programs.XXXXXX)
CG=/commitd-programs-$$
mkdir -p "$WORK/policies" "$WORK/java"
echo "{\"cgroup\": \"$CG\", \"mode\": \"strict\", \"limit\": \"64G\"}" >"$WORK/policies/programs.json"
export COMMITD_SOCKET=$WORK/commitd.sock
"$BUILD/daemon/commitd" --foreground --socket "$COMMITD_SOCKET" --oci-socket "$WORK/oci.sock" \
	--policy-dir "$WORK/policies" --state-dir "$WORK/state" --log-level warning 2>"$WORK/commitd.log" &
DAEMON=$!
REDIS=
cleanup() {
	[ -n "$REDIS" ] && kill "$REDIS" 2>/dev/null && wait "$REDIS" 2>/dev/null
	kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
	v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	rmdir "$v2$CG" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 100); do "$BUILD/cli/commitctl" status >/dev/null 2>&1 && break; sleep 0.05; done
enrolled() { "$BUILD/cli/commitctl" run --cgroup "$CG" -- "$@"; }

cat >"$WORK/java/Hello.java" <<'JAVA'
public class Hello {
    public static void main(String[] a) {
        java.util.List<Integer> l = new java.util.ArrayList<>();
        for (int i = 0; i < 1000000; i++) l.add(i);
        System.out.println(l.size());
    }
}
JAVA
javac -d "$WORK/java" "$WORK/java/Hello.java"

# millis CMD...: wall time of one run, in milliseconds.
millis() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# pair NAME CMD...: ROUNDS interleaved runs enrolled and not; prints medians and the ratio.
pair() {
	local name=$1 a=() b=() i
	shift
	for i in $(seq "$ROUNDS"); do
		a+=("$(millis enrolled "$@")")
		b+=("$(millis "$@")")
	done
	local ma mb
	ma=$(printf '%s\n' "${a[@]}" | median)
	mb=$(printf '%s\n' "${b[@]}" | median)
	printf '%-28s enrolled %6d ms   not enrolled %6d ms   ratio %s\n' "$name" "$ma" "$mb" \
		"$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.3fx", b ? a / b : 0 }')"
}

echo "bench-programs: $ROUNDS rounds each, interleaved; strict budget of 64 GiB (far from its limit)"
# What `commitctl run` costs a start by itself (connect, filter, enroll and its measure, exec): the fixed part
# of every enrolled row below.
pair "true (the start alone)" true
# The system's Python: a `python3` found first in PATH may be a pyenv shim, a shell script that forks 40 times.
pair "python3 (1e6 ints)" /usr/bin/python3 -c 'import json, re; x = list(range(10**6)); print(len(json.dumps(x[:1000])))'
pair "node (1e7 loop)" node -e 'let s = 0; for (let i = 0; i < 1e7; i++) s += i; console.log(s)'
pair "java (1e6 boxed ints)" java -cp "$WORK/java" Hello
pair "gcc -O2 -c lib/*.c" bash -c "cd '$WORK' && gcc -O2 -c -D_GNU_SOURCE -I'$PWD/lib' -I'$BUILD' $(ls "$PWD"/lib/*.c | tr '\n' ' ')"

# Redis: one server per side, the benchmark client not enrolled; requests per second of SET and GET.
rps() {
	redis-benchmark -p "$1" -q -n 100000 -t set,get 2>/dev/null | awk '/requests per second/ { gsub(/[^0-9.]/, "", $2); s += $2 } END { print int(s / 2) }'
}
serve() {
	local port=$1
	shift
	"$@" redis-server --port "$port" --save '' --appendonly no >/dev/null 2>&1 &
	REDIS=$!
	for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
}
a=() b=()
for i in $(seq "$ROUNDS"); do
	serve 16391 "$BUILD/cli/commitctl" run --cgroup "$CG" --
	a+=("$(rps 16391)")
	kill "$REDIS" && wait "$REDIS" 2>/dev/null
	serve 16392
	b+=("$(rps 16392)")
	kill "$REDIS" && wait "$REDIS" 2>/dev/null
	REDIS=
done
ma=$(printf '%s\n' "${a[@]}" | median)
mb=$(printf '%s\n' "${b[@]}" | median)
printf '%-28s enrolled %6d rps  not enrolled %6d rps  ratio %s (throughput: higher is better)\n' "redis SET+GET" \
	"$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.3fx", b ? a / b : 0 }')"
