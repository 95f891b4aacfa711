"""The watchers sleep until work falls due: a write that brings work sooner wakes them.

A consult whose ladder's next deadline is set NOTIFYs ``consult_deadline_<schema>`` with it, and
a home-isolation episode whose next check-in (or its reminders' state) changes NOTIFYs
``check_in_due_<schema>`` with the check-in's time (epoch seconds). NOTIFY is delivered at
commit, and repeats of one payload in a transaction are delivered once.

Revision ID: 0011
Revises: 0010
"""

from shared.db.migrations import execute_script

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE FUNCTION consult_deadline_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('consult_deadline_' || TG_TABLE_SCHEMA,
                              extract(epoch FROM NEW.next_deadline)::text);
            RETURN NULL;
        END $$;
        CREATE TRIGGER consult_wakes_escalation AFTER INSERT ON consult
            FOR EACH ROW WHEN (NEW.next_deadline IS NOT NULL)
            EXECUTE FUNCTION consult_deadline_notify();
        CREATE TRIGGER consult_change_wakes_escalation AFTER UPDATE OF next_deadline ON consult
            FOR EACH ROW WHEN (
                NEW.next_deadline IS NOT NULL
                AND NEW.next_deadline IS DISTINCT FROM OLD.next_deadline
            )
            EXECUTE FUNCTION consult_deadline_notify();

        CREATE FUNCTION check_in_due_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('check_in_due_' || TG_TABLE_SCHEMA,
                              extract(epoch FROM NEW.next_check_in)::text);
            RETURN NULL;
        END $$;
        CREATE TRIGGER episode_wakes_check_ins AFTER INSERT ON monitoring_episode
            FOR EACH ROW EXECUTE FUNCTION check_in_due_notify();
        CREATE TRIGGER episode_change_wakes_check_ins
            AFTER UPDATE OF next_check_in, reminded, alerted, finished ON monitoring_episode
            FOR EACH ROW WHEN (
                NOT NEW.finished AND (
                    NEW.next_check_in IS DISTINCT FROM OLD.next_check_in
                    OR NEW.reminded IS DISTINCT FROM OLD.reminded
                    OR NEW.alerted IS DISTINCT FROM OLD.alerted
                    OR NEW.finished IS DISTINCT FROM OLD.finished
                )
            )
            EXECUTE FUNCTION check_in_due_notify();
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TRIGGER episode_change_wakes_check_ins ON monitoring_episode;
        DROP TRIGGER episode_wakes_check_ins ON monitoring_episode;
        DROP FUNCTION check_in_due_notify();
        DROP TRIGGER consult_change_wakes_escalation ON consult;
        DROP TRIGGER consult_wakes_escalation ON consult;
        DROP FUNCTION consult_deadline_notify();
        """
    )
