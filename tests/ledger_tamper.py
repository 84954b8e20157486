"""Tampering as an insider with the database would do it, for the ledger's tamper-evidence tests: the
application's session lets go, the database's guards on the ledger (and on the audit log) are switched off,
rows are changed directly, and the guards are switched on again.

SQLite: each test has its own copy of the database, so the triggers are simply dropped. PostgreSQL: the schema
is shared by the whole session, so the triggers are switched on again in the same transaction (ALTER TABLE is
transactional there); otherwise later tests would find posted entries editable.
"""
from types import SimpleNamespace

from sqlalchemy import select, text

from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.ledger import chain
from kiosk.ledger.models import Entry, Period, Signoff

ENTRY, PERIOD, SIGNOFF, AUDIT = Entry.__table__, Period.__table__, Signoff.__table__, AuditEntry.__table__
GUARDED = ("ledger_entry", "ledger_period", "ledger_signoff", "audit_entry")
SQLITE_TRIGGERS = ("ledger_entry_posted_no_update", "ledger_entry_posted_no_delete",
                   "ledger_period_published_fixed", "ledger_period_submitted_fixed", "ledger_period_closed_no_delete",
                   "ledger_signoff_no_update", "ledger_signoff_no_delete", "audit_entry_no_update",
                   "audit_entry_no_delete")


def tamper(*statements):
    """Run each statement(connection) with every guard of the ledger and the audit log switched off."""
    db.session.rollback()
    with db.engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        for table in GUARDED:
            if postgres:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        if not postgres:
            for name in SQLITE_TRIGGERS:
                connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        for statement in statements:
            statement(connection)
        if postgres:
            for table in GUARDED:
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    db.session.expire_all()


def set_entry(number, **values):
    """Change one posted entry's columns (its hash stays: the edit shows)."""
    return lambda connection: connection.execute(ENTRY.update().where(ENTRY.c.number == number).values(**values))


def delete_entries(*numbers):
    return lambda connection: connection.execute(ENTRY.delete().where(ENTRY.c.number.in_(numbers)))


def rewrite(number, heads=False, signoffs=False, audit=False, **values):
    """Change entry `number`, then recompute every hash from there on as a careful insider would; with
    `heads` also the periods' stored heads, with `signoffs` the heads the sign-offs recorded, with `audit` the
    hashes the audit log recorded at posting: then nothing on the server can tell."""
    def run(connection):
        connection.execute(ENTRY.update().where(ENTRY.c.number == number).values(**values))
        rows = connection.execute(select(ENTRY).where(ENTRY.c.posted.is_(True)).order_by(ENTRY.c.number)).all()
        previous, new_hash = chain.GENESIS, {}
        for row in rows:
            digest = chain.entry_hash(previous, chain.fields_of(SimpleNamespace(**row._mapping)))
            if digest != row.hash:
                new_hash[row.hash] = digest
                connection.execute(ENTRY.update().where(ENTRY.c.id == row.id).values(prev_hash=previous, hash=digest))
            previous = digest
        if heads:
            for old, new in new_hash.items():
                connection.execute(PERIOD.update().where(PERIOD.c.head_hash == old).values(head_hash=new))
        if signoffs:
            for old, new in new_hash.items():
                connection.execute(SIGNOFF.update().where(SIGNOFF.c.head_hash == old).values(head_hash=new))
        if audit:
            for audit_id, after in connection.execute(select(AUDIT.c.id, AUDIT.c.after).where(
                    AUDIT.c.area == "ledger", AUDIT.c.action.in_(["post", "reverse"]))).all():
                if isinstance(after, dict) and after.get("hash") in new_hash:
                    connection.execute(AUDIT.update().where(AUDIT.c.id == audit_id).values(
                        after={**after, "hash": new_hash[after["hash"]]}))
    return run
