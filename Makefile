# Every command the project uses (`make help` lists them). `make demo` and `make test` set everything up themselves.
# Dependencies: declared with `==` pins in pyproject.toml; requirements.lock pins every package, with hashes, as
# resolved from PyPI for Python 3.11. `make setup` installs exactly the lock (then the project itself, editable).
# After changing pyproject.toml's dependencies, run `make lock` and commit requirements.lock with it. `make lock`
# keeps the versions already locked where it can; `make lock LOCK_FLAGS=--upgrade` (or
# `LOCK_FLAGS="--upgrade-package NAME"`) moves unpinned transitive packages to their newest versions.
VENV ?= .venv
BIN = $(VENV)/bin
PYTHON ?= python3
UV_VERSION = 0.13.9
LOCK_FLAGS ?=

.PHONY: setup help lock demo serve test test-fast lint docs bench clean

setup: $(VENV)/.installed  ## install into .venv from requirements.lock (again whenever it or pyproject.toml changes)

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

help:  ## list these commands
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

lock:  ## regenerate requirements.lock from pyproject.toml (PyPI, hashes, Python 3.11, with uv)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes \
		--default-index https://pypi.org/simple --custom-compile-command "make lock" $(LOCK_FLAGS) -o requirements.lock

demo: setup  ## walk sample incidents through the workflow on SQLite (nimrs-demo.db)
	$(BIN)/nimrs demo

serve: setup  ## the web pages (http://127.0.0.1:8000/) and the HTTP API on port 8000
	$(BIN)/nimrs serve

lint: setup  ## ruff, import layers (import-linter) and types (mypy)
	$(BIN)/ruff check domain workflows projections adapters tests
	$(BIN)/lint-imports
	$(BIN)/mypy

test: setup  ## lint, then the whole test suite (starts the local PostgreSQL, installs Debian's Chromium if missing)
	scripts/ensure-postgres
	scripts/ensure-chromium
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

test-fast: setup  ## the inner loop: domain and workflows tests and the dependency check; no servers, no PostgreSQL
	$(BIN)/pytest -q -m "not slow" tests/domain tests/workflows tests/test_dependencies.py

docs: setup  ## regenerate docs/workflow.md, events.md, settings.md and cli.md from the code
	$(BIN)/python -m adapters.tooling.docgen
	$(BIN)/python -m adapters.cli.reference

bench: setup  ## benchmark figures for docs/performance.md (takes minutes; needs PostgreSQL)
	$(BIN)/nimrs bench core --store sqlite --json
	$(BIN)/nimrs bench core --store postgres --json
	$(BIN)/nimrs bench http --store sqlite --json
	$(BIN)/nimrs bench http --store postgres --workers 2 --json
	$(BIN)/nimrs bench load --store sqlite --json
	$(BIN)/nimrs bench load --store postgres --json
	$(BIN)/nimrs bench stream --clients 500 --json
	$(BIN)/nimrs bench cli --json
	$(BIN)/nimrs bench projections --store sqlite --json
	$(BIN)/nimrs bench web --store sqlite --json

clean:  ## remove .venv, caches and the SQLite files the commands write
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis nimrs.db* nimrs-demo.db*
