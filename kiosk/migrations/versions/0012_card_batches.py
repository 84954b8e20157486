"""card print runs: new cards wait until the committee confirms the sheet was printed and handed out

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'card_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('description', sa.String(length=80), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('confirmed_by', sa.Integer(), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_card_batch_compound_id_compound')),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_card_batch_created_by_user')),
        sa.ForeignKeyConstraint(['confirmed_by'], ['user.id'], name=op.f('fk_card_batch_confirmed_by_user')),
        sa.ForeignKeyConstraint(['cancelled_by'], ['user.id'], name=op.f('fk_card_batch_cancelled_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_batch')),
    )
    op.create_index(op.f('ix_card_batch_compound_id'), 'card_batch', ['compound_id'], unique=False)
    # Existing cards were handed out long ago: none of them is pending.
    with op.batch_alter_table('household_card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pending', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_household_card_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_household_card_batch_id_card_batch'), 'card_batch',
                                    ['batch_id'], ['id'])


def downgrade():
    with op.batch_alter_table('household_card', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_household_card_batch_id_card_batch'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_household_card_batch_id'))
        batch_op.drop_column('pending')
        batch_op.drop_column('batch_id')
    op.drop_index(op.f('ix_card_batch_compound_id'), table_name='card_batch')
    op.drop_table('card_batch')
