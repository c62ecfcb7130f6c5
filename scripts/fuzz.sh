#!/bin/sh
# fuzz.sh runs every native Go fuzz target in the module for a short time
# (FUZZTIME, default 10s). New targets are found automatically: any
# "func FuzzXxx(f *testing.F)" in a _test.go file.
set -eu
FUZZTIME="${FUZZTIME:-10s}"
grep -rl --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' cmd internal 2>/dev/null | sort | while read -r file; do
	dir="./$(dirname "$file")"
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //' | while read -r target; do
		echo "fuzz: $dir $target ($FUZZTIME)"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$dir"
	done
done
