"""The baseline: a bare Flask endpoint that validates 10 integers and inserts one row.

Served by gunicorn exactly like Ebb (same workers, same database file or server, same
``synchronous`` setting), so ``submissions / bare`` measures what Ebb's own work costs.
Run: ``gunicorn bench.bare_app:app`` with ``BARE_DATABASE`` set to a SQLite path or a
``postgresql://`` URL.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from flask import Flask, jsonify, request

TABLE = "bench_bare"
_local = threading.local()


def _connect():
    target = os.environ["BARE_DATABASE"]
    if target.startswith("postgresql"):
        import psycopg

        return psycopg.connect(target.replace("postgresql+psycopg", "postgresql"))
    con = sqlite3.connect(target, timeout=30, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={os.environ.get('SQLITE_SYNCHRONOUS', 'FULL')}")
    return con


def create_table(target: str) -> None:
    os.environ["BARE_DATABASE"] = target
    con = _connect()
    pk = "SERIAL" if not isinstance(con, sqlite3.Connection) else "INTEGER"
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id {pk} PRIMARY KEY, "
                "a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER, "
                "f INTEGER, g INTEGER, h INTEGER, i INTEGER, j INTEGER)")
    con.commit()
    con.close()


def connection():
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = _connect()
    return con


app = Flask(__name__)


@app.post("/submit")
def submit():
    body = request.get_json(silent=True)
    values = body.get("values") if isinstance(body, dict) else None
    if (not isinstance(values, list) or len(values) != 10
            or not all(isinstance(v, int) and 0 <= v <= 10 for v in values)):
        return jsonify(error="need 10 integers 0..10"), 422
    con = connection()
    marks = ", ".join(["?" if isinstance(con, sqlite3.Connection) else "%s"] * 10)
    if isinstance(con, sqlite3.Connection):
        con.execute("BEGIN IMMEDIATE")
        cur = con.execute(f"INSERT INTO {TABLE} (a, b, c, d, e, f, g, h, i, j) "
                          f"VALUES ({marks})", values)
        con.execute("COMMIT")
        new_id = cur.lastrowid
    else:
        new_id = con.execute(f"INSERT INTO {TABLE} (a, b, c, d, e, f, g, h, i, j) "
                             f"VALUES ({marks}) RETURNING id", values).fetchone()[0]
        con.commit()
    return jsonify(id=new_id), 201
