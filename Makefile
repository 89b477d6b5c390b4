# viewtrail — the README's two commands are `make demo` and `make test`.
# Each one alone works on a fresh machine with Python 3.11+ and make: it creates .venv and
# (re)installs the project when .venv is missing or pyproject.toml changed since the last install.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export VIEWTRAIL_DATA_DIR ?= $(CURDIR)/data
export VIEWTRAIL_WAREHOUSE ?= $(VIEWTRAIL_DATA_DIR)/warehouse.duckdb
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
DBT_MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.yaml' \) -not -path 'dbt_project/target/*' -not -path 'dbt_project/logs/*' 2>/dev/null)

DEPLOY_STAMP := $(VENV)/.installed-deploy

.PHONY: demo test test-browser test-distributed lint ui install manifest bench clean help

help:
	@echo "make demo   - run the main job: demo pipeline on a local DuckDB file with the simulated platform"
	@echo "make test   - run the linters and the test suite"
	@echo "make test-distributed - the production profile's tests against PostgreSQL, Redis, RabbitMQ and an S3 server (docs/deploy.md)"
	@echo "make test-browser - the dashboard and /docs in headless chromium (needs /usr/bin/chromium: apt-get install chromium)"
	@echo "make lint   - ruff (lint + format check), import contracts, mypy, and sqlfluff on the dbt models"
	@echo "make ui     - start the Dagster UI and daemon (schedules, sensors) on http://127.0.0.1:3000"
	@echo "make bench  - run the benchmarks in bench/ (writes docs/benchmarks.md)"

# Runs a command holding .make.lock, so two makes started at once (say `make demo` beside `make test` on a fresh
# clone) do not create and fill .venv together; the lock goes with its holder, even a killed one.
define LOCKED
import fcntl, subprocess, sys
lock = open(".make.lock", "w")
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("waiting for the other make that is installing .venv / parsing the dbt project", flush=True)
    fcntl.flock(lock, fcntl.LOCK_EX)
sys.exit(subprocess.call(sys.argv[1:]))
endef
export LOCKED

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "viewtrail needs Python 3.11 or newer, found " + sys.version.split()[0]'
	@$(PYTHON) -c "$$LOCKED" bash -c '[ $(STAMP) -nt pyproject.toml ] && exit 0; set -e; \
	  test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	  echo "installing viewtrail into $(VENV)"; \
	  $(BIN)/python -m pip install --quiet --upgrade pip; \
	  $(BIN)/python -m pip install --quiet -e ".[test]"; \
	  touch $(STAMP)'

install: $(STAMP)

# The browser tests' extra (Playwright), on top of the test install; its own stamp, so `make test` never needs it.
BROWSER_STAMP := $(VENV)/.installed-browser
$(BROWSER_STAMP): $(STAMP)
	@$(PYTHON) -c "$$LOCKED" bash -c '[ $(BROWSER_STAMP) -nt $(STAMP) ] && exit 0; set -e; \
	  echo "installing the browser extra (Playwright) into $(VENV)"; \
	  $(BIN)/python -m pip install --quiet -e ".[test,browser]"; \
	  touch $(BROWSER_STAMP)'

# dagster-dbt loads the dbt manifest when the definitions load: prepare it outside `dagster dev` too.
$(DBT_MANIFEST): $(STAMP) $(DBT_SOURCES)
	@mkdir -p $(VIEWTRAIL_DATA_DIR) $(DAGSTER_HOME)
	@$(PYTHON) -c "$$LOCKED" $(BIN)/dbt parse --quiet --project-dir dbt_project --profiles-dir dbt_project
	@touch $(DBT_MANIFEST)

manifest: $(DBT_MANIFEST)

demo: $(DBT_MANIFEST)
	$(BIN)/viewtrail demo

lint: $(STAMP)
	$(BIN)/ruff check viewtrail orchestration tests bench
	$(BIN)/ruff format --check viewtrail orchestration tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project/models

test: $(DBT_MANIFEST) lint
	$(BIN)/python -m pytest

# The production profile (docs/deploy.md) against real services: PostgreSQL, Redis and RabbitMQ on 127.0.0.1 (.ci/run starts
# them when they are down), moto's S3 server in-process. Installs the [deploy] extra, which `make test` never needs.
$(DEPLOY_STAMP): $(STAMP)
	@$(PYTHON) -c "$$LOCKED" bash -c '[ $(DEPLOY_STAMP) -nt $(STAMP) ] && exit 0; set -e; \
	  echo "installing viewtrail[deploy] into $(VENV)"; \
	  $(BIN)/python -m pip install --quiet -e ".[test,deploy]"; \
	  touch $(DEPLOY_STAMP)'

test-distributed: $(DBT_MANIFEST) $(DEPLOY_STAMP)
	$(BIN)/python -m pytest -o addopts="-ra --strict-markers" tests/distributed

# The dashboard and /docs in a real headless browser: Playwright driving Debian's chromium (Playwright cannot
# download its own browsers here), against `viewtrail serve` over a small demo. Not part of `make test`, which
# needs only Python and make.
test-browser: $(DBT_MANIFEST) $(BROWSER_STAMP)
	$(BIN)/python -m pytest -o addopts="-ra --strict-markers" tests/browser

ui: $(DBT_MANIFEST)
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: $(DBT_MANIFEST)
	$(BIN)/python bench/scrape_throughput.py
	$(BIN)/python bench/pipeline_capacity.py
	$(BIN)/python bench/dbt_scaling.py
	$(BIN)/python bench/import_throughput.py
	$(BIN)/python bench/freshness.py
	$(BIN)/python bench/list_videos.py
	$(BIN)/python bench/ytdlp_backend.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/scale.py --sizes 1k,10k --days 30,365

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs .pytest_cache
