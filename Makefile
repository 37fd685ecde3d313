# Every target sets up what it needs: a virtualenv in .venv with the package and its test
# dependencies, and the pinned helm/kubectl in .tools/bin (scripts/install-tools.sh).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: setup demo test unit e2e e2e-kind typecheck bench clean

$(BIN)/addon-operator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

.tools/bin/helm .tools/bin/helm3 .tools/bin/kubectl &: scripts/install-tools.sh
	bash scripts/install-tools.sh

setup: $(BIN)/addon-operator .tools/bin/helm .tools/bin/helm3 .tools/bin/kubectl

## demo: the sandbox API server plus the operator on the example modules
demo: setup
	$(BIN)/addon-operator sandbox --modules-dir modules --global-hooks-dir global-hooks

## test: every test (unit and end-to-end against the sandbox)
test: setup
	$(BIN)/python -m pytest -q

unit: setup
	$(BIN)/python -m pytest -q tests/unit

e2e: setup
	$(BIN)/python -m pytest -q tests/e2e

## e2e-kind: the end-to-end scenarios against the operator image in a kind cluster (needs
## Docker and kind; add PYTEST_ARGS=--keep-cluster to keep the cluster for the next run)
e2e-kind: setup
	$(BIN)/python -m pytest -q tests/e2e --target=kind $(PYTEST_ARGS)

## typecheck: mypy, strict, on operator/addon_operator and operator/kube_sandbox (settings in
## [tool.mypy] of pyproject.toml)
typecheck: $(BIN)/addon-operator
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .tools .sandbox .pytest_cache .mypy_cache
