# Budgie — the README's two commands are `make run` and `make test`.
SHELL    := /bin/bash
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN      := bin/budgie
DEMO_TAR := build/demo.tar
# Debian packages Budgie needs at run and test time; installed only when missing.
DEB_PKGS := containerd runc containernetworking-plugins docker-registry busybox-static \
            iproute2 iptables tmux rsync ca-certificates
# The tools `make bench` compares Budgie with (installed by bench only).
BENCH_PKGS := nginx-light wrk rsync

.PHONY: all build deps bench-deps install-pkgs run demo test unit integration vet fmt-check bench clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# deps installs the Debian packages that are missing (apt-get as root).
deps:
	@$(MAKE) --no-print-directory install-pkgs PKGS="$(DEB_PKGS)"

bench-deps:
	@$(MAKE) --no-print-directory install-pkgs PKGS="$(BENCH_PKGS)"

install-pkgs:
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make deps: all Debian packages present"; fi

$(DEMO_TAR): engine/testkit/image.go engine/testkit/mkimage/main.go
	@mkdir -p build
	$(GO) run ./engine/testkit/mkimage -ref localhost/budgie-demo:latest -o $@

# demo loads the demo image and starts the demo bundles (idempotent).
demo: build $(DEMO_TAR)
	@$(BIN) --headless load -q -i $(DEMO_TAR) >/dev/null
	@for b in web worker; do \
	  if $(BIN) --headless inspect $$b >/dev/null 2>&1; then $(BIN) --headless start $$b >/dev/null; \
	  else $(BIN) --headless run testdata/bundles/$$b.bun >/dev/null; fi; \
	done
	@$(BIN) --headless ps

# run: build, make sure a containerd answers (the managed one by default),
# load the demo image, start the demo bundles and open budgie.
run: deps demo
	@if [ -t 1 ]; then exec $(BIN); else echo "(no terminal: skipping nest; try: $(BIN) --headless ps)"; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

# integration runs every package's integration tests against real parts
# (containerd, registry, namespaces) as root, one package at a time, and
# fails if any test was skipped. The full -v log is kept in build/.
integration: build
	@mkdir -p build; set -o pipefail; \
	$(GO) test -tags integration -p 1 -count=1 -timeout 40m -v ./... > build/integration.log 2>&1; status=$$?; \
	grep -E '^(--- FAIL|--- SKIP|FAIL|ok |panic:)' build/integration.log || true; \
	if [ $$status -ne 0 ]; then echo "integration: failures (full log: build/integration.log):"; \
	  grep -E -B2 -A25 -- '^(--- FAIL|panic:)' build/integration.log | head -300; fi; \
	if grep -q -- '--- SKIP' build/integration.log; then echo "integration: skipped tests are failures"; exit 1; fi; \
	n=$$(grep -c -- '^--- PASS' build/integration.log || true); echo "integration: $$n top-level tests passed"; \
	exit $$status

test: deps fmt-check vet unit
	@mkdir -p build
	@$(MAKE) --no-print-directory integration

# bench: micro-benchmarks (logs, nest frames) at the default bench time, then
# the comparisons (run → running and ps against ctr, nest against its goals)
# on one private containerd, alternated and repeated; prints the tables and
# writes docs/BENCHMARKS.md. Needs root. A missed goal never fails it.
bench: deps bench-deps build
	$(GO) test -run '^$$' -bench . ./engine/... ./app/... ./views/...
	$(GO) run ./engine/testkit/benchrun -budgie $(BIN) -o docs/BENCHMARKS.md

clean:
	rm -rf bin build

# lab: three Budgie nodes on this machine (network namespaces on a bridge,
# each with its own containerd and keeper) for trying discovery by hand.
# Prints how to open nest on each node; Ctrl-C tears it all down.
.PHONY: lab
lab: build
	$(GO) run ./engine/testkit/labup -binary $(BIN) -nodes 3
