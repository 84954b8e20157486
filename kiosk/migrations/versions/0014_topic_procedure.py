"""topic procedure: an extraordinary-meeting flag (shorter notice) and a once-only extension of the voting window
with its reason, shown to residents

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 07:00:00

Existing topics are ordinary meetings that were never extended: no published figure changes. Columns are only
added in place, so the integrity triggers of 0007 stay as they are.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ... ADD COLUMN on both engines: a batch recreate of topic on SQLite would trip over the
    # triggers that name it.
    op.add_column('topic', sa.Column('extraordinary', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('topic', sa.Column('extended_from', sa.DateTime(timezone=True), nullable=True))
    op.add_column('topic', sa.Column('extended_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('topic', sa.Column('extension_reason', sa.String(length=200), nullable=False, server_default=''))


def downgrade():
    # SQLite 3.35+ drops a column in place (no trigger names these columns).
    for column in ('extension_reason', 'extended_at', 'extended_from', 'extraordinary'):
        op.drop_column('topic', column)
