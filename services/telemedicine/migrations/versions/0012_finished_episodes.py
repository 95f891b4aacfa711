"""A home-isolation episode is finished by its managing hospital: when, why (a code, never free
text: the patient's story stays in the hospital's own record) and by whom. An episode the PDPA
purge finished has none of them.

Revision ID: 0012
Revises: 0011
"""

from shared.db.migrations import execute_script

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE monitoring_episode
            ADD COLUMN finished_at   timestamptz,
            ADD COLUMN finish_reason text,
            ADD COLUMN finished_by   text;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        ALTER TABLE monitoring_episode
            DROP COLUMN finished_at,
            DROP COLUMN finish_reason,
            DROP COLUMN finished_by;
        """
    )
