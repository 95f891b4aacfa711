"""A message written to a hospital's own topic in another hospital's name is dead-lettered and
answered to its writer once, even when it is read again (a crash before the offset was
committed): the refusal is recorded in the inbox, in the same transaction as the answer, under
the writer (never under the hospital it named, whose message ids stay its own)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import ConsumerRecord

from shared.db.pool import Connection, create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, parse_message
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.headers import DEAD_LETTER_REASON
from shared.messaging.inbox import Claim, claim_message
from shared.messaging.message_handlers import PermanentMessageError
from shared.messaging.topics import HOSPITAL_INBOUND_TOPICS, hospital_inbound
from tests.support import TestStack

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
WRITER = "trang-hospital"  # the example is Sikao's referral; Trang's topic carries it


class _Publications:
    """Stands in for the broker: what was dead-lettered (the broker itself is not the subject)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.reasons: list[str] = []

    async def publish(self, body: bytes, topic: str, *, headers: dict[str, str], **_: Any) -> None:
        self.sent.append(topic)
        self.reasons.append(headers[DEAD_LETTER_REASON])


@pytest.fixture
async def pool(stack: TestStack, scratch_schema: str) -> AsyncIterator[asyncpg.Pool]:
    scratch_pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    yield scratch_pool
    await scratch_pool.close()


def _record(offset: int = 7) -> ConsumerRecord[bytes, bytes]:
    value = EXAMPLE.read_bytes()
    return ConsumerRecord(
        topic=hospital_inbound(WRITER).name,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=[],
    )


async def test_a_message_in_another_hospitals_name_read_twice_is_refused_once(
    pool: asyncpg.Pool,
) -> None:
    publications = _Publications()
    answered: list[tuple[str, str | None]] = []

    async def answer(_: Connection, message: FhirMessage, refused: PermanentMessageError) -> None:
        answered.append((message.message_id, refused.answer_to))

    async def never(*_: Any) -> None:
        raise AssertionError("a message in another's name is never applied")

    consumer = FhirMessageConsumer(
        broker=publications,  # type: ignore[arg-type]
        pool=pool,
        topic=HOSPITAL_INBOUND_TOPICS,
        service_name="itest",
        handlers={EventCode.REFERRAL_REQUESTED: never},
        on_refused=answer,
    )
    await consumer.handle(_record())
    await consumer.handle(_record())  # the same record again: its offset was never committed

    topic = hospital_inbound(WRITER).name
    assert publications.sent == [f"{topic}.dlq"]
    assert (
        "'Organization/sikao-hospital' is not Organization/trang-hospital"
        in (publications.reasons[0])
    )
    assert f"the only hospital that may write {topic}" in publications.reasons[0]
    message_id = json.loads(EXAMPLE.read_text())["entry"][0]["resource"]["id"]
    assert answered == [(message_id, WRITER)]
    # The hospital it named still owns its id: its own message is claimed as new.
    async with pool.acquire() as connection:
        claim = await claim_message(
            connection, message=parse_message(EXAMPLE.read_bytes()), topic="t"
        )
    assert claim is Claim.FIRST
