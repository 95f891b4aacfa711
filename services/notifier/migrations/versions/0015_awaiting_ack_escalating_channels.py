"""The index of sent alerts awaiting an acknowledgement holds only the deliveries the escalation
watcher reads: not a webhook's or an in-app page's (adapters/repository.py, _UNANSWERED_ALERT:
those channels are never escalated). Each sent webhook or in-app delivery paid an entry in it.

Made again with the narrower condition CONCURRENTLY (outside the migration's transaction), so
writers to the deliveries, a large table, are not held while it is built; then the old one is
dropped the same way. A build that fails leaves an invalid index, which the next run drops.

Revision ID: 0015
Revises: 0014
"""

from shared.db.migrations import execute_alone

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_AWAITING = "status = 'sent' AND acknowledged_at IS NULL AND escalated_at IS NULL"


def _remake(condition: str) -> None:
    execute_alone(
        "DROP INDEX CONCURRENTLY IF EXISTS delivery_awaiting_ack_new",
        "CREATE INDEX CONCURRENTLY delivery_awaiting_ack_new ON delivery (sent_at)"
        f" WHERE {condition}",
        "DROP INDEX CONCURRENTLY delivery_awaiting_ack",
        "ALTER INDEX delivery_awaiting_ack_new RENAME TO delivery_awaiting_ack",
    )


def upgrade() -> None:
    _remake(f"{_AWAITING} AND channel NOT IN ('webhook', 'in-app')")


def downgrade() -> None:
    _remake(_AWAITING)
