"""The console's dead-letter reads and replays on the real Kafka and PostgreSQL: a message a
consumer refused is found in its dead-letter topic with the reason and a payload that shows no
patient; a replay puts it back on the topic it came from (the consumer reads it again), and the
audit log holds who replayed which record, searchable by person, referral and time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from services.referral.adapters import console_audit
from shared.db.pool import create_pool
from shared.messaging.dead_letter_browser import DeadLetterRecord, DeadLetterTopics
from shared.messaging.topics import hospital_inbound
from tests.support import TestStack, eventually, referral_bundle

pytestmark = pytest.mark.e2e

NAME, HOSPITAL_NUMBER, NOTE = "Somchai Deadletter", "HN-DLQ-4242", "planted free text"
SPOKE = "sikao-hospital"


@pytest.fixture
async def referral_db(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(stack.database_url, schema="referral", max_size=2)
    yield pool
    await pool.close()


def planted_impersonation() -> tuple[bytes, str]:
    """A referral naming a patient, written to Sikao's topic in Trang's name: refused, and
    dead-lettered with the reason (a hospital writes only in its own name)."""
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["name"] = [{"family": NAME}]
            resource["identifier"] = [{"system": "urn:hn", "value": HOSPITAL_NUMBER}]
            resource["note"] = [{"text": NOTE}]
    text = json.dumps(bundle).replace(
        '"sender": {"reference": "Organization/sikao-hospital"}',
        '"sender": {"reference": "Organization/trang-hospital"}',
    )
    assert "Organization/trang-hospital" in text
    return text.encode(), referral_id


async def dead_letters_keyed(topics: DeadLetterTopics, key: str) -> list[DeadLetterRecord]:
    return [r for r in await topics.newest() if r.key == key]


async def test_a_refused_message_is_browsed_redacted_replayed_and_audited(
    stack: TestStack, services: object, referral_db: asyncpg.Pool
) -> None:
    body, referral_id = planted_impersonation()
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(hospital_inbound(SPOKE).name, body, key=referral_id.encode())
    finally:
        await producer.stop()
    topics = DeadLetterTopics(bootstrap_servers=stack.bootstrap_servers, client_id="test-console")

    async def found() -> list[DeadLetterRecord] | None:
        return await dead_letters_keyed(topics, referral_id) or None

    # Each consumer group reading the topic gives up on it once (the referral service, and
    # telemedicine, which reads hospitals' topics for home-isolation check-ins).
    letters = await eventually(found, what="the refused message in its dead-letter topic")
    letter = letters[0]
    assert letter.topic == hospital_inbound(SPOKE).dead_letter
    assert letter.reason
    assert letter.headers["dead-letter-source"].startswith(hospital_inbound(SPOKE).name)
    shown = json.dumps([letter.payload, letter.headers, letter.reason])
    for planted in (NAME, HOSPITAL_NUMBER, NOTE):
        assert planted not in shown
    assert '"resourceType": "Patient"' in letter.payload

    # Replayed: back on Sikao's topic, read again, refused again (nothing changed): another
    # dead letter of the same message proves a consumer had it.
    record = await topics.read(letter.topic, letter.partition, letter.offset)
    broker = KafkaBroker(stack.bootstrap_servers)
    await broker.connect()
    try:
        assert await DeadLetterTopics.replay(broker, record) == hospital_inbound(SPOKE).name
    finally:
        await broker.stop()

    async def read_again() -> list[DeadLetterRecord] | None:
        now = await dead_letters_keyed(topics, referral_id)
        return now if len(now) > len(letters) else None

    await eventually(read_again, what="the replayed message read again by its consumer")

    async with referral_db.acquire() as connection:
        operator_id = await connection.fetchval(
            "SELECT id FROM app_user WHERE username = 'operator'"
        )
        assert await console_audit.replayed_dead_letters(connection, [letter.address]) == set()
        await console_audit.record_dead_letter_replay(
            connection, user_id=operator_id, address=letter.address, key=referral_id
        )
        assert await console_audit.replayed_dead_letters(connection, [letter.address]) == {
            letter.address
        }
        by_operator = await console_audit.search_audit(
            connection, username="operator", since=datetime.now(UTC) - timedelta(minutes=5)
        )
        later = await console_audit.search_audit(
            connection, username="operator", since=datetime.now(UTC) + timedelta(minutes=1)
        )
        by_nurse = await console_audit.search_audit(connection, username="nurse.sikao")
    replays = [r for r in by_operator if r.entity == f"dead-letter:{letter.address}"]
    assert len(replays) == 1
    assert replays[0].via == console_audit.REPLAY_VIA
    assert [r for r in later if r.entity == f"dead-letter:{letter.address}"] == []
    assert [r for r in by_nurse if r.entity == f"dead-letter:{letter.address}"] == []
