"""Every service builds its consumers one way: the runtime's broker, pool, consumer group and
fetch wait, whatever the topic, and one Kafka consumer reads all of a service's topics."""

from __future__ import annotations

from typing import cast

import asyncpg
from faststream.kafka import KafkaBroker

from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.broker import create_broker
from shared.messaging.guard import ConsumerGuard
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.service_consumer import ServiceConsumer
from shared.messaging.topics import NOTIFICATION_OUTCOMES, NOTIFICATION_REQUESTS
from shared.metrics.sampled import Sampler
from shared.runtime import ServiceRuntime
from shared.settings import PlatformSettings
from shared.telemetry import Telemetry


async def _ignore(_: Connection, __: FhirMessage) -> None:
    return None


def test_a_runtime_consumer_reads_in_the_services_group_with_its_fetch_wait() -> None:
    settings = PlatformSettings(consumer_fetch_max_wait_ms=250)
    broker = create_broker(settings, service_name="notifier")
    # Only what subscribing reads is real.
    runtime = ServiceRuntime(
        name="notifier",
        settings=settings,
        telemetry=cast(Telemetry, None),
        pool=cast(asyncpg.Pool, object()),
        broker=broker,
        relay=cast(OutboxRelay, None),
        guard=cast(ConsumerGuard, None),
        sampler=cast(Sampler, None),
        consumer=ServiceConsumer(
            broker=broker,
            pool=cast(asyncpg.Pool, object()),
            service_name="notifier",
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
            commit_interval_s=settings.consumer_commit_interval_s,
        ),
        specification=KafkaBroker(),
    )
    runtime.subscribe(NOTIFICATION_REQUESTS, {EventCode.NOTIFICATION_REQUESTED: _ignore})
    runtime.subscribe(NOTIFICATION_OUTCOMES, {EventCode.NOTIFICATION_SENT: _ignore})
    runtime.consumer.subscribe()
    (subscriber,) = broker.subscribers
    assert subscriber.group_id == "fasttrack-notifier"  # type: ignore[attr-defined]
    assert [topic.name for topic in subscriber.topics] == [  # type: ignore[attr-defined]
        NOTIFICATION_REQUESTS.name,
        NOTIFICATION_OUTCOMES.name,
    ]
    assert subscriber._connection_args["fetch_max_wait_ms"] == 250  # type: ignore[attr-defined]
