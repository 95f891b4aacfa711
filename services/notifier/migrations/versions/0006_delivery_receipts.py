"""Delivery receipts: when a message reached the recipient's phone (SMS delivery report) or an
open page of the hospital (in-app), beyond being accepted for sending.

Revision ID: 0006
Revises: 0005
"""

from shared.db.migrations import execute_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE delivery ADD COLUMN delivered_at timestamptz;")


def downgrade() -> None:
    execute_script("ALTER TABLE delivery DROP COLUMN delivered_at;")
