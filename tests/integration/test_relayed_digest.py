"""A message is recognised in the inbox by a digest of its bytes as received (a record the
network's relay published, a hospital's record or HTTP body; no model dump), and still matches
what an earlier version stored from the model: a repeat is a repeat, a reused id is refused."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from services.referral.entrypoints.messaging_api import _parse_and_digest
from shared.db.pool import create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, build_message, parse_message
from shared.fhir.models import Bundle, Task
from shared.limits import DEFAULT_LIMITS
from shared.messaging.inbox import Claim, claim_message, content_digest, received_content_digest
from tests.support import EXAMPLE_REFERRAL, TestStack

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
    assert await _claim(pool, message, received_content_digest(value)) is Claim.FIRST
    assert await _claim(pool, message, received_content_digest(value)) is Claim.REPEAT


async def test_a_record_claimed_by_its_model_digest_before_is_a_repeat_when_relayed_again(
    pool: asyncpg.Pool,
) -> None:
    message, value = _relayed(str(uuid.uuid4()))
    assert await _claim(pool, message, content_digest(message)) is Claim.FIRST
    assert await _claim(pool, message, received_content_digest(value)) is Claim.REPEAT
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
        stored = content_digest(first) if first_by_model else received_content_digest(first_value)
        assert await _claim(pool, first, stored) is Claim.FIRST
        assert await _claim(pool, other, received_content_digest(other_value)) is Claim.REUSED_ID


def _count_bundle_dumps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    dumps: list[str] = []
    original = Bundle.model_dump

    def counting(self: Bundle, *args: Any, **kwargs: Any) -> dict[str, Any]:
        dumps.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Bundle, "model_dump", counting)
    return dumps


async def test_a_hospitals_message_is_digested_from_its_body_and_resent_in_another_form_repeats(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over REST (and from a hospital's Kafka topic) the digest is the body's, not a dump of the
    validated Bundle (which cost more than validating it: the referral service's largest hot
    spot). A hospital that resends the same message with its keys in another order and other
    whitespace is sending the same message."""
    document = json.loads(EXAMPLE_REFERRAL.read_bytes())
    document["entry"][0]["resource"]["id"] = str(uuid.uuid4())
    body = json.dumps(document).encode()
    dumps = _count_bundle_dumps(monkeypatch)
    message, digest = _parse_and_digest(body, DEFAULT_LIMITS)
    assert dumps == []
    assert await _claim(pool, message, digest) is Claim.FIRST
    resent = json.dumps(document, indent=2, sort_keys=True).encode()
    again, again_digest = _parse_and_digest(resent, DEFAULT_LIMITS)
    assert await _claim(pool, again, again_digest) is Claim.REPEAT
    assert dumps == []


async def test_a_message_stored_by_its_model_digest_before_is_a_repeat_when_sent_again(
    pool: asyncpg.Pool,
) -> None:
    """A hospital's retry that straddles the upgrade: the id was stored with the model's digest
    by the version before; the body's digest is compared with it through the model."""
    document = json.loads(EXAMPLE_REFERRAL.read_bytes())
    document["entry"][0]["resource"]["id"] = str(uuid.uuid4())
    message, digest = _parse_and_digest(json.dumps(document).encode(), DEFAULT_LIMITS)
    assert await _claim(pool, message, content_digest(message)) is Claim.FIRST
    assert await _claim(pool, message, digest) is Claim.REPEAT
    document["entry"][1]["resource"]["status"] = "cancelled"
    changed, changed_digest = _parse_and_digest(json.dumps(document).encode(), DEFAULT_LIMITS)
    assert await _claim(pool, changed, changed_digest) is Claim.REUSED_ID


def test_the_digest_of_a_body_with_a_byte_order_mark_is_the_same_as_without() -> None:
    """Whatever parse_message accepts, the digest reads: a UTF-8 BOM is no reason to fail."""
    body = EXAMPLE_REFERRAL.read_bytes()
    assert received_content_digest(b"\xef\xbb\xbf" + body) == received_content_digest(body)
