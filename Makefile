# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DAGSTER_HOME ?= $(CURDIR)/.dagster

SANDBOX_PORT ?= 8642

.PHONY: install system-deps demo sandbox test lint typecheck unit bench dev clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## system-deps: PostgreSQL server binaries for the production-instance test (Debian; needs root)
system-deps:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "PostgreSQL is installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "PostgreSQL is missing: run 'sudo make system-deps' (the production-instance test is skipped)"; \
	fi

$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## demo: start the sandbox API, snapshot today into ./demo-data through Dagster, show what it made
demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/python -m pipelines.demo

## sandbox: the sandbox API on http://127.0.0.1:$(SANDBOX_PORT)/v1 (key sk-sandbox) until Ctrl-C
sandbox: $(STAMP)
	$(BIN)/python -m sandbox --port $(SANDBOX_PORT)

## test: lint, type-check and run the whole test suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

## bench: the pipeline against a plain-httpx floor over the sandbox (N=20,000); results in benchmarks/results/
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

## dev: the Dagster UI (dg dev) with assets, lineage, the job and the schedules
dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dg dev

clean:
	rm -rf $(VENV) .dagster demo-data .pytest_cache .mypy_cache .ruff_cache .hypothesis
