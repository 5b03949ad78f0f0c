# handoff — the few commands people use. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export ZENML_ANALYTICS_OPT_IN := false
# `make run` keeps its embedded ZenML store here, inside the checkout.
RUN_STORE := $(CURDIR)/.handoff/zenml
DASHBOARD_PORT ?= 8237
PYTEST := $(VENV)/bin/python -m pytest
# The folder is the tier (tests/{unit,integration,e2e,faults,containers,k8s,browser}; conftest.py
# marks each test with its folder). The fast subset needs no store, server or Docker; `make test`
# adds real stores and servers; CI also runs the e2e, container, fault and browser tiers.
FAST := tests/unit tests/k8s -m "not integration and not server and not cluster"
# `make test` spreads whole files over WORKERS processes (pytest-xdist): a file's tests share its
# servers and stores, so they stay on one worker; the slow integration files are listed first.
WORKERS ?= 2
PARALLEL := -n $(WORKERS) --dist loadfile

.PHONY: help venv run status dashboard stop test-fast test test-e2e test-containers test-browser faults test-all docs lint images bench clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q uv==$(UV_VERSION)

# --compile-bytecode: as in the images. Without .pyc files (PYTHONDONTWRITEBYTECODE, a read-only
# venv) every process recompiles zenml, pandas & co.: ~3 s more per job start and test subprocess.
$(VENV)/.synced: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --extra test --python $(PYTHON) --compile-bytecode
	touch $@

venv: $(VENV)/.synced ## create .venv from the lock file (uv sync --frozen)

run: venv ## run the whole chain on ZenML's embedded local store and print a summary
	ZENML_CONFIG_PATH=$(RUN_STORE) $(VENV)/bin/handoff chain

status: venv ## show datasets, model versions, predictions and endpoints of `make run`
	ZENML_CONFIG_PATH=$(RUN_STORE) $(VENV)/bin/handoff status

dashboard: venv ## ZenML's dashboard over `make run`'s store at http://127.0.0.1:8237 (in the background)
	ZENML_CONFIG_PATH=$(RUN_STORE) $(VENV)/bin/handoff dashboard --port $(DASHBOARD_PORT)

# No venv, nothing of ours can be running: stop never creates one.
stop: ## stop what `make run` and `make dashboard` left running, and wait until it is gone
	@if [ -x $(VENV)/bin/handoff ]; then $(VENV)/bin/handoff stop; else echo "nothing was running"; fi

test-fast: venv ## unit tests and static manifest checks (no store, no server; under a minute)
	$(PYTEST) $(FAST) -q

test: venv ## unit, integration, real-server and manifest tests (no Docker needed)
	$(PYTEST) tests/integration tests/k8s tests/unit -m "not cluster" -q $(PARALLEL)

test-e2e: venv ## the longer journeys: partitions, backfill, drift, chaining by events (CI runs it)
	$(PYTEST) tests/e2e -q $(PARALLEL)

test-containers: venv ## build every image and run the container tests (needs dockerd)
	$(PYTEST) tests/containers -q

test-browser: venv ## the evaluation report in the real ZenML dashboard, in headless chromium
	$(PYTEST) tests/browser -q -s

faults: venv ## the fault battery (kills, server faults, load); writes tests/output/faults.md
	$(PYTEST) tests/faults -q -p no:cacheprovider
	@cat tests/output/faults.md

test-all: venv ## everything CI runs (cluster tests skip without KUBECONFIG)
	$(PYTEST) -q

docs: venv ## check every relative link and #anchor of README.md and docs/*.md, and the Layout
	$(PYTEST) tests/unit/test_docs.py -q

lint: venv ## ruff, mypy on jobs/, import-linter (the package boundaries), hadolint
	$(VENV)/bin/ruff check jobs tests
	$(VENV)/bin/ruff format --check jobs tests
	$(VENV)/bin/mypy jobs
	@# ZenML is a root package for the contracts; grimp warns about its migration files' names.
	set -o pipefail; $(VENV)/bin/lint-imports 2>&1 | grep -v "too many dots in the name"
	$(VENV)/bin/hadolint Dockerfile

images: ## build every job's image with Docker (BuildKit)
	bash scripts/build-images.sh

bench: venv ## time the batch jobs; batch inference of 1 M and 10 M rows vs the raw streaming floor, 2 shards vs 1
	bash scripts/bench.sh

clean: stop ## stop what runs, remove the venvs and the local run's store
	rm -rf $(VENV) $(TOOLS) .handoff
