"""What the dispatcher's lease costs PostgreSQL: a delivery's lease (``lease_until``,
``attempts``: no index names them) is written in place, a heap-only (HOT) update on the row's
own page, so no index gets a new entry and the WAL record holds only the changed bytes. A
delivery row is ~1 KB (its texts); with the table's pages packed full the lease's new row
version went to another page: a whole row and an entry in each of the table's indexes.

The dispatcher commits, so the test runs on a schema of its own and reads the table's counts
from ``pg_stat_user_tables`` (scoped to that schema) once its pool is closed: a backend hands
its counts to the shared statistics when it ends."""

from __future__ import annotations

import asyncpg

from services.notifier.adapters.in_app import InAppChannel
from services.notifier.domain.model import Channel, Delivery
from shared.db.pool import create_pool
from tests.integration.notifier_use_cases.support import alert_queued, dispatcher_on
from tests.support import eventually
from tests.use_case_database import migrated_schema, stack_postgres_url

# Each to the stroke centre: in-app, webhook and LINE, so 36 deliveries, 24 for the dispatcher
# (the in-app one is written sent, its live event published with the request).
ALERTS = 12


class AcceptingChannel:
    async def send(self, delivery: Delivery) -> None:
        return None


async def test_a_deliverys_lease_is_written_in_place() -> None:
    postgres = stack_postgres_url()
    async with migrated_schema(postgres, service="notifier") as migrated:
        schema: str = await migrated.fetchval("SELECT current_schema()")
        pool = await create_pool(postgres, schema=schema, max_size=2)
        try:
            async with pool.acquire() as connection:
                for _ in range(ALERTS):
                    await alert_queued(connection)
                deliveries: int = await connection.fetchval("SELECT count(*) FROM delivery")
                dispatched: int = await connection.fetchval(
                    "SELECT count(*) FROM delivery WHERE status = 'pending'"
                )
            dispatcher = dispatcher_on(
                pool,
                {
                    Channel.WEBHOOK: AcceptingChannel(),
                    Channel.LINE: AcceptingChannel(),
                    Channel.IN_APP: InAppChannel(pool=pool),
                },
            )

            async def all_sent() -> bool:
                pending: int = await pool.fetchval(
                    "SELECT count(*) FROM delivery WHERE status <> 'sent'"
                )
                return pending == 0

            dispatcher.start()
            try:
                await eventually(all_sent, timeout=30, what="every delivery sent")
            finally:
                await dispatcher.stop()
        finally:
            await pool.close()  # its backends end, handing their counts on

        admin = await asyncpg.connect(postgres)
        try:
            # Each delivery: its lease taken (in place) and its state set to sent (not in
            # place: the pending-deliveries index holds it no more).
            counts = await eventually(
                lambda: _updates_done(admin, schema, 2 * dispatched),
                timeout=15,
                what="the dispatcher's updates counted",
            )
        finally:
            await admin.close()
    assert (deliveries, dispatched) == (3 * ALERTS, 2 * ALERTS)
    assert counts["n_tup_upd"] == 2 * dispatched, dict(counts)
    # Packed full (fillfactor 100) 1 or 2 of the 72 updates (then 36 deliveries) were in place.
    assert counts["n_tup_hot_upd"] >= dispatched, dict(counts)


async def _updates_done(
    admin: asyncpg.Connection, schema: str, expected: int
) -> asyncpg.Record | None:
    """The delivery table's update counts, once ``expected`` updates are counted."""
    await admin.execute("SELECT pg_stat_clear_snapshot()")
    row: asyncpg.Record | None = await admin.fetchrow(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
        " WHERE schemaname = $1 AND relname = 'delivery'",
        schema,
    )
    return row if row is not None and row["n_tup_upd"] >= expected else None
