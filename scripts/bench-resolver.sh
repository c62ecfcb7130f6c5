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
#    under the wildcards), each sent once, COLD_INFLIGHT at a time; RUNS
#    runs, each resolver fresh, rensa and Unbound alternating within each
#    run; the median run time and its rate. The cold runs come before the
#    cache-hit runs.
#  - validated (issue #5): the testbed again, signed ("rensa testbed
#    --signed", NSEC, ECDSAP256SHA256; the root's anchor written beside
#    the hints), and each resolver validating with that anchor (Unbound:
#    module-config "validator iterator", trust-anchor-file, one thread;
#    rensa: validation is on by default, --trust-anchor). Two lists, each
#    of COLD distinct names sent once, COLD_INFLIGHT at a time, against a
#    fresh resolver, RUNS runs (the resolvers alternating), the median
#    time and the ratio:
#     - distinct (the issue's measure): n1..n1000.zbulk.example.test. A,
#       names with records of their own, so each answer has its own RRSIG
#       to verify;
#     - wildcard: names under *.wild.example.test. (each answer a wildcard
#       expansion with its RRSIG and the NSEC proving the name absent;
#       after the first, rensa answers them from the validated wildcard
#       and NSEC it holds, RFC 8198 §5.4, without asking upstream).
#    Every answer must carry AD (dnsperf's rcode count shows failures;
#    the script checks one name with dig first). Unbound runs with
#    aggressive-nsec off ("unbound": each name a real cache miss, one
#    upstream query) and on ("unbound_aggr", its default, which
#    synthesises wildcard answers as rensa does).
#
# Environment: DURATION (10), RUNS (3), COLD (1000), COLD_INFLIGHT (20),
# RESOLVERS ("rensa unbound"), HITS (1; 0 skips the cache-hit runs),
# VALIDATED (1; 0 skips the signed testbed). Needs root for port 53;
# loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
RUNS="${RUNS:-3}"
COLD="${COLD:-1000}"
COLD_INFLIGHT="${COLD_INFLIGHT:-20}"
RESOLVERS="${RESOLVERS:-rensa unbound}"
HITS="${HITS:-1}"
VALIDATED="${VALIDATED:-1}"
VALIDATE=0 # set while the signed testbed runs: the resolvers validate
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
	for i in $(seq 1 "$COLD"); do echo "v$i.wild.example.test. A"; done >"$WORK/validated-wild.txt"
	for i in $(seq 1 "$COLD"); do echo "n$((i % 1000 + 1)).zbulk.example.test. A"; done >"$WORK/validated.txt"
}

start_rensa() {
	local v=(--no-validate)
	if [ "$VALIDATE" = 1 ]; then v=(--trust-anchor "$WORK/anchor"); fi
	taskset -c 1 ./bin/rensa resolver --listen "$ADDR:$PORT" --root-hints "$WORK/root.hints" \
		--allow 127.0.0.0/8 "${v[@]}" >"$WORK/rensa.log" 2>&1 &
	SERVER_PID=$!
}

# start_unbound starts Unbound; validating (VALIDATE=1) it runs with
# aggressive-nsec off, so that each name is a real cache miss
# (start_unbound_aggr keeps Unbound's default, aggressive-nsec on).
start_unbound() { start_unbound_resolver "$VALIDATE" "${UNBOUND_AGGRESSIVE:-no}"; }

# start_unbound_aggr is Unbound with aggressive-nsec on (its default): a
# validated wildcard answer, with the NSEC
# proving the name absent, lets it answer the other names under the
# wildcard from its cache (RFC 8198 §5.3), without asking upstream.
start_unbound_aggr() { UNBOUND_AGGRESSIVE=yes start_unbound; }

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
		wait_resolver_ready
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

# cold_once NAME LIST I sends LIST once to a fresh resolver NAME (run I).
cold_once() {
	local name="$1" list="$2" i="$3"
	"start_$name"
	wait_resolver_ready
	dnsperf_run "$list" -n 1 -c 1 -q "$COLD_INFLIGHT" >"$WORK/$(basename "$list" .txt)-$name.$i"
	# After the run, so that the check warms nothing the run uses.
	if [ "$VALIDATE" = 1 ]; then check_validating "$name"; fi
	stop_server
}

# bench_cold LIST RESOLVERS... runs LIST RUNS times against each resolver,
# the resolvers alternating within each run (so that a change in the
# machine's load hits them alike), and prints per resolver "NAME
# median-seconds qps completed lost noerror [seconds of each run]".
bench_cold() {
	local list="$1" i name
	shift
	for i in $(seq 1 "$RUNS"); do
		for name in "$@"; do cold_once "$name" "$list" "$i"; done
	done
	for name in "$@"; do
		local out runs="" med
		out="$WORK/$(basename "$list" .txt)-$name"
		for i in $(seq 1 "$RUNS"); do runs="$runs $(awk '/Run time \(s\)/ { print $4 }' "$out.$i")"; done
		med=$(echo "$runs" | tr ' ' '\n' | grep . | median)
		# The counts of the median run.
		for i in $(seq 1 "$RUNS"); do
			if grep -q "Run time (s): *$med\$" "$out.$i"; then
				awk -v n="$name" -v runs="$runs" '
					/Queries completed/ { done = $3 }
					/Queries lost/ { lost = $3 }
					/Response codes/ { for (i = 1; i < NF; i++) if ($i == "NOERROR") ok = $(i + 1) }
					/Run time \(s\)/ { t = $4 }
					/Queries per second/ { q = $4 }
					END { printf "%s %s %s %s %s %s [%s ]\n", n, t, q, done, lost, ok + 0, runs }' "$out.$i"
				break
			fi
		done
	done
}

# check_validating fails unless the resolver just started answers a name
# of the signed testbed with AD.
check_validating() {
	if ! dig +dnssec +time=2 +tries=1 -p "$PORT" @"$ADDR" check.wild.example.test. A | grep -q 'flags:.* ad'; then
		echo "bench-resolver: $1 does not validate the signed testbed" >&2
		return 1
	fi
}

# cold_table prints the cold (or validated) lines of FILE with the ratio
# to Unbound's time.
cold_table() {
	local file="$1" ubt
	ubt=$(awk '$1 == "unbound" { print $2 }' "$file")
	printf '%-8s %10s %10s %8s %8s %10s   %s\n' resolver seconds qps lost noerror vs_unbound runs
	while read -r name t cq _ lost ok runs; do
		local cratio="-"
		if [ -n "$ubt" ]; then cratio=$(awk -v a="$t" -v b="$ubt" 'BEGIN { printf "%.2fx", b / a }'); fi
		printf '%-8s %10s %10.0f %8s %8s %10s   %s\n' "$name" "$t" "$cq" "$lost" "$ok" "$cratio" "$runs"
	done <"$file"
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
	local have=""
	for r in $RESOLVERS; do
		if [ "$r" = unbound ] && ! command -v unbound >/dev/null; then
			echo "# unbound: not installed, skipped"
			continue
		fi
		have="$have $r"
	done
	echo "# bench-resolver: $TOOL, cache hits ${DURATION}s x $RUNS runs (median), cold $COLD unique names ($COLD_INFLIGHT in flight) x $RUNS runs (median);"
	echo "# resolver on CPU 1, dnsperf and testbed on CPU 0"
	echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	local hits="$WORK/hits" cold="$WORK/cold" validated="$WORK/validated" vwild="$WORK/validated-wild"
	: >"$hits"
	: >"$cold"
	: >"$validated"
	: >"$vwild"
	start_testbed
	bench_cold "$WORK/cold.txt" $have | tee "$cold" >&2
	if [ "$HITS" = 1 ]; then
		for r in $have; do bench_hits "$r" | tee -a "$hits" >&2; done
	fi
	stop_testbed
	if [ "$VALIDATED" = 1 ]; then
		start_testbed --signed --write-anchor "$WORK/anchor"
		for _ in $(seq 1 50); do if [ -s "$WORK/anchor" ]; then break; fi; sleep 0.1; done
		VALIDATE=1
		local vhave="$have"
		case " $have " in *" unbound "*) vhave="$have unbound_aggr" ;; esac
		bench_cold "$WORK/validated.txt" $vhave | tee "$validated" >&2
		bench_cold "$WORK/validated-wild.txt" $vhave | tee "$vwild" >&2
		VALIDATE=0
		stop_testbed
	fi
	if [ "$HITS" = 1 ]; then
		local ub
		ub=$(awk '$1 == "unbound" { print $2 }' "$hits")
		echo "## cache hits (no validation)"
		printf '%-8s %12s %10s   %s\n' resolver hit_qps vs_unbound runs
		while read -r name qps runs; do
			local ratio="-"
			if [ -n "$ub" ]; then ratio=$(awk -v a="$qps" -v b="$ub" 'BEGIN { printf "%.2fx", a / b }'); fi
			printf '%-8s %12.0f %10s   %s\n' "$name" "$qps" "$ratio" "$runs"
		done <"$hits"
	fi
	echo "## cold: $COLD unique names, no validation (vs_unbound = Unbound's time / rensa's)"
	cold_table "$cold"
	if [ "$VALIDATED" = 1 ]; then
		echo "## validated cold: $COLD distinct names with records of their own (n*.zbulk.example.test.)"
		cold_table "$validated"
		echo "## validated cold: $COLD unique names under the signed wildcard *.wild.example.test."
		cold_table "$vwild"
	fi
}

main "$@"
