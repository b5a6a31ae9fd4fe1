"""Engine settings that keep acknowledged data safe: SQLite in WAL mode with full sync."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import bindparam, event
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


class PlainInsert:
    """An INSERT of every column of a table, compiled once per dialect, run on the session's
    connection with each column type's own bind processor.

    This is what ``session.execute(table.insert(), values)`` does, without its per-call
    bookkeeping (ORM execution options, the compiled-cache lookup, building processed
    parameters through the execution context): about half of the cost of each of the three
    INSERTs of a submission. The values stored are the same, because the same compiler and
    the same type processors produce them (tests compare the stored rows). Every column but
    the primary key must be given: a column default would not be applied here.
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

    def execute(self, values: dict):
        """Insert one row; return its ``returning`` column (the new id) when asked for."""
        connection = db.session.connection()
        sql, processors, positional, returning = self._for(connection.dialect)
        result = connection.exec_driver_sql(sql, self._parameters(processors, positional,
                                                                  values))
        if self.returning:
            return result.scalar_one() if returning else result.lastrowid
        return None

    def executemany(self, rows: list[dict]) -> None:
        connection = db.session.connection()
        sql, processors, positional, _ = self._for(connection.dialect)
        connection.exec_driver_sql(sql, [self._parameters(processors, positional, row)
                                         for row in rows])
