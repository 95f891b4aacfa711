"""SQL for FHIR read and search of referrals (entrypoints/fhir_api.py): the FHIR search
parameters as WHERE conditions, values always bound as parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.referral.adapters.repository import referral_from_row
from services.referral.domain.model import ReferralSnapshot
from shared.db.pool import Connection

# When the referral's Task last changed: its row (status, with any reason), or a business status
# on its timeline (e.g. "arrived" changes the Task without changing the row).
_LAST_UPDATED = (
    "GREATEST(r.updated_at, (SELECT max(t.recorded_at) FROM timeline_entry t"
    " WHERE t.referral_id = r.id AND t.detail ? 'business_status'))"
)


async def search_referrals(
    connection: Connection,
    *,
    party: str | None,
    referral_ids: list[str] | None = None,
    statuses: list[str] | None = None,
    owners: list[str] | None = None,
    requesters: list[str] | None = None,
    last_updated: list[tuple[str, datetime, datetime]] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[ReferralSnapshot]]:
    """Referrals for FHIR read and search, most recently updated first: (total, one page).

    ``party``: only the referrals this organization sent or received. A list filter matches any
    of its values (an empty list matches nothing). ``last_updated`` holds FHIR date comparisons
    that must all hold: (prefix eq|ne|gt|ge|lt|le, start, end) with [start, end) the range the
    searched value stands for at its precision.
    """
    conditions: list[str] = []
    args: list[object] = []

    def placeholder(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if party is not None:
        party_arg = placeholder(party)
        conditions.append(f"(r.requester_org = {party_arg} OR r.owner_org = {party_arg})")
    for column, values in (
        ("r.id", referral_ids),
        ("r.status", statuses),
        ("r.owner_org", owners),
        ("r.requester_org", requesters),
    ):
        if values is not None:
            conditions.append(f"{column} = ANY({placeholder(list(values))}::text[])")
    for prefix, start, end in last_updated or []:
        conditions.append(_date_condition(_LAST_UPDATED, prefix, start, end, placeholder))
    where = " AND ".join(conditions) or "true"
    total: int = await connection.fetchval(f"SELECT count(*) FROM referral r WHERE {where}", *args)
    if total == 0 or limit == 0:
        return total, []
    rows = await connection.fetch(
        f"""
        SELECT r.*, {_LAST_UPDATED} AS fhir_last_updated,
            (SELECT t.detail ->> 'reason' FROM timeline_entry t
             WHERE t.referral_id = r.id AND t.detail ? 'reason'
             ORDER BY t.recorded_at DESC, t.id DESC LIMIT 1) AS fhir_status_reason,
            (SELECT t.detail ->> 'business_status' FROM timeline_entry t
             WHERE t.referral_id = r.id AND t.detail ? 'business_status'
             ORDER BY t.recorded_at DESC, t.id DESC LIMIT 1) AS fhir_business_status
        FROM referral r WHERE {where}
        ORDER BY fhir_last_updated DESC, r.id
        LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}
        """,
        *args,
        limit,
        offset,
    )
    return total, [
        ReferralSnapshot(
            referral=referral_from_row(row),
            last_updated=row["fhir_last_updated"],
            status_reason=row["fhir_status_reason"],
            business_status=row["fhir_business_status"],
        )
        for row in rows
    ]


def _date_condition(
    column: str, prefix: str, start: datetime, end: datetime, placeholder: Any
) -> str:
    """SQL for a FHIR date search prefix on a point in time; placeholders only for what is used
    (PostgreSQL cannot type an unused parameter)."""
    if prefix == "eq":
        return f"({column} >= {placeholder(start)} AND {column} < {placeholder(end)})"
    if prefix == "ne":
        return f"NOT ({column} >= {placeholder(start)} AND {column} < {placeholder(end)})"
    if prefix == "gt":
        return f"{column} >= {placeholder(end)}"
    if prefix == "ge":
        return f"{column} >= {placeholder(start)}"
    if prefix == "lt":
        return f"{column} < {placeholder(start)}"
    if prefix == "le":
        return f"{column} < {placeholder(end)}"
    raise ValueError(f"Unsupported date prefix {prefix!r}")
