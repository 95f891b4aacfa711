"""Every service builds its consumers one way: the runtime's broker, pool, consumer group and
fetch wait, whatever the topic."""

from __future__ import annotations

from typing import cast

import asyncpg

from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.broker import create_broker
from shared.messaging.guard import ConsumerGuard
from shared.messaging.outbox import OutboxRelay
from shared.messaging.topics import NOTIFICATION_REQUESTS
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
    )
    runtime.subscribe(NOTIFICATION_REQUESTS, {EventCode.NOTIFICATION_REQUESTED: _ignore})
    (subscriber,) = broker.subscribers
    assert subscriber.group_id == "fasttrack-notifier"  # type: ignore[attr-defined]
    assert subscriber.topics[0].name == NOTIFICATION_REQUESTS.name  # type: ignore[attr-defined]
    assert subscriber._connection_args["fetch_max_wait_ms"] == 250  # type: ignore[attr-defined]
