"""Retention of personal data (PDPA): what a service keeps about a patient beyond the time it
needs it is erased by a purge job.

Each service names its statements (SQL with ``$1`` = the cutoff: data older than that goes); the
job runs them every ``purge_interval_s`` with the cutoff ``personal_data_retention_days`` ago
(FT_PERSONAL_DATA_RETENTION_DAYS, FT_PURGE_INTERVAL_S). Every service also drops its published
outbox rows: they are whole FHIR messages, hospital numbers included. What stays is what the
network's figures need: ids, states, times and hospitals, no longer tied to a person.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from shared.settings import PlatformSettings
from shared.workers import PeriodicTask

log = logging.getLogger(__name__)

PUBLISHED_OUTBOX = "DELETE FROM outbox WHERE published_at < $1"


async def purge(pool: asyncpg.Pool, statements: Sequence[str], *, cutoff: datetime) -> list[int]:
    """Runs each statement in its own transaction; returns the rows each touched."""
    touched = []
    for statement in (*statements, PUBLISHED_OUTBOX):
        async with pool.acquire() as connection, connection.transaction():
            status: str = await connection.execute(statement, cutoff)
        touched.append(int(status.rsplit(" ", 1)[-1]))
    return touched


class PurgeJob(PeriodicTask):
    name = "personal-data-purge"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        statements: Sequence[str],
        retention: timedelta,
        poll_interval_s: float,
    ) -> None:
        super().__init__(poll_interval_s=poll_interval_s)
        self.pool = pool
        self.statements = statements
        self.retention = retention

    async def tick(self) -> None:
        touched = await purge(self.pool, self.statements, cutoff=datetime.now(UTC) - self.retention)
        if any(touched):
            log.info("personal data purged: rows per statement %s", touched)


def purge_job(
    pool: asyncpg.Pool, settings: PlatformSettings, statements: Sequence[str]
) -> PurgeJob:
    """The service's purge job, as its settings say."""
    return PurgeJob(
        pool=pool,
        statements=statements,
        retention=timedelta(days=settings.personal_data_retention_days),
        poll_interval_s=settings.purge_interval_s,
    )
