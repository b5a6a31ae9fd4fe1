"""Script payloads stored in every free-text field render as inert text on the clinician pages.

Payloads go in through the API (treatment drug, unit, route, course, arm and notes; an
assessment note; an alert acknowledgement note; a rule name). Each page that shows them is
opened in Chromium: no dialog opens, no payload code runs, no element is injected, no CSP
violation is reported (which would mean markup got through and only the CSP stopped it), and
the payload text itself is visible as text.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ..conftest import login

pytestmark = pytest.mark.browser

PAYLOADS = {
    "img": "<img src=x onerror=__x=1>",
    "script": "<script>__x=2</script>",
    "attr": "\"><svg onload=__x=3>",
}


@pytest.fixture
def stored(make_clinic, make_user, make_client, make_patient):
    """A patient whose dose, answers, alert and the clinic's rule all carry payloads."""
    user = make_user(make_clinic())
    api = make_client()
    login(api, user)
    assert api.post("/api/v1/patients", json={"code": PAYLOADS["img"]}).status_code == 422
    patient, _ = make_patient(api, code="XSS-1")
    pid = patient["id"]
    given = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    treatment = api.post(f"/api/v1/patients/{pid}/treatments", json={
        "drug": PAYLOADS["img"], "dose": 0.5, "dose_unit": PAYLOADS["attr"],
        "route": PAYLOADS["script"], "course": PAYLOADS["script"], "arm": PAYLOADS["attr"],
        "period": 1, "notes": " ".join(PAYLOADS.values()), "given_at": given.isoformat()})
    assert treatment.status_code == 201, treatment.get_json()
    phq9 = {f"phq9_{i}": 1 for i in range(1, 10)}  # item 9 positive: an alert
    for hours in (-20, 24):
        response = api.post(f"/api/v1/patients/{pid}/assessments", json={
            "client_uuid": str(uuid.uuid4()), "instrument_id": "phq9", "answers": phq9,
            "completed_at": (given + timedelta(hours=hours)).isoformat(),
            "note": PAYLOADS["script"] + PAYLOADS["img"]})
        assert response.status_code == 201, response.get_json()
    alerts = api.get(f"/api/v1/patients/{pid}/alerts").get_json()
    ack = api.post(f"/api/v1/patients/{pid}/alerts/{alerts[0]['id']}/acknowledge",
                   json={"note": " ".join(PAYLOADS.values())})
    assert ack.status_code == 200, ack.get_json()
    rule = api.post("/api/v1/rules", json={
        "name": PAYLOADS["img"] + PAYLOADS["attr"], "instrument": "phq9", "score": "total",
        "criteria": {"all": [{"kind": "percent_improvement", "value": 50}]},
        "window": {"start_hours": 0, "end_hours": 72}})
    assert rule.status_code == 201, rule.get_json()
    return {"user": user, "patient_id": pid, "rule": rule.get_json()}


def test_stored_script_payloads_render_inert_on_every_clinician_page(page, live_server, stored,
                                                                    console_errors):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(stored["user"]["email"])
    page.get_by_label("Password").fill(stored["user"]["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/clinic/patients**")

    pid, rule = stored["patient_id"], stored["rule"]
    pages = [f"/clinic/patients/{pid}", f"/clinic/patients/{pid}?answers_page=1&range=all",
             "/clinic/patients", "/clinic/rules", f"/clinic/cohort?rule={rule['key']}",
             f"/clinic/rules/edit?key={rule['key']}"]
    shown = set()
    for path in pages:
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        ran = page.evaluate("typeof window.__x === 'undefined' ? null : window.__x")
        assert ran is None, f"payload code ran on {path}"
        injected = page.locator("img[src='x'], svg[onload], script:not([src])").count()
        assert injected == 0, f"{injected} injected element(s) on {path}"
        text = page.locator("body").inner_text()
        shown |= {name for name, p in PAYLOADS.items() if p in text}
    assert not dialogs, dialogs
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
    assert shown == set(PAYLOADS), f"payloads never shown as text: {set(PAYLOADS) - shown}"
