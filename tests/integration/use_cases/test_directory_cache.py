"""The hospital directory is read once and kept between intakes, and dropped when it changes
(services/referral/service/directory_cache.py): a referral's intake sends one statement fewer,
and a hospital's reported availability still reaches the next routing decision."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import asyncpg
import pytest

from services.referral.adapters import fhir_mapping, repository
from services.referral.domain.directory import DirectoryEntry
from services.referral.domain.routing import Hospital
from services.referral.entrypoints.consumers import hospital_message_handler, response_topic
from services.referral.service.directory_cache import DIRECTORY_CHANNEL, DirectoryCache
from services.referral.service.handlers import apply_hospital_message
from shared.db.pool import Connection
from shared.messaging.topics import HOSPITAL_RESPONSES, hospital_responses
from shared.workers import DatabaseNotices
from tests.integration.use_cases.support import CONTEXT, FAR_CENTRE, referral_request
from tests.use_case_database import sent_statements


async def test_an_intake_with_the_directory_kept_sends_one_statement(
    connection: Connection,
) -> None:
    context = dataclasses.replace(CONTEXT, directory=DirectoryCache())
    context.directory.drop()  # as the process's listener does when it connects
    counts = []
    for _ in range(2):
        request = referral_request()
        message = fhir_mapping.referral_requested_message(
            request, source_endpoint=context.source_endpoint
        )
        async with sent_statements(connection) as sent:
            await apply_hospital_message(
                connection, message, context=context, now=datetime.now(UTC)
            )
        counts.append(len(sent))

    # The first reads the directory; the second routes with the kept copy: the referral with
    # its timeline step, milestones and events (was [3, 2]: the events in a statement apart).
    assert counts == [2, 1]


async def test_an_intake_with_the_directory_kept_makes_no_routing_copy_of_it(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = dataclasses.replace(CONTEXT, directory=DirectoryCache())
    context.directory.drop()  # as the process's listener does when it connects
    made: list[str] = []
    for_routing = DirectoryEntry.for_routing

    def counted(entry: DirectoryEntry) -> Hospital:
        made.append(entry.id)
        return for_routing(entry)

    monkeypatch.setattr(DirectoryEntry, "for_routing", counted)
    counts = []
    for _ in range(3):
        request = referral_request()
        message = fhir_mapping.referral_requested_message(
            request, source_endpoint=context.source_endpoint
        )
        before = len(made)
        await apply_hospital_message(connection, message, context=context, now=datetime.now(UTC))
        counts.append(len(made) - before)

    # Every hospital made into routing's view once, with the copy kept (was every hospital at
    # every intake: [3, 3, 3] for the test directory's three).
    hospitals = len(await context.directory.entries(connection))
    assert counts == [hospitals, 0, 0]


async def test_a_directory_change_drops_the_kept_copy(referral_pool: asyncpg.Pool) -> None:
    cache = DirectoryCache()
    async with referral_pool.acquire() as connection:
        schema = await connection.fetchval("SELECT current_schema()")
    notices = DatabaseNotices(
        pool=referral_pool, handlers={DIRECTORY_CHANNEL + schema: [cache.drop]}
    )
    notices.start()
    try:
        for _ in range(100):  # connected: it drops (nothing kept yet) and starts keeping
            if cache.listening:
                break
            await asyncio.sleep(0.05)
        async with referral_pool.acquire() as connection:
            before = await cache.entries(connection)
            assert await cache.entries(connection) is before  # kept
            await repository.set_unavailable(
                connection, organization_id=FAR_CENTRE, unavailable=["thrombectomy"]
            )
            try:
                for _ in range(100):
                    after = await cache.entries(connection)
                    if after is not before:
                        break
                    await asyncio.sleep(0.05)
                assert after[FAR_CENTRE].unavailable == ("thrombectomy",)
            finally:
                await repository.set_unavailable(
                    connection, organization_id=FAR_CENTRE, unavailable=[]
                )
    finally:
        await notices.stop()
    assert before[FAR_CENTRE].unavailable == ()


async def test_a_referral_on_kafka_is_answered_on_the_hospitals_topic_from_the_kept_copy(
    connection: Connection,
) -> None:
    context = dataclasses.replace(CONTEXT, directory=DirectoryCache())
    context.directory.drop()  # as the process's listener does when it connects
    handle = hospital_message_handler(context)
    counts = []
    requests = [referral_request(), referral_request()]
    for request in requests:
        message = fhir_mapping.referral_requested_message(
            request, source_endpoint=context.source_endpoint
        )
        async with sent_statements(connection) as sent:
            await handle(connection, message)
        counts.append(len(sent))

    # The second: the referral with its step, milestones and events, and the answer queued.
    # Was [4, 3]: the sender looked up in the directory's table for every answer's topic.
    assert counts == [3, 2]
    for request in requests:
        answers = await connection.fetch(
            "SELECT topic FROM outbox WHERE message_key = $1 AND topic LIKE $2",
            request.referral_id,
            "fasttrack.hospital.responses.v1%",
        )
        assert [row["topic"] for row in answers] == [hospital_responses(request.requester_org).name]


async def test_an_answer_to_a_sender_the_directory_does_not_know_goes_to_the_shared_topic(
    connection: Connection,
) -> None:
    kept = DirectoryCache()
    kept.drop()
    await kept.entries(connection)
    for directory in (DirectoryCache(), kept):
        assert await response_topic(connection, "no-such-hospital", directory) is HOSPITAL_RESPONSES
        assert await response_topic(connection, None, directory) is HOSPITAL_RESPONSES
        assert await response_topic(connection, FAR_CENTRE, directory) == hospital_responses(
            FAR_CENTRE
        )
