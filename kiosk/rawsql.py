"""SQLAlchemy statements compiled once per dialect and sent straight to the DBAPI cursor.

For the hottest write path only (the fast vote, kiosk/consult/fastvote.py): measured on this machine, SQLAlchemy's
execution of a compiled, cached statement costs about 30 µs on SQLite and 80 µs on PostgreSQL, several times the
statement's own time, and a ballot sends five of them. The statements stay SQLAlchemy constructs, written once;
what is skipped is the per-execution machinery (cache key, execution context, events, result objects). What it
does for us is kept: every parameter and result column goes through its type's own processors for the dialect
(dates, JSON, booleans, enums), as Connection.execute would.

Not for general use: no events fire (kiosk.database's guards included), so a caller manages its own transaction,
and `send` is the one place every statement passes through (tests watch it there).
"""
import collections

from sqlalchemy import event
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase


def send(cursor, sql, parameters=()):
    """Send one statement; the single point every statement of this module goes through."""
    return cursor.execute(sql, parameters)


class Compiled:
    """One statement compiled for one dialect, with its parameters' and result columns' type processors."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        if compiled.escaped_bind_names or "POSTCOMPILE" in self.sql:
            raise ValueError("a statement with escaped or post-compiled parameters is not sent raw")
        self.positions = tuple(compiled.positiontup) if dialect.positional else None
        self.required = frozenset(name for name, bind in compiled.binds.items() if bind.required)
        self.defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        self.binders = tuple((name, processor) for name, bind in compiled.binds.items()
                             if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None)
        if isinstance(statement, Select):
            columns = [(column.key, column.type) for column in statement.selected_columns]
        elif isinstance(statement, UpdateBase):
            columns = [(found["name"], found["type"]) for found in statement.returning_column_descriptions]
        else:
            columns = []
        self.names = tuple(name for name, _ in columns)
        self.readers = tuple(kind.dialect_impl(dialect).result_processor(dialect, None) for _, kind in columns)
        self.row = collections.namedtuple("Row", self.names) if columns else None

    def parameters(self, values):
        """The DBAPI parameters for these values (by bind name), processed as SQLAlchemy would; a value missing
        for a parameter of the statement's own is an error, not NULL."""
        if not self.required <= values.keys():
            raise KeyError(f"no value for {sorted(self.required - values.keys())} in {self.sql.split()[0]}")
        bound = dict(self.defaults)
        bound.update(values)
        for name, processor in self.binders:
            bound[name] = processor(bound[name])
        if self.positions is None:
            return bound
        return tuple(bound[name] for name in self.positions)

    def run(self, cursor, values=None):
        """Send the statement; return the cursor (for rowcount, or `rows`)."""
        return send(cursor, self.sql, self.parameters(values or {}))

    def rows(self, cursor, values=None):
        """Send a statement that returns rows; return them as named tuples, each column's type processed."""
        found = self.run(cursor, values).fetchall()
        readers, make = self.readers, self.row._make
        return [make(value if reader is None else reader(value) for reader, value in zip(readers, row))
                for row in found]


class Kept:
    """DBAPI connections taken from an engine's pool once and kept for this path, without the pool's checkout
    (on PostgreSQL the engine pings the server on every checkout: a round trip per ballot). A connection that
    died since (a server restart) fails its next statement; the caller falls through to the Flask view, whose
    checkout pings, and this connection is dropped when it comes back. All are dropped when the engine's pool is
    replaced (Engine.dispose: a restored database file, a fork)."""

    def __init__(self, engine, keep):
        self.engine = engine
        self.keep = keep
        self._pool = engine.pool
        self._idle = collections.deque()
        event.listen(engine, "engine_disposed", self._drop_idle)

    def _drop_idle(self, engine=None):
        while self._idle:
            try:
                connection = self._idle.pop()
            except IndexError:  # taken meanwhile
                return
            _close(connection)

    def take(self, opening):
        """An idle kept connection, or a new one taken out of the engine's pool, inside the context manager
        `opening()` (the app's context, where kiosk.database's connect settings read its configuration)."""
        if self.engine.pool is not self._pool:
            self._pool = self.engine.pool
            self._drop_idle()
        try:
            return self._idle.pop()
        except IndexError:
            with opening():
                pooled = self.engine.raw_connection()
            pooled.detach()  # ours now: the pool opens another in its place when it needs one
            return pooled.dbapi_connection

    def give_back(self, connection):
        """Keep the connection for the next ballot, with nothing left open (a rollback is a no-op when nothing
        is); close it when that fails, when enough are idle, or when the engine's pool was replaced."""
        try:
            connection.rollback()
        except Exception:  # noqa: BLE001 - a connection that died: dropped, its trouble was answered already
            _close(connection)
            return
        if self.engine.pool is self._pool and len(self._idle) < self.keep:
            self._idle.append(connection)
        else:
            _close(connection)


def _close(connection):
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a dead connection: nothing more to do
        pass
