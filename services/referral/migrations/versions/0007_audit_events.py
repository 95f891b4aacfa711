"""Audit trail: who read which referral, when and how (FHIR AuditEvent: agent, action,
entity).

Revision ID: 0007
Revises: 0006
"""

from shared.db.migrations import execute_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE audit_event (
            id           bigserial   PRIMARY KEY,
            recorded_at  timestamptz NOT NULL DEFAULT now(),
            -- Who: Organization/<id> for a hospital system (a person once people log in).
            agent        text        NOT NULL,
            -- http://hl7.org/fhir/audit-event-action: R read, E search (execute).
            action       text        NOT NULL,
            referral_id  text        NOT NULL,
            -- How: the interface, e.g. "GET /fhir/Task/{task_id}".
            via          text        NOT NULL
        );
        CREATE INDEX audit_event_by_referral ON audit_event (referral_id, recorded_at);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE audit_event;")
