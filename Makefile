# Piecework. `make run` serves the demo; `make test` runs everything CI runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test check lint migrate clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

run: migrate
	$(BIN)/marketplace seed-demo
	$(BIN)/marketplace serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Lint, migrations in sync with the models, import contracts, fast unit tests.
check: lint
	rm -f instance/check.db
	DATABASE_URL=sqlite:///instance/check.db $(BIN)/alembic upgrade head
	DATABASE_URL=sqlite:///instance/check.db $(BIN)/alembic check
	rm -f instance/check.db
	$(BIN)/pytest -q -n auto --dist loadgroup -m "not slow" --engines sqlite

# Everything: lint and the whole suite on SQLite and PostgreSQL, one worker a core
# (tests/conftest.py keeps the many-connection tests on one worker).
test: lint
	$(BIN)/pytest -q -n auto --dist loadgroup

# A benchmark (benchmarks/README.md) on the PostgreSQL server at BENCH_DATABASE_URL
# (default postgresql://postgres@127.0.0.1:5432); it makes its own database and drops it.
# BENCH picks it: drop_storm (the default), earnings, settlement or items. Options through BENCH_ARGS,
# e.g. BENCH_ARGS="--rev HEAD --profile", or BENCH=earnings BENCH_ARGS="--items-per-day 2".
BENCH ?= drop_storm
BENCH_STAMP := $(VENV)/.bench-$(shell cksum pyproject.toml | cut -d' ' -f1)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	rm -f $(VENV)/.bench-*
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/$(BENCH).py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/check.db .pytest_cache
