"""The alert watcher finds the patients whose last-known-well or door-in falls in an alert
window through an index on (code, time), not by examining every referral still open.

Its statements started from every referral not closed and looked up each one's milestones: their
cost grew with the number of open referrals (a 13-minute soak of unanswered referrals at 20/s:
350 ms a round by the end, PostgreSQL's CPU climbing minute by minute), and a referral that never
reaches a closed state would stay in that scan for good. Built CONCURRENTLY (outside the
migration's transaction), so writers of milestones are not held while it is built.

Revision ID: 0019
Revises: 0018
"""

from shared.db.migrations import execute_alone

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_alone(
        "DROP INDEX CONCURRENTLY IF EXISTS milestone_by_code_and_time",
        "CREATE INDEX CONCURRENTLY milestone_by_code_and_time ON milestone (code, occurred_at)",
    )


def downgrade() -> None:
    execute_alone("DROP INDEX CONCURRENTLY IF EXISTS milestone_by_code_and_time")
