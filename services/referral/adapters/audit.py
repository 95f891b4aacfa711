"""The audit trail of reads (PDPA: who saw a patient's referral, when, through what).

Every read of a referral through the API, by id or in search results, leaves one row per
referral, written in the read's own connection. Kept like the referral itself (see
shared/retention.py): the trail is what a patient's request for access is answered from.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.db.pool import Connection
from shared.fhir.codes import organization_reference

READ, SEARCH = "R", "E"


async def record_reads(
    connection: Connection,
    *,
    caller: str,
    referral_ids: Iterable[str],
    action: str,
    via: str,
) -> None:
    await connection.executemany(
        "INSERT INTO audit_event (agent, action, referral_id, via) VALUES ($1, $2, $3, $4)",
        [(organization_reference(caller), action, rid, via) for rid in referral_ids],
    )


async def reads_of(connection: Connection, *, referral_id: str) -> list[dict[str, object]]:
    rows = await connection.fetch(
        """
        SELECT recorded_at, agent, action, via FROM audit_event
        WHERE referral_id = $1 ORDER BY recorded_at, id
        """,
        referral_id,
    )
    return [dict(row) for row in rows]
