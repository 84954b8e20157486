"""screen remote care: reload requests, what each screen shows now, its areas, buildings and time slots;
notices addressed to buildings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # Existing screens keep showing everything all day (NULL areas and slots), and no notice is addressed
    # to a building (""): nothing a resident sees changes.
    with op.batch_alter_table('screen', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reload_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('slide_now', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('data_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shown_areas', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('buildings', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('slots', sa.JSON(), nullable=True))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buildings', sa.String(length=60), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('buildings')
    with op.batch_alter_table('screen', schema=None) as batch_op:
        batch_op.drop_column('slots')
        batch_op.drop_column('buildings')
        batch_op.drop_column('shown_areas')
        batch_op.drop_column('data_version')
        batch_op.drop_column('slide_now')
        batch_op.drop_column('reload_seq')
