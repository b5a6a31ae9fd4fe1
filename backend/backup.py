"""Online backup and restore of the SQLite database (PostgreSQL has pg_dump / pg_restore).

``backup`` uses SQLite's backup API in one step: it reads a consistent snapshot while the app
keeps writing (WAL readers do not block writers), so every answer committed before the backup
began is in the copy. The copy is written beside the target, checked, fsynced and renamed into
place, so a crash never leaves a half-written backup under the final name.

``restore`` checks the file first (``PRAGMA integrity_check`` and a known Alembic revision),
refuses to overwrite a database that holds data unless forced, copies it in through the same
API (which respects the live database's locks and WAL) and then migrates it to the current
schema if it is older.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from .errors import Problem

PG_HINT = ("ebb backup/restore work on SQLite. On PostgreSQL use the server's tools: "
           "pg_dump -Fc -f ebb.dump \"$DATABASE_URL\" and pg_restore --clean --if-exists "
           "-d \"$DATABASE_URL\" ebb.dump (see the README).")
#: Tables counted in the summary line (the ones people ask about after a restore).
COUNTED = ("clinics", "patients", "assessments", "score_values", "audit_events")


class BackupError(Problem):
    status = 400
    title = "Backup or restore refused"
    slug = "backup"


@dataclass
class Summary:
    path: Path
    revision: str | None
    counts: dict[str, int]

    def __str__(self) -> str:
        rows = ", ".join(f"{n} {t}" for t, n in self.counts.items())
        return f"{self.path}: schema {self.revision or 'none'}; {rows}"


def sqlite_path() -> Path:
    """The database file of the current app, or a clear refusal on another backend."""
    from .extensions import db

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise BackupError(PG_HINT)
    if not url.database or url.database == ":memory:":
        raise BackupError("The database is in memory; there is no file to back up.")
    return Path(url.database)


def _scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)


def _known_revisions() -> set[str]:
    return {rev.revision for rev in _scripts().walk_revisions()}


def _head() -> str:
    return _scripts().get_current_head()


def inspect_file(path: Path) -> Summary:
    """Open ``path`` read-only, check its integrity; return its revision and row counts."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = [row[0] for row in con.execute("PRAGMA integrity_check")]
            if check != ["ok"]:
                raise BackupError(f"{path} fails PRAGMA integrity_check: {'; '.join(check[:5])}")
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")}
            revision = None
            if "alembic_version" in tables:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
            counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                      for t in COUNTED if t in tables}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    return Summary(path, revision, counts)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(target: Path) -> Summary:
    """Write a consistent copy of the live database to ``target`` (replacing it atomically)."""
    source = sqlite_path()
    target = target.resolve()
    if target == source.resolve():
        raise BackupError("The backup cannot overwrite the database itself.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)  # pages=-1: one step, one consistent snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        dst.close()
        src.close()
    with open(partial, "rb+") as fh:
        os.fsync(fh.fileno())
    summary = inspect_file(partial)
    if summary.revision is None:
        partial.unlink()
        raise BackupError("The database has no schema version; run `ebb db upgrade` first.")
    os.replace(partial, target)
    _fsync_dir(target.parent)
    summary.path = target
    return summary


def is_empty(path: Path) -> bool:
    """No file, no tables, or no clinic: nothing anyone would miss."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    con = sqlite3.connect(path, timeout=30)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return "clinics" not in tables or con.execute(
            "SELECT COUNT(*) FROM clinics").fetchone()[0] == 0
    finally:
        con.close()


def restore(source: Path, *, force: bool = False) -> Summary:
    """Replace the app's database with a verified backup; migrate it if it is older."""
    from .extensions import db

    target = sqlite_path()
    summary = inspect_file(source)
    if summary.revision is None:
        raise BackupError(f"{source} has no Alembic version: not an Ebb database.")
    if summary.revision not in _known_revisions():
        raise BackupError(f"{source} is at schema {summary.revision}, which this version of "
                          "Ebb does not know (is it from a newer release?).")
    if not force and not is_empty(target):
        raise BackupError(f"{target} already holds data; stop the app and pass --force to "
                          "replace it.")
    db.engine.dispose()  # our own pooled connections must not hold old pages
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        check = [row[0] for row in dst.execute("PRAGMA integrity_check")]
    finally:
        dst.close()
        src.close()
    if check != ["ok"]:
        raise BackupError(f"The restored database fails integrity_check: {check[:5]}")
    if summary.revision != _head():
        from .cli import upgrade_db

        upgrade_db()
    return inspect_file(target)
