"""A service's Kafka wiring (its ``wire_consumers``) on one test connection, without Kafka: the
``FhirMessageConsumer`` of each topic it subscribes, as the service builds it, to hand records
to one at a time (what a record that arrives alone costs) or several as fetched together (its
``ServiceConsumer``'s batch), and the dead letters it would publish."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiokafka import ConsumerRecord

from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import FHIR_VERSION
from shared.messaging import headers
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.service_consumer import ServiceConsumer
from shared.messaging.topics import PerHospitalTopics, Topic
from tests.integration.use_cases.support import OneConnectionPool
from tests.kafka_records import Publications, kafka_record

# What the network's outbox relay puts on every record it publishes.
RELAY_HEADERS = [(headers.PRODUCER, b"test"), (headers.FHIR_VERSION, FHIR_VERSION.encode())]


class WiredConsumers:
    """Stands in for ``ServiceRuntime`` while a service's ``wire_consumers`` runs: keeps each
    topic's consumer, on a pool of the test's one connection."""

    def __init__(self, connection: Connection, *, service_name: str) -> None:
        self.dead_letters = Publications()
        self._pool = OneConnectionPool(connection)
        self._service_name = service_name
        self._by_topic: dict[str, FhirMessageConsumer] = {}
        # The service's one Kafka consumer, never started: its batches are handed over here.
        self.consumer = ServiceConsumer(
            broker=self.dead_letters,  # type: ignore[arg-type]
            pool=self._pool,  # type: ignore[arg-type]
            service_name=service_name,
            fetch_max_wait_ms=500,
            commit_interval_s=0.0,
        )
        # The AsyncAPI document's publishers: not what these tests look at.
        self.specification = SimpleNamespace(publisher=lambda *_, **__: None)

    def subscribe(
        self, topic: Topic | PerHospitalTopics, handlers: Any, **options: Any
    ) -> FhirMessageConsumer:
        consumer = FhirMessageConsumer(
            broker=self.dead_letters,  # type: ignore[arg-type]
            pool=self._pool,  # type: ignore[arg-type]
            topic=topic,
            service_name=self._service_name,
            handlers=handlers,
            **options,
        )
        self._by_topic[topic.address] = consumer
        self.consumer.add(consumer)
        return consumer

    def subscribed(self, topic: Topic) -> FhirMessageConsumer:
        """The consumer ``wire_consumers`` subscribed to ``topic``."""
        return self._by_topic[topic.address]

    async def deliver(self, topic: Topic, message: FhirMessage, *, key: str) -> None:
        """``message`` as the relay publishes it on ``topic``, handled alone."""
        await self._by_topic[topic.address].handle(relayed_record(topic, message, key=key))

    async def deliver_together(self, records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        """``records`` as fetched together: applied in one transaction by the service's
        ``ServiceConsumer``; False when it rolled them back (each is then read alone)."""
        return await self.consumer._apply_together(records)


def relayed_record(topic: Topic, message: FhirMessage, *, key: str) -> ConsumerRecord[bytes, bytes]:
    return kafka_record(topic.name, message.to_json(), key=key.encode(), headers=RELAY_HEADERS)
