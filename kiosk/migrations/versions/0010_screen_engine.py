"""screen engine: which browser each lobby screen runs and whether its live updates work

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Both nullable: existing screens have not reported yet (NULL shows as "unknown" in the screen list).
    with op.batch_alter_table('screen', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engine', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('live_updates', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('screen', schema=None) as batch_op:
        batch_op.drop_column('live_updates')
        batch_op.drop_column('engine')
