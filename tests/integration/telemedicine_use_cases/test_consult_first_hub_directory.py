"""Consult first against the network's hospital directory as telemedicine keeps it (its own
table, on the real PostgreSQL): a hub the directory does not list is refused with nothing
stored and nobody paged; a listed hub is paged; with no directory received, today's behaviour."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.telemedicine.adapters import hub_directory
from services.telemedicine.domain.first_consult import ConsultQuestion, Hub, UnknownHub
from services.telemedicine.service import first_consult
from shared.db.pool import Connection
from tests.integration.telemedicine_use_cases.support import CONTEXT

SPOKE, HUB, TYPO = "dir-spoke", "dir-hub", "dir-hbu"
DIRECTORY = [
    Hub(id=HUB, name="Directory Hub Hospital", name_th="โรงพยาบาลแม่ข่าย", stroke_hub=True),
    Hub(id=SPOKE, name="Directory Spoke Hospital"),
]


async def _ask(connection: Connection, hub: str) -> str:
    now = datetime.now(UTC)
    consult_id = f"tc-{uuid.uuid4().hex[:24]}"
    await first_consult.ask(
        connection,
        consult_id=consult_id,
        requester_org=SPOKE,
        consultant_org=hub,
        question=ConsultQuestion(
            patient=f"Patient/pt-{consult_id}",
            hospital_number="HN-1",
            door_in=now - timedelta(minutes=5),
        ),
        context=CONTEXT,
        now=now,
    )
    return consult_id


async def _stored(connection: Connection, consult_id: str) -> tuple[int, int]:
    """(consults, outbox records) of the consult."""
    consults = await connection.fetchval("SELECT count(*) FROM consult WHERE id = $1", consult_id)
    queued = await connection.fetchval(
        "SELECT count(*) FROM outbox WHERE message_key = $1", consult_id
    )
    return consults, queued


async def test_a_hub_the_directory_does_not_list_is_refused_and_nobody_is_paged(
    connection: Connection,
) -> None:
    await hub_directory.replace_directory(connection, DIRECTORY, at=datetime.now(UTC))
    before = await connection.fetchval("SELECT count(*) FROM outbox")

    with pytest.raises(UnknownHub):
        await _ask(connection, TYPO)

    assert await connection.fetchval("SELECT count(*) FROM outbox") == before
    assert (
        await connection.fetchval("SELECT count(*) FROM consult WHERE consultant_org = $1", TYPO)
        == 0
    )


async def test_a_hub_the_directory_lists_is_paged(connection: Connection) -> None:
    await hub_directory.replace_directory(connection, DIRECTORY, at=datetime.now(UTC))

    consult_id = await _ask(connection, HUB)

    consults, queued = await _stored(connection, consult_id)
    assert consults == 1
    assert queued >= 1


async def test_with_no_directory_received_a_consult_is_never_blocked(
    connection: Connection,
) -> None:
    await hub_directory.replace_directory(connection, [], at=datetime.now(UTC))
    assert not (await hub_directory.hub_directory(connection)).received

    consult_id = await _ask(connection, TYPO)

    assert (await _stored(connection, consult_id))[0] == 1


async def test_a_directory_received_again_replaces_the_one_kept(connection: Connection) -> None:
    at = datetime.now(UTC)
    await hub_directory.replace_directory(connection, DIRECTORY, at=at)
    renamed = Hub(id=HUB, name="Hub Hospital (renamed)", stroke_hub=True)

    await hub_directory.replace_directory(connection, [renamed], at=at + timedelta(minutes=1))

    kept = await hub_directory.hub_directory(connection)
    assert dict(kept.hubs) == {HUB: renamed}
