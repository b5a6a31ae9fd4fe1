"""SQLite writers of one database take turns through a file lock.

SQLite lets one writer in at a time. A second writer that finds the lock taken gets
SQLITE_BUSY and its busy handler sleeps (1, 2, 5, 10 ms...) before it tries again, so with
several app workers a write waits on average longer than the lock was actually held. Here a
connection takes an exclusive ``flock`` on ``<database>-writer.lock`` just before its first
write of a transaction and gives it back after the commit or rollback: a waiting worker
sleeps in the kernel and wakes the moment the turn is free. Readers never take a turn (WAL
lets them read while a write goes on). Processes that do not use this connection class (the
``sqlite3`` shell, a backup) still meet SQLite's own lock and busy timeout, as before.

Used as ``sqlite3.connect(..., factory=TurnTakingConnection)`` through the engine's
``connect_args``. Standard library only.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3

#: Statements that need SQLite's write lock (pysqlite opens its transaction before these).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _is_write(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(_WRITES)


class _TurnCursor(sqlite3.Cursor):
    def _run(self, method, sql, arguments):
        connection = self.connection
        if _is_write(sql):
            connection.take_turn()
        try:
            return method(self, sql, arguments)
        finally:
            if not connection.in_transaction:  # autocommit, or the statement failed to begin
                connection.end_turn()

    def execute(self, sql, parameters=(), /):
        return self._run(sqlite3.Cursor.execute, sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self._run(sqlite3.Cursor.executemany, sql, seq_of_parameters)


class TurnTakingConnection(sqlite3.Connection):
    """A ``sqlite3.Connection`` whose write transactions queue on a file lock."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        path = os.fspath(database)
        if isinstance(path, bytes):
            path = path.decode()
        in_memory = path in ("", ":memory:") or path.startswith("file:")
        self._turn_path = None if in_memory else path + "-writer.lock"
        self._turn_fd: int | None = None
        self._holding = False

    def cursor(self, factory=_TurnCursor):
        return super().cursor(factory)

    def execute(self, sql, parameters=(), /):  # the shortcut, routed through our cursor
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def take_turn(self) -> None:
        if self._holding or self._turn_path is None:
            return
        if self._turn_fd is None:
            self._turn_fd = os.open(self._turn_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._turn_fd, fcntl.LOCK_EX)
        self._holding = True

    def end_turn(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def commit(self):
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self):
        try:
            super().close()
        finally:
            self.end_turn()
            if self._turn_fd is not None:
                os.close(self._turn_fd)
                self._turn_fd = None
