"""Clinical milestones of a referral (clinical and recorded time, source, uncertain) and the
time-critical alerts already raised for it.

Revision ID: 0004
Revises: 0003
"""

from shared.db.migrations import execute_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE milestone (
            referral_id  text        NOT NULL REFERENCES referral (id),
            code         text        NOT NULL,
            occurred_at  timestamptz NOT NULL,
            recorded_at  timestamptz NOT NULL DEFAULT now(),
            source       text        NOT NULL,
            uncertain    boolean     NOT NULL DEFAULT false,
            reported_by  text        NOT NULL,
            -- The latest report of a milestone wins; every report stays on the timeline.
            PRIMARY KEY (referral_id, code)
        );

        CREATE TABLE referral_alert (
            referral_id  text        NOT NULL REFERENCES referral (id),
            code         text        NOT NULL,
            raised_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (referral_id, code)
        );
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE referral_alert; DROP TABLE milestone;")
