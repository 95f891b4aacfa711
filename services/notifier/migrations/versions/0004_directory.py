"""Directory: whom a request named, and the hospital and on-call role a delivery went through.

Revision ID: 0004
Revises: 0003
"""

from shared.db.migrations import execute_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE delivery ADD COLUMN addressed_to text NOT NULL DEFAULT '';
        ALTER TABLE delivery ADD COLUMN hospital text NOT NULL DEFAULT '';
        ALTER TABLE delivery ADD COLUMN role text NOT NULL DEFAULT '';
        -- Before the directory, deliveries went to the organization the request named.
        UPDATE delivery SET addressed_to = recipient,
                            hospital = split_part(recipient, '/', 2)
        WHERE recipient LIKE 'Organization/%';
        """
    )


def downgrade() -> None:
    execute_script(
        "ALTER TABLE delivery DROP COLUMN addressed_to, DROP COLUMN hospital, DROP COLUMN role;"
    )
