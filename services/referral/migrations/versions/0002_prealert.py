"""A referral can start as a pre-alert (EMS or spoke ER) and be completed by the full request.

Revision ID: 0002
Revises: 0001
"""

from shared.db.migrations import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE referral ADD COLUMN prealert boolean NOT NULL DEFAULT false;")


def downgrade() -> None:
    execute_script("ALTER TABLE referral DROP COLUMN prealert;")
