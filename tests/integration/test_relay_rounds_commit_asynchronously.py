"""The outbox relay's rounds do not wait for PostgreSQL to flush their WAL to disk.

A round's statement marks the batch the round before sent and claims the next. On a durable
cluster each such commit waited for its own flush (a WAL flush per round, in every service,
before the round's rows could go to the broker). A mark is bookkeeping that may be lost: a
batch whose mark PostgreSQL lost in a crash is sent again with the same numbers and the
consumers drop it (shared/messaging/outbox_relay.py, ``OutboxRelay._lead``). The rounds now commit
asynchronously; PostgreSQL's WAL writer flushes their WAL in the background, a few times a
second whatever the number of rounds.

On a durable cluster of the test's own (the suite's shared one runs without fsync, where no
commit waits); Kafka is the test stack's.
"""

from __future__ import annotations

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from bench.counters import DatabaseCounters
from shared.db.pool import create_pool
from shared.messaging.outbox import OutboxEvent, add_all_to_outbox
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.topics import Topic
from tests.integration.conftest import create_outbox_schema
from tests.support import ROOT, local_cluster, shifted_port, task_update

pytestmark = pytest.mark.integration

PORT = shifted_port(25443)
ROWS = 30
SCHEMA = "relay_rounds"
# The relay's connections are closed before the counters are read: a backend hands its
# statistics on as it exits (as in test_bench_wal_flushes).
STATISTICS_AT_EXIT_S = 2.0


async def test_the_relays_rounds_do_not_each_wait_for_a_wal_flush(
    relay_broker: KafkaBroker, scratch_topic: Topic
) -> None:
    state = ROOT / ".local-stack" / "relay-rounds-test"
    local_cluster(state, "start", port=PORT)
    try:
        database_url = f"postgresql://fasttrack@127.0.0.1:{PORT}/fasttrack"
        setup = await asyncpg.connect(database_url)
        try:
            await setup.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            await create_outbox_schema(setup, SCHEMA)
        finally:
            await setup.close()
        pool = await create_pool(database_url, schema=SCHEMA, max_size=2)
        try:
            keys = [f"referral-rounds-{n}" for n in range(ROWS)]
            async with pool.acquire() as connection:
                await add_all_to_outbox(
                    connection,
                    [
                        OutboxEvent(topic=scratch_topic, key=key, message=task_update(key))
                        for key in keys
                    ],
                )
            counters = DatabaseCounters(database_url, stats_flush_s=STATISTICS_AT_EXIT_S)
            mark = await counters.mark()
            # One row a round: each round after the first marks the row the one before sent
            # (a commit that writes), and the last marks the last row and claims nothing.
            relay = OutboxRelay(
                pool=pool,
                broker=relay_broker,
                producer_name="itest",
                schema=SCHEMA,
                batch_size=1,
            )
            await relay.tick()
            await relay.stop()
            unsent = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        finally:
            await pool.close()
        counts = await counters.since(mark)
    finally:
        local_cluster(state, "destroy", port=PORT)

    assert unsent == 0
    assert counts.writing_transactions >= ROWS, counts
    # Was a flush per round (33 for 31 commits). Now the WAL writer's few in the rounds' time.
    assert counts.wal_syncs < counts.writing_transactions, counts
    assert counts.wal_syncs < ROWS / 3, counts
