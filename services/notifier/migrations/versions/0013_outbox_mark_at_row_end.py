"""The outbox relay's mark logs only what it changes: an outbox row's sequence and published_at
become its last columns, and the table's pages keep room for the marked row's new version
(shared/db/ddl.py: OUTBOX_MARK_AT_ROW_END).

Revision ID: 0013
Revises: 0012
"""

from shared.db.ddl import OUTBOX_MARK_AT_ROW_END, OUTBOX_MARK_PACKED
from shared.db.migrations import execute_script

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(OUTBOX_MARK_AT_ROW_END)


def downgrade() -> None:
    execute_script(OUTBOX_MARK_PACKED)
