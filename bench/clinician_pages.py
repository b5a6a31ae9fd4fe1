"""Clinician pages through the whole app (routing, session, queries, SVG, templates) on SQLite.

Run: python -m bench.clinician_pages [--patients 1000] [--repeat 15]

Builds a migrated SQLite database: one patient with two years of daily answers on four
instruments (nrs_pain, nrs_fatigue, nrs_sleep, peg) and 30 doses, plus N cohort patients with
50 daily pain scores and 3 doses each. A signed-in test client then times (median of
--repeat, the pages taken in turn) the bare sign-in page (the baseline: same app, same run),
the long patient's page (default 90-day charts, and all two years), the patient list and the
cohort page. Prints
milliseconds, ratios to the baseline and the SQL statements per page.

Targets: patient page <= 150 ms and <= 10x the bare page; cohort page for 1,000 patients
<= 1 s.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
FMT = "%Y-%m-%d %H:%M:%S.%f"
LONG = ("nrs_pain", "nrs_fatigue", "nrs_sleep", "peg")
PASSWORD = "bench password long"


def _ts(at: datetime) -> str:
    return at.strftime(FMT)


def build(path: Path, patients: int):
    from flask_migrate import upgrade

    from backend import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "SQLITE_SYNCHRONOUS": "OFF", "RATELIMIT_ENABLED": False,
                      "PUBLIC_BASE_URL": "http://bench.test"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        from backend.clinics.service import create_clinic
        from backend.extensions import db
        from backend.users.service import create_user

        clinic = create_clinic(name="Bench", slug="bench")
        db.session.flush()
        create_user(clinic.id, "bench@clinic.test", PASSWORD)
        db.session.commit()
        clinic_id = clinic.id
    rng = random.Random(1)
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    long_pid = patients + 1
    start = NOW - timedelta(days=730)
    con.executemany(
        "INSERT INTO patients (id, clinic_id, code, timezone, language, status, created_at, "
        "enrolled_at) VALUES (?, ?, ?, 'UTC', 'en', 'active', ?, ?)",
        [(i, clinic_id, f"B{i:06d}", _ts(start), _ts(start)) for i in range(1, patients + 2)])
    doses, assessments, scores = [], [], []

    def answer(pid: int, instrument: str, at: datetime, answers: dict, values: dict):
        aid = len(assessments) + 1
        assessments.append((aid, clinic_id, pid, instrument, "1.0", "1", json.dumps(answers),
                            json.dumps({"scores": {k: {"value": v} for k, v in values.items()},
                                        "complete": True}),
                            1, _ts(at), _ts(at), str(uuid.uuid4()), "patient", ""))
        for score_id, value in values.items():
            scores.append((len(scores) + 1, aid, clinic_id, pid, instrument, score_id, value,
                           _ts(at)))

    for pid in range(1, patients + 1):
        t0 = NOW - timedelta(days=60)
        for d in range(3):
            doses.append((pid * 100 + d, clinic_id, pid, "ketamine", 0.5, "mg/kg", "IV",
                          _ts(t0 + timedelta(days=7 + d * 14)), f"c{d}", 1, ""))
        base = rng.uniform(5, 9)
        for k in range(50):
            at = t0 + timedelta(days=k, hours=rng.randint(0, 12))
            v = round(max(0.0, base * (0.6 if k % 14 < 4 and k > 7 else 1.0)
                          + rng.gauss(0, 0.5)))
            answer(pid, "nrs_pain", at, {"nrs_pain_1": v}, {"score": v})
    for d in range(30):
        doses.append((100 * long_pid + d, clinic_id, long_pid, "ketamine", 0.5, "mg/kg", "IV",
                      _ts(start + timedelta(days=3 + d * 24)), f"m{d}", 1, ""))
    for k in range(730):
        at = start + timedelta(days=k, hours=8)
        for instrument in LONG:
            if instrument == "peg":
                items = [rng.randint(2, 8) for _ in range(3)]
                answer(long_pid, "peg", at, dict(zip(("peg_1", "peg_2", "peg_3"), items,
                                                     strict=True)),
                       {"total": round(sum(items) / 3, 1)})
            else:
                v = rng.randint(2, 8)
                answer(long_pid, instrument, at, {f"{instrument}_1": v}, {"score": v})
    con.executemany("INSERT INTO treatments (id, clinic_id, patient_id, drug, dose, dose_unit, "
                    "route, given_at, course, session_number, notes, created_at) "
                    f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{_ts(start)}')", doses)
    con.executemany("INSERT INTO assessments (id, clinic_id, patient_id, instrument_id, "
                    "instrument_version, scoring_version, answers, scores, complete, "
                    "completed_at, received_at, client_uuid, source, note) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", assessments)
    con.executemany("INSERT INTO score_values (id, assessment_id, clinic_id, patient_id, "
                    "instrument_id, score_id, value, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    scores)
    con.commit()
    con.close()
    return app, long_pid


def count_queries(app, client, url: str) -> int:
    from sqlalchemy import event

    from backend.extensions import db

    with app.app_context():
        engine = db.engine
    seen = []

    def before(*args, **kwargs):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", before)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="ebb-bench-pages-"))
    app, long_pid = build(folder / "bench.sqlite3", args.patients)
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"email": "bench@clinic.test",
                                                "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    pages = {
        "bare sign-in page (/login)": "/login",
        "patient page, 2 y x 4 instruments, 30 doses (90-day charts)":
            f"/clinic/patients/{long_pid}",
        "patient page, same, charts of all 2 years": f"/clinic/patients/{long_pid}?range=all",
        f"patient list ({args.patients + 1} patients, 2 verdict columns)": "/clinic/patients",
        f"cohort page ({args.patients + 1} patients)": "/clinic/cohort",
    }
    for url in pages.values():  # warm up: templates compiled, caches filled
        client.get(url)
    # Round robin, so that load from elsewhere on the machine hits every page alike.
    times: dict[str, list[float]] = {name: [] for name in pages}
    sizes: dict[str, int] = {}
    for _ in range(args.repeat):
        for name, url in pages.items():
            start = time.perf_counter()
            response = client.get(url)
            times[name].append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
            sizes[name] = len(response.data)
    results = {name: {"url": url, "ms": statistics.median(times[name]) * 1000,
                      "kb": sizes[name] / 1024, "queries": count_queries(app, client, url)}
               for name, url in pages.items()}
    bare = results["bare sign-in page (/login)"]["ms"]
    for name, r in results.items():
        print(f"{name:62s} {r['ms']:8.1f} ms  {r['ms'] / bare:6.1f}x bare  "
              f"{r['kb']:7.0f} KB  {r['queries']:3d} queries")
    patient = results["patient page, 2 y x 4 instruments, 30 doses (90-day charts)"]["ms"]
    cohort = results[f"cohort page ({args.patients + 1} patients)"]["ms"]
    print(f"targets: patient page <= 150 ms ({patient:.0f} ms) and <= 10x bare "
          f"({patient / bare:.1f}x); cohort page <= 1000 ms ({cohort:.0f} ms)")
    with app.app_context():
        from backend.extensions import db

        db.engine.dispose()
    return results


if __name__ == "__main__":
    main()
