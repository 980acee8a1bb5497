# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
ORG ?= clinic
# The organization's IANA time zone, set when `make run` creates it (PATCH /api/v1/organization later).
ORG_TZ ?= America/New_York
PYTEST_ARGS ?=

.PHONY: install curl chromium axe wrk run migrate lint test test-sqlite test-postgres stress fuzz bench bench-http screenshots \
	clean

install: $(STAMP)

# Pinned versions from requirements.lock, so a clean clone gets what was tested.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

migrate: install
	$(BIN)/backoffice migrate

# Migrates, creates the organization (and prints its admin key) on first start, serves on SQLite.
run: migrate
	$(BIN)/backoffice init --org "$(ORG)" --time-zone "$(ORG_TZ)" --if-absent
	$(BIN)/backoffice serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy service tests $(wildcard codesets/*.py bench/*.py)
	$(BIN)/bandit -q -c pyproject.toml -r service

# The README walkthrough tests run curl; Debian's package when missing.
curl:
	@command -v curl >/dev/null || (export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq >/dev/null && apt-get install -y -qq curl >/dev/null)

# The browser tests (tests/web/test_browser.py, marker `browser`) drive Debian's Chromium through
# Playwright's Python package: nothing is downloaded at run time; the package when missing.
chromium:
	@command -v chromium >/dev/null || (export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null)

# axe-core (npm registry, pinned) for the browser tests' accessibility check, into node_modules/.
AXE_CORE ?= axe-core@4.14.1
axe:
	@test -f node_modules/axe-core/axe.min.js || npm install --silent --no-save --no-audit \
	  --no-fund --no-package-lock --prefix . $(AXE_CORE) >/dev/null

# Pictures for the README under docs/screenshots/ (/docs, the sign-in and billing pages, the
# specimen labels) with Debian's Chromium; not part of make test.
screenshots: install chromium
	$(BIN)/python scripts/screenshots.py

# HTTP benchmarks run wrk; Debian's package when missing (make bench only, not make test).
wrk:
	@command -v wrk >/dev/null || (export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null)

test-sqlite: install curl chromium axe
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-postgres: install curl chromium axe
	scripts/with-postgres.sh $(BIN)/pytest -n 2 $(PYTEST_ARGS)

# Lint, then the whole suite on SQLite, then again on a real PostgreSQL server started here.
test: lint
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

# 8 clerks batching 1,000 ready claims at once on PostgreSQL: each claim in exactly one batch.
stress: install
	STRESS_CLIENTS=8 STRESS_CLAIMS=1000 scripts/with-postgres.sh $(BIN)/pytest -q \
	  tests/claims/test_batch_concurrency.py

# The API fuzzing of tests/hardening at length (make test runs 6 examples per operation and
# role): FUZZ_EXAMPLES=200 make fuzz for more, on both databases.
FUZZ_EXAMPLES ?= 60
fuzz: install
	FUZZ_MAX_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -n 2 tests/hardening/test_fuzz.py
	FUZZ_MAX_EXAMPLES=$(FUZZ_EXAMPLES) scripts/with-postgres.sh $(BIN)/pytest -q -n 2 \
	  tests/hardening/test_fuzz.py

# Every benchmark under bench/ (SQLite, then PostgreSQL where a script takes --postgres) into
# bench/RESULTS.md; 10-15 minutes on two cores, not part of make test.
bench: install wrk
	scripts/with-postgres.sh $(BIN)/python bench/run_all.py

# wrk against `backoffice serve` (SQLite, demo data) beside a bare FastAPI route, same run:
# health, patient reads (REST, FHIR), code search, typeahead, a PATCH, --workers 2;
# ROUTES="--route name=/path ..." for other GET routes.
ROUTES ?=
bench-http: install wrk
	$(BIN)/python bench/bench_http_wrk.py $(ROUTES)
