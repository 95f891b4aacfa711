"""Alembic environment: this service's migrations run in its own schema."""

from shared.db.migrations import run_migrations_in_schema

run_migrations_in_schema()
