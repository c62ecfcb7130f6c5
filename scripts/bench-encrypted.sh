#!/bin/bash
# bench-encrypted.sh: the recursive resolver over DNS over TLS and DNS over
# HTTPS, rensa against Unbound (one thread), in one run on one machine,
# over the testbed.
#
# The testbed ("rensa testbed", as root on port 53 of 127.53.0.0/16, as in
# bench-resolver.sh) serves the hierarchy. Each resolver runs without
# DNSSEC validation (Unbound: module-config "iterator") on CPU 1, with a
# DoT and a DoH listener on loopback and the same self-signed certificate
# (made by "rensa resolver --tls-self-signed"); the load generator and the
# testbed share CPU 0.
#
# Each run starts the resolver, warms its cache with the query list (names
# under the testbed's wildcard zones, as bench-resolver.sh) over plain UDP,
# then loads it for DURATION seconds over each transport, CLIENTS
# connections kept open for the whole run (connection reuse) and INFLIGHT
# requests outstanding in all:
#  - dot: dnsperf -m dot with the query list;
#  - doh-get: h2load (nghttp2-client) with one GET URL per name of the
#    list (dns=, base64url), INFLIGHT/CLIENTS streams per connection;
#  - doh-post: h2load POSTing one query (h1.wild.example.test. A) as
#    application/dns-message;
#  - dnsperf-doh-get, dnsperf-doh-post: dnsperf -m doh with the query list,
#    GET and POST (the load generator issue #6 names).
# dnsperf 2.10's DoH client takes at most one answer from each TLS record it
# reads (a second answer's DATA in the same record is dropped), so it only
# loads servers that send one answer per record, as Unbound and rensa do;
# against Go's net/http HTTP/2 server, which rensa used before, it stalled.
# DOH_TOOL=dnsperf runs doh-get and doh-post with dnsperf too.
# rensa and Unbound alternate within each run; RUNS runs, the median
# queries per second and the ratio rensa/Unbound are reported per
# transport, with the individual runs and the queries lost (dnsperf) or
# failed (h2load: requests without a 2xx answer).
#
# Environment: DURATION (10), RUNS (3), CLIENTS (4), INFLIGHT (200),
# RESOLVERS ("rensa unbound"), TRANSPORTS ("dot doh-get doh-post
# dnsperf-doh-get dnsperf-doh-post"), DOH_TOOL (h2load | dnsperf). Needs root for port 53, dnsperf, h2load
# (nghttp2-client) and python3; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
RUNS="${RUNS:-3}"
CLIENTS="${CLIENTS:-4}"
INFLIGHT="${INFLIGHT:-200}"
RESOLVERS="${RESOLVERS:-rensa unbound}"
TRANSPORTS="${TRANSPORTS:-dot doh-get doh-post dnsperf-doh-get dnsperf-doh-post}"
DOH_TOOL="${DOH_TOOL:-h2load}"
ADDR=127.0.0.1
PORT=5395     # plain DNS, for readiness and warming
DOT_PORT=5853 # DNS over TLS
DOH_PORT=5443 # DNS over HTTPS
DOH_PATH=/dns-query
DOH_TYPE=application/dns-message
WORK="$(mktemp -d /tmp/rensa-bench-encrypted.XXXXXX)"
BENCH=bench-encrypted
. scripts/benchlib.sh
trap 'stop_server; stop_testbed; rm -rf "$WORK"' EXIT

# make_queries writes the query list: 1,000 names under the two wildcard
# zones, all resolvable.
make_queries() {
	hit_names >"$WORK/hit.txt"
	# The same names as DoH GET URLs (ID 0, RD, as RFC 8484 §4.1 advises) and
	# one POST body.
	python3 - "$WORK" "https://$ADDR:$DOH_PORT$DOH_PATH" <<'PY'
import base64, struct, sys
work, url = sys.argv[1], sys.argv[2]
def wire(name):
    b = struct.pack(">HHHHHH", 0, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        b += bytes([len(label)]) + label.encode()
    return b + b"\0" + struct.pack(">HH", 1, 1)
with open(work + "/hit.urls", "w") as f:
    for line in open(work + "/hit.txt"):
        q = base64.urlsafe_b64encode(wire(line.split()[0])).decode().rstrip("=")
        f.write(url + "?dns=" + q + "\n")
with open(work + "/post.bin", "wb") as f:
    f.write(wire("h1.wild.example.test."))
PY
}

start_rensa() {
	taskset -c 1 ./bin/rensa resolver --listen "$ADDR:$PORT" \
		--listen "tls://$ADDR:$DOT_PORT" --listen "https://$ADDR:$DOH_PORT$DOH_PATH" \
		--tls-self-signed "$WORK/tls" --root-hints "$WORK/root.hints" \
		--allow 127.0.0.0/8 --no-validate >"$WORK/rensa.log" 2>&1 &
	SERVER_PID=$!
}

start_unbound() {
	cat >"$WORK/unbound.conf" <<CONF
server:
	verbosity: 0
	interface: $ADDR@$PORT
	interface: $ADDR@$DOT_PORT
	interface: $ADDR@$DOH_PORT
	tls-port: $DOT_PORT
	https-port: $DOH_PORT
	http-endpoint: "$DOH_PATH"
	http-notls-downstream: no
	tls-service-key: "$WORK/tls/server.key"
	tls-service-pem: "$WORK/tls/server.pem"
$(unbound_conf_common)
	module-config: "iterator"
CONF
	start_unbound_conf
}

# make_cert makes the self-signed CA and server certificate both resolvers
# use, by starting rensa's resolver once with --tls-self-signed.
make_cert() {
	start_rensa
	wait_ready rensa
	stop_server
	if [ ! -s "$WORK/tls/server.pem" ] || [ ! -s "$WORK/tls/server.key" ]; then
		echo "bench-encrypted: no certificate in $WORK/tls" >&2
		return 1
	fi
}

# wait_ready waits until the resolver answers over UDP and its DoT and DoH
# ports accept connections.
wait_ready() {
	for _ in $(seq 1 100); do
		if dig +short +time=1 +tries=1 -p "$PORT" @"$ADDR" www.example.test. A 2>/dev/null | grep -q '^[0-9]' &&
			(exec 3<>"/dev/tcp/$ADDR/$DOT_PORT") 2>/dev/null &&
			(exec 3<>"/dev/tcp/$ADDR/$DOH_PORT") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench-encrypted: $1 did not become ready:" >&2
	cat "$WORK/$1.log" >&2
	return 1
}

# dnsperf_run TRANSPORT ARGS... runs dnsperf from CPU 0 over TRANSPORT
# (udp, dot, doh-get, doh-post) with the query list and prints its report.
dnsperf_run() {
	local transport="$1"
	shift
	local mode=()
	case "$transport" in
		udp) mode=(-m udp -p "$PORT") ;;
		dot) mode=(-m dot -p "$DOT_PORT") ;;
		doh-get | doh-post)
			mode=(-m doh -p "$DOH_PORT" -O "doh-uri=https://$ADDR:$DOH_PORT$DOH_PATH"
				-O "doh-method=$(echo "${transport#doh-}" | tr a-z A-Z)")
			;;
		*)
			echo "bench-encrypted: unknown transport $transport" >&2
			return 1
			;;
	esac
	taskset -c 0 dnsperf -s "$ADDR" "${mode[@]}" -d "$WORK/hit.txt" -t 5 "$@" 2>&1
}

# h2load_run TRANSPORT prints "qps failed" for DURATION seconds of DoH
# (doh-get or doh-post) from CPU 0, CLIENTS connections, INFLIGHT streams
# in all.
h2load_run() {
	local args=(-i "$WORK/hit.urls")
	if [ "$1" = doh-post ]; then
		args=(-d "$WORK/post.bin" -H "content-type: $DOH_TYPE" "https://$ADDR:$DOH_PORT$DOH_PATH")
	fi
	taskset -c 0 h2load -t 1 -c "$CLIENTS" -m $((INFLIGHT / CLIENTS)) -D "$DURATION" "${args[@]}" 2>&1 |
		awk '/^finished in/ { q = $4 }
			/^requests:/ { total = $2; ok = $8 }
			END { if (q == "") q = 0; printf "%s %d\n", q, total - ok }'
}

# bench_run NAME appends "NAME TRANSPORT qps lost" lines to $WORK/runs, one
# per transport, for one start of the resolver.
bench_run() {
	local name="$1"
	"start_$name"
	wait_ready "$name"
	dnsperf_run udp -n 1 -c 4 -q 100 >/dev/null # warm the cache
	for t in $TRANSPORTS; do
		case "$t" in
			doh-get | doh-post)
				if [ "$DOH_TOOL" = h2load ]; then
					echo "$name $t $(h2load_run "$t")" | tee -a "$WORK/runs" >&2
					continue
				fi
				;;
		esac
		dnsperf_run "${t#dnsperf-}" -l "$DURATION" -c "$CLIENTS" -q "$INFLIGHT" >"$WORK/out"
		awk -v n="$name" -v t="$t" '
			/Queries lost/ { lost = $3 }
			/Queries per second/ { q = $4 }
			END { if (q == "") q = 0; printf "%s %s %s %s\n", n, t, q, lost }' "$WORK/out" |
			tee -a "$WORK/runs" >&2
	done
	stop_server
}

main() {
	if [ "$(id -u)" != 0 ]; then
		echo "bench-encrypted: needs root (the testbed serves port 53 on 127.53.0.0/16 for Unbound); skipped" >&2
		exit 0
	fi
	if [ "$DOH_TOOL" = h2load ] && ! command -v h2load >/dev/null; then
		echo "# h2load (nghttp2-client): not installed, DoH skipped"
		TRANSPORTS=$(echo "$TRANSPORTS" | tr ' ' '\n' | grep -vx 'doh-.*' | tr '\n' ' ')
	fi
	make build >/dev/null
	make_queries
	start_testbed
	make_cert
	local resolvers=""
	for r in $RESOLVERS; do
		if [ "$r" = unbound ] && ! command -v unbound >/dev/null; then
			echo "# unbound: not installed, skipped"
			continue
		fi
		resolvers="$resolvers $r"
	done
	echo "# bench-encrypted: cache hits over DoT and DoH (dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }'), doh-get/doh-post: $DOH_TOOL)," \
		"${DURATION}s x $RUNS runs (median), $CLIENTS connections, $INFLIGHT in flight;"
	echo "# resolver on CPU 1, dnsperf and testbed on CPU 0; no validation; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	: >"$WORK/runs"
	for _ in $(seq 1 "$RUNS"); do
		for r in $resolvers; do
			bench_run "$r"
		done
	done
	printf '%-16s %12s %12s %8s   %s\n' transport rensa_qps unbound_qps ratio "runs: qps(lost), rensa / unbound"
	for t in $TRANSPORTS; do
		local rq uq ratio="-" rl ul
		rq=$(awk -v t="$t" '$1 == "rensa" && $2 == t { print $3 }' "$WORK/runs" | median)
		uq=$(awk -v t="$t" '$1 == "unbound" && $2 == t { print $3 }' "$WORK/runs" | median)
		rl=$(awk -v t="$t" '$1 == "rensa" && $2 == t { printf "%s%.0f(%s)", s, $3, $4; s = " " }' "$WORK/runs")
		ul=$(awk -v t="$t" '$1 == "unbound" && $2 == t { printf "%s%.0f(%s)", s, $3, $4; s = " " }' "$WORK/runs")
		if [ -n "$rq" ] && [ -n "$uq" ] && [ "$uq" != 0 ]; then
			ratio=$(awk -v a="$rq" -v b="$uq" 'BEGIN { printf "%.2fx", a / b }')
		fi
		printf '%-16s %12.0f %12.0f %8s   %s / %s\n' "$t" "${rq:-0}" "${uq:-0}" "$ratio" "$rl" "$ul"
	done
}

main "$@"
