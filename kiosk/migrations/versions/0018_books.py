"""several books per compound (public income, maintenance fund, working funds) and transfers between them

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 10:00:00

Every existing book becomes the compound's public income book (kind public_income); every category, entry
and period is backfilled to it, so every number, hash, figure and signed head stays exactly as it was (the
public income book seals its entries as before). A compound with ledger rows but no book row (rows written
before the book was ever opened) gets its public income book first. Numbering and periods become unique per
book. The posted-entry and period guards of 0006/0008 are set aside while rows are backfilled and put back
(with book_id among a submitted period's fixed columns) afterwards.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

FIXED_WHILE_SUBMITTED = ("compound_id", "book_id", "starts_on", "ends_on", "round", "opening_fen", "income_fen",
                         "expense_fen", "closing_fen", "actual_fen", "entry_count", "head_number", "head_hash",
                         "submitted_by", "submitted_at", "signoffs_required")
OLD_FIXED = tuple(c for c in FIXED_WHILE_SUBMITTED if c != "book_id")
PUBLISHED = "a published ledger period is never changed"
SUBMITTED = "a submitted ledger period keeps its figures; return it first"
DELETED = "a submitted or published ledger period is never deleted"
SQLITE_TRIGGERS = ("ledger_entry_posted_no_update", "ledger_entry_posted_no_delete", "ledger_period_published_fixed",
                   "ledger_period_submitted_fixed", "ledger_period_closed_no_delete")


def _sqlite_guards(fixed):
    return [
        "CREATE TRIGGER ledger_entry_posted_no_update BEFORE UPDATE ON ledger_entry WHEN OLD.posted "
        "BEGIN SELECT RAISE(ABORT, 'a posted ledger entry is never changed; reverse it'); END",
        "CREATE TRIGGER ledger_entry_posted_no_delete BEFORE DELETE ON ledger_entry WHEN OLD.posted "
        "BEGIN SELECT RAISE(ABORT, 'a posted ledger entry is never deleted; reverse it'); END",
        "CREATE TRIGGER ledger_period_published_fixed BEFORE UPDATE ON ledger_period WHEN OLD.status = 'published' "
        f"BEGIN SELECT RAISE(ABORT, '{PUBLISHED}'); END",
        "CREATE TRIGGER ledger_period_submitted_fixed BEFORE UPDATE ON ledger_period WHEN OLD.status = 'submitted' "
        "AND (" + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed)
        + f") BEGIN SELECT RAISE(ABORT, '{SUBMITTED}'); END",
        "CREATE TRIGGER ledger_period_closed_no_delete BEFORE DELETE ON ledger_period "
        f"WHEN OLD.status IN ('submitted', 'published') BEGIN SELECT RAISE(ABORT, '{DELETED}'); END",
    ]


def _postgresql_period_function(fixed):
    return (
        "CREATE OR REPLACE FUNCTION ledger_period_guarded() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'DELETE' THEN "
        f"IF OLD.status IN ('submitted', 'published') THEN RAISE EXCEPTION '{DELETED}'; END IF; "
        "RETURN OLD; END IF; "
        f"IF OLD.status = 'published' THEN RAISE EXCEPTION '{PUBLISHED}'; END IF; "
        "IF OLD.status = 'submitted' AND (" + ", ".join(f"NEW.{c}" for c in fixed) + ") IS DISTINCT FROM ("
        + ", ".join(f"OLD.{c}" for c in fixed)
        + f") THEN RAISE EXCEPTION '{SUBMITTED}'; END IF; RETURN NEW; END $$")


# A transfer's two sides must both exist, be posted, be one expense and one income of the same amount in two
# different books of the transfer's compound: checked by the database when the transaction commits.
TRANSFER_CHECK = (
    "SELECT 1 FROM ledger_transfer t "
    "LEFT JOIN ledger_entry f ON f.id = t.from_entry_id LEFT JOIN ledger_entry d ON d.id = t.to_entry_id "
    "WHERE t.id = {id} AND (f.id IS NULL OR d.id IS NULL OR NOT f.posted OR NOT d.posted "
    "OR f.kind <> 'expense' OR d.kind <> 'income' OR f.amount_fen <> t.amount_fen OR d.amount_fen <> t.amount_fen "
    "OR f.book_id = d.book_id OR f.compound_id <> t.compound_id OR d.compound_id <> t.compound_id)")
TRANSFER_GUARD_SQLITE = [
    # SQLite has no deferred triggers: the service writes both sides first, then the transfer row.
    "CREATE TRIGGER ledger_transfer_sides BEFORE INSERT ON ledger_transfer WHEN NOT EXISTS ("
    "SELECT 1 FROM ledger_entry f, ledger_entry d WHERE f.id = NEW.from_entry_id AND d.id = NEW.to_entry_id "
    "AND f.posted AND d.posted AND f.kind = 'expense' AND d.kind = 'income' AND f.amount_fen = NEW.amount_fen "
    "AND d.amount_fen = NEW.amount_fen AND f.book_id <> d.book_id AND f.compound_id = NEW.compound_id "
    "AND d.compound_id = NEW.compound_id"
    ") BEGIN SELECT RAISE(ABORT, 'a transfer needs both sides posted, same amount, two books'); END",
    "CREATE TRIGGER ledger_transfer_fixed BEFORE UPDATE ON ledger_transfer "
    "BEGIN SELECT RAISE(ABORT, 'a ledger transfer is never changed'); END",
    "CREATE TRIGGER ledger_transfer_no_delete BEFORE DELETE ON ledger_transfer "
    "BEGIN SELECT RAISE(ABORT, 'a ledger transfer is never deleted'); END",
]
TRANSFER_GUARD_POSTGRESQL = [
    "CREATE FUNCTION ledger_transfer_sides() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN RAISE EXCEPTION 'a ledger transfer is never changed'; END IF; "
    "IF EXISTS (" + TRANSFER_CHECK.format(id="NEW.id") + ") THEN "
    "RAISE EXCEPTION 'a transfer needs both sides posted, same amount, two books'; END IF; RETURN NEW; END $$",
    "CREATE CONSTRAINT TRIGGER ledger_transfer_sides AFTER INSERT ON ledger_transfer "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transfer_sides()",
    "CREATE TRIGGER ledger_transfer_fixed BEFORE UPDATE OR DELETE ON ledger_transfer "
    "FOR EACH ROW EXECUTE FUNCTION ledger_transfer_sides()",
]

book = sa.table("ledger_book", sa.column("id", sa.Integer), sa.column("compound_id", sa.Integer),
                sa.column("kind", sa.String), sa.column("name", sa.String), sa.column("position", sa.Integer),
                sa.column("opening_fen", sa.BigInteger), sa.column("started_on", sa.Date),
                sa.column("cadence", sa.String), sa.column("signoffs_required", sa.Integer),
                sa.column("signoffs_since", sa.Date), sa.column("disclosure_days", sa.Integer),
                sa.column("source", sa.String))
LEDGER_TABLES = ("ledger_category", "ledger_entry", "ledger_period")


def _drop_guards(dialect):
    if dialect == "postgresql":
        op.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_posted_fixed")
        op.execute("ALTER TABLE ledger_period DISABLE TRIGGER ledger_period_guarded")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _restore_guards(dialect, fixed):
    if dialect == "postgresql":
        op.execute(_postgresql_period_function(fixed))
        op.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_posted_fixed")
        op.execute("ALTER TABLE ledger_period ENABLE TRIGGER ledger_period_guarded")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in _sqlite_guards(fixed):
            op.execute(statement)


def _books_for_every_ledger(conn):
    """A public income book for every compound with ledger rows but no book yet (the defaults the pages used)."""
    have = {row[0] for row in conn.execute(sa.select(book.c.compound_id))}
    for table in LEDGER_TABLES:
        column = sa.table(table, sa.column("compound_id", sa.Integer)).c.compound_id
        for (compound_id,) in conn.execute(sa.select(column).distinct()):
            if compound_id in have:
                continue
            first = conn.execute(sa.text("SELECT MIN(occurred_on) FROM ledger_entry WHERE compound_id = :c"),
                                 {"c": compound_id}).scalar()
            started = first if first is not None else sa.func.current_date()
            conn.execute(book.insert().values(
                compound_id=compound_id, kind="public_income", name="公共收益", position=0, opening_fen=0,
                started_on=started, cadence="monthly", signoffs_required=2, signoffs_since=started,
                disclosure_days=15, source="小区公共收益"))
            have.add(compound_id)


def upgrade():
    conn = op.get_bind()
    dialect = conn.dialect.name
    _drop_guards(dialect)
    with op.batch_alter_table("ledger_book") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="public_income", nullable=False))
        batch_op.add_column(sa.Column("name", sa.String(length=30), server_default="公共收益", nullable=False))
        batch_op.add_column(sa.Column("position", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint("uq_ledger_book_compound_id", type_="unique")
        batch_op.create_unique_constraint(op.f("uq_ledger_book_compound_id_kind"), ["compound_id", "kind"])
        batch_op.create_index(op.f("ix_ledger_book_compound_id"), ["compound_id"], unique=False)
    _books_for_every_ledger(conn)
    for table in LEDGER_TABLES:
        op.add_column(table, sa.Column("book_id", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET book_id = (SELECT b.id FROM ledger_book b WHERE "
                   f"b.compound_id = {table}.compound_id AND b.kind = 'public_income')")
    with op.batch_alter_table("ledger_category") as batch_op:
        batch_op.alter_column("book_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(op.f("fk_ledger_category_book_id_ledger_book"), "ledger_book", ["book_id"], ["id"])
        batch_op.drop_constraint("uq_ledger_category_compound_id_kind_name", type_="unique")
        batch_op.create_unique_constraint(op.f("uq_ledger_category_book_id_kind_name"), ["book_id", "kind", "name"])
    with op.batch_alter_table("ledger_period") as batch_op:
        batch_op.alter_column("book_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(op.f("fk_ledger_period_book_id_ledger_book"), "ledger_book", ["book_id"], ["id"])
        batch_op.drop_constraint("uq_ledger_period_compound_id_starts_on", type_="unique")
        batch_op.create_unique_constraint(op.f("uq_ledger_period_book_id_starts_on"), ["book_id", "starts_on"])
    with op.batch_alter_table("ledger_entry") as batch_op:
        batch_op.add_column(sa.Column("building", sa.String(length=20), nullable=True))
        batch_op.alter_column("book_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(op.f("fk_ledger_entry_book_id_ledger_book"), "ledger_book", ["book_id"], ["id"])
        batch_op.drop_constraint("uq_ledger_entry_compound_id_number", type_="unique")
        batch_op.create_unique_constraint(op.f("uq_ledger_entry_book_id_number"), ["book_id", "number"])
        batch_op.drop_index("ix_ledger_entry_compound_date")
        batch_op.drop_index("ix_ledger_entry_sums")
        batch_op.create_index("ix_ledger_entry_book_date", ["book_id", "posted", "occurred_on", "number"], unique=False)
        batch_op.create_index("ix_ledger_entry_sums", ["book_id", "posted", "occurred_on", "kind", "category_id",
                                                       "amount_fen"], unique=False)
        batch_op.create_index("ix_ledger_entry_compound_id", ["compound_id"], unique=False)
    op.create_table(
        "ledger_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("from_entry_id", sa.Integer(), nullable=False),
        sa.Column("to_entry_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["compound_id"], ["compound.id"], name=op.f("fk_ledger_transfer_compound_id_compound")),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"], name=op.f("fk_ledger_transfer_created_by_user")),
        sa.ForeignKeyConstraint(["from_entry_id"], ["ledger_entry.id"],
                                name=op.f("fk_ledger_transfer_from_entry_id_ledger_entry")),
        sa.ForeignKeyConstraint(["to_entry_id"], ["ledger_entry.id"],
                                name=op.f("fk_ledger_transfer_to_entry_id_ledger_entry")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfer")),
        sa.UniqueConstraint("compound_id", "number", name=op.f("uq_ledger_transfer_compound_id_number")),
        sa.UniqueConstraint("from_entry_id", name=op.f("uq_ledger_transfer_from_entry_id")),
        sa.UniqueConstraint("to_entry_id", name=op.f("uq_ledger_transfer_to_entry_id")),
    )
    with op.batch_alter_table("ledger_transfer") as batch_op:
        batch_op.create_index(op.f("ix_ledger_transfer_compound_id"), ["compound_id"], unique=False)
    _restore_guards(dialect, FIXED_WHILE_SUBMITTED)
    for statement in {"sqlite": TRANSFER_GUARD_SQLITE, "postgresql": TRANSFER_GUARD_POSTGRESQL}.get(dialect, []):
        op.execute(statement)


def downgrade():
    """Back to one book per compound: only possible while the other books are empty (they are dropped)."""
    conn = op.get_bind()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_transfer_sides ON ledger_transfer")
        op.execute("DROP TRIGGER IF EXISTS ledger_transfer_fixed ON ledger_transfer")
        op.execute("DROP FUNCTION IF EXISTS ledger_transfer_sides()")
    op.drop_table("ledger_transfer")
    _drop_guards(dialect)
    others = "(SELECT id FROM ledger_book WHERE kind <> 'public_income')"
    for table in ("ledger_entry", "ledger_period", "ledger_category"):
        op.execute(f"DELETE FROM {table} WHERE book_id IN {others}")
    op.execute("DELETE FROM ledger_book WHERE kind <> 'public_income'")
    with op.batch_alter_table("ledger_entry") as batch_op:
        batch_op.drop_index("ix_ledger_entry_compound_id")
        batch_op.drop_index("ix_ledger_entry_sums")
        batch_op.drop_index("ix_ledger_entry_book_date")
        batch_op.create_index("ix_ledger_entry_compound_date", ["compound_id", "posted", "occurred_on", "number"],
                              unique=False)
        batch_op.create_index("ix_ledger_entry_sums", ["compound_id", "posted", "occurred_on", "kind",
                                                       "category_id", "amount_fen"], unique=False)
        batch_op.drop_constraint("uq_ledger_entry_book_id_number", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_entry_compound_id_number", ["compound_id", "number"])
        batch_op.drop_constraint("fk_ledger_entry_book_id_ledger_book", type_="foreignkey")
        batch_op.drop_column("book_id")
        batch_op.drop_column("building")
    with op.batch_alter_table("ledger_period") as batch_op:
        batch_op.drop_constraint("uq_ledger_period_book_id_starts_on", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_period_compound_id_starts_on", ["compound_id", "starts_on"])
        batch_op.drop_constraint("fk_ledger_period_book_id_ledger_book", type_="foreignkey")
        batch_op.drop_column("book_id")
    with op.batch_alter_table("ledger_category") as batch_op:
        batch_op.drop_constraint("uq_ledger_category_book_id_kind_name", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_category_compound_id_kind_name", ["compound_id", "kind", "name"])
        batch_op.drop_constraint("fk_ledger_category_book_id_ledger_book", type_="foreignkey")
        batch_op.drop_column("book_id")
    with op.batch_alter_table("ledger_book") as batch_op:
        batch_op.drop_index("ix_ledger_book_compound_id")
        batch_op.drop_constraint("uq_ledger_book_compound_id_kind", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_book_compound_id", ["compound_id"])
        batch_op.drop_column("position")
        batch_op.drop_column("name")
        batch_op.drop_column("kind")
    _restore_guards(dialect, OLD_FIXED)
