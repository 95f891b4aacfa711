"""The benchmark's transaction and WAL counts per phase (bench/counters.py) on the real
PostgreSQL: transactions a service ran just before a phase ended are counted in that phase,
not in the next (a backend that goes idle hands its counts to the shared statistics up to 10 s
later); the transactions that wrote and the WAL are read from the server's own positions.

The cluster is shared with other tests, so the counts are at least this test's own work."""

from __future__ import annotations

import secrets

import asyncpg

from bench.counters import DatabaseCounters
from tests.use_case_database import stack_postgres_url

TRANSACTIONS = 6


async def test_transactions_just_before_the_end_of_a_phase_are_counted_in_it() -> None:
    postgres = stack_postgres_url()
    counters = DatabaseCounters(postgres)
    schema = f"bench_counts_{secrets.token_hex(4)}"
    service = await asyncpg.connect(postgres)
    try:
        await service.execute(f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.t (n int)")
        mark = await counters.mark()
        # One write, then more within the second: a busy backend hands on its counts at most
        # once a second, and when it goes idle only 10 s later.
        for n in range(TRANSACTIONS):
            await service.execute(f"INSERT INTO {schema}.t VALUES ($1)", n)  # noqa: S608
        counts = await counters.since(mark)  # the "service" stays connected, idle
        assert counts.transactions >= TRANSACTIONS, counts
        assert counts.writing_transactions >= TRANSACTIONS, counts
        # Six rows of one int: a heap insert and a commit record each, at least 50 bytes each.
        assert counts.wal_bytes >= 50 * TRANSACTIONS, counts
    finally:
        await service.execute(f"DROP SCHEMA {schema} CASCADE")
        await service.close()
