"""Referrals, their timeline, the hospital directory, outbox and inbox.

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
        CREATE TABLE organization (
            id           text PRIMARY KEY,
            name         text NOT NULL,
            name_th      text,
            capabilities text[] NOT NULL DEFAULT '{}',
            latitude     double precision,
            longitude    double precision,
            resource     jsonb NOT NULL,
            updated_at   timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE referral (
            id                    text PRIMARY KEY,
            status                text NOT NULL,
            requester_org         text NOT NULL,
            owner_org             text NOT NULL,
            patient_hn            text NOT NULL,
            last_known_well       timestamptz,
            nihss                 integer,
            suspected_lvo         boolean,
            teleconsult_requested boolean NOT NULL,
            request_message_id    text NOT NULL UNIQUE,
            created_at            timestamptz NOT NULL DEFAULT now(),
            updated_at            timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX referral_by_owner ON referral (owner_org, status);
        CREATE INDEX referral_by_requester ON referral (requester_org, status);

        CREATE TABLE timeline_entry (
            id           bigserial PRIMARY KEY,
            referral_id  text NOT NULL REFERENCES referral (id),
            event_code   text NOT NULL,
            occurred_at  timestamptz NOT NULL,
            recorded_at  timestamptz NOT NULL DEFAULT now(),
            source       text NOT NULL,
            message_id   text,
            detail       jsonb NOT NULL DEFAULT '{}'::jsonb
        );
        CREATE INDEX timeline_by_referral ON timeline_entry (referral_id, occurred_at);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE timeline_entry; DROP TABLE referral; DROP TABLE organization;")
    execute_script(DROP_OUTBOX_AND_INBOX)
