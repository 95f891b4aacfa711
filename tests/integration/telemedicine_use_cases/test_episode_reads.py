"""A hospital system (GET /monitoring/episodes/{id}) and a nurse (the episode's page) read a
home-isolation episode as of one moment: its flag, its check-ins and its flag's changes agree,
even when a check-in is committed while they are read. Read in three statements outside a
transaction, a red check-in committed between them was listed under a flag still yellow (seen
in a full e2e run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.telemedicine.adapters import monitoring_repository
from services.telemedicine.domain.episode import Episode
from services.telemedicine.domain.monitoring import CheckIn, Level, Reading, Vital
from services.telemedicine.entrypoints.monitoring_api import episode_with_history
from services.telemedicine.service import monitoring
from shared.db.pool import Connection
from tests.integration.telemedicine_use_cases.test_red_flag_consults import CONTEXT

CLINIC, HUB = "tm-snapshot-clinic", "tm-snapshot-hub"
SPO2_95 = CheckIn(readings=(Reading(Vital.SPO2, 95),))  # yellow
SPO2_90 = CheckIn(readings=(Reading(Vital.SPO2, 90),))  # red


async def _check_in(pool: asyncpg.Pool, episode_id: str, check_in: CheckIn, at: datetime) -> None:
    async with pool.acquire() as connection, connection.transaction():
        episode = await monitoring_repository.get_episode(
            connection, episode_id=episode_id, for_update=True
        )
        assert episode is not None
        await monitoring.take_check_in(
            connection, episode=episode, check_in=check_in, source="web", context=CONTEXT, now=at
        )


@pytest.fixture
async def episode(telemedicine_pool: asyncpg.Pool) -> Episode:
    """An episode committed (the reads under test see only what is committed). Its rows stay in
    the session's private schema, under hospitals no other test reads."""
    async with telemedicine_pool.acquire() as connection, connection.transaction():
        return await monitoring.enrol(
            connection,
            enrolment=monitoring.Enrolment(
                hospital=CLINIC,
                patient="Patient/p-snapshot",
                hospital_number="HN-SNAPSHOT",
                consultant_hospital=HUB,
            ),
            context=CONTEXT,
            now=datetime.now(UTC),
        )


def _agrees(answer: dict[str, Any]) -> bool:
    """A flag only rises on its own: it is at least as high as any check-in listed under it
    (no nurse lowered it here)."""
    worst = max((Level.of(c["level"]) for c in answer["check_ins"]), default=Level.GREEN)
    return Level.of(answer["level"]) >= worst


async def test_an_episode_is_read_with_its_check_ins_as_of_one_moment(
    telemedicine_pool: asyncpg.Pool, episode: Episode, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    await _check_in(telemedicine_pool, episode.id, SPO2_95, now)
    check_ins_of = monitoring_repository.check_ins_of

    async def while_a_red_check_in_commits(connection: Connection, *, episode_id: str) -> Any:
        await _check_in(telemedicine_pool, episode_id, SPO2_90, now + timedelta(minutes=1))
        return await check_ins_of(connection, episode_id=episode_id)

    monkeypatch.setattr(monitoring_repository, "check_ins_of", while_a_red_check_in_commits)
    async with telemedicine_pool.acquire() as connection:
        during = await episode_with_history(connection, episode.id, party=CLINIC, context=CONTEXT)
    assert _agrees(during), (during["level"], [c["level"] for c in during["check_ins"]])
    assert (during["level"], len(during["check_ins"])) == ("yellow", 1)

    monkeypatch.setattr(monitoring_repository, "check_ins_of", check_ins_of)
    async with telemedicine_pool.acquire() as connection:
        after = await episode_with_history(connection, episode.id, party=CLINIC, context=CONTEXT)
    assert (after["level"], len(after["check_ins"])) == ("red", 2)
    assert [change["to"] for change in after["flag_changes"]] == ["yellow", "red"]
