"""Assessment submissions under gunicorn against a bare Flask insert, in the same run.

Run: python -m bench.submissions [--connections 16] [--requests 3000] [--seconds 20]

For SQLite (WAL, synchronous=FULL) and, when a server answers, PostgreSQL: start gunicorn
(2 sync workers) with the bare app (validate 10 integers, insert one row into the same
database) and with Ebb, then load them in turns from 16 threads over loopback (the first 50
requests of each round are not counted): the bare ``POST /submit`` and Ebb's
``POST /api/v1/assessments`` (a PHQ-9 from 16 enrolled patients, each with its own session
cookie and CSRF token). Prints requests/s, p50/p99 latency, the ratio Ebb / bare and each
round's own ratio. Targets: ratio >= 0.5, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.load import Session, gunicorn, run_load, summarize

QUICK = True
#: Bare and Ebb take turns this many times; each turn gets 1/ROUNDS of the budget.
ROUNDS = 4
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/ebb_bench"


def pg_available() -> bool:
    if shutil.which("pg_isready") is None:
        return False
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0


def fresh_pg() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS ebb_bench WITH (FORCE)")
        con.execute("CREATE DATABASE ebb_bench")
    return PG_BENCH


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from backend import create_app
    from backend.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        from backend.clinics.service import create_clinic
        from backend.users.service import create_user

        clinic = create_clinic(name="Bench", slug="bench")
        create_user(clinic.id, "bench@clinic.test", "bench password 1", role="clinician")
        db.session.commit()
        db.engine.dispose()


def phq9(rng: random.Random) -> dict:
    return {f"phq9_{i}": rng.randint(0, 3) for i in range(1, 9)} | {"phq9_9": 0}


def measure(url: str, connections: int, max_requests: int, max_seconds: float,
            pin: bool = False) -> dict:
    bare_target = url if url.startswith("postgresql") else url.removeprefix("sqlite:///")
    from bench.bare_app import create_table

    create_table(bare_target)
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": "false",
           "SQLITE_SYNCHRONOUS": "FULL", "BARE_DATABASE": bare_target, "EBB_ENV": "development"}
    rng = random.Random(7)
    values = [[rng.randint(0, 10) for _ in range(10)] for _ in range(64)]

    with gunicorn("bench.bare_app:app", env, pin=pin) as bare_port, \
            gunicorn("backend.wsgi:app", env, ready_path="/api/v1/instruments", pin=pin) as port:
        bare_clients = [Session(bare_port) for _ in range(connections)]

        def bare(state, i):
            status, _ = state.call("POST", "/submit", {"values": values[i % 64]})
            return status

        staff = Session(port)
        staff.call("POST", "/api/v1/auth/login", {"email": "bench@clinic.test",
                                                  "password": "bench password 1"})
        phones = []
        for _ in range(connections):
            _, created = staff.call("POST", "/api/v1/patients", {})
            phone = Session(port)
            status, _ = phone.call("POST", "/api/v1/enroll", {"token": created["invite"]["token"]})
            assert status == 201, status
            phones.append(phone)
        now = datetime.now(UTC).isoformat()

        def submit(state, i):
            status, _ = state.call("POST", "/api/v1/assessments", {
                "client_uuid": str(uuid.uuid4()), "instrument_id": "phq9",
                "answers": phq9(rng), "completed_at": now})
            return status

        # Alternate short rounds, so a burst of load from elsewhere hits both sides alike.
        bare_rounds, app_rounds = [], []
        cpu = {"bare": 0.0, "ebb": 0.0}
        for _ in range(ROUNDS):
            for name, server, rounds, clients, fn in (
                    ("bare", bare_port, bare_rounds, bare_clients, bare),
                    ("ebb", port, app_rounds, phones, submit)):
                before = server.cpu_seconds()
                rounds.append(run_load(clients, fn, max_requests=max_requests // ROUNDS,
                                       max_seconds=max_seconds / ROUNDS))
                cpu[name] += server.cpu_seconds() - before
    bare_result, app_result = summarize(bare_rounds), summarize(app_rounds)
    # Server CPU per request (gunicorn master and workers, warm-up included): less sensitive
    # to other load on the machine than requests/s, and it says where a gap comes from.
    for result, rounds, name in ((bare_result, bare_rounds, "bare"),
                                 (app_result, app_rounds, "ebb")):
        served = sum(sum(r["statuses"].values()) for r in rounds)
        result["server_cpu_ms"] = round(cpu[name] / served * 1000, 2) if served else None
    ratio = app_result["rps"] / bare_result["rps"] if bare_result["rps"] else None
    # Each round's own ratio: how far apart they are says how much the machine moved.
    pairs = [(_rps(a), _rps(b)) for a, b in zip(app_rounds, bare_rounds, strict=True)]
    per_round = [round(a / b, 3) if a and b else None for a, b in pairs]
    ratio_met = bool(ratio and ratio >= 0.5)
    p99_met = app_result["p99_ms"] is not None and app_result["p99_ms"] < 50
    return {"bare": bare_result, "ebb": app_result,
            "ratio": round(ratio, 3) if ratio else None, "round_ratios": per_round,
            "ratio_met": ratio_met, "p99_met": p99_met, "meets_targets": ratio_met and p99_met}


def _rps(run: dict) -> float | None:
    return len(run["latencies"]) / run["seconds"] if run["seconds"] else None


def _line(name: str, r: dict) -> str:
    return (f"  {name:<5} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  "
            f"p99 {r['p99_ms']:6.1f} ms  server CPU {r['server_cpu_ms']:.2f} ms/request  "
            f"({r['requests']} requests, statuses {r['statuses']})")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--quick", action="store_true", help="1,000 requests, 8 s per phase")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--pin-workers", action="store_true",
                        help="each gunicorn worker on its own core, for both servers (a "
                             "diagnostic: not the conditions of the target)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.seconds = 1000, 8
    out: dict = {"connections": args.connections, "workers": 2,
                 "pinned_workers": args.pin_workers}
    folder = Path(tempfile.mkdtemp(prefix="ebb-bench-submit-"))
    try:
        sqlite_url = f"sqlite:///{folder / 'bench.sqlite3'}"
        migrate(sqlite_url)
        out["sqlite"] = measure(sqlite_url, args.connections, args.requests, args.seconds,
                                args.pin_workers)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not args.no_postgres and pg_available():
        url = fresh_pg()
        migrate(url)
        out["postgresql"] = measure(url, args.connections, args.requests, args.seconds,
                                    args.pin_workers)
    else:
        out["postgresql"] = "skipped: no server on 127.0.0.1:5432"
    heads = []
    for db in ("sqlite", "postgresql"):
        r = out[db]
        if isinstance(r, str):
            print(f"{db}: {r}")
            continue
        pinned = ", workers pinned one per core: not the target's conditions" \
            if args.pin_workers else ""
        print(f"{db} (2 sync workers, {args.connections} connections{pinned}):")
        print(_line("bare", r["bare"]))
        print(_line("ebb", r["ebb"]))
        verdict = {True: "met", False: "NOT met"}
        print(f"  ratio ebb/bare {r['ratio']:.2f} (target >= 0.5: {verdict[r['ratio_met']]}); "
              f"p99 {r['ebb']['p99_ms']:.0f} ms (target < 50 ms: {verdict[r['p99_met']]}); "
              "each round: " + " ".join(f"{x:.2f}" for x in r["round_ratios"] if x is not None))
        heads.append(f"{db} {r['ebb']['rps']:.0f}/s = {r['ratio']:.2f}x bare, "
                     f"p99 {r['ebb']['p99_ms']:.0f} ms")
    out["headline"] = "; ".join(heads)
    return out


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
