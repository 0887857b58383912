# scopegate — run `make` (or `make help`) for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/scopegate
ADDR      ?= 127.0.0.1:8080
# The version `scopegate version` prints: the git commit (and -dirty).
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# Fuzz budgets are execution counts, not durations: a duration races Go
# 1.26's fuzz coordinator at the deadline (go.dev/issue/75804, fixed in 1.27)
# and fails with "context deadline exceeded" and no crasher.
FUZZTIME  ?= 5000000x
# The handler target serves whole requests over the embedded store: slower.
FUZZTIME_HANDLERS ?= 500000x
# Debian packages the tests drive for real: Redis (server + cli for the
# cluster), Chromium for the browser tests, curl for the README's examples.
TEST_PKGS := redis-server redis-tools chromium curl
# The load tool (integration/loadtest): `go run ./integration/loadtest -h`.
BENCH_FLAGS    ?= -duration 2s -warmup 500ms -reps 2 -conns 16,64
LOADTEST_FLAGS ?= -duration 8s -warmup 1s -reps 3 -conns 16,64 -codes 40000 -revokes 60000 -mixed 5m

.PHONY: help run build test test-deps bench loadtest fuzz lint clean docker

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z][a-z-]*:.*## /{printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: build ## start the server (http://127.0.0.1:8080) and the demo REST API (:8081), embedded store, demo data
	$(BIN) serve --addr $(ADDR) --demo

build: ## build bin/scopegate
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/scopegate

test: test-deps ## run every test (installs redis-server, chromium and curl if missing)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 400000x ./scopes
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzParseToken$$' -fuzztime 300000x ./storage/token
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzParseForm$$' -fuzztime 50000x ./oauth
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzClientCredentials$$' -fuzztime 100000x ./oauth
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzHandlers$$' -fuzztime 10000x ./web

test-deps: ## install what the tests need (Debian: redis-server, redis-cli, chromium, curl)
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v redis-cli >/dev/null || missing="$$missing redis-tools"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	      || { echo "make test: could not install$$missing with apt-get" >&2; exit 1; }; \
	  else \
	    echo "make test: missing$$missing; install them (Debian: apt-get install$$missing) or run as root" >&2; exit 1; \
	  fi; \
	fi

bench: test-deps ## run the benchmarks, then the short load test (figures vs a floor server, not pass/fail)
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./integration/loadtest $(BENCH_FLAGS)

loadtest: test-deps ## longer load test (LOADTEST_FLAGS) + a mixed issue/introspect/revoke run that fails if a revoked token stays active
	$(GO) run ./integration/loadtest $(LOADTEST_FLAGS)

fuzz: ## fuzz the parsers (FUZZTIME=5000000x each) and the HTTP handlers (FUZZTIME_HANDLERS=500000x)
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./scopes
	$(GO) test -run '^$$' -fuzz '^FuzzParseToken$$' -fuzztime $(FUZZTIME) ./storage/token
	$(GO) test -run '^$$' -fuzz '^FuzzParseForm$$' -fuzztime $(FUZZTIME) ./oauth
	$(GO) test -run '^$$' -fuzz '^FuzzClientCredentials$$' -fuzztime $(FUZZTIME) ./oauth
	$(GO) test -run '^$$' -fuzz '^FuzzHandlers$$' -fuzztime $(FUZZTIME_HANDLERS) ./web

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

docker: ## build the container image scopegate:VERSION (version stamped from git)
	docker build -f cmd/scopegate/Dockerfile --build-arg VERSION=$(VERSION) -t scopegate:$(VERSION) .

clean: ## remove build output
	rm -rf bin
