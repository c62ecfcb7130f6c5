#!/bin/sh
# fuzz.sh runs every native Go fuzz target in the module for a short time
# (FUZZTIME, default 10s). New targets are found automatically: any
# "func FuzzXxx(f *testing.F)" in a _test.go file.
#
# Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" when -fuzztime ends while a worker is mid-input
# (golang/go#75804, fixed in Go 1.27): no input failed and no reproducer
# is written. Such a run, recognised by that message and by no new file
# under the target's testdata/fuzz directory, is run once more; any other
# failure, or the same one twice, fails.
set -eu
FUZZTIME="${FUZZTIME:-10s}"

# corpus_count prints how many files the target's corpus directory holds.
corpus_count() {
	ls "$1/testdata/fuzz/$2" 2>/dev/null | wc -l
}

# fuzz_once runs one target; it exits 0 on success, 75 on the coordinator's
# spurious deadline, 1 on any other failure.
fuzz_once() {
	dir=$1 target=$2
	before=$(corpus_count "$dir" "$target")
	log=$(mktemp)
	if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$dir" >"$log" 2>&1; then
		cat "$log"
		rm -f "$log"
		return 0
	fi
	cat "$log"
	after=$(corpus_count "$dir" "$target")
	if grep -q '^    context deadline exceeded$' "$log" && [ "$before" = "$after" ]; then
		rm -f "$log"
		return 75
	fi
	rm -f "$log"
	return 1
}

grep -rl --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' cmd internal 2>/dev/null | sort | while read -r file; do
	dir="./$(dirname "$file")"
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //' | while read -r target; do
		echo "fuzz: $dir $target ($FUZZTIME)"
		rc=0
		fuzz_once "$dir" "$target" || rc=$?
		if [ "$rc" = 75 ]; then
			echo "fuzz: $target: the coordinator's end-of-run deadline (golang/go#75804), no failing input written: once more"
			fuzz_once "$dir" "$target" || exit 1
		elif [ "$rc" != 0 ]; then
			exit 1
		fi
	done
done
