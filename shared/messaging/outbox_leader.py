"""Who is told of a new outbox row: the relay that leads, in its own process when it can.

A NOTIFY wakes every listening backend of the database and is serialized with every other
notifying commit of the cluster (docs/performance.md, "PostgreSQL's NOTIFY"). Its only listener
that acts on the outbox's is the relay that leads (one per service: an advisory lock), most
often in the process that wrote the row. So the relay, when it takes the lead, names its pool's
instance in ``outbox_leader`` (the ``fasttrack.instance`` setting of the pool's connections,
shared/db/pool.py), and the outbox's trigger (shared/db/ddl.py: OUTBOX_WAKES_ITS_WRITER) sends a
NOTIFY only when the writer's instance is not the one named; otherwise it tells the writing
connection, and the pool wakes its relay when the connection is released, after the commit.

A writer that read the old name could commit after the new leader's first round, its row then
waiting for the minute's re-check: every writer holds a shared transaction lock while it reads
the name, and the new leader takes it exclusively once after naming itself, so its first round
comes after every such commit. A process that dies after its commit takes its relay with it: the
next leader's first round publishes the row.
"""

from __future__ import annotations

from shared.db.pool import Connection


async def name_the_leader(leader: Connection, *, schema: str) -> None:
    """Names ``leader``'s instance as the outbox's, then waits for the transactions that read
    the name before (on the connection that holds the relay's lock)."""
    await leader.execute(
        "UPDATE outbox_leader SET instance = current_setting('fasttrack.instance', true)"
    )
    await leader.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"outbox_leader_{schema}")
