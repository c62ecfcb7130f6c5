# rensa — make targets. See README.md.
GO            ?= go
STATICCHECK   ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME      ?= 10s
BIN           := bin/rensa

.PHONY: all build demo test peers vet staticcheck unit fuzz conformance bench bench-sign clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/rensa

# demo: a signed DNS hierarchy on loopback, walked from the root, resolved and
# validated with the chain of trust shown, a tampered answer rejected; then the
# lab's tour of the attacks, each with the defence off and on (short mode).
demo: build
	./$(BIN) demo
	./$(BIN) lab all --short

# test: install the peer software if missing, then every check CI runs.
test: peers vet staticcheck unit fuzz

peers:
	./scripts/install-peers.sh

vet:
	@test -z "$$(gofmt -l cmd internal)" || { echo "gofmt needed:"; gofmt -l cmd internal; exit 1; }
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 -timeout 12m ./...

fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# conformance: only the tests that replay RFC vectors and shared conformance data.
# conformance DIR=path replays another directory of Deckard/Unbound scenario
# files through the resolver (TestConformanceReplay reads REPLAY_DIR).
conformance:
	REPLAY_DIR=$(abspath $(DIR)) $(GO) test -count=1 -run 'RFC|Genreport|Conformance|Corpus|Agrees' ./...

# bench: rensa against NSD, Knot DNS and a plain miekg/dns server, then
# bench-sign: zone signing against dnssec-signzone and ldns-signzone (see BENCHMARKS.md).
bench: build
	./scripts/bench.sh
	./scripts/bench-sign.sh
	./scripts/bench-resolver.sh
	./scripts/bench-encrypted.sh

bench-sign: build
	./scripts/bench-sign.sh

clean:
	rm -rf bin
