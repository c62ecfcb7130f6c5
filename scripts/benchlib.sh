# benchlib.sh: the pieces the benchmark scripts share. Source it after
# setting WORK (a scratch directory) and BENCH (the script's name, for
# messages); it manages SERVER_PID and TESTBED_PID.

SERVER_PID=""
TESTBED_PID=""

# stop_pid kills and reaps the process whose PID is in the named variable,
# then clears the variable.
stop_pid() {
	local var="$1"
	if [ -n "${!var}" ]; then
		kill "${!var}" 2>/dev/null || true
		wait "${!var}" 2>/dev/null || true
		printf -v "$var" '%s' ""
	fi
}

stop_server() { stop_pid SERVER_PID; }
stop_testbed() { stop_pid TESTBED_PID; }

# start_testbed [ARGS...] runs "rensa testbed" on CPU 0 (port 53 on
# 127.53.x.x, so it needs root) with ARGS (such as --signed --write-anchor
# FILE), writes its root hints to $WORK/root.hints and waits, at most
# 10 s, until the root answers.
start_testbed() {
	rm -f "$WORK/root.hints"
	taskset -c 0 ./bin/rensa testbed --write-hints "$WORK/root.hints" "$@" >"$WORK/testbed.log" 2>&1 &
	TESTBED_PID=$!
	for _ in $(seq 1 100); do
		if [ -s "$WORK/root.hints" ] &&
			dig +short +norec +time=1 +tries=1 @127.53.0.1 . SOA >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "$BENCH: testbed did not start:" >&2
	cat "$WORK/testbed.log" >&2
	return 1
}

# hit_names writes the cache-hit list: 1,000 names under the testbed's two
# wildcard zones (half of them CNAME chains), all resolvable.
hit_names() {
	for i in $(seq 1 500); do
		echo "h$i.wild.example.test. A"
		echo "h$i.apps.other.test. A"
	done
}

# median prints the median of the numbers on standard input.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# descendants prints a process and all its descendants (NSD serves from a
# grandchild: xfrd -> main -> server).
descendants() {
	echo "$1"
	for c in $(pgrep -P "$1"); do descendants "$c"; done
}

# cpu_seconds prints the user+system CPU seconds used so far by a process
# and its descendants.
cpu_seconds() {
	for p in $(descendants "$1"); do cat "/proc/$p/stat" 2>/dev/null; done |
		awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t / hz }'
}

# unbound_conf_common prints the server: lines every benchmark's Unbound
# shares (one thread, no chroot or privileges dropped, logs to stderr, the
# testbed's root hints in $WORK).
unbound_conf_common() {
	cat <<CONF
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
CONF
}

# start_unbound_resolver writes the Unbound configuration of the resolver
# benchmarks (plain UDP on $ADDR:$PORT) and starts it on CPU 1: validating
# with the testbed's anchor ($WORK/anchor) when $1 is 1, aggressive-nsec
# set to $2 (yes or no).
start_unbound_resolver() {
	local modules="iterator" anchor=""
	if [ "$1" = 1 ]; then
		modules="validator iterator"
		anchor="trust-anchor-file: \"$WORK/anchor\""
	fi
	cat >"$WORK/unbound.conf" <<CONF
server:
	verbosity: 0
	interface: $ADDR
	port: $PORT
$(unbound_conf_common)
	module-config: "$modules"
	$anchor
	aggressive-nsec: $2
CONF
	start_unbound_conf
}

# wait_resolver_ready waits, at most 10 s, until the resolver on
# $ADDR:$PORT answers www.example.test. A.
wait_resolver_ready() {
	for _ in $(seq 1 100); do
		if dig +short +time=1 +tries=1 -p "$PORT" @"$ADDR" www.example.test. A 2>/dev/null | grep -q '^[0-9]'; then
			return 0
		fi
		sleep 0.1
	done
	echo "$BENCH: resolver did not become ready" >&2
	return 1
}

# start_unbound_conf appends what lets Unbound resolve the testbed
# (test. is special-use, the servers are on loopback) to
# $WORK/unbound.conf and starts it on CPU 1.
start_unbound_conf() {
	cat >>"$WORK/unbound.conf" <<CONF
	do-not-query-localhost: no
	local-zone: "test." nodefault
	access-control: 127.0.0.0/8 allow
remote-control:
	control-enable: no
CONF
	taskset -c 1 unbound -d -c "$WORK/unbound.conf" >"$WORK/unbound.log" 2>&1 &
	SERVER_PID=$!
}
