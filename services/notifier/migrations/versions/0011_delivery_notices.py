"""An idle dispatcher sleeps until a delivery falls due: a delivery written wakes every
instance's (its writer's at once, in-process; the others' look only if it is left unsent).

A delivery inserted, or given a new time for its next attempt, NOTIFYs ``delivery_due_<schema>``
with that time (epoch seconds). Deliveries inserted together share the transaction's time, so a
request's several deliveries come as one notification.

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
        CREATE FUNCTION delivery_due_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('delivery_due_' || TG_TABLE_SCHEMA,
                              extract(epoch FROM NEW.next_attempt_at)::text);
            RETURN NULL;
        END $$;
        CREATE TRIGGER delivery_wakes_dispatchers AFTER INSERT ON delivery
            FOR EACH ROW WHEN (NEW.status = 'pending')
            EXECUTE FUNCTION delivery_due_notify();
        CREATE TRIGGER delivery_retry_wakes_dispatchers AFTER UPDATE OF next_attempt_at ON delivery
            FOR EACH ROW WHEN (
                NEW.status = 'pending' AND NEW.next_attempt_at IS DISTINCT FROM OLD.next_attempt_at
            )
            EXECUTE FUNCTION delivery_due_notify();
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TRIGGER delivery_retry_wakes_dispatchers ON delivery;
        DROP TRIGGER delivery_wakes_dispatchers ON delivery;
        DROP FUNCTION delivery_due_notify();
        """
    )
