"""practice compound (练习小区): a compound may be the practice copy of a real one

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    # Every existing compound is real: the column starts empty, so no published figure changes.
    with op.batch_alter_table('compound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('practice_of', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_compound_practice_of'), ['practice_of'])
        batch_op.create_foreign_key(batch_op.f('fk_compound_practice_of_compound'), 'compound', ['practice_of'],
                                    ['id'])


def downgrade():
    with op.batch_alter_table('compound', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_compound_practice_of_compound'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_compound_practice_of'), type_='unique')
        batch_op.drop_column('practice_of')
