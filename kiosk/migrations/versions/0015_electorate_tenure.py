"""votes of part of the compound, tenure on the roll, and how each card reached its household

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 07:00:00

Nothing published changes: existing topics keep a whole-compound electorate (their frozen Elector rows are
untouched) and require no verified card; "occupied" units become owner-occupied (both count for their owner,
as before); existing cards have no delivery recorded and are held by the owner.
Topic columns are added with ALTER TABLE only (no batch recreate), so 0007's triggers on topic survive; a
trigger of its own keeps them fixed once the topic is published, as 0007 does for the wording.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

SCOPE = ("scope_buildings", "scope_entrance", "require_verified")
MESSAGE = "the electorate of a published topic is fixed"
SQLITE_TRIGGER = (
    "CREATE TRIGGER topic_scope_fixed BEFORE UPDATE ON topic WHEN OLD.status <> 'draft' AND ("
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in SCOPE) + f") BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
PG_FUNCTION = (
    "CREATE FUNCTION topic_scope_fixed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF OLD.status <> 'draft' AND ("
    + " OR ".join(f"NEW.{c}{'::text' if c == 'scope_buildings' else ''} IS DISTINCT FROM "
                  f"OLD.{c}{'::text' if c == 'scope_buildings' else ''}" for c in SCOPE)
    + f") THEN RAISE EXCEPTION '{MESSAGE}'; END IF; RETURN NEW; END $$")
PG_TRIGGER = "CREATE TRIGGER topic_scope_fixed BEFORE UPDATE ON topic FOR EACH ROW EXECUTE FUNCTION topic_scope_fixed()"


def upgrade():
    op.execute("UPDATE household SET occupancy = 'owner_occupied' WHERE occupancy = 'occupied'")
    with op.batch_alter_table('household_card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('delivered_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('holder', sa.String(length=10), server_default='owner', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_household_card_delivered_by_user'), 'user',
                                    ['delivered_by'], ['id'])
    op.add_column('topic', sa.Column('scope_buildings', sa.JSON(), nullable=True))
    op.add_column('topic', sa.Column('scope_entrance', sa.String(length=10), server_default='', nullable=False))
    op.add_column('topic', sa.Column('require_verified', sa.Boolean(), server_default=sa.false(), nullable=False))
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": [SQLITE_TRIGGER], "postgresql": [PG_FUNCTION, PG_TRIGGER]}.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS topic_scope_fixed ON topic")
        op.execute("DROP FUNCTION IF EXISTS topic_scope_fixed()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS topic_scope_fixed")
    op.drop_column('topic', 'require_verified')
    op.drop_column('topic', 'scope_entrance')
    op.drop_column('topic', 'scope_buildings')
    with op.batch_alter_table('household_card', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_household_card_delivered_by_user'), type_='foreignkey')
        batch_op.drop_column('holder')
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('delivered_by')
        batch_op.drop_column('delivery')
    op.execute("UPDATE household SET occupancy = 'occupied' WHERE occupancy IN ('owner_occupied', 'rented')")
