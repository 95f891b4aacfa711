"""A delivery's lease is written in place: the table's pages keep half their room for updates.

The dispatcher leases each delivery (``lease_until``, ``attempts``) before it sends it. No index
names those columns, so PostgreSQL can write the new row version on the row's own page with no
new index entries (a heap-only update), and log only the bytes that changed, provided the page
has room. Packed full (fillfactor 100, the default) it had none: each lease wrote the whole row
(~1 KB, its texts) to another page and an entry in every index of the table. The setting
applies to pages filled from now on; rows already stored stay where they are.

Revision ID: 0012
Revises: 0011
"""

from shared.db.migrations import execute_script

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE delivery SET (fillfactor = 50)")


def downgrade() -> None:
    execute_script("ALTER TABLE delivery RESET (fillfactor)")
