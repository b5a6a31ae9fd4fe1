"""Cohort and patient outcomes through the app on SQLite, against a plain SQL scan.

Run: python -m bench.outcomes_db [--patients 10000] [--points 50]

Builds a migrated SQLite database with N patients x M daily scores and 3 doses each, then
times (best of 3): a plain sqlite3 scan of the same score rows (the baseline), the app's
cohort outcomes (read + evaluate + summarize) at N and 2N patients, and one patient's
outcomes over two years of daily answers with 30 doses. Prints seconds and ratios; the
targets are <= 1 s and <= 5x the scan at 10,000 x 50, <= 2.2x growth for 2x data, and
<= 20 ms for the single patient.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

T0 = datetime(2025, 1, 1, 9, tzinfo=UTC)


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def build(path: Path, patients: int, points: int, extra_patient_days: int = 0):
    from flask_migrate import upgrade

    from backend import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "SQLITE_SYNCHRONOUS": "OFF"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        from backend.clinics.service import create_clinic
        from backend.extensions import db

        clinic = create_clinic(name="Bench", slug="bench")
        db.session.commit()
        clinic_id = clinic.id
    rng = random.Random(1)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    con.executemany("INSERT INTO patients (id, clinic_id, code, timezone, language, status, "
                    "created_at) VALUES (?, ?, ?, 'UTC', 'en', 'active', ?)",
                    [(i, clinic_id, f"B{i:06d}", T0.strftime(fmt)) for i in range(1, patients + 2)])
    doses, scores = [], []
    sid = 0
    for pid in range(1, patients + 1):
        for d in range(3):
            doses.append((pid * 10 + d, clinic_id, pid, "ketamine", 0.5, "mg/kg", "IV",
                          (T0 + timedelta(days=7 + d * 14)).strftime(fmt), f"c{d}", 1, ""))
        base = rng.uniform(5, 9)
        for k in range(points):
            sid += 1
            at = T0 + timedelta(days=k, hours=rng.randint(0, 12))
            value = max(0.0, base * (0.7 if k % 14 < 4 and k > 7 else 1.0) + rng.gauss(0, 0.5))
            scores.append((sid, sid, clinic_id, pid, "nrs_pain", "score", round(value),
                           at.strftime(fmt)))
    # One long-followed patient: two years of daily answers, 30 doses.
    long_pid = patients + 1
    for d in range(30):
        doses.append((10 * long_pid + d, clinic_id, long_pid, "ketamine", 0.5, "mg/kg", "IV",
                      (T0 + timedelta(days=3 + d * 24)).strftime(fmt), f"m{d}", 1, ""))
    for k in range(730):
        sid += 1
        scores.append((sid, sid, clinic_id, long_pid, "nrs_pain", "score",
                       rng.randint(2, 8), (T0 + timedelta(days=k, hours=8)).strftime(fmt)))
    con.executemany("INSERT INTO treatments (id, clinic_id, patient_id, drug, dose, dose_unit, "
                    "route, given_at, course, session_number, notes, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2025-01-01 00:00:00.000000')",
                    doses)
    con.executemany("INSERT INTO score_values (id, assessment_id, clinic_id, patient_id, "
                    "instrument_id, score_id, value, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", scores)
    con.commit()
    con.close()
    return app, clinic_id, long_pid


def measure(patients: int, points: int) -> dict:
    from backend.extensions import db
    from backend.patients.models import Patient
    from backend.rules import evaluation, service

    folder = Path(tempfile.mkdtemp(prefix="ebb-bench-"))
    path = folder / "bench.sqlite3"
    app, clinic_id, long_pid = build(path, patients, points)

    def scan():
        con = sqlite3.connect(path)
        rows = con.execute("SELECT patient_id, at, value, assessment_id, in_window "
                           "FROM score_values WHERE clinic_id = ? AND instrument_id = "
                           "'nrs_pain' AND score_id = 'score'", (clinic_id,)).fetchall()
        con.close()
        return rows

    with app.app_context():
        rule = service.get_rule(clinic_id, "nrs-pain-pain-reduced-by-30-or-more")

        def cohort():
            result = evaluation.cohort_outcomes(clinic_id, rule)
            json.dumps(result)
            db.session.rollback()

        patient = db.session.get(Patient, long_pid)

        def one_patient():
            evaluation.patient_outcomes(patient, rule)
            db.session.rollback()

        out = {"patients": patients, "points": points, "scan_s": best(scan),
               "cohort_s": best(cohort), "patient_2y_s": best(one_patient, 5)}
        db.engine.dispose()
    out["cohort_vs_scan"] = out["cohort_s"] / out["scan_s"]
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=50)
    args = parser.parse_args(argv)
    small = measure(args.patients, args.points)
    large = measure(args.patients * 2, args.points)
    result = {"small": small, "large": large, "growth": large["cohort_s"] / small["cohort_s"]}
    for r in (small, large):
        print(f"{r['patients']:>6} patients x {r['points']} scores: scan {r['scan_s']:.3f} s, "
              f"cohort outcomes {r['cohort_s']:.3f} s ({r['cohort_vs_scan']:.1f}x scan; "
              f"target <= 1 s and <= 5x at 10,000), one patient 2 y daily "
              f"{r['patient_2y_s'] * 1000:.1f} ms (target <= 20 ms)")
    print(f"growth for 2x data: {result['growth']:.2f}x (target <= 2.2x)")
    return result


if __name__ == "__main__":
    main()
