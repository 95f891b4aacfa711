"""Integration fixtures: a private schema and topic per test module on the real stack."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from shared.db.ddl import (
    OUTBOX_AND_INBOX,
    OUTBOX_MARK_AT_ROW_END,
    OUTBOX_MESSAGE_ID_UNINDEXED,
    OUTBOX_WAKES_ITS_WRITER,
    SENDER_SCOPED_INBOX,
    SEQUENCE_AT_PUBLICATION,
)
from shared.db.pool import Connection, create_pool
from shared.messaging.broker import create_broker
from shared.messaging.topics import Topic
from shared.settings import PlatformSettings
from tests.support import TestStack


async def create_outbox_schema(connection: Connection | asyncpg.Connection, schema: str) -> None:
    """``schema`` with the inbox and outbox as the services' migrations leave them."""
    await connection.execute(f"CREATE SCHEMA {schema}; SET search_path TO {schema};")
    await connection.execute(OUTBOX_AND_INBOX)
    await connection.execute(SENDER_SCOPED_INBOX)
    await connection.execute(SEQUENCE_AT_PUBLICATION)
    await connection.execute(OUTBOX_MARK_AT_ROW_END)
    await connection.execute(OUTBOX_MESSAGE_ID_UNINDEXED)
    await connection.execute(OUTBOX_WAKES_ITS_WRITER)
    await connection.execute("RESET search_path")


@pytest.fixture(scope="module")
async def scratch_schema(database: asyncpg.Pool) -> AsyncIterator[str]:
    schema = f"itest_{secrets.token_hex(4)}"
    async with database.acquire() as connection:
        await create_outbox_schema(connection, schema)
    yield schema
    await database.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="module")
async def one_partition_topic(stack: TestStack) -> AsyncIterator[Topic]:
    """A topic of one partition (every record in order behind the one before) and its
    dead-letter twin, per test module."""
    topic = Topic(f"fasttrack.itest.{secrets.token_hex(4)}", "consumer test", partitions=1)
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(topic.name, 1, 1), NewTopic(topic.dead_letter, 1, 1)])
    yield topic
    await admin.delete_topics([topic.name, topic.dead_letter])
    await admin.close()


@pytest.fixture(scope="module")
async def scratch_topic(stack: TestStack) -> AsyncIterator[Topic]:
    topic = Topic(f"fasttrack.itest.{secrets.token_hex(4)}", "integration test", partitions=3)
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(topic.name, topic.partitions, 1)])
    yield topic
    await admin.delete_topics([topic.name])
    await admin.close()


@pytest.fixture
async def relay_pool(stack: TestStack, scratch_schema: str) -> AsyncIterator[asyncpg.Pool]:
    """A service's pool of the scratch schema; the relay holds one connection while it leads."""
    pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
async def relay_broker(stack: TestStack) -> AsyncIterator[KafkaBroker]:
    """A service's broker, started and stopped with the test."""
    kafka = create_broker(
        PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers), service_name="itest"
    )
    await kafka.start()
    yield kafka
    await kafka.stop()
