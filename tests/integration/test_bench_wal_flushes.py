"""The benchmark counts the WAL's flushes to disk (bench/counters.py, pg_stat_wal), beside the
transactions that wrote: on a durable cluster, as the benchmark's, a commit waits for its WAL on
disk, and commits that wait together share one flush, so the two counts differ under load. Here
the commits come one after another, each waiting for its own flush."""

from __future__ import annotations

import asyncpg
import pytest

from bench.counters import DatabaseCounters
from tests.support import ROOT, local_cluster, shifted_port

pytestmark = pytest.mark.integration

PORT = shifted_port(25442)
TRANSACTIONS = 6
# The writer's connection is closed before the counters are read: its backend hands its
# statistics on as it exits, so the counters need not wait out an idle backend's 10 s (the
# benchmark's wait, DatabaseCounters' default, which test_bench_database_counters covers).
STATISTICS_AT_EXIT_S = 2.0


async def test_the_wal_flushes_of_durable_commits_are_counted() -> None:
    # A fixed folder: as root the cluster may live under /var/tmp, one folder per state folder.
    state = ROOT / ".local-stack" / "wal-flush-test"
    local_cluster(state, "start", port=PORT)
    try:
        database_url = f"postgresql://fasttrack@127.0.0.1:{PORT}/fasttrack"
        counters = DatabaseCounters(database_url, stats_flush_s=STATISTICS_AT_EXIT_S)
        mark = await counters.mark()
        service = await asyncpg.connect(database_url)
        try:
            await service.execute("CREATE TABLE IF NOT EXISTS flushed (n int)")
            for n in range(TRANSACTIONS):
                await service.execute("INSERT INTO flushed VALUES ($1)", n)
        finally:
            await service.close()
        counts = await counters.since(mark)
        assert counts.writing_transactions >= TRANSACTIONS, counts
        assert counts.wal_syncs >= TRANSACTIONS, counts
    finally:
        local_cluster(state, "destroy", port=PORT)
