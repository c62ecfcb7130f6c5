#!/bin/sh
# Walk www.example.test A from the root of the rensa testbed, query by
# query, like "dig +trace" (see "rensa demo -h"). Extra arguments go to
# rensa demo, e.g. scripts/demo.sh www.glueless.test AAAA.
#
# As root the testbed serves on port 53 of 127.53.0.0/16; otherwise on
# free ports that the demo maps. Nothing leaves loopback.
set -eu
cd "$(dirname "$0")/.."
exec go run ./cmd/rensa demo "$@"
