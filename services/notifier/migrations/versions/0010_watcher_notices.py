"""The escalation watcher sleeps until an unacknowledged alert falls due: an alert sent wakes it.

A delivery that becomes sent on a channel the notifier escalates NOTIFYs ``alert_sent_<schema>``
with the time it was sent (epoch seconds); the watcher adds the directory's ``ack_within``.
NOTIFY is delivered at commit, and repeats of one payload in a transaction are delivered once.

Revision ID: 0010
Revises: 0009
"""

from shared.db.migrations import execute_script

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE FUNCTION alert_sent_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('alert_sent_' || TG_TABLE_SCHEMA,
                              coalesce(extract(epoch FROM NEW.sent_at)::text, ''));
            RETURN NULL;
        END $$;
        CREATE TRIGGER delivery_sent_wakes_escalation AFTER INSERT ON delivery
            FOR EACH ROW WHEN (NEW.status = 'sent' AND NEW.channel NOT IN ('webhook', 'in-app'))
            EXECUTE FUNCTION alert_sent_notify();
        CREATE TRIGGER delivery_change_wakes_escalation AFTER UPDATE OF status ON delivery
            FOR EACH ROW WHEN (
                NEW.status = 'sent' AND OLD.status IS DISTINCT FROM 'sent'
                AND NEW.channel NOT IN ('webhook', 'in-app')
            )
            EXECUTE FUNCTION alert_sent_notify();
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TRIGGER delivery_change_wakes_escalation ON delivery;
        DROP TRIGGER delivery_sent_wakes_escalation ON delivery;
        DROP FUNCTION alert_sent_notify();
        """
    )
