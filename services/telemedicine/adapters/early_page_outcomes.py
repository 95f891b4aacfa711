"""What is said about a referral consult's first page before telemedicine opened the consult
(schema ``telemedicine``): the referral service pages the on-call consultant with the referral,
so when telemedicine is behind, the page's acknowledgement or its final failure (nobody reached)
may come first. Each waits here and is taken by the statement that opens the consult
(repository.open_consult_paged)."""

from __future__ import annotations

from datetime import datetime

from shared.db.pool import Connection

# Taken when the consult opens; one whose consult never opens goes after the retention period
# (shared/retention.py, $1 = the cutoff), with the acknowledging clinician's id.
PURGE_EARLY_PAGE_OUTCOMES = (
    "DELETE FROM early_acknowledgement WHERE acknowledged_at < $1",
    "DELETE FROM early_unreached_page WHERE reported_at < $1",
)


async def keep_early_acknowledgement(
    connection: Connection, *, request_id: str, person: str | None, at: datetime
) -> None:
    """An acknowledgement of a consult's first page that came before the consult opened."""
    await connection.execute(
        """
        INSERT INTO early_acknowledgement (request_id, person, acknowledged_at)
        VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
        """,
        request_id,
        person,
        at,
    )


async def keep_early_unreached_page(
    connection: Connection, *, request_id: str, at: datetime
) -> None:
    """A final failure (nobody reached) of a consult's first page that came before the consult
    opened."""
    await connection.execute(
        """
        INSERT INTO early_unreached_page (request_id, reported_at)
        VALUES ($1, $2) ON CONFLICT DO NOTHING
        """,
        request_id,
        at,
    )
