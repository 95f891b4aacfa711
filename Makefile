# Fast Track: `make up` runs the whole system locally, `make test` runs every test from nothing.
.PHONY: up down status test lint audit bench chaos

up:
	bash deploy/local/up.sh

down:
	bash deploy/local/down.sh

status:
	FT_STATE_DIR=$(CURDIR)/.local-stack/dev FT_PROXY_PORT=$${FT_PROXY_PORT:-8080} bash deploy/local/stack.sh status

test:
	bash deploy/local/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy shared services tests bench
	.venv/bin/lint-imports --no-cache && .venv/bin/deptry .

# pip-audit over the versions uv.lock pins (skipped, saying so, where PyPI's advisory data
# cannot be reached; FT_REQUIRE_AUDIT=1 makes that a failure).
audit:
	.venv/bin/python deploy/local/dependency_audit.py

bench:
	bash bench/run.sh

# The long chaos run (102 kills, 3 broker restarts, 10 immediate PostgreSQL stops; about half an
# hour on 2 cores): figures to bench/results/chaos.json. `make test` runs the short form.
chaos:
	bash deploy/local/ensure-tools.sh && .venv/bin/python -m bench.chaos --long
