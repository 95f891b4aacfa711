"""The clinicians' pages' live feed and the hub board's acknowledgements.

Every timeline entry gets a feed position, an integer that grows in COMMIT order (bigserial ids
grow in insert order: a long transaction can commit id 5 after id 6 was read, and a page reading
"after 6" would never see 5). A stamper numbers committed, unnumbered entries under one
transaction-scoped advisory lock (services/referral/adapters/page_events.py), so positions are
handed out one batch after another, each batch after the previous one committed.

Revision ID: 0009
Revises: 0008
"""

from shared.db.migrations import execute_script

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE timeline_entry ADD COLUMN feed_position bigint;
        -- What is already there is history: numbered in id order, no page waits for it.
        UPDATE timeline_entry SET feed_position = id;
        CREATE UNIQUE INDEX timeline_by_feed_position ON timeline_entry (feed_position);
        CREATE INDEX timeline_not_yet_in_feed ON timeline_entry (id) WHERE feed_position IS NULL;

        CREATE FUNCTION timeline_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- Delivered at commit: wakes the stamper to number what was just committed.
            PERFORM pg_notify('timeline_' || TG_TABLE_SCHEMA, '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER timeline_wake_stamper AFTER INSERT ON timeline_entry
            FOR EACH STATEMENT EXECUTE FUNCTION timeline_notify();

        -- Who of the receiving hospital has seen (acknowledged) a referral on the board.
        CREATE TABLE board_acknowledgement (
            referral_id     text        NOT NULL REFERENCES referral (id),
            hospital_id     text        NOT NULL,
            user_id         text        NOT NULL,
            display_name    text        NOT NULL,
            acknowledged_at timestamptz NOT NULL,
            PRIMARY KEY (referral_id, user_id)
        );
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TABLE board_acknowledgement;
        DROP TRIGGER timeline_wake_stamper ON timeline_entry;
        DROP FUNCTION timeline_notify();
        ALTER TABLE timeline_entry DROP COLUMN feed_position;
        """
    )
