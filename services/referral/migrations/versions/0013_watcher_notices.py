"""The watchers sleep until work falls due: a write that brings work sooner wakes them.

A referral written (or changed in what its deadline and alerts are computed from) NOTIFYs
``referral_deadline_<schema>`` with its accept-by deadline (epoch seconds, empty without one); a
milestone of a patient's clock NOTIFYs ``referral_clock_<schema>``. NOTIFY is delivered at
commit, and repeats of one payload in a transaction are delivered once.

Revision ID: 0013
Revises: 0012
"""

from shared.db.migrations import execute_script

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE FUNCTION referral_deadline_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('referral_deadline_' || TG_TABLE_SCHEMA,
                              coalesce(extract(epoch FROM NEW.accept_by)::text, ''));
            RETURN NULL;
        END $$;
        CREATE TRIGGER referral_wake_watchers AFTER INSERT ON referral
            FOR EACH ROW EXECUTE FUNCTION referral_deadline_notify();
        CREATE TRIGGER referral_change_wakes_watchers
            AFTER UPDATE OF accept_by, status, teleconsult_requested, replaced_by ON referral
            FOR EACH ROW WHEN (
                NEW.accept_by IS DISTINCT FROM OLD.accept_by
                OR NEW.status IS DISTINCT FROM OLD.status
                OR NEW.teleconsult_requested IS DISTINCT FROM OLD.teleconsult_requested
                OR NEW.replaced_by IS DISTINCT FROM OLD.replaced_by
            )
            EXECUTE FUNCTION referral_deadline_notify();

        CREATE FUNCTION milestone_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('referral_clock_' || TG_TABLE_SCHEMA, '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER milestone_wakes_alert_watcher AFTER INSERT OR UPDATE ON milestone
            FOR EACH STATEMENT EXECUTE FUNCTION milestone_notify();
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TRIGGER milestone_wakes_alert_watcher ON milestone;
        DROP FUNCTION milestone_notify();
        DROP TRIGGER referral_change_wakes_watchers ON referral;
        DROP TRIGGER referral_wake_watchers ON referral;
        DROP FUNCTION referral_deadline_notify();
        """
    )
