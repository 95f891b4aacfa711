"""Operator access: the hospitals of each referral as the notifier knows them (who asked for
its notifications and whom they went to), so a hospital reads only its referrals' delivery
logs, scoped in the query; and the audit of replays (who replayed which delivery, when).

Revision ID: 0008
Revises: 0007
"""

from shared.db.migrations import execute_script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE referral_hospital (
            referral_id text NOT NULL,
            hospital text NOT NULL,
            PRIMARY KEY (referral_id, hospital)
        );
        INSERT INTO referral_hospital (referral_id, hospital)
            SELECT DISTINCT referral_id, hospital FROM delivery WHERE hospital <> ''
            ON CONFLICT DO NOTHING;
        CREATE TABLE replay_audit (
            id bigserial PRIMARY KEY,
            delivery_id text NOT NULL,
            referral_id text NOT NULL,
            replayed_by text NOT NULL,
            replayed_at timestamptz NOT NULL
        );
        CREATE INDEX replay_audit_delivery ON replay_audit (delivery_id);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE replay_audit; DROP TABLE referral_hospital;")
