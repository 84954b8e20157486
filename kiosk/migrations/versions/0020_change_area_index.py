"""an index on change (compound_id, area, version): the ledger's pages find the last ledger or documents change
of a compound with one index seek, to know whether a kept check or a kept period page is still current; no table
or figure changes

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 13:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.create_index('ix_change_compound_area_version', ['compound_id', 'area', 'version'], unique=False)


def downgrade():
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_index('ix_change_compound_area_version')
