# Fast Track: `make up` runs the whole system locally, `make test` runs every test from nothing.
.PHONY: up down status test lint bench

up:
	bash deploy/local/up.sh

down:
	bash deploy/local/down.sh

status:
	FT_STATE_DIR=$(CURDIR)/.local-stack/dev bash deploy/local/stack.sh status

test:
	bash deploy/local/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy shared services tests bench

bench:
	bash bench/run.sh
