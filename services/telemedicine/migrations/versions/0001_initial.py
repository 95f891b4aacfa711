"""Teleconsult requests, outbox and inbox.

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.db.ddl import DROP_OUTBOX_AND_INBOX, OUTBOX_AND_INBOX

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(OUTBOX_AND_INBOX)
    op.execute(
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
    op.execute("DROP TABLE consult;")
    op.execute(DROP_OUTBOX_AND_INBOX)
