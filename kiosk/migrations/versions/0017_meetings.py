"""committee meetings (委员会会议): agenda, attendance, each member's vote, minutes and their confirmations; new tables only, so no existing figure changes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 06:38:17.184724

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=80), nullable=False),
    sa.Column('notice_sent_on', sa.Date(), nullable=True),
    sa.Column('notice_sent_by', sa.Integer(), nullable=True),
    sa.Column('attendance_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('members_total', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('minutes_final_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_notice_id', sa.Integer(), nullable=True),
    sa.Column('decision_posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_meeting_compound_id_compound')),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_meeting_created_by_user')),
    sa.ForeignKeyConstraint(['decision_notice_id'], ['notice.id'], name=op.f('fk_meeting_decision_notice_id_notice')),
    sa.ForeignKeyConstraint(['notice_sent_by'], ['user.id'], name=op.f('fk_meeting_notice_sent_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_compound_id'), ['compound_id'], unique=False)

    op.create_table('meeting_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_attendance_meeting_id_meeting')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_attendance_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_attendance')),
    sa.UniqueConstraint('meeting_id', 'user_id', name=op.f('uq_meeting_attendance_meeting_id_user_id'))
    )
    with op.batch_alter_table('meeting_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_attendance_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meeting_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_item_meeting_id_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_item'))
    )
    with op.batch_alter_table('meeting_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_item_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('minutes_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_minutes_confirmation_meeting_id_meeting')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_minutes_confirmation_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_confirmation')),
    sa.UniqueConstraint('meeting_id', 'user_id', name=op.f('uq_minutes_confirmation_meeting_id_user_id'))
    )
    with op.batch_alter_table('minutes_confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_confirmation_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meeting_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('vote', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['meeting_item.id'], name=op.f('fk_meeting_vote_item_id_meeting_item')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_vote_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_vote')),
    sa.UniqueConstraint('item_id', 'user_id', name=op.f('uq_meeting_vote_item_id_user_id'))
    )
    with op.batch_alter_table('meeting_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_vote_item_id'), ['item_id'], unique=False)



def downgrade():
    with op.batch_alter_table('meeting_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_vote_item_id'))

    op.drop_table('meeting_vote')
    with op.batch_alter_table('minutes_confirmation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_confirmation_meeting_id'))

    op.drop_table('minutes_confirmation')
    with op.batch_alter_table('meeting_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_item_meeting_id'))

    op.drop_table('meeting_item')
    with op.batch_alter_table('meeting_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_attendance_meeting_id'))

    op.drop_table('meeting_attendance')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_compound_id'))

    op.drop_table('meeting')
