"""What the system did for the referrals of a phase: SQL statements and transactions
(pg_stat_statements, pg_stat_database), Kafka records (end offsets of every topic) and spans
(lines of the services' trace files).

Each is a counter read before and after a phase; the difference divided by the referrals of the
phase is the figure per referral. The benchmark's own few queries (these reads) are left out of
the statement counts (they name pg_stat_*) but not of the transaction count (two or three per
phase, against thousands).

Two counters are exact at any moment, read from the server's own positions: the transactions
that wrote (each one took a transaction id, and each commit waited for its WAL to reach the
disk) and the WAL the cluster wrote (its insert position: commit records, full-page images,
vacuum and all). The transaction count of ``pg_stat_database`` is not: a backend hands its
counts to the shared statistics at most once a second while busy, and one gone idle 10 s later
(PostgreSQL's PGSTAT_IDLE_INTERVAL), so it is read after that long; and a backend whose
transactions read no table (``SELECT 1``, a lock, a notify) has nothing else pending, so it
hands their count on only with its next table statistics, in a later phase perhaps (seen on
PostgreSQL 15: 10 such transactions on an idle connection still uncounted after 30 s). Read it
as approximate; the transactions that wrote are exact.
"""

from __future__ import annotations

import asyncio
import time
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
    wal_full_page_images: int = 0


@dataclass(frozen=True)
class ClusterMark:
    """Where the cluster's counters stood: transactions ended (pg_stat_database), the next
    transaction id, the WAL insert position, the WAL flushes to disk (pg_stat_wal)."""

    transactions: int
    next_transaction_id: int
    wal_lsn: str
    wal_syncs: int = 0


@dataclass(frozen=True)
class ClusterCounts:
    """What the cluster did since a mark."""

    transactions: int
    writing_transactions: int
    wal_bytes: int
    # fdatasync (or the like) of the WAL: fewer than the writing transactions when commits
    # waiting together share one flush, none with fsync off.
    wal_syncs: int = 0


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
    # Transactions that took a transaction id (wrote): one commit each, which waits for its WAL
    # on disk (``wal_syncs``: commits waiting together share a flush).
    writing_transactions: int = 0
    wal_syncs: int = 0
    # All the WAL the cluster wrote (``wal_bytes`` is the statements' part).
    cluster_wal_bytes: int = 0
    wal_full_page_images: int = 0
    most_wal: list[StatementCounts] = field(default_factory=list)
    # The statements the server spent most time running: one that is called rarely but scans a
    # table that grows (a watcher's) shows here and not among the most called.
    most_exec: list[StatementCounts] = field(default_factory=list)

    def round_trips(self) -> int:
        """Statements, with each pool reset's four counted as the one round trip they are."""
        return self.statements - (len(POOL_RESET_STATEMENTS) - 1) * self.pool_resets


class DatabaseCounters:
    """pg_stat_statements needs ``shared_preload_libraries=pg_stat_statements`` (the benchmark's
    cluster only) and the extension in the database; ``reset`` zeroes it at a phase's start."""

    def __init__(self, database_url: str, *, stats_flush_s: float = 11.0) -> None:
        self.database_url = database_url
        # How long an idle backend may keep its transaction counts (PostgreSQL's 10 s) and a
        # second more.
        self.stats_flush_s = stats_flush_s
        self._flushed_at: float | None = None

    async def prepare(self) -> None:
        connection = await asyncpg.connect(self.database_url)
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        finally:
            await connection.close()

    async def reset(self) -> ClusterMark:
        """Zeroes the statement counts; returns where the cluster's counters stand."""
        connection = await asyncpg.connect(self.database_url)
        try:
            await connection.execute("SELECT pg_stat_statements_reset()")
        finally:
            await connection.close()
        return await self.mark()

    async def mark(self) -> ClusterMark:
        """The cluster's counters now, once what ran before is in the shared statistics (no
        wait when they were read that way a moment ago, as at the end of the phase before)."""
        if self._flushed_at is None or time.monotonic() - self._flushed_at > 1.0:
            await asyncio.sleep(self.stats_flush_s)
        connection = await asyncpg.connect(self.database_url)
        try:
            return await self._mark(connection)
        finally:
            await connection.close()
            self._flushed_at = time.monotonic()

    async def since(self, mark: ClusterMark) -> ClusterCounts:
        """What the cluster did since ``mark``, once it is all in the shared statistics."""
        await asyncio.sleep(self.stats_flush_s)
        connection = await asyncpg.connect(self.database_url)
        try:
            now = await self._mark(connection)
            wal_bytes = await connection.fetchval(
                "SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)::bigint",
                now.wal_lsn,
                mark.wal_lsn,
            )
        finally:
            await connection.close()
            self._flushed_at = time.monotonic()
        return ClusterCounts(
            transactions=now.transactions - mark.transactions,
            writing_transactions=now.next_transaction_id - mark.next_transaction_id,
            wal_bytes=int(wal_bytes),
            wal_syncs=now.wal_syncs - mark.wal_syncs,
        )

    async def read(self, mark: ClusterMark) -> DatabaseCounts:
        cluster = await self.since(mark)
        connection = await asyncpg.connect(self.database_url)
        try:
            rows = await connection.fetch(
                """
                SELECT query, sum(calls)::bigint AS calls, sum(plans)::bigint AS plans,
                       sum(total_plan_time) AS plan_ms, sum(total_exec_time) AS exec_ms,
                       sum(wal_bytes)::bigint AS wal_bytes, sum(wal_fpi)::bigint AS wal_fpi
                FROM pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND query NOT LIKE '%pg_stat%'
                GROUP BY query ORDER BY calls DESC
                """
            )
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
                wal_full_page_images=int(row["wal_fpi"]),
            )
            for row in rows
        ]
        calls = {row["query"]: int(row["calls"]) for row in rows}
        return DatabaseCounts(
            statements=sum(calls.values()),
            transactions=cluster.transactions,
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
            writing_transactions=cluster.writing_transactions,
            wal_syncs=cluster.wal_syncs,
            cluster_wal_bytes=cluster.wal_bytes,
            wal_full_page_images=sum(s.wal_full_page_images for s in statements),
            most_wal=sorted(
                (s for s in statements if s.wal_bytes), key=lambda s: s.wal_bytes, reverse=True
            )[:6],
            most_exec=sorted(statements, key=lambda s: s.exec_ms, reverse=True)[:6],
        )

    @staticmethod
    async def _mark(connection: asyncpg.Connection) -> ClusterMark:
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        # The next transaction id takes none itself; the insert position is exact at once.
        row = await connection.fetchrow(
            """
            SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database
                    WHERE datname = current_database()) AS transactions,
                   pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next_transaction_id,
                   pg_current_wal_insert_lsn()::text AS wal_lsn,
                   (SELECT wal_sync FROM pg_stat_wal) AS wal_syncs
            """
        )
        assert row is not None  # a SELECT without FROM returns its one row
        return ClusterMark(
            transactions=int(row["transactions"]),
            next_transaction_id=int(row["next_transaction_id"]),
            wal_lsn=row["wal_lsn"],
            wal_syncs=int(row["wal_syncs"]),
        )


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
