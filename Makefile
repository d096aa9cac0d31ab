# Every target makes its own virtualenv (.venv) on first use: nothing to install by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTERNAL_DB ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: install run serve test test-external lint format bench fuzz peers screenshots constraints clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[sandbox,dev]'
	touch $@

install: $(BIN)/.installed  ## create .venv with the service, the sandbox extra and the dev tools

run: install  ## the demo: example ICP, sample accounts, an admin key, then serve on :8000
	$(BIN)/icp-sync demo

serve: install  ## serve on the embedded database
	$(BIN)/icp-sync serve

test: install  ## the test suite on an embedded PostgreSQL
	$(BIN)/pytest -q

test-external: install  ## the test suite on the PostgreSQL server at $(EXTERNAL_DB)
	ICP_SYNC_TEST_DATABASE_URL=$(EXTERNAL_DB) $(BIN)/pytest -q

lint: install  ## ruff (lint + format check), mypy, and the import contracts of DESIGN §2
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app connectors
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install  ## benchmarks; figures printed and written to README's Performance section
	$(BIN)/python -m tests.bench

fuzz: install  ## schemathesis against the served API with an admin key (installs schemathesis)
	$(BIN)/python -m pip install --quiet 'schemathesis>=4,<5'
	$(BIN)/python -m tests.fuzz $(FUZZ_ARGS)

peers: install  ## tap-hubspot and tap-salesforce, unchanged, against the fakes (installs them under .peers/)
	$(BIN)/python -m tests.peers $(PEERS)

screenshots: install  ## README's dashboard screenshots, from the browser tests (needs chromium)
	ICP_SYNC_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/ui/test_dashboard_browser.py -k every_page

constraints:  ## pin every runtime dependency for the image (the Dockerfile installs with it)
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet .
	.venv-constraints/bin/python -m pip freeze --all --exclude-editable \
		| grep -v -e '^icp-sync' -e '^pip=' -e '^setuptools=' > constraints.txt
	rm -rf .venv-constraints

clean:
	rm -rf $(VENV) .icp-sync .pytest_cache .mypy_cache .ruff_cache
