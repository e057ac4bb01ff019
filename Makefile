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
BENCH_PKGS := nginx-light haproxy wrk rsync chromium
# rsync, the sync rows' peer, pinned at the Debian version the figures are
# taken with (bookworm-security); its --fsync, the durable peer, needs
# rsync 3.2.4 or later. A newer Debian release replaces this version in the
# archive: bench-deps then fails, and the pin is moved on deliberately.
RSYNC_VERSION := 3.5.0+ds1-0+deb12u1
# What `make test` needs besides DEB_PKGS: a C toolchain for the race detector
# (cgo); Avahi and a D-Bus daemon, the real third-party mDNS peer of the
# discovery interop test (which starts its own, inside a lab namespace);
# Chromium, the real browser the dashboard's tests drive headless; zsh and
# fish, real shells for the completion test (bash is always there); bsdutils
# for script(1), a real pty for the headless-output test; util-linux for
# nsenter(1) and unshare(1), the lab's nodes and the mount-namespace test
# (both essential on Debian, named so that a trimmed image gets them).
TEST_PKGS := gcc libc6-dev avahi-daemon avahi-utils dbus-daemon chromium zsh fish bsdutils util-linux

# Go tools the tests, demos and benchmarks run, pinned, installed into
# build/tools (where the tests look first) by `make tools`.
TOOLS_DIR      := $(CURDIR)/build/tools
VHS_VERSION    := v0.10.0
FREEZE_VERSION := v0.2.2
# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 15s

.PHONY: all build deps bench-deps test-deps tools install-pkgs run demo test unit fuzz integration vet fmt-check bench clean

all: build

# The binary is static (no cgo): it starts faster, on every CLI command and
# every log driver the shim starts, and runs on any Linux of the same
# architecture. ".local" names are resolved by Budgie's own mDNS query.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# deps installs the Debian packages that are missing (apt-get as root).
deps:
	@$(MAKE) --no-print-directory install-pkgs PKGS="$(DEB_PKGS)"

bench-deps:
	@$(MAKE) --no-print-directory install-pkgs PKGS="$(BENCH_PKGS)"
	@have=$$(dpkg-query -W -f='$${Version}' rsync 2>/dev/null); \
	if [ "$$have" = "$(RSYNC_VERSION)" ]; then echo "apt: rsync $(RSYNC_VERSION) present"; else \
	  echo "apt: installing rsync=$(RSYNC_VERSION) (have: $${have:-none})"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --allow-downgrades rsync=$(RSYNC_VERSION); fi

test-deps:
	@$(MAKE) --no-print-directory install-pkgs PKGS="$(TEST_PKGS)"
	@# The system's own Avahi, where systemd started it, would answer on the
	@# real interfaces; the tests run theirs in namespaces.
	@if command -v systemctl >/dev/null && systemctl is-active -q avahi-daemon 2>/dev/null; then \
	  systemctl disable --now avahi-daemon.service avahi-daemon.socket >/dev/null 2>&1 || true; fi

# tools installs each pinned Go tool into build/tools with go install, only
# when its binary is missing or was installed at another version (one stamp
# file per tool and version: build/tools/.NAME-VERSION).
tools:
	@mkdir -p $(TOOLS_DIR)
	$(call go-tool,vhs,github.com/charmbracelet/vhs,$(VHS_VERSION))
	$(call go-tool,freeze,github.com/charmbracelet/freeze,$(FREEZE_VERSION))

# go-tool: $(1) binary name, $(2) module, $(3) version.
define go-tool
	@if [ -x $(TOOLS_DIR)/$(1) ] && [ -f $(TOOLS_DIR)/.$(1)-$(3) ]; then \
	  echo "make tools: $(1) $(3) present"; \
	else \
	  echo "make tools: installing $(2)@$(3) into $(TOOLS_DIR)"; \
	  rm -f $(TOOLS_DIR)/.$(1)-*; \
	  GOBIN=$(TOOLS_DIR) $(GO) install $(2)@$(3) && touch $(TOOLS_DIR)/.$(1)-$(3); \
	fi
endef

install-pkgs:
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "apt: present: $(PKGS)"; fi

$(DEMO_TAR): internal/testkit/image.go tools/mkimage/main.go
	@mkdir -p build
	$(GO) run ./tools/mkimage -ref localhost/budgie-demo:latest -o $@

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
	@$(BIN) --headless dashboard || echo "(the dashboard is not available; see above)"
	@if [ -t 1 ]; then exec $(BIN); else echo "(no terminal: skipping nest; try: $(BIN) --headless ps)"; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# unit runs every package's unit tests under the race detector.
unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

# fuzz finds every fuzz target in the module (go test -list '^Fuzz') and runs
# each for FUZZTIME. A crasher fails the target (after the other targets ran)
# and is kept by go in the package's testdata/fuzz/FuzzXxx/, where plain
# `go test` replays it from then on: commit it with the fix.
fuzz:
	@set -euo pipefail; \
	targets=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ {f[n++] = $$1; next} /^ok / {for (i = 0; i < n; i++) print $$2 " " f[i]} {n = 0}'); \
	if [ -z "$$targets" ]; then echo "fuzz: no fuzz targets"; exit 0; fi; \
	failed=""; \
	mkdir -p build; \
	while read -r pkg fn; do \
	  echo "fuzz: $$fn in $$pkg for $(FUZZTIME)"; \
	  for try in 1 2; do \
	    if $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "$$pkg" < /dev/null > build/fuzz.log 2>&1; then \
	      tail -n 3 build/fuzz.log; break; fi; \
	    cat build/fuzz.log; \
	    if [ $$try = 1 ] && grep -q 'context deadline exceeded' build/fuzz.log && ! grep -q 'Failing input written' build/fuzz.log; then \
	      echo "fuzz: $$fn: the fuzz runner's own deadline error with no failing input (go.dev/issue/75804): once more"; continue; fi; \
	    failed="$$failed\n  $$fn: $$($(GO) list -f '{{.Dir}}' "$$pkg")/testdata/fuzz/$$fn/"; break; \
	  done; \
	done <<< "$$targets"; \
	if [ -n "$$failed" ]; then echo -e "fuzz: failing inputs kept in:$$failed"; exit 1; fi; \
	echo "fuzz: $$(wc -l <<< "$$targets") fuzz targets ran for $(FUZZTIME) each"

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

# test: gofmt, vet, unit tests under the race detector, every fuzz target for
# FUZZTIME, then the integration tests (which need build/tools' vhs).
test: deps test-deps tools fmt-check vet unit fuzz
	@mkdir -p build
	@$(MAKE) --no-print-directory integration

# bench: micro-benchmarks (logs, nest frames) at the default bench time, then
# the comparisons (run → running and ps against ctr, nest against its goals)
# on one private containerd, alternated and repeated; prints the tables and
# writes docs/BENCHMARKS.md. Needs root. A missed goal never fails it.
bench: deps bench-deps tools build
	$(GO) test -run '^$$' -bench . ./engine/... ./app/... ./views/...
	$(GO) run ./tools/benchrun -budgie $(BIN) -o docs/BENCHMARKS.md

clean:
	rm -rf bin build

# lab: three Budgie nodes on this machine (network namespaces on a bridge,
# each with its own containerd and keeper) for trying discovery by hand.
# Prints how to open nest on each node; Ctrl-C tears it all down.
.PHONY: lab
lab: build
	$(GO) run ./tools/labup -binary $(BIN) -nodes 3
