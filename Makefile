# hnp-sidecar — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin/hnp-sidecar
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GOLANGCI_LINT_VERSION := v2.15.0
# Keep equal to helm.sh/helm/v3 in charts/hnp-sidecar/test/go.mod.
HELM_VERSION := v3.22.0
HELM := $(GO) run helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
FUZZTIME ?= 30s
# The validation of what NetBox says about Git URLs and Argo CD Application names.
FUZZTIME_GUARD ?= 60s
# HNP_RUN_CLUSTER=1 adds the cluster side to `make run` (kube-apiserver and Argo CD; builds them first).
HNP_RUN_CLUSTER ?= 0

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/hnp-sidecar.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hnp-sidecar

.PHONY: run
run: build ## Bring up the local stack (NetBox, Redis, a Git remote, the sidecar, a sample fabric) on 127.0.0.1; HNP_RUN_CLUSTER=1 adds kube-apiserver and Argo CD. Ctrl-C stops it.
	$(GO) build -o bin/load-fabric ./test/load-fabric
	$(GO) build -o bin/gitserver ./test/gitserver
	@if [ "$(HNP_RUN_CLUSTER)" = 1 ]; then $(MAKE) --no-print-directory cluster && $(GO) build -o bin/cluster-stack ./test/cluster/stack; fi
	HNP_RUN_CLUSTER=$(HNP_RUN_CLUSTER) test/run/run.sh

.PHONY: test
test: cluster ## Vet and run every test with the race detector, against real servers; then the Argo CD end to end (test-cluster).
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(MAKE) --no-print-directory chart-lint
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) test-cluster

.PHONY: chart-lint
chart-lint: ## helm lint --strict of the chart with every test value set (pinned Helm from the Go module proxy); vet of its renderer module.
	$(HELM) lint --strict charts/hnp-sidecar
	@for f in charts/hnp-sidecar/test/values/*.yaml; do echo "helm lint --strict -f $$f"; $(HELM) lint --strict charts/hnp-sidecar -f $$f >/dev/null || exit 1; done
	cd charts/hnp-sidecar/test && $(GO) vet ./...

.PHONY: chart-test
chart-test: chart-lint ## Render the chart for every value set (Helm's Go packages) and dry-run every object on a real kube-apiserver; the driver, drift and Argo CD installation run under the chart's RBAC.
	$(GO) test -count=1 -v -run TestChart ./test/chart

.PHONY: cluster
cluster: ## Build etcd v3.6.16, kube-apiserver v1.37.2 and Argo CD v3.6.1 for the tests into the cache (cold: ~10-15 min, 3 GB; then reused).
	test/cluster/build.sh
	test/cluster/build-argocd.sh

.PHONY: test-cluster
test-cluster: cluster ## Argo CD end to end (scenario 3, two fabrics on two clusters and their own Argo CDs, Argo CD busy and unreachable, a foreign Application left alone, the AppProject refusing non-Hedgehog kinds, and Argo CD's own smoke test) inside a private network namespace.
	$(GO) test -race -c -o bin/e2e.test ./test/e2e
	$(GO) test -race -c -o bin/argocdenv.test ./internal/testenv/argocd
	cd internal/testenv/argocd && HNP_ARGOCD_REQUIRED=1 ../../../test/cluster/in-netns.sh ../../../bin/argocdenv.test -test.count=1 -test.timeout 10m
	cd test/e2e && HNP_ARGOCD_REQUIRED=1 ../cluster/in-netns.sh ../../bin/e2e.test -test.run '^(TestScenario3|TestArgoCDOutageRecovers|TestArgoCDGuardREST|TestTwoFabricsTwoClusters)' -test.v -test.count=1 -test.timeout 20m

.PHONY: test-short
test-short: ## Unit tests only: no real servers.
	$(GO) test -short -count=1 ./...

.PHONY: lint
lint: ## Run golangci-lint (pinned, from the Go module proxy).
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

.PHONY: bench-bulk
bench-bulk: ## Bulk create and edit of HNP_BULK_OBJECTS (default 1000) VPCs through real NetBox: commits, time to pushed vs NetBox's save, write-back time.
	HNP_BENCH_BULK=1 $(GO) test -count=1 -timeout 30m -run '^TestBulkChangeThroughNetBox$$' -v ./test/e2e | grep -E 'bulk_test|^(ok|FAIL|---)'

.PHONY: bench-scale
bench-scale: ## Fabrics of HNP_SCALE_SIZES (default 50,1000,5000) VPCs through real NetBox: single edits to pushed (p50/max), NetBox requests and reconciles per edit, peak RSS, a 1,000-VPC bulk edit to pushed and written back; one table.
	set -o pipefail; HNP_BENCH_SCALE=1 $(GO) test -count=1 -timeout 120m -run '^TestBenchScale$$' -v ./test/e2e | grep --line-buffered -vE '^=== (RUN|PAUSE|CONT)'

.PHONY: fuzz
fuzz: ## Fuzz the webhook parser (alone and against encoding/json) and verifier, and the own-change filter, FUZZTIME each (default 30s); then the Git URL allow-list and the Argo CD Application names, FUZZTIME_GUARD each (default 60s); then the Redis URL parser, the key slots and a file's NetBox object, FUZZTIME each.
	@for f in FuzzParse FuzzParseMatchesStd FuzzVerify FuzzOnlyOwnFields; do \
	  $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/webhook || exit 1; done
	$(GO) test -run '^$$' -fuzz '^FuzzAllowed$$' -fuzztime $(FUZZTIME_GUARD) -fuzzminimizetime 5s ./internal/gitaccess
	$(GO) test -run '^$$' -fuzz '^FuzzApplicationName$$' -fuzztime $(FUZZTIME_GUARD) -fuzzminimizetime 5s ./internal/argocd
	$(GO) test -run '^$$' -fuzz '^FuzzParseRedisURL$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzKeySlot$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/keyspace
	$(GO) test -run '^$$' -fuzz '^FuzzOwnerOf$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/reconcile

.PHONY: bench-ingest
bench-ingest: ## Signed 2 KB webhooks, 64 connections: sidecar vs a no-op 202 handler.
	$(GO) run ./test/bench/ingest

.PHONY: bench-git
bench-git: ## 10,000 CRs rendered and pushed vs the git CLI; no-op reconcile; peak RSS.
	$(GO) run ./test/bench/git

.PHONY: test-replicas
test-replicas: ## The replica stream, long: 2,400 VPC creates, edits and deletes over 4 fabrics through real NetBox (3 RQ workers), against 1 then 3 sidecars on one Redis and Git remote; replicas killed (-9) every 2-4 s and restarted, one rolling restart; Git vs NetBox and every commit judged (HNP_REPLICAS_OPS for more).
	HNP_REPLICAS_LONG=1 $(GO) test -count=1 -timeout 60m -run '^TestReplicaStream$$' -v ./test/replicas

.PHONY: bench-failover
bench-failover: ## Redis Sentinel failover (real redis-server primary, replicas, sentinels) under a stream of hints: accepted, refused, lost, accept p50/p99, with and without HNP_REDIS_WAIT_REPLICAS.
	$(GO) run ./test/bench/failover

.PHONY: docs
docs: ## Regenerate the README's command line reference from the commands' --help.
	$(GO) run ./cmd/hnp-sidecar docs --readme README.md

.PHONY: clean
clean: ## Remove build output.
	rm -rf bin
