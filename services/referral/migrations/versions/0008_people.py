"""People of the clinicians' web app: accounts tied to one hospital and a role, server-side
sessions, sign-in attempts (rate limiting that holds across restarts and instances), and audit
rows for people's actions (sign-ins, administration) beside the reads of referrals.

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
        CREATE TABLE app_user (
            id            bigserial   PRIMARY KEY,
            username      text        NOT NULL UNIQUE CHECK (username = lower(username)),
            display_name  text        NOT NULL,
            -- The person's hospital; an operator runs the network and belongs to none.
            hospital_id   text        REFERENCES organization (id),
            role          text        NOT NULL
                          CHECK (role IN ('nurse', 'doctor', 'hospital_admin', 'operator')),
            -- Argon2id, in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
            password_hash text        NOT NULL,
            language      text        NOT NULL DEFAULT 'th' CHECK (language IN ('th', 'en')),
            buddhist_era  boolean     NOT NULL DEFAULT true,
            disabled      boolean     NOT NULL DEFAULT false,
            created_at    timestamptz NOT NULL DEFAULT now(),
            CHECK (role = 'operator' OR hospital_id IS NOT NULL)
        );
        CREATE INDEX app_user_by_hospital ON app_user (hospital_id, username);

        -- A session lives here, not in the cookie: deleting its row ends it at once. The cookie
        -- holds a random id; only its SHA-256 is stored, so a copy of this table opens nothing.
        CREATE TABLE app_session (
            id_digest    text        PRIMARY KEY,
            user_id      bigint      NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
            csrf_token   text        NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz NOT NULL
        );
        CREATE INDEX app_session_by_user ON app_session (user_id);
        CREATE INDEX app_session_by_expiry ON app_session (expires_at);

        -- Failed sign-ins, counted per username and per client address over a window.
        CREATE TABLE sign_in_failure (
            id             bigserial   PRIMARY KEY,
            attempted_at   timestamptz NOT NULL DEFAULT now(),
            username       text        NOT NULL,
            client_address text        NOT NULL
        );
        CREATE INDEX sign_in_failure_by_username ON sign_in_failure (username, attempted_at);
        CREATE INDEX sign_in_failure_by_address ON sign_in_failure (client_address, attempted_at);

        -- People's actions are audited too: a sign-in or an administrator's change concerns no
        -- referral but names what it touched (e.g. "User/42").
        ALTER TABLE audit_event ALTER COLUMN referral_id DROP NOT NULL;
        ALTER TABLE audit_event ADD COLUMN entity text;
        CREATE INDEX audit_event_by_entity ON audit_event (entity, recorded_at)
            WHERE entity IS NOT NULL;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP INDEX audit_event_by_entity;
        DELETE FROM audit_event WHERE referral_id IS NULL;
        ALTER TABLE audit_event DROP COLUMN entity;
        ALTER TABLE audit_event ALTER COLUMN referral_id SET NOT NULL;
        DROP TABLE sign_in_failure;
        DROP TABLE app_session;
        DROP TABLE app_user;
        """
    )
