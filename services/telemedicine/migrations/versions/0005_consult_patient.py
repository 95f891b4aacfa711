"""The consult's patient (the referral Task's ``for``): the recommendation's Observations name
their subject, as the project's profiles require.

Revision ID: 0005
Revises: 0004
"""

from shared.db.migrations import execute_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE consult ADD COLUMN patient text;")


def downgrade() -> None:
    execute_script("ALTER TABLE consult DROP COLUMN patient;")
