"""procedure profile per compound: the national default or a city's preset

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 06:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedure_profile', sa.String(length=20), nullable=False,
                                      server_default='national'))


def downgrade():
    with op.batch_alter_table('compound', schema=None) as batch_op:
        batch_op.drop_column('procedure_profile')
