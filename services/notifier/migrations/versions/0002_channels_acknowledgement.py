"""Deliveries on several channels, acknowledgement and escalation.

Revision ID: 0002
Revises: 0001
"""

from shared.db.migrations import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE delivery ADD COLUMN address text NOT NULL DEFAULT '';
        ALTER TABLE delivery ADD COLUMN acknowledged_at timestamptz;
        ALTER TABLE delivery ADD COLUMN acknowledged_by text;
        """
    )


def downgrade() -> None:
    execute_script(
        "ALTER TABLE delivery DROP COLUMN address, DROP COLUMN acknowledged_at, "
        "DROP COLUMN acknowledged_by;"
    )
