"""A consult's next deadline NOTIFYs the escalation watcher only when it falls within 90 s of the
writing statement. The watcher re-checks the earliest deadline at least every minute on its own
(``ScheduledTask.recheck_s``), so it finds a later one in time; the 30 s beyond the minute cover
the writing transaction's rest and a round's own time. A consult's first rung has five minutes:
its NOTIFY woke every listening backend of the database for nothing, and made the consult's
commit a notifying one for a wake-up nobody needed (tests/integration/telemedicine_use_cases/
test_deadline_notices.py).

Revision ID: 0017
Revises: 0016
"""

from shared.db.migrations import execute_script

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE OR REPLACE FUNCTION consult_deadline_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.next_deadline < clock_timestamp() + interval '90 seconds' THEN
                PERFORM pg_notify('consult_deadline_' || TG_TABLE_SCHEMA,
                                  extract(epoch FROM NEW.next_deadline)::text);
            END IF;
            RETURN NULL;
        END $$;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        CREATE OR REPLACE FUNCTION consult_deadline_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('consult_deadline_' || TG_TABLE_SCHEMA,
                              extract(epoch FROM NEW.next_deadline)::text);
            RETURN NULL;
        END $$;
        """
    )
