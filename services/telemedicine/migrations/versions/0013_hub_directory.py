"""The network's hospital directory as telemedicine keeps it (the referral service owns the
directory): the hospitals a consult first may ask, to refuse a misspelt hub before anyone is
paged. Empty until the directory is received: then no consult is refused for it.

Revision ID: 0013
Revises: 0012
"""

from shared.db.migrations import execute_script

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE directory_hospital (
            organization_id text PRIMARY KEY,
            name            text NOT NULL,
            name_th         text,
            stroke_hub      boolean NOT NULL DEFAULT false,
            received_at     timestamptz NOT NULL
        );
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE directory_hospital;")
