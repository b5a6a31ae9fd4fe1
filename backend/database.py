"""Engine settings that keep acknowledged data safe: SQLite in WAL mode with full sync."""

from __future__ import annotations

from functools import lru_cache
from operator import attrgetter, methodcaller

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


def _on_cursor(connection, method: str, sql: str, parameters, result=None):
    """Run ``sql`` on a DB-API cursor of ``connection`` (inside its transaction) and return
    ``result(cursor)`` (None without one). A driver error is raised as SQLAlchemy's own
    (``IntegrityError``...). Engine events (statement logging, counting) do not see it."""
    dialect = connection.dialect
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        getattr(cursor, method)(sql, parameters)
        return None if result is None else result(cursor)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error,
                                  dialect=dialect) from exc
    finally:
        cursor.close()


def run_on_cursor(method: str, sql: str, parameters, result=None):
    """`_on_cursor` on the session's connection."""
    return _on_cursor(db.session.connection(), method, sql, parameters, result)


_fetchone = methodcaller("fetchone")
_last_row_id = attrgetter("lastrowid")


def _first_column(cursor):
    return cursor.fetchone()[0]


@lru_cache(maxsize=64)
def compiled_once(statement, dialect) -> tuple[str, tuple, dict, dict]:
    """A Core statement compiled once per dialect: (SQL, its bind names in the order a
    positional driver takes them, the values it carries itself, bind processors by name)."""
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup if dialect.positional
                  else compiled.bind_names.values())
    own, processors = {}, {}
    for bind, name in compiled.bind_names.items():
        if not bind.required:
            own[name] = bind.effective_value
        processor = bind.type.bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    return compiled.string, names, own, processors


def bind_values(statement, dialect, values: dict, *,
                strict: bool = False) -> tuple[str, tuple | dict]:
    """The SQL of ``statement`` and its parameters for ``values`` (see `compiled_once`), as
    the driver takes them. ``strict`` refuses a value the statement has no bind for."""
    sql, names, own, processors = compiled_once(statement, dialect)
    if strict and not values.keys() <= set(names):
        raise ValueError(f"unknown bind values {sorted(values.keys() - set(names))}")
    params = {**own, **values}
    for name, processor in processors.items():
        params[name] = processor(params[name])
    return sql, tuple(params[name] for name in names) if dialect.positional else params


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
        result = None
        if self.returning and method == "execute":
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
            keys = [key for key, _ in processors]
            if later not in keys or dict(processors)[later] is not None:
                raise ValueError(f"{self.table.name}.{later} cannot be given later")
            slot = keys.index(later) if positional else later
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
    (a test compares the two); bind values are processed as `bind_values` does.

    For a query that runs on every request (the signed-in patient), where building an
    execution context and a result object costs as much as the query itself.
    """

    def __init__(self, statement) -> None:
        self.statement = statement
        self._columns: dict[str, list] = {}

    def _result_processors(self, dialect) -> list:
        found = self._columns.get(dialect.name)
        if found is None:
            found = self._columns[dialect.name] = [
                (column.key, column.type.dialect_impl(dialect).result_processor(dialect, None))
                for column in self.statement.selected_columns]
        return found

    def first(self, **values) -> dict | None:
        """The first row for these bind values, or None."""
        connection = db.session.connection()
        dialect = connection.dialect
        sql, parameters = bind_values(self.statement, dialect, values, strict=True)
        row = _on_cursor(connection, "execute", sql, parameters, _fetchone)
        if row is None:
            return None
        return {key: value if process is None else process(value)
                for (key, process), value in zip(self._result_processors(dialect), row,
                                                 strict=True)}
