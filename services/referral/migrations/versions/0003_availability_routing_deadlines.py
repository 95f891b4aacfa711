"""Live availability in the directory; routing advice, accept-by deadline and re-routing links.

Revision ID: 0003
Revises: 0002
"""

from shared.db.migrations import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE organization ADD COLUMN unavailable text[] NOT NULL DEFAULT '{}';
        ALTER TABLE referral ADD COLUMN accept_by timestamptz;
        ALTER TABLE referral ADD COLUMN routing jsonb;
        ALTER TABLE referral ADD COLUMN replaces text REFERENCES referral (id);
        ALTER TABLE referral ADD COLUMN replaced_by text REFERENCES referral (id);
        -- The deadline watcher looks only at referrals still waiting for an answer.
        CREATE INDEX referral_awaiting_answer ON referral (accept_by)
            WHERE status IN ('requested', 'received') AND replaced_by IS NULL;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP INDEX referral_awaiting_answer;
        ALTER TABLE referral DROP COLUMN replaced_by, DROP COLUMN replaces, DROP COLUMN routing,
            DROP COLUMN accept_by;
        ALTER TABLE organization DROP COLUMN unavailable;
        """
    )
