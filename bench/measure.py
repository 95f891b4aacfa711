"""Wraps a phase of the benchmark in the readings that turn it into per-referral costs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.counters import (
    CONSUMER_OFFSETS,
    DatabaseCounters,
    KafkaOffsets,
    StatementCounts,
    count_lines,
    records_between,
)
from bench.load import PhaseResult
from bench.procstat import (
    Usage,
    cpu_ms_by_thread_kind,
    cpu_ms_per_item,
    cpu_ms_per_second,
    sample,
    thread_ticks,
)

# The parts whose CPU is the system's cost of a referral; the others are reported apart (the
# load generator is the benchmark itself, Zipkin the trace store the services export to).
SYSTEM_PARTS = ("referral", "telemedicine", "notifier", "kafka", "postgres")
LOAD_GENERATOR = "load generator"
# The JVM whose CPU is also split by what its threads do (bench.procstat.JVM_THREAD_KINDS).
KAFKA = "kafka"


@dataclass
class Meter:
    """Process roots by part; the database, broker and trace files the counts come from."""

    roots: dict[str, int]
    offsets: KafkaOffsets
    database: DatabaseCounters | None = None
    trace_files: list[Path] = field(default_factory=list)
    # A phase ends when the broker and the trace files have not moved for this long.
    quiet_s: float = 2.5
    settle_timeout_s: float = 60.0

    def usage(self) -> dict[str, Usage]:
        return sample(self.roots, alone=frozenset({LOAD_GENERATOR}))

    def kafka_threads(self) -> dict[int, tuple[str, int]]:
        return thread_ticks(self.roots[KAFKA]) if KAFKA in self.roots else {}

    async def idle(self, seconds: float) -> dict[str, Any]:
        """CPU ms per second each part spends with no traffic (polls, empty fetches, timers,
        the metrics sampler): at a low rate it is much of a phase's CPU per referral. Kafka's
        also by kind of thread (``kafka_by_thread``)."""
        await self.settle()
        threads_before, before, started = self.kafka_threads(), self.usage(), time.monotonic()
        await asyncio.sleep(seconds)
        after, threads_after = self.usage(), self.kafka_threads()
        elapsed = time.monotonic() - started
        cpu = cpu_ms_per_second(before, after, elapsed)
        return {
            **cpu,
            "system_total": round(sum(cpu.get(p, 0.0) for p in SYSTEM_PARTS), 2),
            "kafka_by_thread": cpu_ms_by_thread_kind(threads_before, threads_after, elapsed),
        }

    async def settle(self) -> None:
        """Waits until the echoes after the last arrival are done (nothing written to Kafka or
        to a trace file for ``quiet_s``): their cost belongs to the phase."""
        deadline = time.monotonic() + self.settle_timeout_s
        last = (await self.offsets.read(), count_lines(self.trace_files))
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            now = (await self.offsets.read(), count_lines(self.trace_files))
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= self.quiet_s:
                return

    async def measure(self, run: Callable[[], Awaitable[PhaseResult]]) -> dict[str, Any]:
        offsets_before = await self.offsets.read()
        spans_before = count_lines(self.trace_files)
        database_mark = await self.database.reset() if self.database else None
        threads_before, usage_before = self.kafka_threads(), self.usage()
        result = await run()
        await self.settle()
        usage_after, threads_after = self.usage(), self.kafka_threads()
        per = max(result.arrived, 1)
        cpu = cpu_ms_per_item(usage_before, usage_after, per)
        records = records_between(offsets_before, await self.offsets.read())
        figures: dict[str, Any] = {
            **result.as_dict(),
            "cpu_ms_per_referral": {
                **cpu,
                "system_total": round(sum(cpu.get(p, 0.0) for p in SYSTEM_PARTS), 2),
            },
            # The JIT compiling a fresh JVM's hot code shows here, phase by phase.
            "kafka_cpu_ms_per_referral_by_thread": cpu_ms_by_thread_kind(
                threads_before, threads_after, per
            ),
            "memory_mb": {
                name: {"rss": u.rss_mb, "pss": u.pss_mb, "processes": u.processes}
                for name, u in usage_after.items()
            },
            "kafka_records_per_referral": {
                topic: round(n / per, 2)
                for topic, n in records.items()
                if topic != CONSUMER_OFFSETS
            },
            "offset_commit_records_per_referral": round(records.get(CONSUMER_OFFSETS, 0) / per, 2),
        }
        if self.trace_files:
            figures["spans_per_referral"] = round(
                (count_lines(self.trace_files) - spans_before) / per, 1
            )
        if self.database and database_mark:
            counts = await self.database.read(database_mark)
            figures["sql_per_referral"] = {
                "statements": round(counts.statements / per, 1),
                "round_trips": round(counts.round_trips() / per, 1),
                "transactions": round(counts.transactions / per, 1),
                # Each took a transaction id: a commit that waits for its WAL on disk.
                "writing_transactions": round(counts.writing_transactions / per, 1),
                # The WAL's flushes to disk: commits waiting together share one.
                "wal_syncs": round(counts.wal_syncs / per, 1),
                "pool_resets": round(counts.pool_resets / per, 1),
                "advisory_xact_locks": round(counts.advisory_locks / per, 1),
                # Planning (track_planning): a statement planned at every call is re-planned
                # for its parameters (a custom plan), not run from a cached generic plan.
                "plans": round(counts.plans / per, 1),
                "plan_ms": round(counts.plan_ms / per, 3),
                "exec_ms": round(counts.exec_ms / per, 3),
                "wal_bytes": round(counts.wal_bytes / per),
                # All the cluster wrote: commit records, vacuum, page images after a checkpoint too.
                "cluster_wal_bytes": round(counts.cluster_wal_bytes / per),
                "wal_full_page_images": round(counts.wal_full_page_images / per, 2),
                "top_statements": [statement_figures(s, per) for s in counts.top],
                "most_planned": [statement_figures(s, per) for s in counts.most_planned],
                "most_wal": [statement_figures(s, per) for s in counts.most_wal],
                "most_exec": [statement_figures(s, per) for s in counts.most_exec],
            }
        return figures


def statement_figures(statement: StatementCounts, per: float) -> dict[str, float | str]:
    """One statement's figures per referral, and how often it was planned per call."""
    calls = statement.calls
    return {
        "calls_per_referral": round(calls / per, 2),
        "plans_per_call": round(statement.plans / calls, 2) if calls else 0.0,
        "plan_ms_per_referral": round(statement.plan_ms / per, 3),
        "exec_ms_per_referral": round(statement.exec_ms / per, 3),
        "wal_bytes_per_referral": round(statement.wal_bytes / per),
        "query": statement.query,
    }
