"""bench.page_weight counts what the questionnaire page loads (correctness only, no budget)."""

from __future__ import annotations

import gzip

from bench.page_weight import INSTRUMENTS, gz, measure, report


def test_the_page_weight_bench_sums_gzip_sizes_of_everything_the_page_loads(
        context, clinician_client, make_patient, live_server, capsys):
    r = clinician_client.put("/api/v1/schedule", json={"definition": {
        "dose_slots": [], "routine": {"every_days": 7, "after_minutes": 4320,
                                      "instruments": INSTRUMENTS}}})
    assert r.status_code == 200
    _, invite = make_patient(clinician_client)
    assert context.request.post(live_server + "/api/v1/enroll",
                                data={"token": invite["token"]}).status == 201
    rows = measure(context, f"{live_server}/app/answer?slot=r.0&i={','.join(INSTRUMENTS)}",
                   settle=0.5)
    paths = {row["url"][len(live_server):].split("?")[0] for row in rows}
    assert {"/app/answer", "/static/css/patient.css", "/static/js/app/answer.js",
            "/api/v1/instruments/gad7", "/api/v1/instruments/peg", "/sw.js"} <= paths
    assert all(row["gzip"] > 0 for row in rows if row["status"] == 200)
    assert gz(b"x" * 1000) == len(gzip.compress(b"x" * 1000, 9))
    total = report(rows, live_server)
    assert total == sum(row["gzip"] for row in rows)
    assert "ratio" in capsys.readouterr().out
