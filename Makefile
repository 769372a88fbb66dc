# microseg — Kubernetes policy onto the NSX-T Distributed Firewall.
# `make help` lists the targets. Generated code and manifests come only from `make generate manifests`.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

GO ?= go
CONTROLLER_GEN ?= $(GO) tool controller-gen
# The local control plane (etcd, kube-apiserver, kube-controller-manager) is built from the Go module
# proxy on first use and cached outside the repository; see hack/controlplane.sh.
CONTROLPLANE ?= hack/controlplane.sh
TEST_TIMEOUT ?= 25m
GOTEST_FLAGS ?=
# Packages whose code runs concurrently (the NSX client, the simulator, the controllers, the sync
# path and its applier, the operator's wiring, the NCP emulator, the envtest suite and the
# client-simulator suite): make test runs them under the race detector, and everything else
# without it.
RACE_PKGS ?= ./nsxclient/... ./internal/nsxsim/... ./controllers/... ./internal/nsxsync/... ./internal/apply/... \
	./internal/operator/... ./internal/ncpemu/... ./test/operator/... ./test/nsxapi/... ./test/reliability/replicas/...

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate the CRD and the operator's ClusterRole from the markers in api/ and controllers/.
	$(CONTROLLER_GEN) rbac:roleName=microseg-manager crd paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: ## Generate DeepCopy methods for the API types.
	$(CONTROLLER_GEN) object paths="./api/..."

.PHONY: verify-gen
verify-gen: ## Regenerate code and manifests; fail if anything committed was stale.
	hack/verify-gen.sh

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -s -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: lint
lint: ## Run golangci-lint (built from the Go module proxy, pinned in hack/tools/go.mod).
	$(GO) tool -modfile=hack/tools/go.mod golangci-lint run ./...

##@ Test

.PHONY: controlplane
controlplane: ## Build (once) and print the local control plane directory used as KUBEBUILDER_ASSETS.
	@$(CONTROLPLANE)

.PHONY: test
test: ## Run every test: unit, fuzz seeds, golden, simulator and envtest suites against a real kube-apiserver (concurrent packages with -race).
	@assets=$$($(CONTROLPLANE)) && \
	 echo "KUBEBUILDER_ASSETS=$$assets" && \
	 test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on: $$(gofmt -l $$(git ls-files '*.go'))"; exit 1; }
	$(GO) vet ./...
	KUBEBUILDER_ASSETS=$$($(CONTROLPLANE)) $(GO) test -timeout $(TEST_TIMEOUT) $(GOTEST_FLAGS) \
		$$($(GO) list ./... | grep -vxF -f <($(GO) list $(RACE_PKGS)))
	KUBEBUILDER_ASSETS=$$($(CONTROLPLANE)) $(GO) test -race -timeout $(TEST_TIMEOUT) $(GOTEST_FLAGS) $(RACE_PKGS)
	@# Differential conformance against kube-network-policies: its own module (see its README).
	cd test/conformance && $(GO) vet ./... && $(GO) test -timeout $(TEST_TIMEOUT) $(GOTEST_FLAGS) ./...
	hack/test-verify-gen.sh
	$(MAKE) --no-print-directory demo-check NSX_API=manager
	$(MAKE) --no-print-directory demo-check NSX_API=policy

.PHONY: browser-test
browser-test: ## Render the HTML reports in headless Chromium (Debian's package, installed when missing) and check them against the JSON output; screenshots in $$BROWSER_TEST_OUT.
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	 { echo "browser-test: installing Debian's chromium package"; apt-get update && apt-get install -y --no-install-recommends chromium; }
	$(GO) vet -tags browser ./test/browser/
	$(GO) test -tags browser -count=1 -timeout 10m $(GOTEST_FLAGS) ./test/browser/

##@ Build

.PHONY: build
build: ## Build the operator and the CLIs into bin/.
	$(GO) build -o bin/ ./cmd/... .
	@# main.go builds the operator as bin/microseg.

.PHONY: run
run: ## Run the operator against the cluster in $$KUBECONFIG (see README for the NSX flags).
	$(GO) run . $(ARGS)

# NSX_API=policy runs the demo with NCP (the emulator) in Policy mode: the operator, on --nsx-api
# auto, follows it onto the NSX Policy API.
NSX_API ?= manager

.PHONY: demo
demo: ## The reference scenario end to end (control plane, NSX simulator, NCP emulator, operator); stays up until Ctrl-C. NSX_API=policy: on the Policy API.
	@# kubectl is built too (once), so that you can use the demo cluster.
	KUBEBUILDER_ASSETS=$$(COMPONENTS="etcd kube-apiserver kube-controller-manager kubectl" $(CONTROLPLANE)) $(GO) run ./cmd/demo --nsx-api=$(NSX_API) $(ARGS)

.PHONY: demo-check
demo-check: ## Run the demo once and exit 0 only if the reachability table matches the reference table (NSX_API=policy: on the Policy API).
	KUBEBUILDER_ASSETS=$$($(CONTROLPLANE)) $(GO) run ./cmd/demo --check --nsx-api=$(NSX_API) $(ARGS)
