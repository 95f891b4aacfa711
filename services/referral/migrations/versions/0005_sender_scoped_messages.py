"""Message ids scoped to their sender: the inbox is keyed by (sender, message id) with a digest
of the content, and a referral's request message id is unique per requesting hospital.

Revision ID: 0005
Revises: 0004
"""

from shared.db.ddl import SENDER_SCOPED_INBOX, UNSCOPED_INBOX
from shared.db.migrations import execute_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(SENDER_SCOPED_INBOX)
    execute_script(
        """
        ALTER TABLE referral DROP CONSTRAINT referral_request_message_id_key;
        ALTER TABLE referral ADD CONSTRAINT referral_request_message_id_key
            UNIQUE (requester_org, request_message_id);
        """
    )


def downgrade() -> None:
    execute_script(
        """
        ALTER TABLE referral DROP CONSTRAINT referral_request_message_id_key;
        ALTER TABLE referral ADD CONSTRAINT referral_request_message_id_key
            UNIQUE (request_message_id);
        """
    )
    execute_script(UNSCOPED_INBOX)
