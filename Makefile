# esign: `make run` starts the server on the embedded default; `make test` runs everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint unit-test test-sqlite test-postgres bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@bash scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@touch $@

run: setup
	$(BIN)/esign migrate
	$(BIN)/esign serve

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: setup lint
	@bash scripts/test-services.sh
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: setup
	$(BIN)/pytest -q -p no:cacheprovider tests

test-postgres: setup
	ESIGN_TEST_DB=postgres $(BIN)/pytest -q -p no:cacheprovider tests

bench: setup
	$(BIN)/python bench/api.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/office.py

clean:
	rm -rf $(VENV) esign-data .mypy_cache .ruff_cache .pytest_cache
