"""Acknowledgements that came before their consult: the referral service pages a referral's
on-call consultant with the referral itself, so when telemedicine is behind (restarting, or
catching up after an outage) the consultant may acknowledge the page before the referral event
has opened the consult. The acknowledgement waits here, and the consult is accepted by that
person as it opens.

Revision ID: 0007
Revises: 0006
"""

from shared.db.migrations import execute_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE early_acknowledgement (
            request_id      text PRIMARY KEY,
            person          text,
            acknowledged_at timestamptz NOT NULL
        );
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE early_acknowledgement;")
