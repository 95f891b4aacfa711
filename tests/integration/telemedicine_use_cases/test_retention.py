"""After the retention period the telemedicine service's purge (the statements its purge job
runs) erases what a consult's first page said before a consult that never opened: its referral
was refused or withdrawn before telemedicine saw it, so nothing ever took the acknowledgement or
the final failure. Before, those rows, with the acknowledging clinician's id, stayed for ever.
Newer ones stay: their consult may still open."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.telemedicine.adapters import retention
from services.telemedicine.adapters.early_page_outcomes import (
    keep_early_acknowledgement,
    keep_early_unreached_page,
)
from shared.db.pool import Connection

RETENTION = timedelta(days=30)


async def _kept(connection: Connection, request_ids: list[str]) -> set[str]:
    rows = await connection.fetch(
        """
        SELECT request_id FROM early_acknowledgement WHERE request_id = ANY($1)
        UNION ALL
        SELECT request_id FROM early_unreached_page WHERE request_id = ANY($1)
        """,
        request_ids,
    )
    return {row["request_id"] for row in rows}


async def test_the_purge_erases_first_page_outcomes_of_consults_that_never_opened(
    connection: Connection,
) -> None:
    now = datetime.now(UTC)
    long_ago, lately = now - RETENTION - timedelta(days=1), now - timedelta(hours=1)
    old_ack, old_unreached, new_ack, new_unreached = (f"rq-{uuid.uuid4()}" for _ in range(4))
    await keep_early_acknowledgement(
        connection, request_id=old_ack, person="Practitioner/dr-a", at=long_ago
    )
    await keep_early_unreached_page(connection, request_id=old_unreached, at=long_ago)
    await keep_early_acknowledgement(
        connection, request_id=new_ack, person="Practitioner/dr-b", at=lately
    )
    await keep_early_unreached_page(connection, request_id=new_unreached, at=lately)

    for statement in retention.PERSONAL_DATA:
        await connection.execute(statement, now - RETENTION)

    assert await _kept(connection, [old_ack, old_unreached, new_ack, new_unreached]) == {
        new_ack,
        new_unreached,
    }
