"""The consult workflow: its stage, the escalation ladder's rung and deadline, the consult's
clock, its video room, each step it took, and the pages it sent (to match the notifier's
acknowledgements).

Revision ID: 0003
Revises: 0002
"""

from shared.db.migrations import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE consult
            ADD COLUMN stage         text NOT NULL DEFAULT 'requested',
            ADD COLUMN rung          integer NOT NULL DEFAULT 0,
            ADD COLUMN next_deadline timestamptz,
            ADD COLUMN requested_at  timestamptz NOT NULL DEFAULT now(),
            ADD COLUMN consultant    text,
            ADD COLUMN accepted_at   timestamptz,
            ADD COLUMN video_at      timestamptz,
            ADD COLUMN decided_at    timestamptz,
            ADD COLUMN status_reason text,
            -- The video room's name: random, so nobody finds a consult's room by guessing.
            ADD COLUMN room          text;
        UPDATE consult
           SET requested_at = created_at,
               room = 'ft-' || replace(gen_random_uuid()::text, '-', '');
        ALTER TABLE consult ALTER COLUMN room SET NOT NULL;
        CREATE INDEX consult_due ON consult (next_deadline) WHERE next_deadline IS NOT NULL;

        CREATE TABLE consult_step (
            id          bigserial PRIMARY KEY,
            consult_id  text NOT NULL REFERENCES consult (id),
            stage       text NOT NULL,
            rung        integer NOT NULL,
            occurred_at timestamptz NOT NULL,
            reason      text,
            actor       text
        );
        CREATE INDEX consult_step_of ON consult_step (consult_id, id);

        CREATE TABLE consult_page (
            request_id  text PRIMARY KEY,
            consult_id  text NOT NULL REFERENCES consult (id),
            rung        integer NOT NULL,
            paged       text NOT NULL,
            paged_at    timestamptz NOT NULL
        );
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TABLE consult_page;
        DROP TABLE consult_step;
        DROP INDEX consult_due;
        ALTER TABLE consult
            DROP COLUMN stage, DROP COLUMN rung, DROP COLUMN next_deadline,
            DROP COLUMN requested_at, DROP COLUMN consultant, DROP COLUMN accepted_at,
            DROP COLUMN video_at, DROP COLUMN decided_at, DROP COLUMN status_reason,
            DROP COLUMN room;
        """
    )
