"""the document library (文件公开): documents, versions, page images with their text, contracts' ledger entries, the seal-use log; new tables only, so no existing figure changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 09:47:17.179643

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('auditor', sa.String(length=120), nullable=False),
    sa.Column('covers_from', sa.Date(), nullable=True),
    sa.Column('covers_until', sa.Date(), nullable=True),
    sa.Column('covers_term', sa.String(length=120), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_document_compound_id_compound')),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_document_created_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_compound_id'), ['compound_id'], unique=False)

    op.create_table('document_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('posted_from', sa.Date(), nullable=False),
    sa.Column('posted_until', sa.Date(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('posted_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_document_version_compound_id_compound')),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_document_version_created_by_user')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_version_document_id_document')),
    sa.ForeignKeyConstraint(['posted_by'], ['user.id'], name=op.f('fk_document_version_posted_by_user')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_document_version_topic_id_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_version')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_document_version_document_id_number'))
    )
    with op.batch_alter_table('document_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_version_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_version_document_id'), ['document_id'], unique=False)

    op.create_table('seal_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.String(length=120), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('approved_by', sa.String(length=20), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.Column('voids_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_seal_use_compound_id_compound')),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_seal_use_created_by_user')),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_seal_use_image_id_image')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_seal_use_topic_id_topic')),
    sa.ForeignKeyConstraint(['voids_id'], ['seal_use.id'], name=op.f('fk_seal_use_voids_id_seal_use')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seal_use')),
    sa.UniqueConstraint('compound_id', 'number', name=op.f('uq_seal_use_compound_id_number'))
    )
    with op.batch_alter_table('seal_use', schema=None) as batch_op:
        batch_op.create_index('ix_seal_use_compound_day', ['compound_id', 'used_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_seal_use_compound_id'), ['compound_id'], unique=False)

    op.create_table('document_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_document_entry_compound_id_compound')),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_document_entry_created_by_user')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_entry_document_id_document')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_document_entry_entry_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_entry')),
    sa.UniqueConstraint('document_id', 'entry_id', name=op.f('uq_document_entry_document_id_entry_id'))
    )
    with op.batch_alter_table('document_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_entry_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_entry_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_entry_entry_id'), ['entry_id'], unique=False)

    op.create_table('document_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_document_page_compound_id_compound')),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_document_page_image_id_image')),
    sa.ForeignKeyConstraint(['version_id'], ['document_version.id'], name=op.f('fk_document_page_version_id_document_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_page')),
    sa.UniqueConstraint('version_id', 'position', name=op.f('uq_document_page_version_id_position'))
    )
    with op.batch_alter_table('document_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_page_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_page_image_id'), ['image_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_page_version_id'), ['version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('document_page', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_page_version_id'))
        batch_op.drop_index(batch_op.f('ix_document_page_image_id'))
        batch_op.drop_index(batch_op.f('ix_document_page_compound_id'))

    op.drop_table('document_page')
    with op.batch_alter_table('document_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_entry_entry_id'))
        batch_op.drop_index(batch_op.f('ix_document_entry_document_id'))
        batch_op.drop_index(batch_op.f('ix_document_entry_compound_id'))

    op.drop_table('document_entry')
    with op.batch_alter_table('seal_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seal_use_compound_id'))
        batch_op.drop_index('ix_seal_use_compound_day')

    op.drop_table('seal_use')
    with op.batch_alter_table('document_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_version_document_id'))
        batch_op.drop_index(batch_op.f('ix_document_version_compound_id'))

    op.drop_table('document_version')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_compound_id'))

    op.drop_table('document')
