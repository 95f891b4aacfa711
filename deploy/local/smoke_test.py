"""Smoke test of the local stack: Kafka round trip (idempotent producer, consumer group) + SQL.

Usage: smoke_test.py [--bootstrap 127.0.0.1:19092] [--database-url postgresql://...]
Defaults come from FT_KAFKA_PORT / FT_PG_PORT like the deploy/local scripts. Creates (and
deletes) a topic named smoke-<random>, since the broker does not auto-create topics.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def kafka_round_trip(bootstrap: str) -> None:
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        print(f"kafka: cluster {cluster['cluster_id']}, brokers {cluster['brokers']}")
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        print(f"kafka: created topic {topic}")

        t0 = time.monotonic()
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=True, acks="all"
        )
        await producer.start()
        try:
            meta = await producer.send_and_wait(topic, b"hello fast track", key=b"k1")
            print(
                f"kafka: produced (idempotent) to {meta.topic}[{meta.partition}]@{meta.offset}"
                f" in {time.monotonic() - t0:.2f}s"
            )
        finally:
            await producer.stop()

        t0 = time.monotonic()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"{topic}-group",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            msg = await asyncio.wait_for(consumer.getone(), 30)
            await consumer.commit()
            print(
                f"kafka: consumed {msg.value!r} (key {msg.key!r}) in group {topic}-group "
                f"in {time.monotonic() - t0:.2f}s, offset committed"
            )
            if msg.value != b"hello fast track":
                raise SystemExit(f"kafka: read back {msg.value!r}, not the message sent")
        finally:
            await consumer.stop()
        await admin.delete_topics([topic])
    finally:
        await admin.close()


async def sql_round_trip(url: str) -> None:
    import asyncpg  # the project's driver

    conn = await asyncpg.connect(url)
    try:
        value = await conn.fetchval("select 1")
        version = await conn.fetchval("show server_version")
        print(f"postgres: select 1 -> {value} (server {version})")
    finally:
        await conn.close()


async def main() -> int:
    parser = argparse.ArgumentParser()
    kafka_port = os.environ.get("FT_KAFKA_PORT", "19092")
    pg_port = os.environ.get("FT_PG_PORT", "15432")
    parser.add_argument("--bootstrap", default=f"127.0.0.1:{kafka_port}")
    parser.add_argument(
        "--database-url", default=f"postgresql://fasttrack@127.0.0.1:{pg_port}/fasttrack"
    )
    parser.add_argument("--skip-db", action="store_true")
    args = parser.parse_args()
    await kafka_round_trip(args.bootstrap)
    if not args.skip_db:
        await sql_round_trip(args.database_url)
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
