# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# PYTHON picks the interpreter; each interpreter gets its own virtualenv so several can coexist:
# `.venv` for the default python3, `.venv-3.13` for `make test PYTHON=python3.13`, and so on.
PYTHON ?= python3
VENV ?= $(if $(filter python3,$(notdir $(PYTHON))),.venv,.venv-$(patsubst python%,%,$(notdir $(PYTHON))))
# The interpreter's real path: PYTHON itself when it runs, else the newest pyenv version that has it
# (a pyenv shim for a version that is installed but not selected does not run).
PYTHON_EXE = $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null \
	|| ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/*/bin/$(notdir $(PYTHON)) 2>/dev/null | sort -V | tail -n 1)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The project's Dagster instance is ./dagster.yaml, so DAGSTER_HOME is this folder (for make dev); what Dagster
# stores goes to ./.dagster (dagster.yaml says so). A DAGSTER_HOME already in the environment wins. The demo keeps
# an instance of its own in demo-data/.
DAGSTER_HOME ?= $(CURDIR)

SANDBOX_PORT ?= 8642

.PHONY: install system-deps demo sandbox test lint typecheck unit bench bench-peers-env dev clean

# The project and its development tools at the versions in constraints.txt, the ones CI tested.
$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON_EXE)" || { echo "error: $(PYTHON) not found (PATH or pyenv)" >&2; exit 1; }
	$(PYTHON_EXE) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## lock: resolve the newest versions pyproject.toml allows into constraints.txt (then run make test)
.PHONY: lock
lock:
	@test -n "$(PYTHON_EXE)" || { echo "error: $(PYTHON) not found (PATH or pyenv)" >&2; exit 1; }
	rm -rf .venv-lock && $(PYTHON_EXE) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet '.[dev]'
	{ sed -n '1,2p' constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable \
		| grep -v -e '^assistants-export' -e '^-e'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .venv-lock

## system-deps: PostgreSQL server binaries for the production-instance test, and chromium for the report's browser
## test (Debian; needs root)
system-deps:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "PostgreSQL is installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "PostgreSQL is missing: run 'sudo make system-deps' (the production-instance test is skipped)"; \
	fi
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium is installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
			|| echo "chromium could not be installed (the report's browser test is skipped, saying so)"; \
	else \
		echo "chromium is missing: run 'sudo make system-deps' (the report's browser test is skipped)"; \
	fi

## demo: start the sandbox API, snapshot two nights into ./demo-data through Dagster, show what it made
demo: $(STAMP)
	$(BIN)/python -m assistants_export.pipelines.demo

## demo-foundry: the demo against the sandbox's Azure AI Foundry project (Entra ID sign-in, Foundry's tools)
.PHONY: demo-foundry
demo-foundry: $(STAMP)
	$(BIN)/python -m assistants_export.pipelines.demo --foundry

## demo-dev: the Dagster UI over the demo's warehouse and its own instance (./demo-data, after make demo)
.PHONY: demo-dev
demo-dev: $(STAMP)
	@test -f demo-data/dagster.yaml || { echo "error: demo-data/dagster.yaml is missing: run make demo first" >&2; exit 1; }
	cd demo-data && DAGSTER_HOME=$(CURDIR)/demo-data ASSISTANTS_WAREHOUSE=$(CURDIR)/demo-data \
		$(CURDIR)/$(BIN)/dg dev -m assistants_export.pipelines.definitions

## sandbox: the sandbox API on http://127.0.0.1:$(SANDBOX_PORT)/v1 (key sk-sandbox) until Ctrl-C
sandbox: $(STAMP)
	$(BIN)/python -m assistants_export.sandbox --port $(SANDBOX_PORT)

## test: lint, type-check and run the whole test suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# The peers (openai SDK, dlt) get their own virtualenv: they are no dependency of the project, `make test` and CI
# never need them, and they resolve their own versions as a user installing them would.
PEERS_VENV ?= .venv-bench-peers
PEERS_STAMP := $(PEERS_VENV)/.installed

## bench: the pipeline against a plain-httpx floor and its peers over the sandbox (N=20,000); results in benchmarks/results/
bench: $(STAMP) $(PEERS_STAMP)
	$(BIN)/python -m benchmarks.run --peers-python $(PEERS_VENV)/bin/python $(BENCH_ARGS)

$(PEERS_STAMP): benchmarks/requirements-peers.txt
	@test -n "$(PYTHON_EXE)" || { echo "error: $(PYTHON) not found (PATH or pyenv)" >&2; exit 1; }
	$(PYTHON_EXE) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install --quiet -r benchmarks/requirements-peers.txt
	touch $(PEERS_STAMP)

## bench-peers-env: the peers' own virtualenv (.venv-bench-peers) for `make bench`
bench-peers-env: $(PEERS_STAMP)

## bench-growth: N assistants changing night after night through the real CLI; results in benchmarks/results/growth-*
.PHONY: bench-growth
bench-growth: $(STAMP)
	$(BIN)/python -m benchmarks.growth $(GROWTH_ARGS)

## bench-scale: S sources × N assistants (default 10 × 20,000) into one bucket, a run per source; results in benchmarks/results/scale-*
.PHONY: bench-scale
bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks.scale $(SCALE_ARGS)

## mutants: break each guarantee on purpose (tests/mutants/run.py) and check its test notices; not part of `make test`
.PHONY: mutants
mutants: $(STAMP)
	$(BIN)/python tests/mutants/run.py $(MUTANTS_ARGS)

## dev: the Dagster UI (dg dev) with assets, lineage, the job and the schedules
dev: $(STAMP)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dg dev

clean:
	rm -rf $(VENV) $(PEERS_VENV) .dagster logs .logs_queue .nux .telemetry demo-data .pytest_cache .mypy_cache .ruff_cache .hypothesis
