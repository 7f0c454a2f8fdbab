# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := referral
# `make run PORT=5001` when 5000 is taken; `make demo-code WHO=gruppledare` for another user.
PORT ?= 5000
WHO ?= handlaggare

.PHONY: bench bench-audit bench-crypto bench-gallring bench-http bench-nights chromium wrk dev-secrets run test test-postgres lint typecheck assurance translations extract-messages demo-code reset clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d referral/translations

# Development secrets, generated on this machine and never committed (instance/ is ignored).
dev-secrets: $(VENV)/.installed
	@$(BIN)/python -m config.dev_secrets instance/dev.env

run: $(VENV)/.installed translations dev-secrets
	@$(BIN)/python -m config.port_check 127.0.0.1 $(PORT)
	@set -a && . instance/dev.env && set +a && \
	export REFERRAL_ENV=development REFERRAL_DEMO=1 && \
	$(BIN)/flask crypto init && $(BIN)/flask audit init && $(BIN)/flask gallring init && $(BIN)/flask db upgrade && $(BIN)/flask demo load && \
	$(BIN)/python -m config.port_check 127.0.0.1 $(PORT) && \
	echo "Serving on http://127.0.0.1:$(PORT)" && \
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - referral.wsgi:app

demo-code: $(VENV)/.installed dev-secrets
	@set -a && . instance/dev.env && set +a && REFERRAL_DEMO=1 $(BIN)/flask demo code $(WHO)

# The browser tests drive Debian's chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

test: $(VENV)/.installed-test translations chromium
	$(BIN)/pytest -q

test-postgres: $(VENV)/.installed-test translations chromium wrk
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/pytest -q

# bandit beside ruff's S rules: any finding of medium or high severity fails, unless the line
# says why it is accepted (`# nosec Bxxx`, with the reason in a comment beside it).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --recursive referral audit crypto config --severity-level medium

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# Mutation testing of the policy and the rules of sharing against their unit tests only (the
# [tool.mutmut] table in pyproject.toml): fails when either module kills under 95 % of its
# mutants; tests/assurance/mutation_score.py prints the survivors (`$(BIN)/mutmut show ID`).
# Then API fuzzing (tests/assurance/api_fuzz.py, schemathesis against /api/v1/openapi.json
# as each role signs in, a bounded and derandomized number of requests per operation): fails
# on any 5xx or any answer its document does not declare; each role's coverage is printed.
# Then SQL injection (tests/assurance/sql_injection.py): sqlmap, offline on loopback, against
# every query and JSON body parameter of the operations in /api/v1/openapi.json, on gunicorn
# over a seeded database, as the first role the access matrix lets call each; fails when
# any parameter is injectable, and first proves on a throwaway app with one formatted query
# that the same run finds it. Each role's operations and parameters, and the time, are printed.
# Then the dependency audit: fails on a known vulnerability, and says plainly when the
# vulnerability database could not be reached (never "no known vulnerabilities" then).
assurance: $(VENV)/.installed-test translations
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/python tests/assurance/mutation_score.py --floor 95
	$(BIN)/pytest -q -s tests/assurance/api_fuzz.py
	$(BIN)/pytest -q -s tests/assurance/sql_injection.py
	$(BIN)/python tests/assurance/dependency_audit.py

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _mark -o referral/translations/messages.pot .
	$(BIN)/pybabel update -i referral/translations/messages.pot -d referral/translations

reset:
	rm -rf instance/referral.sqlite3* instance/demo-credentials.json instance/keyring.json* instance/audit-signing-key.pem instance/return-signing-key*.pem instance/audit-checkpoints

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache

# Benchmarks: figures against a plain Flask + SQLAlchemy floor in the same run (bench/).
bench-crypto: $(VENV)/.installed
	$(BIN)/python bench/crypto_overhead.py

# The access log on a million entries: on SQLite, then on the local PostgreSQL server (BENCH_POSTGRES_URL).
bench-audit: $(VENV)/.installed
	$(BIN)/python bench/audit_bench.py
	$(BIN)/python bench/audit_bench.py --database-url $${BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}

# The purge of N completed participations (default 10 000), against plain deletes: SQLite, then PostgreSQL.
bench-gallring: $(VENV)/.installed
	$(BIN)/python bench/gallring_bench.py $(if $(PEOPLE),--people $(PEOPLE))
	$(BIN)/python bench/gallring_bench.py $(if $(PEOPLE),--people $(PEOPLE)) --database-url $${BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}

# Programme C's allocation over 90 days against first-come and a fixed tie-break, and its speed;
# then the whole allocation run (2 000 registrations, 300 places) against the pure allocation:
# SQLite, then PostgreSQL.
bench-nights: $(VENV)/.installed
	$(BIN)/python bench/nights_fairness.py
	$(BIN)/python bench/nights_run_bench.py
	$(BIN)/python bench/nights_run_bench.py --database-url $${BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}

# wrk drives the whole-request benchmark; install Debian's package when it is missing.
wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }

# The whole request over HTTP (gunicorn, 2 workers, as `make run`) against the floor app in the
# same run, on SQLite then PostgreSQL (BENCH_POSTGRES_URL), over a seeded data set kept under
# instance/bench/ between runs: `make bench-http HTTP_ARGS="--children 1000 --duration 5"`,
# HTTP_ARGS=--growth, HTTP_ARGS=--reseed (bench/http_bench.py --help).
bench-http: $(VENV)/.installed translations wrk
	$(BIN)/python bench/http_bench.py $(HTTP_ARGS)

bench: bench-crypto bench-audit bench-gallring bench-nights bench-http

# Screenshots of the start pages for the README, from a running `make run` (PORT as there).
screenshots: $(VENV)/.installed-test chromium
	$(BIN)/python bench/screenshots.py --base http://127.0.0.1:$(PORT)
