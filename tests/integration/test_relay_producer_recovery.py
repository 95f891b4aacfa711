"""The outbox relay after its Kafka producer stopped for good (aiokafka's idempotent producer
ends its sender on an out-of-order sequence number, as after a broker restart, and then fails
every send): the relay puts a new producer in and the event still goes out."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from aiokafka.producer.sender import Sender
from faststream.kafka import KafkaBroker

from shared.messaging import headers
from shared.messaging.outbox import add_to_outbox
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.topics import Topic
from tests.support import TestStack, records_on_topic, task_update

pytestmark = pytest.mark.integration


async def test_a_producer_that_stopped_for_good_is_replaced_and_the_event_still_goes_out(
    stack: TestStack,
    relay_pool: asyncpg.Pool,
    relay_broker: KafkaBroker,
    scratch_schema: str,
    scratch_topic: Topic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seen in the chaos test: after a broker restart the referral service's relay failed every
    round for six minutes with OutOfOrderSequenceNumber, 460 events unsent, until a restart."""
    message = task_update("referral-stuck")
    async with relay_pool.acquire() as connection:
        await add_to_outbox(connection, topic=scratch_topic, key="referral-stuck", message=message)
    relay = OutboxRelay(
        pool=relay_pool, broker=relay_broker, producer_name="itest", schema=scratch_schema
    )

    send_produce_request = Sender._send_produce_req
    refusals = 0

    async def broker_refuses_the_sequence_once(sender: Sender, node_id: int, batches: Any) -> Any:
        nonlocal refusals
        if refusals == 0:
            refusals += 1
            raise OutOfOrderSequenceNumber()  # ends the sender routine, as the broker's answer does
        return await send_produce_request(sender, node_id, batches)

    monkeypatch.setattr(Sender, "_send_produce_req", broker_refuses_the_sequence_once)
    with pytest.raises(OutOfOrderSequenceNumber):
        await relay.publish_pending()
    assert refusals == 1

    # The relay's next round (a second later in a service) sends it.
    assert await relay.publish_pending() == 1
    await relay.mark_sent()
    records = await records_on_topic(stack, scratch_topic, 1)
    assert [record_headers[headers.MESSAGE_ID].decode() for _, record_headers, _ in records] == [
        await relay_pool.fetchval("SELECT message_id FROM outbox")
    ]
    assert await relay_pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    # Every publication of the process goes through the replaced producer: so does the broker's.
    await relay_broker.publish(b"{}", topic=scratch_topic.name, key=b"after")
    await relay.stop()
