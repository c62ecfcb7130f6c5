#!/bin/bash
# bench-resolver.sh: the recursive resolver, rensa against Unbound (one
# thread), in one run on one machine, over the testbed.
#
# The testbed ("rensa testbed", as root on port 53 of 127.53.0.0/16, so
# that Unbound can use its root hints unchanged) serves the hierarchy.
# Each resolver runs without DNSSEC validation (Unbound: module-config
# "iterator") on CPU 1; the load generator and the testbed share CPU 0.
#
#  - cache hits: the query list (names under the testbed's wildcard
#    zones, so that they are many and all resolvable) is sent once to warm
#    the cache, then dnsperf sends it for DURATION seconds; RUNS runs, the
#    median queries per second and the ratio rensa/Unbound are reported.
#  - cold: COLD names never asked before (a fresh resolver, unique names
#    under the wildcards), each sent once, COLD_INFLIGHT at a time; the
#    run time and rate are reported.
#
# Environment: DURATION (10), RUNS (3), COLD (1000), COLD_INFLIGHT (20),
# RESOLVERS ("rensa unbound"). Needs root for port 53; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
RUNS="${RUNS:-3}"
COLD="${COLD:-1000}"
COLD_INFLIGHT="${COLD_INFLIGHT:-20}"
RESOLVERS="${RESOLVERS:-rensa unbound}"
TOOL="${TOOL:-dnsperf}" # dnsperf, or qgen (../shared/bench/qgen.c: batched, past dnsperf's ceiling)
ADDR=127.0.0.1
PORT=5398
WORK="$(mktemp -d /tmp/rensa-bench-resolver.XXXXXX)"
BENCH=bench-resolver
. scripts/benchlib.sh
trap 'stop_server; stop_testbed; rm -rf "$WORK"' EXIT

# make_queries writes the cache-hit list (1,000 names under the two
# wildcard zones, A and AAAA) and the cold list (COLD names never in the
# hit list).
make_queries() {
	hit_names >"$WORK/hit.txt"
	for i in $(seq 1 "$COLD"); do
		if [ $((i % 2)) = 0 ]; then echo "cold$i.wild.example.test. A"; else echo "cold$i.apps.other.test. A"; fi
	done >"$WORK/cold.txt"
}

start_rensa() {
	taskset -c 1 ./bin/rensa resolver --listen "$ADDR:$PORT" --root-hints "$WORK/root.hints" \
		--allow 127.0.0.0/8 --no-validate >"$WORK/rensa.log" 2>&1 &
	SERVER_PID=$!
}

start_unbound() {
	cat >"$WORK/unbound.conf" <<CONF
server:
	verbosity: 0
	interface: $ADDR
	port: $PORT
	do-ip6: no
	num-threads: 1
	so-reuseport: no
	username: ""
	chroot: ""
	pidfile: ""
	directory: "$WORK"
	use-syslog: no
	logfile: ""
	root-hints: "$WORK/root.hints"
	module-config: "iterator"
	do-not-query-localhost: no
	local-zone: "test." nodefault
	access-control: 127.0.0.0/8 allow
remote-control:
	control-enable: no
CONF
	taskset -c 1 unbound -d -c "$WORK/unbound.conf" >"$WORK/unbound.log" 2>&1 &
	SERVER_PID=$!
}

wait_ready() {
	for _ in $(seq 1 100); do
		if dig +short +time=1 +tries=1 -p "$PORT" @"$ADDR" www.example.test. A 2>/dev/null | grep -q '^[0-9]'; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench-resolver: resolver did not become ready" >&2
	return 1
}

# dnsperf_run FILE ARGS... runs dnsperf from CPU 0 and prints its report.
dnsperf_run() {
	local file="$1"
	shift
	taskset -c 0 dnsperf -s "$ADDR" -p "$PORT" -d "$file" -t 5 "$@" 2>/dev/null
}

# bench_hits prints "NAME median-qps [runs]" for cache hits.
bench_hits() {
	local name="$1" list=""
	for _ in $(seq 1 "$RUNS"); do
		"start_$name"
		wait_ready
		dnsperf_run "$WORK/hit.txt" -n 1 -c 4 -q 100 >/dev/null # warm the cache
		local qps
		if [ "$TOOL" = qgen ]; then
			qps=$(taskset -c 0 "$WORK/qgen" "$ADDR" "$PORT" "$WORK/hit.txt" "$DURATION" 200 0 | sed -n 's/.*qps=\([0-9.]*\).*/\1/p')
		else
			qps=$(dnsperf_run "$WORK/hit.txt" -l "$DURATION" -c 4 -q 500 | awk '/Queries per second/ { print $4 }')
		fi
		stop_server
		list="$list $qps"
	done
	echo "$name $(echo "$list" | tr ' ' '\n' | grep . | median) [$list ]"
}

# bench_cold prints "NAME seconds qps completed lost" for the cold list.
bench_cold() {
	local name="$1"
	"start_$name"
	wait_ready
	dnsperf_run "$WORK/cold.txt" -n 1 -c 1 -q "$COLD_INFLIGHT" >"$WORK/cold-$name.out"
	stop_server
	awk -v n="$name" '
		/Queries completed/ { done = $3 }
		/Queries lost/ { lost = $3 }
		/Run time \(s\)/ { t = $4 }
		/Queries per second/ { q = $4 }
		END { printf "%s %s %s %s %s\n", n, t, q, done, lost }' "$WORK/cold-$name.out"
}

main() {
	if [ "$(id -u)" != 0 ]; then
		echo "bench-resolver: needs root (the testbed serves port 53 on 127.53.0.0/16 for Unbound); skipped" >&2
		exit 0
	fi
	make build >/dev/null
	if [ "$TOOL" = qgen ]; then
		gcc -O2 -o "$WORK/qgen" ../shared/bench/qgen.c
	fi
	make_queries
	start_testbed
	echo "# bench-resolver: $TOOL, cache hits ${DURATION}s x $RUNS runs (median), cold $COLD unique names ($COLD_INFLIGHT in flight);"
	echo "# resolver on CPU 1, dnsperf and testbed on CPU 0; no validation"
	echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	local hits="$WORK/hits" cold="$WORK/cold"
	: >"$hits"
	: >"$cold"
	for r in $RESOLVERS; do
		if [ "$r" = unbound ] && ! command -v unbound >/dev/null; then
			echo "# unbound: not installed, skipped"
			continue
		fi
		bench_hits "$r" | tee -a "$hits" >&2
		bench_cold "$r" | tee -a "$cold" >&2
	done
	local ub ubt
	ub=$(awk '$1 == "unbound" { print $2 }' "$hits")
	ubt=$(awk '$1 == "unbound" { print $2 }' "$cold")
	printf '%-8s %12s %10s   %10s %10s %10s %12s\n' resolver hit_qps vs_unbound cold_s cold_qps lost cold_vs_ub
	while read -r name qps _; do
		local ratio="-" t cq lost cratio="-"
		if [ -n "$ub" ]; then ratio=$(awk -v a="$qps" -v b="$ub" 'BEGIN { printf "%.2fx", a / b }'); fi
		read -r _ t cq _ lost < <(awk -v n="$name" '$1 == n' "$cold")
		if [ -n "$ubt" ]; then cratio=$(awk -v a="$t" -v b="$ubt" 'BEGIN { printf "%.2fx", b / a }'); fi
		printf '%-8s %12.0f %10s   %10s %10.0f %10s %12s\n' "$name" "$qps" "$ratio" "$t" "$cq" "$lost" "$cratio"
	done <"$hits"
}

main "$@"
