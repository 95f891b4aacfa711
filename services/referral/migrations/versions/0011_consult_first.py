"""Consults asked before any referral (consult first): what telemedicine announced of each
(its teleconsult-requested, from which a recommendation to transfer makes the referral), the
referral it made, and the consult's steps kept until that referral exists (then moved onto its
timeline, so its consult times count in the KPIs).

Revision ID: 0011
Revises: 0010
"""

from shared.db.migrations import execute_script

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE consult_first (
            consult_id     text PRIMARY KEY,
            requester_org  text NOT NULL,
            consultant_org text NOT NULL,
            -- telemedicine's teleconsult-requested (FHIR JSON: patient data, purged)
            request        jsonb NOT NULL,
            received_at    timestamptz NOT NULL DEFAULT now(),
            referral_id    text REFERENCES referral (id),
            -- why a recommendation to transfer made no referral (an unknown centre)
            outcome        text
        );
        CREATE UNIQUE INDEX consult_first_referral ON consult_first (referral_id)
            WHERE referral_id IS NOT NULL;

        CREATE TABLE consult_first_step (
            id          bigserial PRIMARY KEY,
            consult_id  text NOT NULL REFERENCES consult_first (consult_id),
            event_code  text NOT NULL,
            occurred_at timestamptz NOT NULL,
            source      text NOT NULL,
            message_id  text,
            detail      jsonb NOT NULL DEFAULT '{}'::jsonb
        );
        CREATE INDEX consult_first_step_of ON consult_first_step (consult_id, id);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE consult_first_step; DROP TABLE consult_first;")
