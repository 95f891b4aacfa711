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

from shared.db.migrations import execute_alone

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_alone(
        "DROP INDEX CONCURRENTLY IF EXISTS timeline_by_feed_position_set",
        "CREATE UNIQUE INDEX CONCURRENTLY timeline_by_feed_position_set ON timeline_entry"
        " (feed_position) WHERE feed_position IS NOT NULL",
        "DROP INDEX CONCURRENTLY timeline_by_feed_position",
        "ALTER INDEX timeline_by_feed_position_set RENAME TO timeline_by_feed_position",
    )


def downgrade() -> None:
    execute_alone(
        "DROP INDEX CONCURRENTLY IF EXISTS timeline_by_feed_position_all",
        "CREATE UNIQUE INDEX CONCURRENTLY timeline_by_feed_position_all ON timeline_entry"
        " (feed_position)",
        "DROP INDEX CONCURRENTLY timeline_by_feed_position",
        "ALTER INDEX timeline_by_feed_position_all RENAME TO timeline_by_feed_position",
    )
