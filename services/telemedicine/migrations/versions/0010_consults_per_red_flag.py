"""A home-isolation episode may have several consults: each rise of its flag to red starts one,
keyed by the episode (``referral_id`` holds the episode's id for them). The column was unique
for every consult, so a second red flag's consult was silently not stored and nobody was paged.
A referral still has at most one consult of its own; an episode's consults are told apart by
their ids (the episode's and the count of its red flags). The downgrade refuses while an
episode has two consults.

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
        ALTER TABLE consult DROP CONSTRAINT consult_referral_id_key;
        CREATE UNIQUE INDEX consult_one_per_referral ON consult (referral_id)
            WHERE episode_id IS NULL;
        CREATE INDEX consult_by_episode ON consult (episode_id) WHERE episode_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP INDEX consult_by_episode;
        DROP INDEX consult_one_per_referral;
        ALTER TABLE consult ADD CONSTRAINT consult_referral_id_key UNIQUE (referral_id);
        """
    )
