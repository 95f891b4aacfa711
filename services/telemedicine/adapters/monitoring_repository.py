"""SQL for home-isolation monitoring (schema ``telemedicine``); returns domain objects only.

Every read a hospital asks for names the hospital: an episode is read only by the hospital
that manages it or the one whose consultant its red flag pages (a third learns nothing)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.telemedicine.adapters.monitoring_fhir import readings_json
from services.telemedicine.domain.episode import Episode, FinishReason
from services.telemedicine.domain.monitoring import Assessment, CheckIn, Level, LevelChange
from shared.db.pool import Connection, one_moment

# PDPA retention (shared/retention.py, $1 = the cutoff): an episode started before it is long
# over; its check-ins go, its flag's reasons (readings) are blanked, and what reaches or names the
# patient (LINE id, phone, hospital number) is erased. Its levels and times stay for figures.
PURGE_MONITORING = (
    "DELETE FROM monitoring_check_in WHERE received_at < $1",
    "UPDATE monitoring_level_change SET reason = '' WHERE changed_at < $1 AND reason <> ''",
    """
    UPDATE monitoring_episode
       SET hospital_number = '', line_user = NULL, phone = NULL, finished = true
     WHERE started_at < $1
       AND (hospital_number <> '' OR line_user IS NOT NULL OR phone IS NOT NULL OR NOT finished)
    """,
)

_EPISODE = """
    SELECT * FROM monitoring_episode
     WHERE id = $1 AND ($2::text IS NULL OR $2 IN (hospital, consultant_hospital))
"""


async def insert_episode(connection: Connection, *, episode: Episode) -> None:
    await connection.execute(
        """
        INSERT INTO monitoring_episode (id, hospital, consultant_hospital, patient,
            hospital_number, programme, started_at, next_check_in, line_user, phone, language,
            care_team)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """,
        episode.id,
        episode.hospital,
        episode.consultant_hospital,
        episode.patient,
        episode.hospital_number,
        episode.programme,
        episode.started_at,
        episode.next_check_in,
        episode.line_user,
        episode.phone,
        episode.language,
        list(episode.care_team),
    )


async def save_episode(connection: Connection, *, episode: Episode) -> None:
    await connection.execute(
        """
        UPDATE monitoring_episode
           SET next_check_in = $2, reminded = $3, alerted = $4, level = $5, level_since = $6,
               last_check_in = $7, consults_started = $8, finished = $9, finished_at = $10,
               finish_reason = $11, finished_by = $12
         WHERE id = $1
        """,
        episode.id,
        episode.next_check_in,
        episode.reminded,
        episode.alerted,
        int(episode.level),
        episode.level_since,
        episode.last_check_in,
        episode.consults_started,
        episode.finished,
        episode.finished_at,
        episode.finish_reason.value if episode.finish_reason is not None else None,
        episode.finished_by,
    )


async def get_episode(
    connection: Connection, *, episode_id: str, party: str | None = None, for_update: bool = False
) -> Episode | None:
    """The episode; with ``party``, only when that hospital manages it or consults on it."""
    row = await connection.fetchrow(
        _EPISODE + (" FOR UPDATE" if for_update else ""), episode_id, party
    )
    return _episode(row) if row is not None else None


async def active_episode_of_patient(
    connection: Connection, *, hospital: str, patient: str
) -> Episode | None:
    row = await connection.fetchrow(
        """
        SELECT * FROM monitoring_episode
         WHERE hospital = $1 AND patient = $2 AND NOT finished
         ORDER BY started_at DESC LIMIT 1 FOR UPDATE
        """,
        hospital,
        patient,
    )
    return _episode(row) if row is not None else None


async def episodes_of_hospital(connection: Connection, *, hospital: str) -> list[Episode]:
    """The hospital's active episodes (the nurses' board): its own, never another's."""
    rows = await connection.fetch(
        """
        SELECT * FROM monitoring_episode WHERE hospital = $1 AND NOT finished
         ORDER BY level DESC, next_check_in LIMIT 500
        """,
        hospital,
    )
    return [_episode(row) for row in rows]


async def overdue_episode_ids(connection: Connection, *, due_before: datetime) -> list[str]:
    """Active episodes whose check-in was due before ``due_before`` and not yet alerted."""
    rows = await connection.fetch(
        """
        SELECT id FROM monitoring_episode
         WHERE NOT finished AND NOT alerted AND next_check_in <= $1
         ORDER BY next_check_in LIMIT 100
        """,
        due_before,
    )
    return [row["id"] for row in rows]


async def earliest_unanswered_check_ins(
    connection: Connection,
) -> list[tuple[str, bool, datetime]]:
    """Of the active episodes not yet alerted: per programme and whether reminded, the earliest
    check-in due (the watcher works out when each is chased)."""
    rows = await connection.fetch(
        """
        SELECT programme, reminded, min(next_check_in) AS due FROM monitoring_episode
         WHERE NOT finished AND NOT alerted GROUP BY programme, reminded
        """
    )
    return [(row["programme"], row["reminded"], row["due"]) for row in rows]


async def add_check_in(
    connection: Connection,
    *,
    episode_id: str,
    check_in: CheckIn,
    assessment: Assessment,
    source: str,
    at: datetime,
) -> None:
    await connection.execute(
        """
        INSERT INTO monitoring_check_in (episode_id, received_at, source, readings, symptoms,
                                         level, reasons, implausible)
        VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb)
        """,
        episode_id,
        at,
        source,
        json.dumps(readings_json(check_in.readings)),
        sorted(s.value for s in check_in.symptoms),
        int(assessment.level),
        list(assessment.reasons),
        json.dumps(readings_json(assessment.implausible)),
    )


async def add_level_change(connection: Connection, *, episode_id: str, change: LevelChange) -> None:
    await connection.execute(
        """
        INSERT INTO monitoring_level_change (episode_id, before, after, changed_at, reason,
                                             changed_by)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        episode_id,
        int(change.before),
        int(change.after),
        change.at,
        change.reason,
        change.by,
    )


@dataclass(frozen=True)
class CheckInRecord:
    at: datetime
    source: str
    readings: list[dict[str, object]]
    symptoms: list[str]
    level: Level
    reasons: list[str]
    implausible: list[dict[str, object]]


async def check_ins_of(connection: Connection, *, episode_id: str) -> list[CheckInRecord]:
    rows = await connection.fetch(
        "SELECT * FROM monitoring_check_in WHERE episode_id = $1 ORDER BY id DESC LIMIT 60",
        episode_id,
    )
    return [
        CheckInRecord(
            at=row["received_at"],
            source=row["source"],
            readings=json.loads(row["readings"]),
            symptoms=list(row["symptoms"]),
            level=Level(row["level"]),
            reasons=list(row["reasons"]),
            implausible=json.loads(row["implausible"]),
        )
        for row in rows
    ]


async def level_changes_of(connection: Connection, *, episode_id: str) -> list[LevelChange]:
    rows = await connection.fetch(
        "SELECT * FROM monitoring_level_change WHERE episode_id = $1 ORDER BY id", episode_id
    )
    return [
        LevelChange(
            before=Level(row["before"]),
            after=Level(row["after"]),
            at=row["changed_at"],
            reason=row["reason"],
            by=row["changed_by"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class EpisodeHistory:
    episode: Episode
    check_ins: list[CheckInRecord]
    changes: list[LevelChange]


async def episode_history(
    connection: Connection, *, episode_id: str, party: str
) -> EpisodeHistory | None:
    """The episode (as ``get_episode`` reads it for ``party``), its latest check-ins and its
    flag's changes, as of one moment: read in three statements outside one snapshot, a
    check-in committed between them was listed under a flag still yellow."""
    async with one_moment(connection):
        episode = await get_episode(connection, episode_id=episode_id, party=party)
        if episode is None:
            return None
        check_ins = await check_ins_of(connection, episode_id=episode_id)
        changes = await level_changes_of(connection, episode_id=episode_id)
    return EpisodeHistory(episode, check_ins, changes)


def _episode(row: asyncpg.Record) -> Episode:
    return Episode(
        id=row["id"],
        hospital=row["hospital"],
        consultant_hospital=row["consultant_hospital"],
        patient=row["patient"],
        hospital_number=row["hospital_number"],
        programme=row["programme"],
        started_at=row["started_at"],
        next_check_in=row["next_check_in"],
        reminded=row["reminded"],
        alerted=row["alerted"],
        level=Level(row["level"]),
        level_since=row["level_since"],
        last_check_in=row["last_check_in"],
        line_user=row["line_user"],
        phone=row["phone"],
        language=row["language"],
        care_team=tuple(row["care_team"]),
        consults_started=row["consults_started"],
        finished=row["finished"],
        finished_at=row["finished_at"],
        finish_reason=FinishReason(row["finish_reason"]) if row["finish_reason"] else None,
        finished_by=row["finished_by"],
    )
