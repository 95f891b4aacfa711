"""Message ids scoped to their sender: the inbox is keyed by (sender, message id) with a digest
of the content.

Revision ID: 0007
Revises: 0006
"""

from shared.db.ddl import SENDER_SCOPED_INBOX, UNSCOPED_INBOX
from shared.db.migrations import execute_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(SENDER_SCOPED_INBOX)


def downgrade() -> None:
    execute_script(UNSCOPED_INBOX)
