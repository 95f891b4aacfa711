"""The outbox relay numbers a referral's events as it publishes them: a row is written without
its sequence, so writers of one key no longer take a lock per event (shared/db/ddl.py).

Revision ID: 0011
Revises: 0010
"""

from shared.db.ddl import SEQUENCE_AT_INSERT, SEQUENCE_AT_PUBLICATION
from shared.db.migrations import execute_script

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(SEQUENCE_AT_PUBLICATION)


def downgrade() -> None:
    execute_script(SEQUENCE_AT_INSERT)
