# Every command the project uses. `make demo` and `make test` set everything up themselves.
VENV ?= .venv
BIN = $(VENV)/bin
PYTHON ?= python3

.PHONY: setup demo serve test lint check-docs docs bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/nimrs demo

serve: setup
	$(BIN)/nimrs serve

lint: setup
	$(BIN)/ruff check domain workflows projections adapters tests
	$(BIN)/lint-imports
	$(BIN)/mypy

test: setup
	scripts/ensure-postgres
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

docs: setup
	$(BIN)/python -m adapters.docgen

bench: setup
	$(BIN)/nimrs bench core --store sqlite --json
	$(BIN)/nimrs bench core --store postgres --json
	$(BIN)/nimrs bench http --store sqlite --json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis nimrs.db* nimrs-demo.db*
