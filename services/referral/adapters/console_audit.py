"""The audit log as the operators' console reads and writes it (schema ``referral``).

Reads: ``audit_event`` searched by referral, hospital, person and time. A row's hospital is
the hospital system that acted (agent ``Organization/<id>``), the hospital of the person who
acted (agent ``User/<id>``), or a hospital of the referral it concerns.
Writes: an operator's replay of a dead letter (Kafka's ``.dlq`` topics), one row per record,
whose entity names the record (``dead-letter:<topic>/<partition>/<offset>``): the console
marks a record replayed by this row, so the audit and the state are one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.referral.adapters.audit import EXECUTE, person_reference
from shared.db.pool import Connection

DEAD_LETTER_ENTITY = "dead-letter:"
REPLAY_VIA = "POST /app/console/dead-letters/replay"
MAX_ROWS = 200


@dataclass(frozen=True)
class AuditRow:
    recorded_at: datetime
    agent: str
    # The person's username when the agent is a person of the web app.
    username: str | None
    action: str
    referral_id: str | None
    entity: str | None
    via: str


async def record_dead_letter_replay(
    connection: Connection, *, user_id: int, address: str, key: str | None
) -> None:
    """One audit row for an operator's replay; it names the referral when the record's key is
    one this service knows."""
    await connection.execute(
        """
        INSERT INTO audit_event (agent, action, referral_id, entity, via)
        VALUES ($1, $2, (SELECT id FROM referral WHERE id = $3), $4, $5)
        """,
        person_reference(user_id),
        EXECUTE,
        key,
        DEAD_LETTER_ENTITY + address,
        REPLAY_VIA,
    )


async def replayed_dead_letters(connection: Connection, addresses: list[str]) -> set[str]:
    """Those of the records (``topic/partition/offset``) an operator has replayed."""
    rows = await connection.fetch(
        "SELECT DISTINCT entity FROM audit_event WHERE entity = ANY($1::text[])",
        [DEAD_LETTER_ENTITY + address for address in addresses],
    )
    return {row["entity"].removeprefix(DEAD_LETTER_ENTITY) for row in rows}


async def search_audit(
    connection: Connection,
    *,
    referral_id: str | None = None,
    hospital: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditRow]:
    """The newest audit rows matching every criterion given (at most MAX_ROWS)."""
    rows = await connection.fetch(
        """
        SELECT e.recorded_at, e.agent, u.username, e.action, e.referral_id, e.entity, e.via
        FROM audit_event AS e
        LEFT JOIN app_user AS u ON e.agent = 'User/' || u.id
        LEFT JOIN referral AS r ON r.id = e.referral_id
        WHERE ($1::text IS NULL OR e.referral_id = $1)
          AND ($2::text IS NULL OR e.agent = 'Organization/' || $2 OR u.hospital_id = $2
               OR $2 IN (r.requester_org, r.owner_org))
          AND ($3::text IS NULL OR u.username = lower($3))
          AND ($4::timestamptz IS NULL OR e.recorded_at >= $4)
          AND ($5::timestamptz IS NULL OR e.recorded_at < $5)
        ORDER BY e.recorded_at DESC, e.id DESC
        LIMIT $6
        """,
        referral_id,
        hospital,
        username,
        since,
        until,
        MAX_ROWS,
    )
    return [
        AuditRow(
            recorded_at=row["recorded_at"],
            agent=row["agent"],
            username=row["username"],
            action=row["action"],
            referral_id=row["referral_id"],
            entity=row["entity"],
            via=row["via"],
        )
        for row in rows
    ]
