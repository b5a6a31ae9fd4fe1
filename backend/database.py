"""Engine settings that keep acknowledged data safe: SQLite in WAL mode with full sync."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import bindparam, event
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import IntegerConverter

from .dbtypes import MAX_ID
from .extensions import db


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: an id no column can hold is an unknown URL (404), not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before any route is added
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    synchronous = str(app.config["SQLITE_SYNCHRONOUS"]).upper()
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _on_cursor(connection, method: str, sql: str, parameters, result):
    """Run ``sql`` on a DB-API cursor of ``connection`` (inside its transaction) and return
    ``result(cursor)``. A driver error is raised as SQLAlchemy's own (``IntegrityError``...)."""
    dialect = connection.dialect
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        getattr(cursor, method)(sql, parameters)
        return result(cursor)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error,
                                  dialect=dialect) from exc
    finally:
        cursor.close()


def _nothing(cursor) -> None:
    return None


def _first_column(cursor):
    return cursor.fetchone()[0]


def _last_row_id(cursor):
    return cursor.lastrowid


def _fetchone(cursor):
    return cursor.fetchone()


class PlainInsert:
    """An INSERT of every column of a table, compiled once per dialect, run on the session's
    connection with each column type's own bind processor.

    This is what ``session.execute(table.insert(), values)`` does, without its per-call
    bookkeeping (ORM execution options, the compiled-cache lookup, an execution context and
    a result object): the statement goes to a DB-API cursor of the session's connection,
    inside the session's transaction. The values stored are the same, because the same
    compiler and the same type processors produce them (tests compare the stored rows). A
    driver error is raised as SQLAlchemy's own (``IntegrityError`` and so on), as
    ``session.execute`` would raise it. Every column but the primary key must be given: a
    column default would not be applied here.
    """

    def __init__(self, table, *, returning: str | None = None) -> None:
        self.table = table
        self.returning = returning
        self.keys = frozenset(c.key for c in table.c if not c.primary_key)
        self._compiled: dict[str, tuple] = {}

    def _for(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            columns = [c for c in self.table.c if c.key in self.keys]
            statement = self.table.insert().values({c.key: bindparam(c.key) for c in columns})
            returning = self.returning and dialect.insert_returning
            if returning:
                statement = statement.returning(self.table.c[self.returning])
            compiled = statement.compile(dialect=dialect)
            order = compiled.positiontup if dialect.positional else [c.key for c in columns]
            processors = [(key, self.table.c[key].type.dialect_impl(dialect)
                           .bind_processor(dialect)) for key in order]
            found = self._compiled[dialect.name] = (compiled.string, processors,
                                                    dialect.positional, returning)
        return found

    def _parameters(self, processors, positional: bool, values: dict):
        if values.keys() != self.keys:
            raise ValueError(f"{self.table.name}: give exactly the columns {sorted(self.keys)}; "
                             f"missing {sorted(self.keys - values.keys())}, "
                             f"unknown {sorted(values.keys() - self.keys)}")
        processed = [(key, values[key] if process is None else process(values[key]))
                     for key, process in processors]
        return tuple(v for _, v in processed) if positional else dict(processed)

    def _run(self, connection, method: str, parameters):
        sql, _, _, returning = self._for(connection.dialect)
        if not self.returning or method == "executemany":
            result = _nothing
        else:
            result = _first_column if returning else _last_row_id
        return _on_cursor(connection, method, sql, parameters, result)

    def execute(self, values: dict):
        """Insert one row; return its ``returning`` column (the new id) when asked for."""
        connection = db.session.connection()
        _, processors, positional, _ = self._for(connection.dialect)
        return self._run(connection, "execute",
                         self._parameters(processors, positional, values))

    def executemany(self, rows: list[dict]) -> None:
        self.prepare(rows).insert()

    def prepare(self, rows: list[dict], *, later: str | None = None) -> PreparedRows:
        """Rows with their values already processed, to insert with ``.insert(value)``.

        ``later`` names a column whose value is not known yet (the id of a row inserted
        first) and is filled in by ``insert``; its type must have no bind processor. This
        lets a caller do all the work before its first write, so that on SQLite the write
        lock is held for the statements and the commit alone.
        """
        connection = db.session.connection()
        _, processors, positional, _ = self._for(connection.dialect)
        slot = None
        if later is not None:
            slot = dict(processors)
            if later not in slot or slot[later] is not None:
                raise ValueError(f"{self.table.name}.{later} cannot be given later")
            slot = [key for key, _ in processors].index(later) if positional else later
        parameters = [self._parameters(processors, positional, row) for row in rows]
        return PreparedRows(self, parameters, slot)


class PreparedRows:
    """What :meth:`PlainInsert.prepare` returns: processed rows waiting for their insert."""

    def __init__(self, plain: PlainInsert, parameters: list, slot) -> None:
        self.plain, self.parameters, self.slot = plain, parameters, slot

    def insert(self, value=None):
        """Insert the rows (``value`` in the ``later`` column); one row returns what
        ``PlainInsert.execute`` returns."""
        parameters, slot = self.parameters, self.slot
        if slot is not None:
            if isinstance(slot, int):
                parameters = [(*p[:slot], value, *p[slot + 1:]) for p in parameters]
            else:
                parameters = [p | {slot: value} for p in parameters]
        connection = db.session.connection()
        if len(parameters) == 1:
            return self.plain._run(connection, "execute", parameters[0])
        if parameters:
            self.plain._run(connection, "executemany", parameters)
        return None


class PlainSelect:
    """A SELECT built once, run like :class:`PlainInsert` on a DB-API cursor of the session's
    connection. Rows come back as dicts keyed by the selected columns' keys, each value through
    its column type's own result processor, as ``session.execute(statement)`` returns them
    (a test compares the two); bind values go through their types' bind processors.

    For a query that runs on every request (the signed-in patient), where building an
    execution context and a result object costs as much as the query itself.
    """

    def __init__(self, statement) -> None:
        self.statement = statement
        self._names = frozenset(statement.compile().binds)
        self._compiled: dict[str, tuple] = {}

    def _for(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            names = (compiled.positiontup if dialect.positional
                     else list(compiled.bind_names.values()))
            binds = compiled.binds  # name -> BindParameter: its value is the default
            params = [(name, binds[name].effective_value, binds[name].type.dialect_impl(dialect)
                       .bind_processor(dialect)) for name in names]
            columns = [(column.key, column.type.dialect_impl(dialect)
                        .result_processor(dialect, None))
                       for column in self.statement.selected_columns]
            found = self._compiled[dialect.name] = (compiled.string, params, columns,
                                                    dialect.positional)
        return found

    def first(self, **values) -> dict | None:
        """The first row for these bind values, or None."""
        connection = db.session.connection()
        sql, params, columns, positional = self._for(connection.dialect)
        if not values.keys() <= self._names:
            raise ValueError(f"unknown bind values {sorted(values.keys() - self._names)}")
        processed = [(name, values.get(name, default) if process is None
                      else process(values.get(name, default)))
                     for name, default, process in params]
        parameters = tuple(v for _, v in processed) if positional else dict(processed)
        row = _on_cursor(connection, "execute", sql, parameters, _fetchone)
        if row is None:
            return None
        return {key: value if process is None else process(value)
                for (key, process), value in zip(columns, row, strict=True)}
