"""Under retries, dropped connections and a worker killed mid-run, no answer is lost or doubled.

Several phones submit at once against gunicorn. Each phone retries a submission with the same
client UUID until it is acknowledged (201 or 200), sometimes sends it and hangs up before the
answer, and sometimes repeats an acknowledged one. Meanwhile one gunicorn worker is killed with
SIGKILL. Afterwards every acknowledged UUID is stored exactly once, and nothing half-exists:
every assessment has its score rows and its audit event, and no score row lacks its assessment.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from ..conftest import ON_PG, PG_URL
from .live import Http, enrolled_phone, gunicorn, signed_in, worker_pids

PHONES = int(os.environ.get("EBB_NO_LOSS_PHONES", "6"))
PER_PHONE = 40
BUDGET_S = 40
#: Another number gives other answers, drops and replays (each phone's choices follow from it).
SEED = int(os.environ.get("EBB_NO_LOSS_SEED", "0"))


def submission(client_uuid: str, value: int) -> dict:
    return {"client_uuid": client_uuid, "instrument_id": "nrs_pain",
            "answers": {"nrs_pain_1": value}, "completed_at": datetime.now(UTC).isoformat()}


@pytest.mark.slow
def test_no_acknowledged_answer_is_lost_or_doubled_under_faults(database_url, app, make_clinic,
                                                                 make_user):
    user = make_user(make_clinic())
    with gunicorn(database_url) as (base, master):
        staff = signed_in(base, user)
        phones = [enrolled_phone(base, staff, timeout=5) for _ in range(PHONES)]

        deadline = time.monotonic() + BUDGET_S
        acknowledged: dict[str, int] = {}
        unacknowledged: list[str] = []
        failures: list[str] = []
        lock = threading.Lock()
        stats = {"drops": 0, "network_errors": 0, "replays": 0}

        def submit_until_acknowledged(phone: Http, body: dict) -> int | None:
            for attempt in range(20):
                if time.monotonic() > deadline:
                    return None
                try:
                    status, payload = phone.call("POST", "/api/v1/assessments", body)
                except OSError:
                    with lock:
                        stats["network_errors"] += 1
                    time.sleep(0.05 * (attempt + 1))
                    continue
                if status in (200, 201):
                    return status
                if status >= 500:  # a worker died under it: the phone tries again
                    time.sleep(0.05 * (attempt + 1))
                    continue
                with lock:
                    failures.append(f"{status} {payload}")
                return None
            return None

        def run(phone: Http, seed: int):
            rng = random.Random(seed)
            for _ in range(PER_PHONE):
                body = submission(str(uuid.uuid4()), rng.randint(0, 10))
                if rng.random() < 0.3:
                    try:
                        phone.send_and_drop("POST", "/api/v1/assessments", body)
                        with lock:
                            stats["drops"] += 1
                    except OSError:
                        pass
                status = submit_until_acknowledged(phone, body)
                if status is None:
                    with lock:
                        unacknowledged.append(body["client_uuid"])
                    continue
                if rng.random() < 0.3:  # the phone did not see the answer: it sends again
                    again = submit_until_acknowledged(phone, body)
                    with lock:
                        stats["replays"] += 1
                        if again != 200:
                            failures.append(f"replay of an acknowledged answer got {again}")
                with lock:
                    acknowledged[body["client_uuid"]] = body["answers"]["nrs_pain_1"]

        threads = [threading.Thread(target=run, args=(p, SEED * 1000 + i))
                   for i, p in enumerate(phones)]
        for t in threads:
            t.start()
        # Kill a worker once a quarter of the answers are in: mid-run however fast the server.
        while len(acknowledged) < PHONES * PER_PHONE // 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert any(t.is_alive() for t in threads), "the run ended before the kill"
        victims = worker_pids(master.pid)
        assert victims, "no gunicorn workers found"
        os.kill(victims[0], signal.SIGKILL)
        for t in threads:
            t.join(BUDGET_S + 15)
        assert not any(t.is_alive() for t in threads), "a phone did not finish in time"

    total = PHONES * PER_PHONE
    print(f"\nno-loss (seed {SEED}, {PHONES} phones): {len(acknowledged)}/{total} acknowledged, "
          f"{stats}")
    assert not failures, failures[:5]
    assert len(acknowledged) >= total * 0.9, f"too few acknowledged: {len(acknowledged)}"

    engine = create_engine(PG_URL if ON_PG else database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT a.client_uuid, COUNT(*) FROM assessments a GROUP BY a.client_uuid")).all()
        counts = dict(rows)
        values = dict(conn.execute(text(
            "SELECT a.client_uuid, s.value FROM assessments a JOIN score_values s "
            "ON s.assessment_id = a.id")).all())
        without_scores = conn.execute(text(
            "SELECT COUNT(*) FROM assessments a WHERE NOT EXISTS "
            "(SELECT 1 FROM score_values s WHERE s.assessment_id = a.id)")).scalar()
        orphan_scores = conn.execute(text(
            "SELECT COUNT(*) FROM score_values s WHERE NOT EXISTS "
            "(SELECT 1 FROM assessments a WHERE a.id = s.assessment_id)")).scalar()
        without_audit = conn.execute(text(
            "SELECT COUNT(*) FROM assessments a WHERE NOT EXISTS (SELECT 1 FROM audit_events e "
            "WHERE e.action = 'assessment.create' AND e.target_id = CAST(a.id AS TEXT))"
        )).scalar()
    engine.dispose()

    missing = [u for u in acknowledged if counts.get(u) != 1]
    assert not missing, f"acknowledged but not stored exactly once: {missing[:5]}"
    assert all(n == 1 for n in counts.values()), "a client UUID is stored twice"
    assert set(counts) <= set(acknowledged) | set(unacknowledged), "rows nobody sent"
    assert {u: int(values[u]) for u in acknowledged} == acknowledged
    assert without_scores == 0
    assert orphan_scores == 0
    assert without_audit == 0


@pytest.mark.slow
def test_the_same_answer_sent_at_once_on_several_connections_is_stored_once(
        database_url, app, make_clinic, make_user):
    # A phone (or a proxy) that sends one answer again before the first try has answered:
    # the copies race to the insert. One is created (201); every other gets its result (200).
    copies, answers = 4, 30
    user = make_user(make_clinic())
    with gunicorn(database_url, workers=3) as (base, _):
        staff = signed_in(base, user)
        phones = [enrolled_phone(base, staff) for _ in range(2)]
        results: dict[str, list] = {}
        lock = threading.Lock()

        def send(phone: Http, body: dict, gate: threading.Barrier) -> None:
            gate.wait()
            status, payload = phone.call("POST", "/api/v1/assessments", body)
            with lock:
                results[body["client_uuid"]].append((status, (payload or {}).get("id")))

        for n in range(answers):
            phone = phones[n % len(phones)]
            body = submission(str(uuid.uuid4()), n % 11)
            results[body["client_uuid"]] = []
            gate = threading.Barrier(copies)
            threads = [threading.Thread(target=send, args=(phone, body, gate))
                       for _ in range(copies)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)

    for client_uuid, got in results.items():
        statuses = sorted(status for status, _ in got)
        assert statuses == [200] * (copies - 1) + [201], (client_uuid, got)
        assert len({assessment_id for _, assessment_id in got}) == 1, (client_uuid, got)
    engine = create_engine(PG_URL if ON_PG else database_url)
    with engine.connect() as conn:
        counts = dict(conn.execute(text(
            "SELECT client_uuid, COUNT(*) FROM assessments GROUP BY client_uuid")).all())
        scores = conn.execute(text("SELECT COUNT(*) FROM score_values")).scalar()
    engine.dispose()
    assert counts == dict.fromkeys(results, 1)
    assert scores == answers  # one score row (the pain score) per stored answer
