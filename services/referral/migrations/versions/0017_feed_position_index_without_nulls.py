"""A timeline entry waiting for its feed position puts nothing in the feed positions' index.

The unique index on ``feed_position`` held an entry for every entry written (a NULL, until the
stamper numbered it), which nothing reads: the feed is read by position (``> n``, ``max``),
and the waiting entries through their own partial index (``timeline_not_yet_in_feed``). Made
again without the NULLs, CONCURRENTLY (outside the migration's transaction): writers to the
timeline, a large table, are not held while it is built; then the old one is dropped the same
way. A build that fails leaves an invalid index, which the next run drops first.

Revision ID: 0017
Revises: 0016
"""

from alembic import op
from sqlalchemy.util import await_only

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _run_alone(*statements: str) -> None:
    """Each statement in a transaction of its own (CREATE and DROP INDEX CONCURRENTLY)."""
    with op.get_context().autocommit_block():
        driver_connection = op.get_bind().connection.driver_connection
        if driver_connection is None:
            raise RuntimeError("the migration's connection has no asyncpg connection under it")
        for statement in statements:
            await_only(driver_connection.execute(statement))


def upgrade() -> None:
    _run_alone(
        "DROP INDEX CONCURRENTLY IF EXISTS timeline_by_feed_position_set",
        "CREATE UNIQUE INDEX CONCURRENTLY timeline_by_feed_position_set ON timeline_entry"
        " (feed_position) WHERE feed_position IS NOT NULL",
        "DROP INDEX CONCURRENTLY timeline_by_feed_position",
        "ALTER INDEX timeline_by_feed_position_set RENAME TO timeline_by_feed_position",
    )


def downgrade() -> None:
    _run_alone(
        "DROP INDEX CONCURRENTLY IF EXISTS timeline_by_feed_position_all",
        "CREATE UNIQUE INDEX CONCURRENTLY timeline_by_feed_position_all ON timeline_entry"
        " (feed_position)",
        "DROP INDEX CONCURRENTLY timeline_by_feed_position",
        "ALTER INDEX timeline_by_feed_position_all RENAME TO timeline_by_feed_position",
    )
