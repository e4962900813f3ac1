# Yizhan — build, test, demo and benchmarks on Debian.
#   make demo    a station with simulated readers on embedded SQLite
#   make test    every test (unit, adapters, real processes)
#   make bench   benchmarks; figures go to docs/benchmarks.md by hand
SHELL := /bin/bash
SWIFT ?= swift
# Debian packages the build and the tests need; installed only when missing.
# postgresql-15: the collector's contract suite runs against a throwaway cluster too.
# chromium and a small CJK font: the pages are tested in a real (headless) browser;
# cage: the kiosk unit is verified against it.
# socat and python3-venv: scripts/api-fuzz.sh (socat reaches the station's unix socket;
# schemathesis, pinned, comes from PyPI into a virtualenv under .build).
DEBIAN_PACKAGES := libudev-dev pkg-config libsqlite3-dev zlib1g-dev systemd postgresql-15 postgresql-15-hll chromium fonts-wqy-microhei cage \
  socat python3-venv sqlite3
SCHEMATHESIS_VERSION := 4.32.5
FUZZ_VENV := .build/api-fuzz-venv

.PHONY: all deps build release test demo bench verify-units clean api-fuzz
all: build

deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@$(FUZZ_VENV)/bin/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("schemathesis") != "$(SCHEMATHESIS_VERSION)")' 2>/dev/null || { \
	  echo "installing schemathesis $(SCHEMATHESIS_VERSION) from PyPI into $(FUZZ_VENV)"; \
	  python3 -m venv $(FUZZ_VENV) && $(FUZZ_VENV)/bin/python -m pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION); }

build: deps
	$(SWIFT) build

# Swift Testing runs the suites; XCTest reports "Executed 0 tests" beside it, so the
# last line restates Swift Testing's own count plainly for CI. The tests run inside a
# throwaway PostgreSQL 15 cluster (scripts/test-postgres.sh) for the collector's stores.
test: deps
	$(SWIFT) build --build-tests
	@set -o pipefail; YIZHAN_BIN_DIR="$$($(SWIFT) build --show-bin-path)" ./scripts/test-postgres.sh $(SWIFT) test --skip-build 2>&1 | tee .build/test-output.txt
	ST=$(FUZZ_VENV)/bin/st ./scripts/api-fuzz.sh "$$($(SWIFT) build --show-bin-path)"
	@grep -E "Test run with [0-9]+ tests? .* passed" .build/test-output.txt | tail -1 | \
	  sed -E 's/.*Test run with ([0-9]+) tests?.*/\1 passed, 0 failed/' 

demo: build
	./scripts/demo.sh "$$($(SWIFT) build --show-bin-path)"

# Release binaries as installed on a station box: Swift runtime linked in, so the box
# needs no Swift installation.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xlinker --gc-sections

release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product yizhan-station
	$(SWIFT) build $(RELEASE_FLAGS) --product yizhanctl

# The collector's PostgreSQL figures come from a throwaway cluster with fsync on.
bench: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product yizhan-bench
	$(SWIFT) build $(RELEASE_FLAGS) --product yizhan-station
	$(SWIFT) build $(RELEASE_FLAGS) --product yizhan-collector
	PG_FSYNC=on ./scripts/test-postgres.sh "$$($(SWIFT) build -c release --show-bin-path)/yizhan-bench" \
	  --bin-dir "$$($(SWIFT) build -c release --show-bin-path)" $(BENCH_ARGS)

# Soak: a busy station (a year of swipes from simulated readers) uplinking to a collector
# with 1,000 heartbeating stations, ingest and office questions, time compressed into
# SOAK_MINUTES; RSS, fds, WAL sizes and connections are sampled and judged (plateau or
# still rising; exits non-zero if something keeps rising). Loopback only; stops by itself.
SOAK_MINUTES ?= 5
.PHONY: soak
soak: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product yizhan-bench
	$(SWIFT) build $(RELEASE_FLAGS) --product yizhan-station
	$(SWIFT) build $(RELEASE_FLAGS) --product yizhan-collector
	"$$($(SWIFT) build -c release --show-bin-path)/yizhan-bench" --bin-dir "$$($(SWIFT) build -c release --show-bin-path)" \
	  --suite soak --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

# Schemathesis against docs/openapi.json (a real collector) and docs/station-openapi.json
# (a real station): no 5xx, nothing the documents do not describe (docs/api-fuzzing.md).
api-fuzz: build
	ST=$(FUZZ_VENV)/bin/st ./scripts/api-fuzz.sh "$$($(SWIFT) build --show-bin-path)"

verify-units: build
	./scripts/verify-units.sh "$$($(SWIFT) build --show-bin-path)"

clean:
	rm -rf .build demo-run

# Fuzzing (docs/fuzzing.md): libFuzzer with AddressSanitizer on every decoder a device or
# the network feeds, FUZZ_SECONDS each (FUZZ_TARGETS picks some; FUZZ_MERGE=1 merges new
# coverage into Fuzz/Corpus; FUZZ_CONFIG=debug builds faster and runs 3-20x slower).
# Its own scratch path: the instrumented graph never mixes with the normal build.
# `make test` runs the committed corpora once (FuzzRegressionTests).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?=
FUZZ_CONFIG ?= release
FUZZ_FLAGS := -c $(FUZZ_CONFIG) -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
  -Xcc -fsanitize=fuzzer-no-link,address -Xcxx -fsanitize=fuzzer-no-link,address
.PHONY: fuzz
fuzz: deps
	YIZHAN_FUZZ=1 $(SWIFT) build --scratch-path .build-fuzz $(FUZZ_FLAGS) --product yizhan-fuzz
	./Fuzz/run.sh "$$(YIZHAN_FUZZ=1 $(SWIFT) build --scratch-path .build-fuzz $(FUZZ_FLAGS) --show-bin-path)/yizhan-fuzz" $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Debian packages (SPEC "Packages", docs/install.md): dist/yizhan-station_VERSION_ARCH.deb
# (daemon, yizhanctl, units, sysusers, tmpfiles, udev rules, example conffiles) and
# dist/yizhan-collector_VERSION_ARCH.deb, release binaries with the Swift runtime linked in,
# man pages from the argument parsers (swift-argument-parser's generate-manual), checked
# by lintian. VERSION comes from Package.swift (the one place); VERSION=x.y.z overrides it
# and reaches the binaries through YIZHAN_VERSION. PKG_SCRATCH picks the build folder.
VERSION ?= $(shell sed -n 's/^let yizhanVersion = .* ?? "\(.*\)"$$/\1/p' Package.swift)
PKG_SCRATCH ?= .build
DIST ?= dist
PKG_TOOLS := dpkg-dev lintian debootstrap
# Packaged binaries are also linked with immediate binding (full RELRO; lintian: hardening-no-bindnow).
PKG_BUILD = YIZHAN_VERSION=$(1) $(SWIFT) build --scratch-path $(PKG_SCRATCH) $(RELEASE_FLAGS) -Xlinker -z -Xlinker now
GENERATE_MANUAL = $(PKG_SCRATCH)/generate-manual/release/generate-manual

.PHONY: deb deb-tools deb-build test-install
deb-tools:
	@missing=""; for p in $(PKG_TOOLS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# deb-build V: binaries of version V, then the two packages of version V in $(DIST).
deb-build:
	$(call PKG_BUILD,$(V)) --product yizhan-station
	$(call PKG_BUILD,$(V)) --product yizhanctl
	$(call PKG_BUILD,$(V)) --product yizhan-collector
	@[ -x $(GENERATE_MANUAL) ] || $(SWIFT) build -c release --package-path $(PKG_SCRATCH)/checkouts/swift-argument-parser \
	  --scratch-path $(PKG_SCRATCH)/generate-manual --product generate-manual
	./scripts/build-deb.sh "$$($(call PKG_BUILD,$(V)) --show-bin-path)" $(V) $(DIST) $(GENERATE_MANUAL)

deb: deps deb-tools
	$(MAKE) --no-print-directory deb-build V=$(VERSION)
	lintian --fail-on error,warning \
	  $(DIST)/yizhan-station_$(VERSION)_*.deb $(DIST)/yizhan-collector_$(VERSION)_*.deb

# The fresh-box test (scripts/test-install.sh): version VERSION and a next version built
# from the same source (only the version differs), installed in a debootstrapped Debian 12
# kept in .build-install; needs root and deb.debian.org.
NEXT_VERSION ?= $(VERSION)+next1
test-install: deb
	$(MAKE) --no-print-directory deb-build V=$(NEXT_VERSION)
	./scripts/test-install.sh $(DIST) $(VERSION) $(NEXT_VERSION) .build-install
