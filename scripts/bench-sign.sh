#!/bin/bash
# bench-sign.sh: DNSSEC zone signing time, rensa sign against dnssec-signzone
# (BIND) and ldns-signzone (ldns), in one run on one machine.
#
# A zone of NAMES names (bench.test., default 100,000: one A record each,
# plus one delegation with DS in every 100 names) is signed with
# ECDSAP256SHA256 (a KSK and a ZSK made once by rensa keygen, the same key
# files for all three tools) and NSEC3 with 0 extra iterations and no salt
# (RFC 9276). Each tool signs RUNS times; the median wall time is reported,
# with the ratio to the faster of the two reference signers, and the
# median CPU seconds (user + system), which show what a busy machine costs
# a signer that uses several cores. Each signed zone
# is checked once with rensa verify, so a fast wrong answer does not count.
#
# dnssec-signzone runs on all cores (its default: one thread per CPU), rensa
# too (--workers defaults to one per CPU); ldns-signzone has one thread.
#
# Environment: NAMES (100000), RUNS (3), SIGNERS ("rensa bind ldns").
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=bench-sign
. scripts/benchlib.sh

NAMES="${NAMES:-100000}"
RUNS="${RUNS:-3}"
SIGNERS="${SIGNERS:-rensa bind ldns}"
ORIGIN=bench.test.
WORK="$(mktemp -d /tmp/rensa-bench-sign.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

make_zone() {
	awk -v n="$NAMES" 'BEGIN {
		print "$ORIGIN bench.test."
		print "$TTL 3600"
		print "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300"
		print "@ IN NS ns1"
		print "ns1 IN A 127.0.0.1"
		for (i = 1; i <= n; i++) {
			if (i % 100 == 0) {
				printf "d%d IN NS ns.d%d\nns.d%d IN A 192.0.2.%d\n", i, i, i, i % 250 + 1
				printf "d%d IN DS 12345 13 2 %064d\n", i, i
			} else {
				printf "h%d IN A 192.0.2.%d\n", i, i % 250 + 1
			}
		}
	}' >"$WORK/zone"
}

make_keys() {
	mkdir -p "$WORK/keys"
	KSK=$(./bin/rensa keygen --zone "$ORIGIN" --ksk --dir "$WORK/keys")
	ZSK=$(./bin/rensa keygen --zone "$ORIGIN" --zsk --dir "$WORK/keys")
	KSK=$(basename "$KSK")
	ZSK=$(basename "$ZSK")
}

# sign_<tool> signs $WORK/zone into $WORK/<tool>.signed.
sign_rensa() {
	./bin/rensa sign --zone "$WORK/zone" --origin "$ORIGIN" --keys "$WORK/keys" --nsec3 \
		-o "$WORK/rensa.signed" >/dev/null
}

sign_bind() {
	dnssec-signzone -q -3 - -H 0 -o "$ORIGIN" -K "$WORK/keys" -S \
		-f "$WORK/bind.signed" "$WORK/zone" >/dev/null
}

sign_ldns() {
	(cd "$WORK/keys" && ldns-signzone -n -t 0 -f "$WORK/ldns.signed" "$WORK/zone" "$KSK" "$ZSK")
}

# wall prints the wall-clock and the CPU (user + system) seconds of one
# run of "sign_$1", as "wall,cpu".
wall() {
	local TIMEFORMAT='%R,%U,%S'
	{ time "sign_$1" 2>"$WORK/$1.err"; } 2>&1 | awk -F, '{ printf "%s,%.2f\n", $1, $2 + $3 }'
}


main() {
	make build >/dev/null
	make_zone
	make_keys
	echo "# bench-sign: $NAMES names, ECDSAP256SHA256 KSK+ZSK, NSEC3 (0 iterations, no salt), $RUNS runs, median wall seconds"
	echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
	local results="$WORK/results"
	: >"$results"
	for s in $SIGNERS; do
		local tool="${s/bind/dnssec-signzone}"
		tool="${tool/ldns/ldns-signzone}"
		tool="${tool/rensa/./bin/rensa}"
		if ! command -v "$tool" >/dev/null; then
			echo "# $s: $tool not installed, skipped"
			continue
		fi
		local list=""
		for _ in $(seq 1 "$RUNS"); do
			list="$list $(wall "$s")"
		done
		if ! ./bin/rensa verify "$WORK/$s.signed" >"$WORK/$s.verify" 2>&1; then
			echo "# $s: the signed zone does not verify:" >&2
			head -5 "$WORK/$s.verify" >&2
			exit 1
		fi
		local walls cpus
		walls=$(echo "$list" | tr ' ' '\n' | grep . | cut -d, -f1 | median)
		cpus=$(echo "$list" | tr ' ' '\n' | grep . | cut -d, -f2 | median)
		echo "$s $walls $cpus [$list ] (wall,cpu per run)" | tee -a "$results" >&2
	done
	local best
	best=$(awk '$1 != "rensa" { print $2 }' "$results" | sort -n | head -1)
	printf '%-16s %10s %16s %12s\n' signer wall_s vs_fastest_peer cpu_s
	while read -r name secs cpu _; do
		local ratio="-"
		if [ -n "$best" ]; then ratio=$(awk -v a="$secs" -v b="$best" 'BEGIN { printf "%.2fx", a / b }'); fi
		case "$name" in
			bind) name=dnssec-signzone ;;
			ldns) name=ldns-signzone ;;
		esac
		printf '%-16s %10.2f %16s %12.2f\n' "$name" "$secs" "$ratio" "$cpu"
	done <"$results"
}

main "$@"
