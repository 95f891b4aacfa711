"""Signed recommendations of consults: every version kept (an amendment never overwrites).

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
        CREATE TABLE recommendation (
            consult_id text NOT NULL REFERENCES consult (id),
            version    integer NOT NULL CHECK (version > 0),
            body       jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consult_id, version)
        );
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE recommendation;")
