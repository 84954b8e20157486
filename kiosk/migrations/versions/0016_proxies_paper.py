"""written proxies and numbered paper ballots: proxy, proxy_limit, paper_ballot, paper_entry

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 07:00:00

New tables only: no existing row changes, so no published figure moves. The ballot table is not altered
(on SQLite that would recreate it and drop migration 0007's triggers); a proxy and a paper ballot point at
the Ballot they became instead.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'))


def upgrade():
    op.create_table(
        'proxy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('id_last4', sa.String(length=4), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('scan_image_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('recorded_by', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_owner', sa.Boolean(), nullable=False),
        sa.Column('ballot_id', sa.Integer(), nullable=True),
        _fk('proxy', 'compound_id', 'compound'), _fk('proxy', 'topic_id', 'topic'),
        _fk('proxy', 'household_id', 'household'), _fk('proxy', 'scan_image_id', 'image'),
        _fk('proxy', 'recorded_by', 'user'), _fk('proxy', 'ballot_id', 'ballot'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy')),
    )
    op.create_index(op.f('ix_proxy_compound_id'), 'proxy', ['compound_id'], unique=False)
    op.create_index(op.f('ix_proxy_topic_id'), 'proxy', ['topic_id'], unique=False)
    op.create_index('uq_proxy_standing', 'proxy', ['topic_id', 'household_id'], unique=True,
                    sqlite_where=sa.text("state <> 'revoked'"), postgresql_where=sa.text("state <> 'revoked'"))
    op.create_table(
        'proxy_limit',
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('max_owners', sa.Integer(), nullable=False),
        sa.Column('set_by', sa.Integer(), nullable=True),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        _fk('proxy_limit', 'compound_id', 'compound'), _fk('proxy_limit', 'set_by', 'user'),
        sa.PrimaryKeyConstraint('compound_id', name=op.f('pk_proxy_limit')),
    )
    op.create_table(
        'paper_ballot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('ballot_id', sa.Integer(), nullable=True),
        sa.Column('printed_by', sa.Integer(), nullable=True),
        sa.Column('printed_at', sa.DateTime(timezone=True), nullable=False),
        _fk('paper_ballot', 'compound_id', 'compound'), _fk('paper_ballot', 'topic_id', 'topic'),
        _fk('paper_ballot', 'household_id', 'household'), _fk('paper_ballot', 'ballot_id', 'ballot'),
        _fk('paper_ballot', 'printed_by', 'user'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_ballot')),
        sa.UniqueConstraint('token', name=op.f('uq_paper_ballot_token')),
        sa.UniqueConstraint('topic_id', 'number', name=op.f('uq_paper_ballot_topic_id_number')),
        sa.UniqueConstraint('topic_id', 'household_id', name=op.f('uq_paper_ballot_topic_id_household_id')),
    )
    op.create_index(op.f('ix_paper_ballot_compound_id'), 'paper_ballot', ['compound_id'], unique=False)
    op.create_index(op.f('ix_paper_ballot_topic_id'), 'paper_ballot', ['topic_id'], unique=False)
    op.create_table(
        'paper_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('paper_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=10), nullable=False),
        sa.Column('choices', sa.JSON(), nullable=False),
        sa.Column('image_id', sa.Integer(), nullable=True),
        sa.Column('entered_by', sa.Integer(), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        _fk('paper_entry', 'paper_id', 'paper_ballot'), _fk('paper_entry', 'image_id', 'image'),
        _fk('paper_entry', 'entered_by', 'user'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_entry')),
    )
    op.create_index(op.f('ix_paper_entry_paper_id'), 'paper_entry', ['paper_id'], unique=False)
    op.create_index('uq_paper_entry_stage', 'paper_entry', ['paper_id', 'stage'], unique=True,
                    sqlite_where=sa.text("stage <> 'duplicate'"), postgresql_where=sa.text("stage <> 'duplicate'"))


def downgrade():
    op.drop_index('uq_paper_entry_stage', table_name='paper_entry')
    op.drop_index(op.f('ix_paper_entry_paper_id'), table_name='paper_entry')
    op.drop_table('paper_entry')
    op.drop_index(op.f('ix_paper_ballot_topic_id'), table_name='paper_ballot')
    op.drop_index(op.f('ix_paper_ballot_compound_id'), table_name='paper_ballot')
    op.drop_table('paper_ballot')
    op.drop_table('proxy_limit')
    op.drop_index('uq_proxy_standing', table_name='proxy')
    op.drop_index(op.f('ix_proxy_topic_id'), table_name='proxy')
    op.drop_index(op.f('ix_proxy_compound_id'), table_name='proxy')
    op.drop_table('proxy')
