# Piecework. `make run` serves the demo; `make test` runs everything CI runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test check lint migrate clean bench translations messages browser

# The pages' catalogs (docs/pages.md): the .po files are the source, kept in git; their
# compiled .mo files are built here, by pybabel (babel is a dependency), never committed.
CATALOGS := $(wildcard marketplace/pages/translations/*/LC_MESSAGES/messages.po)
TRANSLATIONS := $(CATALOGS:.po=.mo)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

migrate: $(STAMP) translations
	$(BIN)/alembic upgrade head

translations: $(TRANSLATIONS)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing a page's strings: extract them, update both catalogs, then translate
# the new entries in marketplace/pages/translations/zh_CN/LC_MESSAGES/messages.po.
messages: $(STAMP)
	$(BIN)/pybabel extract -F marketplace/pages/babel.cfg -k lazy_gettext --no-location \
		--sort-output --project Piecework -o marketplace/pages/translations/messages.pot .
	$(BIN)/pybabel update -i marketplace/pages/translations/messages.pot \
		-d marketplace/pages/translations --no-wrap --no-fuzzy-matching --ignore-obsolete

run: migrate
	$(BIN)/marketplace seed-demo
	$(BIN)/marketplace serve --host $(HOST) --port $(PORT)

lint: $(STAMP) translations
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

# The browser tests drive Debian's Chromium at /usr/bin/chromium (Playwright's own browser
# download is not reachable). As root (CI), install it, with a font for Chinese, when it
# is missing; otherwise the browser tests are skipped saying why (failed under CI=true).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-wqy-microhei >/dev/null; } \
		|| echo "Could not install chromium: the browser tests will say why they did not run"; \
	fi

# Everything: lint and the whole suite on SQLite and PostgreSQL, one worker a core
# (tests/conftest.py keeps the many-connection tests on one worker).
test: lint browser
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
	rm -rf $(VENV) instance/check.db .pytest_cache $(TRANSLATIONS)
