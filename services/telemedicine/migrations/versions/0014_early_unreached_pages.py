"""Final failures that came before their consult: the referral service pages a referral's
on-call consultant with the referral itself, so when telemedicine is behind the notifier may
report that page reached nobody at all (notification-failed coded nobody-reached) before the
referral event has opened the consult. The report waits here, and the consult climbs to the
next rung as it opens, instead of at the rung's deadline.

Revision ID: 0014
Revises: 0013
"""

from shared.db.migrations import execute_script

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE early_unreached_page (
            request_id  text PRIMARY KEY,
            reported_at timestamptz NOT NULL
        );
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE early_unreached_page;")
