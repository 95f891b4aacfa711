"""The outbox relay numbers a referral's events as it publishes them: a row is written without
its sequence, so writers of one key no longer take a lock per event (shared/db/ddl.py).

Revision ID: 0009
Revises: 0008
"""

from shared.db.ddl import SEQUENCE_AT_INSERT, SEQUENCE_AT_PUBLICATION
from shared.db.migrations import execute_script

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(SEQUENCE_AT_PUBLICATION)


def downgrade() -> None:
    execute_script(SEQUENCE_AT_INSERT)
