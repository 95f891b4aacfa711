"""Teleconsult requests, outbox and inbox.

Revision ID: 0001
Revises:
"""

from shared.db.ddl import DROP_OUTBOX_AND_INBOX, OUTBOX_AND_INBOX
from shared.db.migrations import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(OUTBOX_AND_INBOX)
    execute_script(
        """
        CREATE TABLE consult (
            id            text PRIMARY KEY,
            referral_id   text NOT NULL UNIQUE,
            status        text NOT NULL,
            requester_org text NOT NULL,
            consultant_org text NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE consult;")
    execute_script(DROP_OUTBOX_AND_INBOX)
