"""The outbox's NOTIFY goes only to another process: a row written by the process whose relay
leads wakes that relay in the process, after the commit, with no NOTIFY (shared/db/ddl.py:
OUTBOX_WAKES_ITS_WRITER, shared/messaging/outbox_leader.py).

Revision ID: 0018
Revises: 0017
"""

from shared.db.ddl import OUTBOX_ALWAYS_NOTIFIES, OUTBOX_WAKES_ITS_WRITER
from shared.db.migrations import execute_script

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(OUTBOX_WAKES_ITS_WRITER)


def downgrade() -> None:
    execute_script(OUTBOX_ALWAYS_NOTIFIES)
