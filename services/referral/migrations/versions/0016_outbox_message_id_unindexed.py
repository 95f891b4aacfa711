"""The outbox keeps no index on its rows' message ids: nothing looks a row up by it, and each
row paid an index entry for it at its insert and again at the relay's mark (shared/db/ddl.py:
OUTBOX_MESSAGE_ID_UNINDEXED). Dropping the index takes the table's lock for an instant.

Revision ID: 0016
Revises: 0015
"""

from shared.db.ddl import OUTBOX_MESSAGE_ID_UNINDEXED, OUTBOX_MESSAGE_ID_UNIQUE
from shared.db.migrations import execute_script

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(OUTBOX_MESSAGE_ID_UNINDEXED)


def downgrade() -> None:
    execute_script(OUTBOX_MESSAGE_ID_UNIQUE)
