"""One patient, one clock: re-routed referrals share their first referral's milestones; each
milestone records the hospital where it happened.

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
        -- The clock of a referral is the first referral of its re-routing chain.
        ALTER TABLE referral ADD COLUMN clock_id text REFERENCES referral (id);
        WITH RECURSIVE chain AS (
            SELECT id, id AS first_id FROM referral WHERE replaces IS NULL
            UNION ALL
            SELECT r.id, c.first_id FROM referral r JOIN chain c ON r.replaces = c.id
        )
        UPDATE referral r SET clock_id = chain.first_id FROM chain WHERE chain.id = r.id;
        UPDATE referral SET clock_id = id WHERE clock_id IS NULL;
        ALTER TABLE referral ALTER COLUMN clock_id SET NOT NULL;
        CREATE INDEX referral_clock ON referral (clock_id);

        -- Where each milestone happened: until now, the hospital that reported it.
        ALTER TABLE milestone ADD COLUMN hospital text;
        UPDATE milestone SET hospital = reported_by;
        ALTER TABLE milestone ALTER COLUMN hospital SET NOT NULL;
        -- Two hospitals' times of one step (a CT at each) are both kept.
        ALTER TABLE milestone DROP CONSTRAINT milestone_pkey;
        ALTER TABLE milestone ADD PRIMARY KEY (referral_id, code, hospital);

        -- Milestones reported for a re-routed referral move to the patient's clock (the
        -- latest report of a step at a hospital wins, as it always did). Its LKW and request
        -- time were the network's own copies when it re-routed (the LKW without its
        -- uncertainty, the request at the decline's time): the first referral's stay.
        INSERT INTO milestone (referral_id, code, occurred_at, recorded_at, source, uncertain,
                               reported_by, hospital)
        SELECT DISTINCT ON (r.clock_id, m.code, m.hospital)
               r.clock_id, m.code, m.occurred_at, m.recorded_at, m.source, m.uncertain,
               m.reported_by, m.hospital
        FROM milestone m JOIN referral r ON r.id = m.referral_id
        WHERE r.clock_id <> r.id
          AND NOT (m.code IN ('lkw', 'referral-requested') AND EXISTS (
              SELECT 1 FROM milestone first WHERE first.referral_id = r.clock_id
                AND first.code = m.code))
        ORDER BY r.clock_id, m.code, m.hospital, m.recorded_at DESC
        ON CONFLICT (referral_id, code, hospital) DO UPDATE SET
            occurred_at = excluded.occurred_at, recorded_at = excluded.recorded_at,
            source = excluded.source, uncertain = excluded.uncertain,
            reported_by = excluded.reported_by
        WHERE excluded.recorded_at >= milestone.recorded_at;
        DELETE FROM milestone m USING referral r WHERE r.id = m.referral_id AND r.clock_id <> r.id;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DELETE FROM milestone a USING milestone b
        WHERE a.referral_id = b.referral_id AND a.code = b.code AND a.hospital <> b.hospital
          AND (a.recorded_at, a.hospital) < (b.recorded_at, b.hospital);
        ALTER TABLE milestone DROP CONSTRAINT milestone_pkey;
        ALTER TABLE milestone ADD PRIMARY KEY (referral_id, code);
        ALTER TABLE milestone DROP COLUMN hospital;
        DROP INDEX referral_clock;
        ALTER TABLE referral DROP COLUMN clock_id;
        """
    )
