"""Escalation: which step of the ladder a delivery is, and when it was escalated.

Revision ID: 0003
Revises: 0002
"""

from shared.db.migrations import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE delivery ADD COLUMN escalation_step integer NOT NULL DEFAULT 0;
        ALTER TABLE delivery ADD COLUMN escalated_at timestamptz;
        -- The escalation watcher looks only at sent alerts nobody has acknowledged yet.
        CREATE INDEX delivery_awaiting_ack ON delivery (sent_at)
            WHERE status = 'sent' AND acknowledged_at IS NULL AND escalated_at IS NULL;
        """
    )


def downgrade() -> None:
    execute_script(
        "DROP INDEX delivery_awaiting_ack; "
        "ALTER TABLE delivery DROP COLUMN escalation_step, DROP COLUMN escalated_at;"
    )
