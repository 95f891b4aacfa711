"""Deliveries (one per request, recipient and channel), outbox and inbox.

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
        CREATE TABLE delivery (
            id               text PRIMARY KEY,
            request_id       text NOT NULL,
            referral_id      text NOT NULL,
            recipient        text NOT NULL,
            channel          text NOT NULL,
            priority         text NOT NULL,
            body             jsonb NOT NULL,
            status           text NOT NULL DEFAULT 'pending',
            attempts         integer NOT NULL DEFAULT 0,
            next_attempt_at  timestamptz NOT NULL DEFAULT now(),
            lease_until      timestamptz,
            last_error       text,
            trace_context    jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at       timestamptz NOT NULL DEFAULT now(),
            sent_at          timestamptz,
            -- At most one message per request, recipient and channel, whatever is redelivered.
            UNIQUE (request_id, recipient, channel)
        );
        CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX delivery_by_referral ON delivery (referral_id);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE delivery;")
    execute_script(DROP_OUTBOX_AND_INBOX)
