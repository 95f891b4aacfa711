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


# People of the web app: a sign-in is an execute (E) on their own account; an administrator's
# change is a create (C) or update (U) of another's.
CREATE, UPDATE, EXECUTE = "C", "U", "E"


def person_reference(user_id: int) -> str:
    return f"User/{user_id}"


async def record_person_action(
    connection: Connection, *, user_id: int, action: str, entity: str, via: str
) -> None:
    """One row for a person's action that concerns no referral (sign-in, sign-out, a change to
    an account): who, what kind of action, on what, through which page."""
    await connection.execute(
        "INSERT INTO audit_event (agent, action, entity, via) VALUES ($1, $2, $3, $4)",
        person_reference(user_id),
        action,
        entity,
        via,
    )


async def actions_on(connection: Connection, *, entity: str) -> list[dict[str, object]]:
    rows = await connection.fetch(
        """
        SELECT recorded_at, agent, action, via FROM audit_event
        WHERE entity = $1 ORDER BY recorded_at, id
        """,
        entity,
    )
    return [dict(row) for row in rows]
