#!/bin/bash
# bench.sh: authoritative queries per second, rensa against NSD, Knot DNS and
# a plain miekg/dns server, in one run on one machine.
#
# A 10,000-name zone (bench.test.) and a query mix of existing names (A),
# NODATA (existing name, TXT) and NXDOMAIN names. Each server is pinned to
# CPU 1 and the load generator to CPU 0 (taskset), every run lasts DURATION
# seconds, and each server is measured RUNS times, the servers taking turns
# (rensa, nsd, knot, plain, rensa, ...); the median is reported, with the
# ratio to NSD and the server's CPU microseconds per query.
#
# Environment: DURATION (10), RUNS (3), TOOL (dnsperf | qgen), SERVERS
# ("rensa nsd knot plain"; "base" and "alt" are other rensa binaries, BASE
# and ALT, measured the same way: builds of other commits, for before/after
# runs). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
RUNS="${RUNS:-3}"
TOOL="${TOOL:-dnsperf}"
SERVERS="${SERVERS:-rensa nsd knot plain}"
ADDR=127.0.0.1
PORT=5399
WORK="$(mktemp -d /tmp/rensa-bench.XXXXXX)"
trap 'stop_server; rm -rf "$WORK"' EXIT

BENCH=bench
. scripts/benchlib.sh

make_zone() {
	local z="$WORK/bench.test.zone"
	{
		echo '$ORIGIN bench.test.'
		echo '$TTL 3600'
		echo '@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300'
		echo '@ IN NS ns1'
		echo 'ns1 IN A 127.0.0.1'
		for i in $(seq 1 10000); do
			echo "h$i IN A 192.0.2.$((i % 250 + 1))"
		done
	} >"$z"
	# Query mix: 60% existing A, 20% NODATA (TXT), 20% NXDOMAIN.
	for i in $(seq 1 10000); do
		case $((i % 5)) in
			0) echo "nx$i.bench.test. A" ;;
			1) echo "h$i.bench.test. TXT" ;;
			*) echo "h$i.bench.test. A" ;;
		esac
	done >"$WORK/queries.txt"
}

start_rensa() {
	taskset -c 1 ./bin/rensa auth --listen "$ADDR:$PORT" --zone "bench.test.=$WORK/bench.test.zone" --no-rrl \
		>"$WORK/rensa.log" 2>&1 &
	SERVER_PID=$!
}

start_base() { start_rensa_binary "$BASE" base; }
start_alt() { start_rensa_binary "$ALT" alt; }

# start_rensa_binary starts rensa binary $1 as server $2, as start_rensa does.
start_rensa_binary() {
	taskset -c 1 "$1" auth --listen "$ADDR:$PORT" --zone "bench.test.=$WORK/bench.test.zone" --no-rrl \
		>"$WORK/$2.log" 2>&1 &
	SERVER_PID=$!
}

start_plain() {
	taskset -c 1 ./bin/plainmiekg -listen "$ADDR:$PORT" -zone "$WORK/bench.test.zone" -origin bench.test. \
		>"$WORK/plain.log" 2>&1 &
	SERVER_PID=$!
}

start_nsd() {
	mkdir -p "$WORK/nsd"
	cat >"$WORK/nsd/nsd.conf" <<CONF
server:
	ip-address: $ADDR@$PORT
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$WORK"
	pidfile: "$WORK/nsd/nsd.pid"
	database: ""
	zonelistfile: "$WORK/nsd/zone.list"
	xfrdfile: "$WORK/nsd/xfrd.state"
	xfrdir: "$WORK/nsd"
	rrl-ratelimit: 0
	verbosity: 0
remote-control:
	control-enable: no
zone:
	name: bench.test.
	zonefile: "$WORK/bench.test.zone"
CONF
	taskset -c 1 nsd -d -c "$WORK/nsd/nsd.conf" >"$WORK/nsd.log" 2>&1 &
	SERVER_PID=$!
}

start_knot() {
	mkdir -p "$WORK/knot"
	cat >"$WORK/knot/knot.conf" <<CONF
server:
    listen: $ADDR@$PORT
    rundir: "$WORK/knot"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$WORK/knot"
template:
  - id: default
    storage: "$WORK"
zone:
  - domain: bench.test.
    file: "$WORK/bench.test.zone"
CONF
	taskset -c 1 knotd -c "$WORK/knot/knot.conf" >"$WORK/knot.log" 2>&1 &
	SERVER_PID=$!
}

# wait_ready polls the server with one query a time, for at most 10 s.
wait_ready() {
	for _ in $(seq 1 100); do
		if dig +short +time=1 +tries=1 -p "$PORT" @"$ADDR" h1.bench.test. A 2>/dev/null | grep -q 192.0.2; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench: server did not become ready" >&2
	return 1
}

# measure prints "qps" for one run against the running server.
measure() {
	if [ "$TOOL" = qgen ]; then
		taskset -c 0 "$WORK/qgen" "$ADDR" "$PORT" "$WORK/queries.txt" "$DURATION" 200 0 |
			sed -n 's/.*qps=\([0-9.]*\).*/\1/p'
	else
		taskset -c 0 dnsperf -s "$ADDR" -p "$PORT" -d "$WORK/queries.txt" -l "$DURATION" -c 4 -q 500 2>/dev/null |
			awk '/Queries per second/ { print $4 }'
	fi
}

# run_once measures run $3 of server $1 and appends "name qps cpu run" to $2.
run_once() {
	local name="$1" out="$2" run="$3" c0 c1 qps
	"start_$name"
	wait_ready
	c0=$(cpu_seconds "$SERVER_PID")
	qps=$(measure)
	c1=$(cpu_seconds "$SERVER_PID")
	stop_server
	echo "$name $qps $(awk -v a="$c0" -v b="$c1" -v q="$qps" -v d="$DURATION" 'BEGIN { printf "%.2f", (b - a) / (q * d) * 1e6 }') $run" |
		tee -a "$out" >&2
}

# summarize prints "name median_qps median_cpu paired [runs]" for server $1 from the
# runs in $2. paired is the median over runs of the server's qps divided by NSD's in
# the same turn: less sensitive to the machine's load changing than the ratio of the
# medians.
summarize() {
	local name="$1" runs="$2" med cpu paired list
	med=$(awk -v n="$name" '$1 == n { print $2 }' "$runs" | median)
	cpu=$(awk -v n="$name" '$1 == n { print $3 }' "$runs" | median)
	paired=$(awk -v n="$name" '$1 == "nsd" { nsd[$4] = $2 } $1 == n { q[$4] = $2 }
		END { for (r in q) if (nsd[r] > 0) printf "%.4f\n", q[r] / nsd[r] }' "$runs" | median)
	list=$(awk -v n="$name" '$1 == n { printf " %s", $2 }' "$runs")
	echo "$name $med $cpu ${paired:--} [$list ]"
}

main() {
	make build >/dev/null
	go build -o bin/plainmiekg ./bench/plainmiekg
	if [ "$TOOL" = qgen ]; then
		gcc -O2 -o "$WORK/qgen" ../shared/bench/qgen.c
	fi
	make_zone
	echo "# bench: $TOOL, ${DURATION}s x $RUNS runs per server, servers in turn, median; server on CPU 1, load on CPU 0"
	echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	local servers="" runs="$WORK/runs" results="$WORK/results"
	for s in $SERVERS; do
		case $s in base | alt)
			local bin="${s^^}"
			if [ ! -x "${!bin:-}" ]; then
				echo "# $s: $bin is not an executable, skipped"
				continue
			fi
		esac
		if [ "$s" != rensa ] && [ "$s" != plain ] && [ "$s" != base ] && [ "$s" != alt ] && ! command -v "${s/knot/knotd}" >/dev/null; then
			echo "# $s: not installed, skipped"
			continue
		fi
		servers="$servers $s"
	done
	# The servers take turns, run by run, so that a change in the machine's load
	# (it is shared) falls on all of them alike rather than on one server's runs.
	: >"$runs"
	for run in $(seq 1 "$RUNS"); do
		for s in $servers; do run_once "$s" "$runs" "$run"; done
	done
	: >"$results"
	for s in $servers; do summarize "$s" "$runs" | tee -a "$results" >&2; done
	local nsd
	nsd=$(awk '$1 == "nsd" { print $2 }' "$results")
	printf '%-8s %12s %10s %14s %16s\n' server qps vs_nsd vs_nsd_paired "cpu_us/query"
	while read -r name qps cpu paired _; do
		local ratio="-"
		if [ -n "$nsd" ]; then ratio=$(awk -v a="$qps" -v b="$nsd" 'BEGIN { printf "%.2fx", a / b }'); fi
		if [ "$paired" != - ]; then paired=$(awk -v p="$paired" 'BEGIN { printf "%.2fx", p }'); fi
		printf '%-8s %12.0f %10s %14s %16s\n' "$name" "$qps" "$ratio" "$paired" "$cpu"
	done <"$results"
}

main "$@"
