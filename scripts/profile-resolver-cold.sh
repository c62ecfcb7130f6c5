#!/bin/bash
# profile-resolver-cold.sh: what bounds a cold run of bench-resolver.sh.
#
# The same setup as the cold rows of scripts/bench-resolver.sh (the
# testbed and dnsperf on CPU 0, each resolver fresh on CPU 1, 1,000
# names sent once with 20 in flight, the resolvers alternating within
# each run), but instead of the time alone it reports, per resolver, the
# CPU time the resolver spent during the list (its threads' run time
# from /proc/PID/task/*/schedstat, in nanoseconds, read when it is ready
# and again when the list is done) as microseconds per name, and how much
# of the run's wall time that is: near 100 %, the resolver is CPU-bound
# and only less CPU per name makes it faster; well below, it waits (for
# the testbed, for wake-ups).
#
#   VALIDATED=1 (default): the signed testbed and the issue #5 list,
#               n1..n1000.zbulk.example.test. A, each resolver validating
#               (Unbound: "validator iterator", aggressive-nsec off);
#   VALIDATED=0: the unsigned testbed and the cold list (names under
#               wild.example.test. and apps.other.test.), no validation.
#   RUNS (5), RESOLVERS ("rensa unbound"; "rensa_base" is a second rensa
#   binary, BASE_BIN, for before/after in the same minutes),
#   PERF=NAME records `perf record -g` of resolver NAME during each run
#   (perf.RUN.data in the kept work directory; see BENCHMARKS.md for how
#   it was read).
#
# Needs root (the testbed serves port 53); loopback only. Wrap it in
# `flock /tmp/rensa-heavy.lock` like every benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-5}"
VALIDATED="${VALIDATED:-1}"
RESOLVERS="${RESOLVERS:-rensa unbound}"
BASE_BIN="${BASE_BIN:-}"
PERF="${PERF:-}"
ADDR=127.0.0.1
PORT=5398
WORK="$(mktemp -d /tmp/rensa-profile-cold.XXXXXX)"
BENCH=profile-resolver-cold
. scripts/benchlib.sh
trap 'stop_server; stop_testbed; [ -n "$PERF" ] || rm -rf "$WORK"' EXIT

# thread_ns prints the CPU time, in nanoseconds, that the threads of a
# process have run so far.
thread_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { print t + 0 }'; }

start_rensa_bin() {
	local v=(--no-validate)
	if [ "$VALIDATED" = 1 ]; then v=(--trust-anchor "$WORK/anchor"); fi
	taskset -c 1 "$1" resolver --listen "$ADDR:$PORT" --root-hints "$WORK/root.hints" \
		--allow 127.0.0.0/8 "${v[@]}" >"$WORK/rensa.log" 2>&1 &
	SERVER_PID=$!
}
start_rensa() { start_rensa_bin ./bin/rensa; }
start_rensa_base() { start_rensa_bin "$BASE_BIN"; }

start_unbound() { start_unbound_resolver "$VALIDATED" no; }

# run_once NAME I prints "NAME I seconds cpu_ns completed" for one run.
run_once() {
	local name="$1" i="$2" c0 c1 out pp=""
	"start_$name"
	wait_resolver_ready
	c0=$(thread_ns "$SERVER_PID")
	if [ "$PERF" = "$name" ]; then
		perf record -q -F 4999 -g -p "$SERVER_PID" -o "$WORK/perf.$i.data" 2>/dev/null &
		pp=$!
		sleep 0.3 # perf attaches
	fi
	out=$(taskset -c 0 dnsperf -s "$ADDR" -p "$PORT" -d "$WORK/list.txt" -t 5 -n 1 -c 1 -q 20 2>/dev/null)
	if [ -n "$pp" ]; then
		kill -INT "$pp"
		wait "$pp" || true
	fi
	c1=$(thread_ns "$SERVER_PID")
	stop_server
	echo "$out" | awk -v n="$name" -v i="$i" -v c=$((c1 - c0)) '
		/Queries completed/ { done = $3 }
		/Run time \(s\)/ { t = $4 }
		END { print n, i, t, c, done }'
}

main() {
	if [ "$(id -u)" != 0 ]; then
		echo "$BENCH: needs root (the testbed serves port 53); skipped" >&2
		exit 0
	fi
	case " $RESOLVERS " in *" rensa_base "*) [ -x "$BASE_BIN" ] || { echo "$BENCH: rensa_base needs BASE_BIN" >&2; exit 1; } ;; esac
	make build >/dev/null
	if [ "$VALIDATED" = 1 ]; then
		for i in $(seq 1 1000); do echo "n$i.zbulk.example.test. A"; done >"$WORK/list.txt"
		start_testbed --signed --write-anchor "$WORK/anchor"
		for _ in $(seq 1 50); do if [ -s "$WORK/anchor" ]; then break; fi; sleep 0.1; done
	else
		for i in $(seq 1 1000); do
			if [ $((i % 2)) = 0 ]; then echo "cold$i.wild.example.test. A"; else echo "cold$i.apps.other.test. A"; fi
		done >"$WORK/list.txt"
		start_testbed
	fi
	local names
	names=$(wc -l <"$WORK/list.txt")
	echo "# runs: resolver run seconds cpu_ns completed"
	for i in $(seq 1 "$RUNS"); do
		for r in $RESOLVERS; do run_once "$r" "$i"; done
	done | tee "$WORK/runs"
	stop_testbed
	echo "# $names names, validated=$VALIDATED, $RUNS runs (median); cpu = the resolver's CPU time during the list"
	printf '%-11s %10s %14s %8s   %s\n' resolver seconds cpu_us/name busy runs_cpu_us/name
	for r in $RESOLVERS; do
		awk -v r="$r" -v names="$names" '$1 == r {
				t[NR] = $3; c[NR] = $4 / 1000 / names; list = list sprintf(" %.1f", $4 / 1000 / names); n++
			}
			function median(a,   k, v, m, i, j, x) {
				m = 0; for (k in a) v[++m] = a[k]
				for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
				return v[int((m + 1) / 2)]
			}
			END { mt = median(t); mc = median(c); printf "%-11s %10.4f %14.1f %7.0f%%  %s\n", r, mt, mc, 100 * mc * names / 1e6 / mt, list }' "$WORK/runs"
	done
	if [ -n "$PERF" ]; then echo "# perf data kept in $WORK"; fi
}

main "$@"
