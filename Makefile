# Trunkline. `make test` is THE test command (CI runs it through .ci/run).

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      ?= bin/trunkline
FUZZTIME ?= 10s

.PHONY: all run build test deps vet bench fuzz fmt clean

all: build

## run: run the appliance on its embedded default config
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/trunkline serve

## build: build bin/trunkline
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/trunkline

## test: install missing tools, vet, then run every test with the race detector
test: deps vet
	$(GO) test -race -count=1 ./...

## deps: install the tools the tests need (sipp, from Debian's sip-tester) when missing
deps:
	@if ! command -v sipp >/dev/null 2>&1; then \
		echo "sipp not found: installing sip-tester"; \
		SUDO=; \
		if [ "$$(id -u)" -ne 0 ]; then \
			if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; \
			else echo "deps: need root (or sudo) to apt-get install sip-tester" >&2; exit 1; fi; \
		fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends sip-tester; \
	fi

vet:
	$(GO) vet ./...

## bench: routing, media, store and script benchmarks with allocation counts
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./routing/ ./media/... ./cluster/ ./scripts/ ./cmd/...

## fuzz: run every Fuzz target for FUZZTIME each
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## fmt: gofmt every package
fmt:
	$(GO) fmt ./...

clean:
	rm -rf bin
