"""A change to the hospital directory (a hospital loaded, edited or its availability reported)
NOTIFYs ``referral_directory_<schema>``: each process drops its cached copy of the directory
(services/referral/service/directory_cache.py). NOTIFY is delivered at commit.

Revision ID: 0014
Revises: 0013
"""

from shared.db.migrations import execute_script

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE FUNCTION organization_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('referral_directory_' || TG_TABLE_SCHEMA, '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER organization_change_drops_cached_directories
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organization
            FOR EACH STATEMENT EXECUTE FUNCTION organization_notify();
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TRIGGER organization_change_drops_cached_directories ON organization;
        DROP FUNCTION organization_notify();
        """
    )
