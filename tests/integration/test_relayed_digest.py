"""A record the network's own relay published is recognised in the inbox by a digest of its
bytes (no model dump), and still matches what an earlier version stored from the model: a
repeat is a repeat, a reused id is still refused."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.db.pool import create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, build_message, parse_message
from shared.fhir.models import Task
from shared.messaging.inbox import Claim, claim_message, content_digest, relayed_content_digest
from tests.support import TestStack

pytestmark = pytest.mark.integration

TOPIC = "fasttrack.referral.events.v1"


@pytest.fixture
async def pool(stack: TestStack, scratch_schema: str) -> AsyncIterator[asyncpg.Pool]:
    scratch_pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    yield scratch_pool
    await scratch_pool.close()


def _relayed(message_id: str, status: str = "requested") -> tuple[FhirMessage, bytes]:
    """A message as a consumer receives it from the relay: parsed from the relayed bytes."""
    task = Task.model_validate(
        {"resourceType": "Task", "id": "r-1", "status": status, "intent": "order"}
    )
    value = build_message(
        event=EventCode.REFERRAL_REQUESTED,
        sender="Organization/network",
        destinations=["Organization/trang-hospital"],
        focus=[task],
        source_endpoint="urn:test",
        message_id=message_id,
    ).to_json()
    return parse_message(value), value


async def _claim(pool: asyncpg.Pool, message: FhirMessage, digest: str | None) -> Claim:
    async with pool.acquire() as connection, connection.transaction():
        return await claim_message(connection, message=message, topic=TOPIC, digest=digest)


async def test_a_relayed_record_read_again_is_a_repeat(pool: asyncpg.Pool) -> None:
    message, value = _relayed(str(uuid.uuid4()))
    assert await _claim(pool, message, relayed_content_digest(value)) is Claim.FIRST
    assert await _claim(pool, message, relayed_content_digest(value)) is Claim.REPEAT


async def test_a_record_claimed_by_its_model_digest_before_is_a_repeat_when_relayed_again(
    pool: asyncpg.Pool,
) -> None:
    message, value = _relayed(str(uuid.uuid4()))
    assert await _claim(pool, message, content_digest(message)) is Claim.FIRST
    assert await _claim(pool, message, relayed_content_digest(value)) is Claim.REPEAT
    # Bytes whose digest differs in form from the model's (an older relay's serializer): the
    # stored model digest is compared too.
    other_form = hashlib.sha256(value).hexdigest()
    assert await _claim(pool, message, other_form) is Claim.REPEAT


async def test_an_id_reused_for_other_content_is_refused_whichever_digest_was_stored(
    pool: asyncpg.Pool,
) -> None:
    for first_by_model in (True, False):
        message_id = str(uuid.uuid4())
        first, first_value = _relayed(message_id)
        other, other_value = _relayed(message_id, status="cancelled")
        stored = content_digest(first) if first_by_model else relayed_content_digest(first_value)
        assert await _claim(pool, first, stored) is Claim.FIRST
        assert await _claim(pool, other, relayed_content_digest(other_value)) is Claim.REUSED_ID
