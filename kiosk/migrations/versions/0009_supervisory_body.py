"""supervisory body: who appointed each supervisor, one name per compound, trusted login devices

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00

- supervisor_change: every change of a compound's supervisory body (append-only in the database, like
  audit_entry), shown on the public roster.
- membership.name_key: the display name as people read it (kiosk/auth/names.py), unique per compound. Names
  that already clash keep working: the later ones get their membership id appended to the key, and the
  members page shows both, so the street office can sort them out.
- login_failure.device: the trusted-device id a failed attempt presented (login throttling slows an account
  down instead of locking its owner out).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER supervisor_change_no_update BEFORE UPDATE ON supervisor_change "
    "BEGIN SELECT RAISE(ABORT, 'supervisor_change is append-only'); END",
    "CREATE TRIGGER supervisor_change_no_delete BEFORE DELETE ON supervisor_change "
    "BEGIN SELECT RAISE(ABORT, 'supervisor_change is append-only'); END",
]
APPEND_ONLY_POSTGRESQL = [
    "CREATE FUNCTION supervisor_change_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'supervisor_change is append-only'; END $$",
    "CREATE TRIGGER supervisor_change_append_only BEFORE UPDATE OR DELETE ON supervisor_change "
    "FOR EACH ROW EXECUTE FUNCTION supervisor_change_append_only()",
]


def _key_existing_memberships():
    """Fill membership.name_key from each account's display name; a clash keeps its rows apart by id."""
    from kiosk.auth.names import name_key

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        'SELECT m.id, m.compound_id, u.display_name FROM membership m JOIN "user" u ON u.id = m.user_id '
        "ORDER BY m.id")).all()
    seen = set()
    for membership_id, compound_id, display_name in rows:
        key = name_key(display_name)
        if not key or (compound_id, key) in seen:
            key = f"{key}#{membership_id}"
        seen.add((compound_id, key))
        conn.execute(sa.text("UPDATE membership SET name_key = :key WHERE id = :id"),
                     {"key": key, "id": membership_id})


def upgrade():
    op.create_table('supervisor_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('topic_title', sa.String(length=120), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_supervisor_change_actor_id_user')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_supervisor_change_compound_id_compound')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_supervisor_change_topic_id_topic')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_supervisor_change_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervisor_change'))
    )
    with op.batch_alter_table('supervisor_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervisor_change_compound_id'), ['compound_id'], unique=False)

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_login_failure_device'), ['device'], unique=False)

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=80), nullable=True))
    _key_existing_memberships()
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_membership_compound_id_name_key'),
                                          ['compound_id', 'name_key'])

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": APPEND_ONLY_SQLITE, "postgresql": APPEND_ONLY_POSTGRESQL}.get(dialect, []):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS supervisor_change_append_only ON supervisor_change")
        op.execute("DROP FUNCTION IF EXISTS supervisor_change_append_only()")
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_membership_compound_id_name_key'), type_='unique')
        batch_op.drop_column('name_key')

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_device'))
        batch_op.drop_column('device')

    with op.batch_alter_table('supervisor_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervisor_change_compound_id'))

    op.drop_table('supervisor_change')
