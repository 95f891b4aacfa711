"""What the system did for the referrals of a phase: SQL statements and transactions
(pg_stat_statements, pg_stat_database), Kafka records (end offsets of every topic) and spans
(lines of the services' trace files).

Each is a counter read before and after a phase; the difference divided by the referrals of the
phase is the figure per referral. The benchmark's own few queries (these reads) are left out of
the statement counts (they name pg_stat_*) but not of the transaction count (two or three per
phase, against thousands).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

# asyncpg's pool reset (Pool.release -> Connection.reset) sends these four statements as one
# simple query: one round trip, four entries in pg_stat_statements.
POOL_RESET_STATEMENTS = (
    "SELECT pg_advisory_unlock_all()",
    "CLOSE ALL",
    "UNLISTEN *",
    "RESET ALL",
)
CONSUMER_OFFSETS = "__consumer_offsets"


@dataclass(frozen=True)
class StatementCounts:
    """One statement's figures in a phase (pg_stat_statements, ``track_planning`` on)."""

    query: str
    calls: int
    plans: int
    plan_ms: float
    exec_ms: float
    wal_bytes: int


@dataclass(frozen=True)
class DatabaseCounts:
    statements: int
    transactions: int
    pool_resets: int
    advisory_locks: int
    plans: int = 0
    plan_ms: float = 0.0
    exec_ms: float = 0.0
    wal_bytes: int = 0
    top: list[StatementCounts] = field(default_factory=list)
    most_planned: list[StatementCounts] = field(default_factory=list)

    def round_trips(self) -> int:
        """Statements, with each pool reset's four counted as the one round trip they are."""
        return self.statements - (len(POOL_RESET_STATEMENTS) - 1) * self.pool_resets


class DatabaseCounters:
    """pg_stat_statements needs ``shared_preload_libraries=pg_stat_statements`` (the benchmark's
    cluster only) and the extension in the database; ``reset`` zeroes it at a phase's start."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def prepare(self) -> None:
        connection = await asyncpg.connect(self.database_url)
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        finally:
            await connection.close()

    async def reset(self) -> int:
        """Zeroes the statement counts; returns the transactions so far (pg_stat_database)."""
        connection = await asyncpg.connect(self.database_url)
        try:
            await connection.execute("SELECT pg_stat_statements_reset()")
            return await self._transactions(connection)
        finally:
            await connection.close()

    async def read(self, transactions_before: int) -> DatabaseCounts:
        connection = await asyncpg.connect(self.database_url)
        try:
            rows = await connection.fetch(
                """
                SELECT query, sum(calls)::bigint AS calls, sum(plans)::bigint AS plans,
                       sum(total_plan_time) AS plan_ms, sum(total_exec_time) AS exec_ms,
                       sum(wal_bytes)::bigint AS wal_bytes
                FROM pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND query NOT LIKE '%pg_stat%'
                GROUP BY query ORDER BY calls DESC
                """
            )
            transactions = await self._transactions(connection) - transactions_before
        finally:
            await connection.close()
        statements = [
            StatementCounts(
                query=" ".join(row["query"].split())[:120],
                calls=int(row["calls"]),
                plans=int(row["plans"]),
                plan_ms=float(row["plan_ms"]),
                exec_ms=float(row["exec_ms"]),
                wal_bytes=int(row["wal_bytes"]),
            )
            for row in rows
        ]
        calls = {row["query"]: int(row["calls"]) for row in rows}
        return DatabaseCounts(
            statements=sum(calls.values()),
            transactions=transactions,
            pool_resets=calls.get("RESET ALL", 0),
            advisory_locks=sum(n for q, n in calls.items() if "pg_advisory_xact_lock" in q),
            plans=sum(s.plans for s in statements),
            plan_ms=sum(s.plan_ms for s in statements),
            exec_ms=sum(s.exec_ms for s in statements),
            wal_bytes=sum(s.wal_bytes for s in statements),
            top=statements[:12],
            most_planned=sorted(
                (s for s in statements if s.plans), key=lambda s: s.plans, reverse=True
            )[:6],
        )

    @staticmethod
    async def _transactions(connection: asyncpg.Connection) -> int:
        # Statistics reach the shared counters when a backend goes idle (at most ~1 s later).
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        value = await connection.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        return int(value)


class KafkaOffsets:
    """Reads the sum of end offsets per topic: records written so far (no transactions are
    used, so no control records). ``__consumer_offsets`` counts the consumers' offset commits.
    One client for the whole run, so the readings add little to the broker's CPU."""

    def __init__(self, bootstrap: str, *, skip_prefix: str = "bench.") -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        self.skip_prefix = skip_prefix

    async def start(self) -> None:
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()

    async def read(self) -> dict[str, int]:
        # consumer.topics() returns names only; its metadata is not kept for
        # partitions_for_topic, so the fresh metadata is read from the client itself.
        cluster = await self.consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(topic, p)
            for topic in sorted(cluster.topics(exclude_internal_topics=False))
            if not topic.startswith(self.skip_prefix)
            for p in cluster.partitions_for_topic(topic) or ()
        ]
        offsets = await self.consumer.end_offsets(partitions)
        totals: dict[str, int] = {}
        for partition, offset in offsets.items():
            totals[partition.topic] = totals.get(partition.topic, 0) + offset
        return totals


def records_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Records written per topic between two readings (topics that grew only)."""
    grown = {topic: after[topic] - before.get(topic, 0) for topic in after}
    return {topic: count for topic, count in grown.items() if count > 0}


def count_lines(paths: list[Path]) -> int:
    """Spans written so far: one JSON line per span in each service's trace file."""
    total = 0
    for path in paths:
        if path.exists():
            with path.open("rb") as lines:
                total += sum(1 for _ in lines)
    return total
