"""SQL for a patient's clock: the milestones every referral of one patient shares (a re-routed
referral keeps its first referral's ``clock_id``), and the time-critical alerts raised on it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from datetime import datetime, timedelta

import asyncpg

from services.referral.adapters.repository import referral_from_row
from services.referral.domain.alerts import AlertCode
from services.referral.domain.clock import Milestone, TimeSource
from services.referral.domain.model import Referral
from shared.db.pool import Connection, one_moment
from shared.vocabulary.milestones import MilestoneCode
from shared.workflow.task_state import AWAITING_ANSWER, TERMINAL, status_codes

# Alerts about one referral's own deadline; every other alert is about the patient's clock,
# and raised once for the patient whatever referral it is on.
PER_REFERRAL_ALERTS = (AlertCode.REFERRAL_NOT_ACCEPTED.value,)
_MILESTONE_CODES = {code.value for code in MilestoneCode}
_TIME_SOURCES = {source.value for source in TimeSource}


async def record_milestones(
    connection: Connection,
    *,
    referral_id: str,
    reported_by: str,
    milestones: list[tuple[MilestoneCode, datetime, str, bool, str | None]],
) -> None:
    """On the clock of ``referral_id``, each (code, time, source, uncertain, hospital; None:
    the reporter's), in one round trip; a later report of the same step at the same hospital
    corrects the earlier one (in order, so the last of one message wins)."""
    if not milestones:
        return
    await connection.executemany(
        """
        INSERT INTO milestone (referral_id, code, occurred_at, source, uncertain, reported_by,
                               hospital)
        SELECT clock_id, $2, $3, $4, $5, $6, $7 FROM referral WHERE id = $1
        ON CONFLICT (referral_id, code, hospital) DO UPDATE SET
            occurred_at = excluded.occurred_at, source = excluded.source,
            uncertain = excluded.uncertain, reported_by = excluded.reported_by,
            recorded_at = now()
        """,
        [
            (
                referral_id,
                code.value,
                occurred_at,
                source,
                uncertain,
                reported_by,
                hospital or reported_by,
            )
            for code, occurred_at, source, uncertain, hospital in milestones
        ],
    )


async def door_in_known(connection: Connection, *, referral_id: str) -> bool:
    """Whether the patient's clock has a first door-in (what a late consult is counted from)."""
    known: bool = await connection.fetchval(
        """
        SELECT EXISTS (
            SELECT 1 FROM milestone
            WHERE referral_id = (SELECT clock_id FROM referral WHERE id = $1) AND code = $2
        )
        """,
        referral_id,
        MilestoneCode.DOOR_IN_FIRST.value,
    )
    return known


async def milestones(connection: Connection, *, referral_id: str) -> list[Milestone]:
    """Every milestone of the patient the referral is about (all its referrals)."""
    rows = await connection.fetch(
        """
        SELECT m.* FROM milestone m
        WHERE m.referral_id = (SELECT clock_id FROM referral WHERE id = $1)
        ORDER BY m.occurred_at
        """,
        referral_id,
    )
    return [_milestone(row) for row in rows if row["code"] in _MILESTONE_CODES]


async def milestones_by_clock(
    connection: Connection, *, clock_ids: Sequence[str]
) -> dict[str, list[Milestone]]:
    """Every milestone of each patient (clock) of ``clock_ids``, in time order, in one statement
    whatever their number (a statement per patient made a report of a month of patients as many
    round trips). A clock with no milestone is absent."""
    rows = await connection.fetch(
        """
        SELECT * FROM milestone WHERE referral_id = ANY($1::text[])
        ORDER BY referral_id, occurred_at
        """,
        list(clock_ids),
    )
    return _by_clock(rows)


async def each_recent_clock(
    connection: Connection, *, within: timedelta, rows_at_a_time: int = 500
) -> AsyncGenerator[list[Milestone], None]:
    """The milestones of each patient with a referral made ``within`` before now, a patient at
    a time, in time order: one statement, its rows fetched ``rows_at_a_time`` through a cursor,
    so a month of patients is never held at once (the whole answer in memory grew a service's
    RSS with the month). As of one moment (``one_moment``)."""
    async with one_moment(connection):
        clock: str | None = None
        milestones: list[Milestone] = []
        async for row in connection.cursor(
            """
            SELECT * FROM milestone
            WHERE referral_id IN (
                SELECT clock_id FROM referral WHERE created_at > now() - $1::interval)
            ORDER BY referral_id, occurred_at
            """,
            within,
            prefetch=rows_at_a_time,
        ):
            if row["referral_id"] != clock:
                if milestones:
                    yield milestones
                clock, milestones = row["referral_id"], []
            if row["code"] in _MILESTONE_CODES:
                milestones.append(_milestone(row))
        if milestones:
            yield milestones


def _by_clock(rows: Sequence[asyncpg.Record]) -> dict[str, list[Milestone]]:
    """Rows ordered by clock, then time: each clock's milestones, in that order."""
    found: dict[str, list[Milestone]] = {}
    for row in rows:
        if row["code"] in _MILESTONE_CODES:
            found.setdefault(row["referral_id"], []).append(_milestone(row))
    return found


def _milestone(row: asyncpg.Record) -> Milestone:
    return Milestone(
        code=MilestoneCode(row["code"]),
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        source=TimeSource(row["source"] if row["source"] in _TIME_SOURCES else "recorded"),
        uncertain=row["uncertain"],
        hospital=row["hospital"],
    )


async def patient_referrals(connection: Connection, *, referral_id: str) -> list[Referral]:
    """Every referral of the patient the referral is about, first to latest."""
    rows = await connection.fetch(
        """
        SELECT * FROM referral WHERE clock_id = (SELECT clock_id FROM referral WHERE id = $1)
        ORDER BY created_at, id
        """,
        referral_id,
    )
    return [referral_from_row(row) for row in rows]


async def clocks_of(connection: Connection, *, organization_id: str | None) -> list[str]:
    """The patients (clocks) the hospital sent or received, each once (None: the province's)."""
    rows = await connection.fetch(
        """
        SELECT DISTINCT clock_id FROM referral
        WHERE $1::text IS NULL OR requester_org = $1 OR owner_org = $1
        ORDER BY clock_id
        """,
        organization_id,
    )
    return [row["clock_id"] for row in rows]


async def referrals_in_alert_windows(
    connection: Connection,
    *,
    now: datetime,
    lkw_window: tuple[timedelta, timedelta],
    dido_window: tuple[timedelta, timedelta],
    consult_window: tuple[timedelta, timedelta],
) -> list[tuple[str, str]]:
    """Referrals in play that may have an alert due now: the only ones the watcher examines,
    so its work does not grow with the number of referrals (each window is from the earliest
    alert to the moment its alert goes stale). Each with its version: it changes whenever
    what its alerts are computed from does (the referral row, its patient's clock, its
    timeline, which holds the alerts raised and the consult's request).

    The candidates are found from the windows (milestones by code and time, migration 0019;
    the accept-by deadline), then kept if still open: starting from every open referral made
    each round cost as much as the referrals left open."""
    rows = await connection.fetch(
        """
        WITH candidate AS (
            SELECT id FROM referral
             WHERE status = ANY($7::text[]) AND replaced_by IS NULL AND accept_by <= $1
            UNION
            SELECT r.id FROM milestone m JOIN referral r ON r.clock_id = m.referral_id
             WHERE m.code = $8 AND m.occurred_at BETWEEN $1 - $3::interval AND $1 - $2::interval
            UNION
            SELECT r.id FROM milestone m JOIN referral r ON r.clock_id = m.referral_id
             WHERE m.code = $9 AND m.occurred_at BETWEEN $1 - $5::interval AND $1 - $4::interval
            UNION
            SELECT r.id FROM milestone m JOIN referral r ON r.clock_id = m.referral_id
             WHERE r.teleconsult_requested AND m.code = $9
               AND m.occurred_at BETWEEN $1 - $11::interval AND $1 - $10::interval
        )
        SELECT r.id, concat_ws('/', r.updated_at,
               (SELECT max(m.recorded_at) FROM milestone m WHERE m.referral_id = r.clock_id),
               (SELECT max(t.id) FROM timeline_entry t WHERE t.referral_id = r.id)) AS version
        FROM candidate JOIN referral r ON r.id = candidate.id
        WHERE r.status <> ALL($6::text[]) AND r.replaced_by IS NULL
        """,
        now,
        lkw_window[0],
        lkw_window[1],
        dido_window[0],
        dido_window[1],
        status_codes(TERMINAL),
        status_codes(AWAITING_ANSWER),
        MilestoneCode.LAST_KNOWN_WELL.value,
        MilestoneCode.DOOR_IN_FIRST.value,
        consult_window[0],
        consult_window[1],
    )
    return [(row["id"], row["version"]) for row in rows]


async def next_alert_window_opens(
    connection: Connection,
    *,
    now: datetime,
    lkw_window: tuple[timedelta, timedelta],
    dido_window: tuple[timedelta, timedelta],
    consult_window: tuple[timedelta, timedelta],
) -> float | None:
    """When the next referral in play comes into reach (``referrals_in_alert_windows``) by the
    clock alone: the earliest window opening after ``now`` (epoch seconds; None: none to come)."""
    value = await connection.fetchval(
        """
        SELECT extract(epoch FROM min(opens)) FROM (
            SELECT min(accept_by) AS opens FROM referral
             WHERE status = ANY($3::text[]) AND replaced_by IS NULL AND accept_by > $1
            UNION ALL
            -- Per window, the first milestone after its opening, walked in time order on the
            -- (code, time) index until one whose referral is open: not every open referral.
            SELECT first.occurred_at + w.opens_after
              FROM (VALUES ($4::text, $5::interval, false), ($6, $7, false), ($6, $8, true))
                   AS w (code, opens_after, needs_consult)
              CROSS JOIN LATERAL (
                  SELECT m.occurred_at
                    FROM milestone m JOIN referral r ON r.clock_id = m.referral_id
                   WHERE m.code = w.code AND m.occurred_at > $1 - w.opens_after
                     AND r.status <> ALL($2::text[]) AND r.replaced_by IS NULL
                     AND (r.teleconsult_requested OR NOT w.needs_consult)
                   ORDER BY m.occurred_at LIMIT 1
              ) AS first
        ) AS windows
        """,
        now,
        status_codes(TERMINAL),
        status_codes(AWAITING_ANSWER),
        MilestoneCode.LAST_KNOWN_WELL.value,
        lkw_window[0],
        MilestoneCode.DOOR_IN_FIRST.value,
        dido_window[0],
        consult_window[0],
    )
    return None if value is None else float(value)


async def raised_alerts(connection: Connection, *, referral_id: str) -> list[str]:
    """Alerts already raised: this referral's own, and the patient's on any of its referrals
    (a re-routed patient is not paged twice for one window)."""
    rows = await connection.fetch(
        """
        SELECT a.code FROM referral_alert a JOIN referral r ON r.id = a.referral_id
        WHERE r.clock_id = (SELECT clock_id FROM referral WHERE id = $1)
          AND (a.referral_id = $1 OR a.code <> ALL($2::text[]))
        """,
        referral_id,
        list(PER_REFERRAL_ALERTS),
    )
    return [row["code"] for row in rows]


async def raise_alert(connection: Connection, *, referral_id: str, code: str) -> bool:
    """False when this alert was already raised for the referral (raised once, ever)."""
    status: str = await connection.execute(
        "INSERT INTO referral_alert (referral_id, code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        referral_id,
        code,
    )
    return status.endswith(" 1")
