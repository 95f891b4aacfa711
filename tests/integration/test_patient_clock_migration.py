"""Migration 0006 on a database with re-routed referrals: each chain becomes one patient clock,
the re-routed referrals' milestones move onto it, and the network's own copies of LKW and the
request time (made when it re-routed) do not replace the first referral's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from alembic import command

from shared.db.migrations import alembic_config
from tests.support import TestStack

SCRATCH = "clock_migration"

BEFORE = """
INSERT INTO referral (id, status, requester_org, owner_org, patient_hn, teleconsult_requested,
                      request_message_id, replaces)
VALUES ('a', 'rejected', 'spoke', 'hub1', 'hn', false, 'm1', NULL),
       ('a.r1', 'rejected', 'spoke', 'hub2', 'hn', false, 'm2', 'a'),
       ('a.r2', 'accepted', 'spoke', 'hub3', 'hn', false, 'm3', 'a.r1'),
       ('b', 'requested', 'spoke', 'hub1', 'hn', false, 'm4', NULL);
UPDATE referral SET replaced_by = 'a.r1' WHERE id = 'a';
UPDATE referral SET replaced_by = 'a.r2' WHERE id = 'a.r1';
INSERT INTO milestone (referral_id, code, occurred_at, recorded_at, source, uncertain,
                       reported_by)
VALUES ('a', 'lkw', '2026-01-01T08:00+07', '2026-01-01T09:01+07', 'estimated', true, 'spoke'),
       ('a', 'referral-requested', '2026-01-01T09:05+07', '2026-01-01T09:06+07', 'recorded',
        false, 'spoke'),
       ('a', 'door-in-first', '2026-01-01T09:00+07', '2026-01-01T09:01+07', 'recorded', false,
        'spoke'),
       ('a.r1', 'lkw', '2026-01-01T08:00+07', '2026-01-01T09:30+07', 'recorded', false, 'spoke'),
       ('a.r1', 'referral-requested', '2026-01-01T09:29+07', '2026-01-01T09:30+07', 'recorded',
        false, 'spoke'),
       ('a.r1', 'needle', '2026-01-01T09:50+07', '2026-01-01T09:51+07', 'recorded', false,
        'spoke'),
       ('a.r2', 'needle', '2026-01-01T09:45+07', '2026-01-01T10:10+07', 'recorded', false,
        'spoke'),
       ('a.r2', 'door-in-receiving', '2026-01-01T11:00+07', '2026-01-01T11:01+07', 'recorded',
        false, 'hub3');
"""


@pytest.fixture
def scratch_database(stack: TestStack) -> Iterator[str]:
    admin = stack.database_url

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f"DROP DATABASE IF EXISTS {SCRATCH}"))
    asyncio.run(run(f"CREATE DATABASE {SCRATCH}"))
    yield admin.rsplit("/", 1)[0] + f"/{SCRATCH}"
    asyncio.run(run(f"DROP DATABASE {SCRATCH}"))


def _query(url: str, statement: str) -> list[dict[str, Any]]:
    """Rows of a query; a script of several statements returns none."""

    async def run() -> list[dict[str, Any]]:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SET search_path TO referral")
            if ";" in statement:
                await connection.execute(statement)
                return []
            return [dict(row) for row in await connection.fetch(statement)]
        finally:
            await connection.close()

    return asyncio.run(run())


def test_rerouted_referrals_become_one_patient_clock(scratch_database: str) -> None:
    config = alembic_config("referral", scratch_database)
    command.upgrade(config, "0005")
    _query(scratch_database, BEFORE)
    command.upgrade(config, "0006")

    clocks = _query(scratch_database, "SELECT id, clock_id FROM referral ORDER BY id")
    assert [(r["id"], r["clock_id"]) for r in clocks] == [
        ("a", "a"),
        ("a.r1", "a"),
        ("a.r2", "a"),
        ("b", "b"),
    ]
    rows = _query(
        scratch_database,
        "SELECT referral_id, code, to_char(occurred_at AT TIME ZONE 'Asia/Bangkok', 'HH24:MI')"
        " AS at, source, hospital FROM milestone ORDER BY code",
    )
    assert rows == [
        {"referral_id": "a", "code": "door-in-first", "at": "09:00", "source": "recorded",
         "hospital": "spoke"},
        {"referral_id": "a", "code": "door-in-receiving", "at": "11:00", "source": "recorded",
         "hospital": "hub3"},
        # the first referral's estimated LKW, not the re-route's certain-looking copy
        {"referral_id": "a", "code": "lkw", "at": "08:00", "source": "estimated",
         "hospital": "spoke"},
        # the corrected needle (the later report) wins
        {"referral_id": "a", "code": "needle", "at": "09:45", "source": "recorded",
         "hospital": "spoke"},
        {"referral_id": "a", "code": "referral-requested", "at": "09:05", "source": "recorded",
         "hospital": "spoke"},
    ]  # fmt: skip

    command.downgrade(config, "0005")
    assert len(_query(scratch_database, "SELECT * FROM milestone")) == 5
