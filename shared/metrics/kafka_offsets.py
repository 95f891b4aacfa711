"""Consumer lag and committed offsets per group and partition, and the depth of every
dead-letter topic, read from Kafka itself (the groups' committed offsets and the topics' ends),
not from the consumers.

Measured from outside the consumer on purpose: a consumer that stopped (its process dead, its
partition wedged) reports nothing, while its group's lag keeps growing here. Every service
reports every ``fasttrack-`` group, so lag stays visible while any one of them runs (the rules
and dashboards take the maximum over the reporters).
"""

from __future__ import annotations

from collections import defaultdict

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from opentelemetry import metrics

from shared.messaging.topics import DEAD_LETTER_SUFFIX
from shared.metrics.sampled import SampledGauge

GROUP_PREFIX = "fasttrack-"


class KafkaOffsets:
    def __init__(self, *, bootstrap_servers: str, meter: metrics.Meter, client_id: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        # Each group's coordinator, looked up once per connection (a sample that fails, as one
        # asking a coordinator that moved does, drops them with the clients).
        self._coordinators: dict[str, int] = {}
        self.lag = SampledGauge(
            meter,
            "fasttrack.kafka.consumer.lag",
            unit="{message}",
            description="Records on a partition its consumer group has not yet committed",
        )
        # The records a group handled, as its rate: the consumers' own duration metric counts
        # one handling per fetched batch, however many records it held.
        self.committed = SampledGauge(
            meter,
            "fasttrack.kafka.consumer.committed",
            unit="{message}",
            description="The offset a consumer group has committed on a partition (its rate: "
            "records handled per second)",
        )
        self.dead_letters = SampledGauge(
            meter,
            "fasttrack.kafka.dead_letters",
            unit="{message}",
            description="Records held in a dead-letter topic (.dlq), by topic",
        )
        self.gauges = (self.lag, self.committed, self.dead_letters)

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            await self.close()
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap_servers, client_id=f"{self._client_id}-metrics"
            )
            await admin.start()
            self._admin = admin
            # No group: it only asks where partitions begin and end.
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap_servers,
                client_id=f"{self._client_id}-metrics",
                enable_auto_commit=False,
            )
            await consumer.start()
            self._consumer = consumer
        return self._admin, self._consumer

    async def sample(self) -> None:
        try:
            admin, consumer = await self._clients()
            await self._sample(admin, consumer)
        except Exception:
            await self.close()  # connect again at the next round
            raise

    async def _sample(self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer) -> None:
        # One metadata request for the brokers (each lists the groups it coordinates) and every
        # topic's partitions: aiokafka's list_consumer_groups, list_topics and describe_topics
        # each sent one, and every one lists all the hospitals' topics.
        metadata = (await admin._get_cluster_metadata()).to_object()
        committed: dict[str, dict[TopicPartition, int]] = {}
        brokers = [broker["node_id"] for broker in metadata["brokers"]]
        for group, _protocol in await admin.list_consumer_groups(broker_ids=brokers):
            if not group.startswith(GROUP_PREFIX):
                continue
            coordinator = self._coordinators.get(group)
            if coordinator is None:
                coordinator = self._coordinators[group] = await admin.find_coordinator(group)
            offsets = await admin.list_consumer_group_offsets(group, coordinator)
            committed[group] = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
        dead_letter_partitions = [
            TopicPartition(described["topic"], partition["partition"])
            for described in metadata["topics"]
            if described["topic"].endswith(DEAD_LETTER_SUFFIX)
            for partition in described["partitions"]
        ]
        wanted = {tp for offsets in committed.values() for tp in offsets}
        ends = await consumer.end_offsets([*wanted, *dead_letter_partitions])
        starts = await consumer.beginning_offsets(dead_letter_partitions)
        self.lag.set(
            (
                {"group": group, "topic": tp.topic, "partition": str(tp.partition)},
                float(max(ends[tp] - offset, 0)),
            )
            for group, offsets in sorted(committed.items())
            for tp, offset in sorted(offsets.items())
            if tp in ends
        )
        self.committed.set(
            (
                {"group": group, "topic": tp.topic, "partition": str(tp.partition)},
                float(offset),
            )
            for group, offsets in sorted(committed.items())
            for tp, offset in sorted(offsets.items())
        )
        depth: dict[str, int] = defaultdict(int)
        for tp in dead_letter_partitions:
            depth[tp.topic] += ends[tp] - starts[tp]
        self.dead_letters.set(({"topic": topic}, float(n)) for topic, n in sorted(depth.items()))

    async def close(self) -> None:
        admin, consumer = self._admin, self._consumer
        self._admin = self._consumer = None
        self._coordinators = {}
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()
