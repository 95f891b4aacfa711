"""Live events: what a hospital's web pages are shown as it happens (in-app notifications and
acknowledgements), kept so a page that reconnects gets what it missed.

Revision ID: 0005
Revises: 0004
"""

from shared.db.migrations import execute_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE live_event (
            id bigserial PRIMARY KEY,
            organization text NOT NULL,
            kind text NOT NULL,
            delivery_id text NOT NULL,
            payload jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            -- A delivery sent twice (a crash between send and commit) is one event.
            UNIQUE (delivery_id, kind)
        );
        CREATE INDEX live_event_feed ON live_event (organization, id);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE live_event;")
