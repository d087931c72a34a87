# vigtrain — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: install run test test-sqlite test-postgres lint format assets bench load clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

## run: migrate, load demo data into an empty database, serve on http://127.0.0.1:$(PORT)
run: install
	VIGTRAIN_CONFIG=development $(BIN)/flask db upgrade
	VIGTRAIN_CONFIG=development $(BIN)/flask pathways sync
	VIGTRAIN_CONFIG=development VIGTRAIN_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/flask demo --if-empty
	@echo ""
	@echo "vigtrain is starting at http://127.0.0.1:$(PORT)/login"
	@echo "Sign in as admin@example.org (or any demo sign-in above) with the password shown."
	@echo "Press Ctrl+C to stop."
	@echo ""
	VIGTRAIN_CONFIG=development VIGTRAIN_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## test: lint, then the whole suite on SQLite, then again on PostgreSQL if TEST_DATABASE_URL is set
test: install lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Both tiers run in parallel processes (pytest-xdist, one per core; each has its own database); the
# browser tier runs after the rest, also one process per core, each with its own live server and
# Chromium. The PostgreSQL tier runs only the tests that use the test database (tests/conftest.py).
test-sqlite: install
	VIGTRAIN_TEST_DB=sqlite $(BIN)/pytest -n auto -m "not browser"
	VIGTRAIN_TEST_DB=sqlite $(BIN)/pytest -n auto -m browser

test-postgres: install
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		VIGTRAIN_TEST_DB=postgres $(BIN)/pytest -n auto -m "not browser"; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI requires TEST_DATABASE_URL for the PostgreSQL tier"; exit 1; \
	else \
		echo "Skipping the PostgreSQL tier: set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run it."; \
	fi

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: seed at 1x and 10x AVIGuk's size on SQLite (10x and 100x on PostgreSQL when DATABASE_URL
## is a PostgreSQL URL) and time every page (DESIGN.md section 5)
bench: install
	$(BIN)/python -m bench.run

## load: 200 simulated people for 120 s against gunicorn (4 workers) on the 10x seed, then /verify alone
load: install
	$(BIN)/python -m bench.load

## assets: rebuild static/css, static/js and static/vendor from pinned npm packages (needs Node; never needed to run)
assets:
	bash assets/build.sh
	bash assets/build-api-viewer.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
