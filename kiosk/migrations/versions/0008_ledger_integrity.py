"""ledger integrity: recipes, signed figures in sign-offs, signatures fixed per period, guarded periods

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00

Existing rows keep every figure and hash: entries stay on recipe 1 (their codes are printed on paper), each
period gets the number of signatures it was submitted under (the book's number; a published one, the
signatures that published it), the current round's sign-offs get the figures and head of the submission
they signed, and the book remembers since when its number applies (its last audited change, else the day
the book starts). Then submitted periods keep their figures, published ones are fixed and sign-offs are
append-only, in the database itself (as 0006 does for posted entries).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

FIXED_WHILE_SUBMITTED = ("compound_id", "starts_on", "ends_on", "round", "opening_fen", "income_fen",
                         "expense_fen", "closing_fen", "actual_fen", "entry_count", "head_number", "head_hash",
                         "submitted_by", "submitted_at", "signoffs_required")
PERIOD_MESSAGES = {
    "published": "a published ledger period is never changed",
    "submitted": "a submitted ledger period keeps its figures; return it first",
    "delete": "a submitted or published ledger period is never deleted",
}

GUARDS_SQLITE = [
    "CREATE TRIGGER ledger_period_published_fixed BEFORE UPDATE ON ledger_period WHEN OLD.status = 'published' "
    f"BEGIN SELECT RAISE(ABORT, '{PERIOD_MESSAGES['published']}'); END",
    "CREATE TRIGGER ledger_period_submitted_fixed BEFORE UPDATE ON ledger_period WHEN OLD.status = 'submitted' AND ("
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FIXED_WHILE_SUBMITTED)
    + f") BEGIN SELECT RAISE(ABORT, '{PERIOD_MESSAGES['submitted']}'); END",
    "CREATE TRIGGER ledger_period_closed_no_delete BEFORE DELETE ON ledger_period "
    f"WHEN OLD.status IN ('submitted', 'published') BEGIN SELECT RAISE(ABORT, '{PERIOD_MESSAGES['delete']}'); END",
    "CREATE TRIGGER ledger_signoff_no_update BEFORE UPDATE ON ledger_signoff "
    "BEGIN SELECT RAISE(ABORT, 'ledger_signoff is append-only'); END",
    "CREATE TRIGGER ledger_signoff_no_delete BEFORE DELETE ON ledger_signoff "
    "BEGIN SELECT RAISE(ABORT, 'ledger_signoff is append-only'); END",
]
GUARDS_POSTGRESQL = [
    "CREATE FUNCTION ledger_period_guarded() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN "
    f"IF OLD.status IN ('submitted', 'published') THEN RAISE EXCEPTION '{PERIOD_MESSAGES['delete']}'; END IF; "
    "RETURN OLD; END IF; "
    f"IF OLD.status = 'published' THEN RAISE EXCEPTION '{PERIOD_MESSAGES['published']}'; END IF; "
    "IF OLD.status = 'submitted' AND ("
    + ", ".join(f"NEW.{c}" for c in FIXED_WHILE_SUBMITTED) + ") IS DISTINCT FROM ("
    + ", ".join(f"OLD.{c}" for c in FIXED_WHILE_SUBMITTED)
    + f") THEN RAISE EXCEPTION '{PERIOD_MESSAGES['submitted']}'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER ledger_period_guarded BEFORE UPDATE OR DELETE ON ledger_period "
    "FOR EACH ROW EXECUTE FUNCTION ledger_period_guarded()",
    "CREATE FUNCTION ledger_signoff_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'ledger_signoff is append-only'; END $$",
    "CREATE TRIGGER ledger_signoff_append_only BEFORE UPDATE OR DELETE ON ledger_signoff "
    "FOR EACH ROW EXECUTE FUNCTION ledger_signoff_append_only()",
]

book = sa.table("ledger_book", sa.column("id", sa.Integer), sa.column("compound_id", sa.Integer),
                sa.column("started_on", sa.Date), sa.column("signoffs_required", sa.Integer),
                sa.column("signoffs_since", sa.Date))
period = sa.table("ledger_period", *(sa.column(c) for c in (
    "id", "compound_id", "status", "round", "opening_fen", "income_fen", "expense_fen", "closing_fen",
    "head_number", "head_hash", "signoffs_required")))
signoff = sa.table("ledger_signoff", *(sa.column(c) for c in (
    "id", "period_id", "round", "signed", "opening_fen", "income_fen", "expense_fen", "closing_fen",
    "head_number", "head_hash")))
audit = sa.table("audit_entry", sa.column("id", sa.Integer), sa.column("compound_id", sa.Integer),
                 sa.column("at", sa.DateTime), sa.column("area", sa.String), sa.column("action", sa.String),
                 sa.column("before", sa.JSON), sa.column("after", sa.JSON))


def _add_columns():
    op.add_column("ledger_entry", sa.Column("recipe", sa.Integer(), server_default="1", nullable=False))
    op.add_column("ledger_entry", sa.Column("counterparty_nonce", sa.String(length=32), server_default="",
                                            nullable=False))
    op.add_column("ledger_period", sa.Column("returned_entry", sa.Integer(), nullable=True))
    op.add_column("ledger_period", sa.Column("signoffs_required", sa.Integer(), server_default="2", nullable=False))
    for name in ("opening_fen", "income_fen", "expense_fen", "closing_fen"):
        op.add_column("ledger_signoff", sa.Column(name, sa.BigInteger(), nullable=True))
    op.add_column("ledger_signoff", sa.Column("head_number", sa.Integer(), nullable=True))
    op.add_column("ledger_signoff", sa.Column("head_hash", sa.String(length=64), nullable=True))
    op.add_column("ledger_book", sa.Column("signoffs_since", sa.Date(), nullable=True))


def _since(conn, compound_id, started_on):
    """The day the book's signature count last changed (its audited settings), else the day it starts."""
    rows = conn.execute(sa.select(audit.c.at, audit.c.before, audit.c.after).where(
        audit.c.compound_id == compound_id, audit.c.area == "ledger", audit.c.action == "settings")
        .order_by(audit.c.id)).all()
    since = started_on
    for at, before, after in rows:
        if (before or {}).get("signoffs_required") != (after or {}).get("signoffs_required") and at is not None:
            since = at.date()
    return since


def _fill(conn):
    """Each period's signature count, the current sign-offs' figures, and each book's 'since'."""
    books = {row.compound_id: row for row in conn.execute(sa.select(book))}
    for row in books.values():
        conn.execute(book.update().where(book.c.id == row.id).values(
            signoffs_since=_since(conn, row.compound_id, row.started_on)))
    for p in conn.execute(sa.select(period)).all():
        required = books[p.compound_id].signoffs_required if p.compound_id in books else 2
        if p.status == "published":
            signed = conn.execute(sa.select(sa.func.count()).select_from(signoff).where(
                signoff.c.period_id == p.id, signoff.c.round == p.round, signoff.c.signed.is_(True))).scalar_one()
            required = signed or required
        conn.execute(period.update().where(period.c.id == p.id).values(signoffs_required=required))
        conn.execute(signoff.update().where(signoff.c.period_id == p.id, signoff.c.round == p.round).values(
            opening_fen=p.opening_fen, income_fen=p.income_fen, expense_fen=p.expense_fen,
            closing_fen=p.closing_fen, head_number=p.head_number, head_hash=p.head_hash))


def upgrade():
    _add_columns()
    conn = op.get_bind()
    _fill(conn)
    for statement in {"sqlite": GUARDS_SQLITE, "postgresql": GUARDS_POSTGRESQL}.get(conn.dialect.name, []):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_period_guarded ON ledger_period")
        op.execute("DROP FUNCTION IF EXISTS ledger_period_guarded()")
        op.execute("DROP TRIGGER IF EXISTS ledger_signoff_append_only ON ledger_signoff")
        op.execute("DROP FUNCTION IF EXISTS ledger_signoff_append_only()")
    else:
        for name in ("ledger_period_published_fixed", "ledger_period_submitted_fixed",
                     "ledger_period_closed_no_delete", "ledger_signoff_no_update", "ledger_signoff_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("ledger_book") as batch_op:
        batch_op.drop_column("signoffs_since")
    with op.batch_alter_table("ledger_signoff") as batch_op:
        for name in ("head_hash", "head_number", "closing_fen", "expense_fen", "income_fen", "opening_fen"):
            batch_op.drop_column(name)
    with op.batch_alter_table("ledger_period") as batch_op:
        batch_op.drop_column("signoffs_required")
        batch_op.drop_column("returned_entry")
    _drop_entry_columns()


def _drop_entry_columns():
    """SQLite rebuilds ledger_entry to drop columns, which drops its triggers: put 0006's back afterwards."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("ledger_entry") as batch_op:
        batch_op.drop_column("counterparty_nonce")
        batch_op.drop_column("recipe")
    if sqlite:
        for name in ("ledger_entry_posted_no_update", "ledger_entry_posted_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("CREATE TRIGGER ledger_entry_posted_no_update BEFORE UPDATE ON ledger_entry WHEN OLD.posted "
                   "BEGIN SELECT RAISE(ABORT, 'a posted ledger entry is never changed; reverse it'); END")
        op.execute("CREATE TRIGGER ledger_entry_posted_no_delete BEFORE DELETE ON ledger_entry WHEN OLD.posted "
                   "BEGIN SELECT RAISE(ABORT, 'a posted ledger entry is never deleted; reverse it'); END")
