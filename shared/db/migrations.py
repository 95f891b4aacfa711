"""Alembic, driven programmatically: one migration history per service, in the service's schema.

Each service keeps its scripts in ``services/<name>/migrations``; its ``env.py`` calls
``run_migrations_in_schema``. ``upgrade_all`` is what ``python -m shared.admin migrate`` runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

SERVICES = ("referral", "telemedicine", "notifier")
_ROOT = Path(__file__).resolve().parents[2]


def sqlalchemy_url(database_url: str) -> str:
    """Alembic runs through SQLAlchemy; the services themselves use asyncpg directly."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url[len(prefix) :]
    return database_url


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_ROOT / "services" / service / "migrations"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url))
    config.attributes["schema"] = service
    return config


def upgrade_all(database_url: str) -> None:
    for service in SERVICES:
        command.upgrade(alembic_config(service, database_url), "head")


def run_migrations_in_schema() -> None:
    """Body of every service's env.py (online mode only: migrations always run against a DB)."""
    config = context.config
    schema: str = config.attributes["schema"]
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic config has no sqlalchemy.url (run_migrations sets it)")

    def run(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.execute(text(f'SET search_path TO "{schema}"'))
        connection.commit()
        context.configure(
            connection=connection,
            version_table_schema=schema,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(main())


def execute_script(sql: str) -> None:
    """Runs a multi-statement SQL script inside the migration's transaction.

    SQLAlchemy sends single prepared statements through asyncpg; a script (several statements, a
    function body) needs asyncpg's simple-query protocol, reached through the driver connection.
    """
    from alembic import op
    from sqlalchemy.util import await_only

    driver_connection = op.get_bind().connection.driver_connection
    if driver_connection is None:
        raise RuntimeError("the migration's connection has no asyncpg connection under it")
    await_only(driver_connection.execute(sql))


def execute_alone(*statements: str) -> None:
    """Runs each statement in a transaction of its own, outside the migration's: CREATE and DROP
    INDEX CONCURRENTLY refuse to run inside a transaction block (they keep writers to a large
    table going while an index is built)."""
    from alembic import op

    with op.get_context().autocommit_block():
        for statement in statements:
            execute_script(statement)
