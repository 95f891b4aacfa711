"""Consults asked before any referral (consult first): the consult says so and names the
referral its recommendation to transfer created; what the spoke asked with (the patient's
hospital number, last known well, door-in, NIHSS, the question) is kept beside it, for the
consult page and the referral it may start.

Revision ID: 0008
Revises: 0007
"""

from shared.db.migrations import execute_script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE consult
            ADD COLUMN asked_first     boolean NOT NULL DEFAULT false,
            ADD COLUMN linked_referral text;
        CREATE INDEX consult_linked_referral ON consult (linked_referral)
            WHERE linked_referral IS NOT NULL;

        CREATE TABLE consult_question (
            consult_id             text PRIMARY KEY
                                   REFERENCES consult (id) DEFERRABLE INITIALLY DEFERRED,
            hospital_number        text NOT NULL,
            hospital_number_system text,
            last_known_well        timestamptz,
            lkw_uncertain          boolean NOT NULL DEFAULT false,
            door_in                timestamptz,
            nihss                  smallint,
            question               text NOT NULL DEFAULT ''
        );
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TABLE consult_question;
        DROP INDEX consult_linked_referral;
        ALTER TABLE consult DROP COLUMN linked_referral, DROP COLUMN asked_first;
        """
    )
