"""SQLite writers take turns on a file lock; readers never wait for it."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

from backend.sqlite_turns import TurnTakingConnection


def connect(path):
    con = sqlite3.connect(path, factory=TurnTakingConnection, timeout=30,
                          check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    return con


def turn_is_taken(path) -> bool:
    """Whether some connection holds the writers' turn (a non-blocking probe of the lock)."""
    fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing also releases the probe's own lock
    return False


def test_a_second_writer_waits_for_the_first_to_commit_and_readers_do_not(tmp_path):
    path = tmp_path / "db.sqlite3"
    first, second, reader = connect(path), connect(path), connect(path)
    first.execute("CREATE TABLE t (x INTEGER)")
    first.commit()

    first.execute("INSERT INTO t VALUES (1)")  # the turn is taken, the transaction open
    assert first.in_transaction
    assert turn_is_taken(path)
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # no wait to read

    wrote = threading.Event()

    def write():
        second.execute("INSERT INTO t VALUES (2)")
        wrote.set()
        second.commit()

    thread = threading.Thread(target=write)
    thread.start()
    assert not wrote.wait(0.3)  # queued behind the first writer's turn
    first.commit()
    assert wrote.wait(10)
    thread.join(10)
    assert not turn_is_taken(path)  # the second writer committed and gave it back
    assert sorted(r[0] for r in reader.execute("SELECT x FROM t")) == [1, 2]
    assert (tmp_path / "db.sqlite3-writer.lock").exists()


def test_a_rollback_or_a_failed_write_gives_the_turn_back(tmp_path):
    path = tmp_path / "db.sqlite3"
    first, second = connect(path), connect(path)
    first.execute("CREATE TABLE t (x INTEGER UNIQUE)")
    first.commit()
    first.execute("INSERT INTO t VALUES (1)")
    first.rollback()
    assert not turn_is_taken(path)
    second.execute("INSERT INTO t VALUES (1)")  # would block forever if the turn were kept
    second.commit()
    try:
        first.execute("INSERT INTO t VALUES (1)")
    except sqlite3.IntegrityError:
        first.rollback()
    second.execute("INSERT INTO t VALUES (2)")
    second.commit()
    first.close()
    second.execute("INSERT INTO t VALUES (3)")
    second.commit()


def test_writes_outside_a_transaction_and_in_memory_databases_keep_no_turn(tmp_path):
    path = tmp_path / "db.sqlite3"
    auto = sqlite3.connect(path, factory=TurnTakingConnection, isolation_level=None)
    other = connect(path)
    auto.execute("CREATE TABLE t (x INTEGER)")
    auto.execute("INSERT INTO t VALUES (1)")  # autocommit: the turn ends with the statement
    other.execute("INSERT INTO t VALUES (2)")
    other.commit()
    memory = sqlite3.connect(":memory:", factory=TurnTakingConnection)
    memory.execute("CREATE TABLE t (x INTEGER)")
    memory.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
    memory.commit()
    assert memory.execute("SELECT count(*) FROM t").fetchone() == (2,)
