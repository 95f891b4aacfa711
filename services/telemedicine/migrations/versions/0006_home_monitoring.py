"""Home-isolation monitoring: the episodes (EpisodeOfCare, its CarePlan's clock and its Flag),
every check-in with its readings and what they counted for, and every change of the Flag
(raised by the rules, or lowered by a nurse with a reason: the audit). A consult started by a
red flag names its episode.

Revision ID: 0006
Revises: 0005
"""

from shared.db.migrations import execute_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE monitoring_episode (
            id                  text PRIMARY KEY,
            hospital            text NOT NULL,
            consultant_hospital text NOT NULL,
            patient             text NOT NULL,
            hospital_number     text NOT NULL,
            programme           text NOT NULL,
            started_at          timestamptz NOT NULL,
            next_check_in       timestamptz NOT NULL,
            reminded            boolean NOT NULL DEFAULT false,
            alerted             boolean NOT NULL DEFAULT false,
            level               smallint NOT NULL DEFAULT 0,
            level_since         timestamptz,
            last_check_in       timestamptz,
            line_user           text,
            phone               text,
            language            text NOT NULL DEFAULT 'th',
            care_team           text[] NOT NULL DEFAULT '{}',
            consults_started    integer NOT NULL DEFAULT 0,
            finished            boolean NOT NULL DEFAULT false
        );
        CREATE INDEX monitoring_episode_by_hospital ON monitoring_episode (hospital)
            WHERE NOT finished;
        CREATE INDEX monitoring_episode_due ON monitoring_episode (next_check_in)
            WHERE NOT finished AND NOT alerted;
        CREATE INDEX monitoring_episode_line_user ON monitoring_episode (line_user)
            WHERE NOT finished AND line_user IS NOT NULL;

        CREATE TABLE monitoring_check_in (
            id           bigserial PRIMARY KEY,
            episode_id   text NOT NULL REFERENCES monitoring_episode (id),
            received_at  timestamptz NOT NULL,
            -- link (the signed form), line (the notifier's webhook), hospital (Kafka)
            source       text NOT NULL,
            readings     jsonb NOT NULL,
            symptoms     text[] NOT NULL DEFAULT '{}',
            level        smallint NOT NULL,
            reasons      text[] NOT NULL DEFAULT '{}',
            -- readings that did not count (the patient was asked to measure again)
            implausible  jsonb NOT NULL DEFAULT '[]'
        );
        CREATE INDEX monitoring_check_in_of_episode ON monitoring_check_in (episode_id, id);

        CREATE TABLE monitoring_level_change (
            id          bigserial PRIMARY KEY,
            episode_id  text NOT NULL REFERENCES monitoring_episode (id),
            before      smallint NOT NULL,
            after       smallint NOT NULL,
            changed_at  timestamptz NOT NULL,
            reason      text NOT NULL,
            -- the person who lowered it; NULL when the rules raised it
            changed_by  text
        );
        CREATE INDEX monitoring_level_change_of_episode
            ON monitoring_level_change (episode_id, id);

        ALTER TABLE consult ADD COLUMN episode_id text REFERENCES monitoring_episode (id);
        """
    )


def downgrade() -> None:
    execute_script(
        """
        ALTER TABLE consult DROP COLUMN episode_id;
        DROP TABLE monitoring_level_change;
        DROP TABLE monitoring_check_in;
        DROP TABLE monitoring_episode;
        """
    )
