"""The bedside findings a referral carries (FAST, blood pressure, glucose, anticoagulant, CT:
domain/assessment.py, as JSON) and the person who sent it from the web app.

Revision ID: 0010
Revises: 0009
"""

from shared.db.migrations import execute_script

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE referral ADD COLUMN assessment jsonb;
        -- Who sent it, as named when they did; NULL for a hospital system's message.
        ALTER TABLE referral ADD COLUMN requested_by text;
        """
    )


def downgrade() -> None:
    execute_script("ALTER TABLE referral DROP COLUMN requested_by, DROP COLUMN assessment;")
