"""The patient app in Chromium at phone size: enrol, answer, go offline, come back, sent once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from .conftest import watch

#: The set a patient who knows the app should answer in under two minutes.
SET = ["gad7", "nrs_pain", "nrs_fatigue", "nrs_sleep", "peg"]
ROUTINE_ONLY = {"dose_slots": [], "routine": {"every_days": 7, "after_minutes": 3 * 24 * 60,
                                              "instruments": SET}}


@pytest.fixture
def invite(clinician_client, make_patient, live_server):
    """A clinic whose weekly routine is due at enrolment, and a fresh invite link into it."""
    r = clinician_client.put("/api/v1/schedule", json={"definition": ROUTINE_ONLY})
    assert r.status_code == 200, r.get_json()
    patient, invite = make_patient(clinician_client)
    path = invite["url"].split("/join", 1)[1]
    return {"patient": patient, "url": f"{live_server}/join{path}"}


class Taps:
    """Clicks the test makes, counted per instrument."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def __call__(self, locator):
        locator.click()
        self.count += 1


def enrol(page, invite, axe_check):
    page.goto(invite["url"])
    expect(page.get_by_role("heading", name="Welcome to Ebb")).to_be_visible()
    assert "#" not in page.url, "the invite token must leave the address bar"
    axe_check(page, "welcome")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#consent")).to_contain_text("Your clinic uses Ebb")
    axe_check(page, "clinic consent")
    page.get_by_role("link", name="I understand, continue").click()
    expect(page).to_have_url(re.compile(r"/app$"))


def answer(page, taps: Taps, instrument: str, values: list[int], *, title: str) -> int:
    """Answer one instrument on the answer page; return the taps it took."""
    before = taps.count
    expect(page.locator("#inst-title")).to_contain_text(title)
    for n, value in enumerate(values, start=1):
        item = f"{instrument}_{n}" if instrument not in ("nrs_pain", "nrs_fatigue", "nrs_sleep") \
            else f"{instrument}_1"
        taps(page.locator(f"label.opt:has(input[name='{item}'][value='{value}'])"))
    taps(page.get_by_role("button", name="Review"))
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    taps(page.get_by_role("button", name="Save"))
    return taps.count - before


def stored(app, patient_id: int) -> dict[str, int]:
    from backend.assessments.models import Assessment
    from backend.extensions import db

    with app.app_context():
        rows = db.session.execute(select(Assessment.instrument_id, func.count())
                                  .where(Assessment.patient_id == patient_id)
                                  .group_by(Assessment.instrument_id)).all()
        return dict(rows)


def test_a_patient_enrols_answers_offline_and_every_answer_arrives_exactly_once(
        app, context, page, invite, axe_check, console_errors):
    enrol(page, invite, axe_check)
    due = page.locator("#due li[data-slot='r.0']")
    expect(due).to_be_visible()
    expect(page.locator("#sync")).to_have_text("All your answers are sent.")
    axe_check(page, "home")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    taps = Taps(page)
    due.get_by_role("link", name="Start").click()
    expect(page).to_have_url(re.compile(r"/app/answer\?slot=r\.0"))
    axe_check(page, "questionnaire")
    used = {"gad7": answer(page, taps, "gad7", [1, 2, 2, 1, 0, 1, 1], title="GAD-7")}
    for instrument, title in (("nrs_pain", "Pain"), ("nrs_fatigue", "Fatigue"),
                              ("nrs_sleep", "Sleep")):
        used[instrument] = answer(page, taps, instrument, [6], title=title)
        expect(page.locator("#status")).to_have_text("Your last answers were sent.")

    context.set_offline(True)
    expect(page.locator("#inst-title")).to_contain_text("PEG")
    axe_check(page, "0-10 questionnaire")
    used["peg"] = answer(page, taps, "peg", [7, 6, 5], title="PEG")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    peg = page.locator("#results li[data-instrument='peg'] [data-sync]")
    expect(peg).to_have_text("Saved on this phone")
    expect(page.locator("#results li[data-instrument='gad7'] [data-sync]")).to_have_text("Sent")
    axe_check(page, "done")
    assert stored(app, invite["patient"]["id"]) == {"gad7": 1, "nrs_pain": 1, "nrs_fatigue": 1,
                                                     "nrs_sleep": 1}
    page.close()

    # Opened again while still offline: the service worker serves the app, the answer waits.
    offline = context.new_page()
    watch(offline, console_errors)
    offline.goto(invite["url"].split("/join")[0] + "/app")
    expect(offline.locator("#sync")).to_have_text(
        "1 answer saved on this phone, not sent yet. It is sent when you are online.")
    expect(offline.locator("#notice")).to_have_text(
        "You are offline. This list may be out of date.")
    expect(offline.locator("#done li[data-slot='r.0'] [data-sync]")).to_have_text(
        "Saved on this phone")
    offline.close()
    assert stored(app, invite["patient"]["id"]).get("peg") is None

    context.set_offline(False)
    again = context.new_page()
    watch(again, console_errors)
    again.goto(invite["url"].split("/join")[0] + "/app")
    expect(again.locator("#sync")).to_have_text("All your answers are sent.", timeout=15000)
    expect(again.locator("#done li[data-slot='r.0'] [data-sync]")).to_have_text("Sent")
    again.reload()  # a second open sends nothing twice
    expect(again.locator("#sync")).to_have_text("All your answers are sent.")

    counts = stored(app, invite["patient"]["id"])
    assert counts == {i: 1 for i in SET}, counts
    # One tap per item and at most three more per instrument (here: Review and Save).
    items = {"gad7": 7, "nrs_pain": 1, "nrs_fatigue": 1, "nrs_sleep": 1, "peg": 3}
    for instrument, n in used.items():
        assert n <= items[instrument] + 3, (instrument, n)
    assert sum(used.values()) == sum(items.values()) + 2 * len(items)  # 23 taps for 15 items
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors


def test_the_server_decides_the_window_and_stores_the_slot(app, page, invite, axe_check):
    from backend.assessments.models import Assessment
    from backend.extensions import db

    enrol(page, invite, axe_check)
    page.locator("#due li[data-slot='r.0']").get_by_role("link", name="Start").click()
    answer(page, Taps(page), "gad7", [0] * 7, title="GAD-7")
    expect(page.locator("#status")).to_have_text("Your last answers were sent.")
    with app.app_context():
        row = db.session.scalar(select(Assessment))
        assert (row.slot_key, row.in_window) == ("r.0", True)
        assert row.window_opens_at <= row.completed_at <= row.window_closes_at


def test_a_positive_phq9_item_9_shows_the_crisis_text_at_once(app, page, invite, axe_check):
    enrol(page, invite, axe_check)
    page.goto(page.url.replace("/app", "/app/answer?i=phq9"))
    answer(page, Taps(page), "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 2], title="PHQ-9")
    crisis = page.locator("#crisis")
    expect(crisis).to_be_visible()
    expect(crisis).to_contain_text("988")
    expect(crisis).to_contain_text("Your care team has been told")
    axe_check(page, "crisis")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    from backend.extensions import db
    from backend.patients.models import Alert

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Alert)) == 1


def test_a_missing_answer_is_marked_next_to_its_question(page, invite, axe_check):
    enrol(page, invite, axe_check)
    page.goto(page.url.replace("/app", "/app/answer?slot=r.0&i=gad7"))
    page.locator("label.opt:has(input[name='gad7_1'][value='1'])").click()
    page.get_by_role("button", name="Review").click()
    expect(page.locator("#e-gad7_2")).to_have_text("Please answer this question.")
    expect(page.locator("#e-gad7_1")).to_have_text("")
    axe_check(page, "questionnaire with errors")


def test_progress_shows_a_server_drawn_chart_with_the_dose(app, clinician_client, page, invite,
                                                           axe_check):
    enrol(page, invite, axe_check)
    clinician_client.post(f"/api/v1/patients/{invite['patient']['id']}/treatments", json={
        "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg",
        "given_at": "2026-01-01T09:00:00+00:00"})
    page.locator("#due li[data-slot='r.0']").get_by_role("link", name="Start").click()
    answer(page, Taps(page), "gad7", [1, 2, 2, 1, 0, 1, 1], title="GAD-7")
    expect(page.locator("#status")).to_have_text("Your last answers were sent.")
    page.get_by_role("link", name="My progress").click()
    chart = page.locator("svg.chart")
    expect(chart).to_have_count(1)
    expect(page.locator("#charts")).to_contain_text("Latest: 8")
    assert page.locator("svg.chart .chart-dose").count() == 1
    axe_check(page, "progress")


def test_the_app_is_installable_and_its_worker_controls_the_whole_site(
        playwright_instance, live_server, tmp_path, viewport):
    from .conftest import CHROMIUM, CHROMIUM_ARGS

    # A persistent profile: Chromium never offers to install from an incognito one.
    context = playwright_instance.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
        viewport=viewport)
    try:
        check_installable(context, live_server)
    finally:
        context.close()


def check_installable(context, live_server):
    page = context.new_page()
    page.goto(live_server + "/app")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server + "/"
    response = page.request.get(live_server + "/sw.js", max_redirects=0)
    assert response.status == 200 and "javascript" in response.headers["content-type"]
    cdp = page.context.new_cdp_session(page)
    page.reload()
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    manifest = page.request.get(live_server + "/manifest.webmanifest").json()
    sizes = {i["sizes"] for i in manifest["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes and manifest["display"] == "standalone"


@pytest.mark.parametrize("viewport", [{"width": 320, "height": 640}])
def test_every_patient_page_fits_320_pixels(page, invite, axe_check, viewport):
    enrol(page, invite, axe_check)
    base = page.url.rsplit("/app", 1)[0]
    ready = {"/app": "#sync:not(:empty)", "/app/answer?slot=r.0&i=gad7,nrs_pain": "fieldset",
             "/app/progress": "#charts > *", "/join": "#no-token"}
    for path, selector in ready.items():
        page.goto(base + path)
        page.locator(selector).first.wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (path, width)
        axe_check(page, path + " at 320 px")
    page.goto(base + "/app/answer?slot=r.0&i=nrs_pain")
    page.locator("label.opt").first.wait_for()
    boxes = page.locator("label.opt").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect()).map(r => [r.width, r.height])")
    assert boxes and all(w >= 44 and h >= 44 for w, h in boxes), boxes


def test_a_server_error_keeps_the_answer_on_the_phone_until_a_retry_sends_it(
        app, page, invite, axe_check):
    enrol(page, invite, axe_check)
    base = page.url.rsplit("/app", 1)[0]
    page.context.route("**/api/v1/assessments", lambda route: route.fulfill(
        status=503, content_type="application/problem+json",
        body='{"type": "about:blank", "title": "Unavailable", "status": 503}'))
    page.goto(base + "/app/answer?slot=r.0&i=nrs_pain")
    answer(page, Taps(page), "nrs_pain", [3], title="Pain")
    expect(page.locator("#results [data-sync]")).to_have_text("Saved on this phone")
    page.goto(base + "/app")
    expect(page.locator("#sync")).to_contain_text("1 answer saved on this phone, not sent yet")
    assert stored(app, invite["patient"]["id"]) == {}
    page.context.unroute("**/api/v1/assessments")
    page.reload()
    expect(page.locator("#sync")).to_have_text("All your answers are sent.")
    assert stored(app, invite["patient"]["id"]) == {"nrs_pain": 1}


def test_a_server_validation_error_appears_next_to_its_item(app, page, invite, axe_check):
    enrol(page, invite, axe_check)
    base = page.url.rsplit("/app", 1)[0]
    problem = ('{"type": "urn:ebb:problem:validation", "title": "Invalid input", "status": 422,'
               ' "errors": [{"field": "answers.gad7_3", "reason": "must be 0, 1, 2 or 3"}]}')
    page.context.route("**/api/v1/assessments", lambda route: route.fulfill(
        status=422, content_type="application/problem+json", body=problem))
    page.goto(base + "/app/answer?slot=r.0&i=gad7")
    answer(page, Taps(page), "gad7", [1, 1, 1, 1, 1, 1, 1], title="GAD-7")
    expect(page.locator("#e-gad7_3")).to_have_text("must be 0, 1, 2 or 3")
    expect(page.locator("#f-gad7_3")).to_have_class(re.compile("missing"))
    axe_check(page, "server errors")
    # Left alone, it is not dropped: home says so and offers to fix it.
    page.goto(base + "/app")
    expect(page.locator("#sync")).to_have_text("1 answers were not accepted. Please check them.")
    page.context.unroute("**/api/v1/assessments")
    page.get_by_role("link", name="Check and send again").click()
    expect(page.locator("#e-gad7_3")).to_have_text("must be 0, 1, 2 or 3")
    page.get_by_role("button", name="Review").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    assert stored(app, invite["patient"]["id"]) == {"gad7": 1}


def test_answers_in_progress_survive_closing_the_app(page, context, invite, axe_check):
    enrol(page, invite, axe_check)
    base = page.url.rsplit("/app", 1)[0]
    page.goto(base + "/app/answer?slot=r.0&i=gad7")
    for n in (1, 2, 3):
        page.locator(f"label.opt:has(input[name='gad7_{n}'][value='2'])").click()
    page.close()
    again = context.new_page()
    again.goto(base + "/app/answer?slot=r.0&i=gad7")
    expect(again.locator("input[name='gad7_3'][value='2']")).to_be_checked()
    expect(again.locator("#bar")).to_have_attribute("aria-valuetext", "3 of 7 answered")


def test_a_patient_with_a_pin_unlocks_the_app_and_then_sends(app, page, invite, axe_check):
    from sqlalchemy import update

    from backend.extensions import db
    from backend.users.models import AuthSession

    page.goto(invite["url"])
    page.get_by_label("PIN (optional)").fill("2468")
    page.get_by_role("button", name="Start").click()
    page.get_by_role("link", name="I understand, continue").click()
    expect(page.locator("#due li[data-slot='r.0']")).to_be_visible()
    with app.app_context():  # the app was left idle: the PIN is needed again
        db.session.execute(update(AuthSession).values(pin_ok_at=None))
        db.session.commit()
    page.reload()
    expect(page.get_by_role("heading", name="Enter your PIN")).to_be_visible()
    axe_check(page, "PIN")
    page.get_by_label("PIN", exact=True).fill("1111")
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator("#unlock-error")).to_have_text("That PIN is not right.")
    page.get_by_label("PIN", exact=True).fill("2468")
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator("#unlock")).to_be_hidden()
    expect(page.locator("#due li[data-slot='r.0']")).to_be_visible()


def test_offline_a_positive_item_9_still_shows_the_crisis_text_at_once(context, page, invite,
                                                                       axe_check):
    enrol(page, invite, axe_check)
    page.goto(page.url.replace("/app", "/app/answer?i=phq9"))
    expect(page.locator("fieldset").first).to_be_visible()
    context.set_offline(True)
    answer(page, Taps(page), "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1], title="PHQ-9")
    crisis = page.locator("#crisis")
    expect(crisis).to_contain_text("988")
    expect(crisis).to_contain_text("Your care team is told as soon as it is sent")
    context.set_offline(False)


def test_a_0_to_100_slider_is_answered_by_moving_it(app, page, invite, axe_check):
    from backend.assessments.models import Assessment
    from backend.extensions import db

    enrol(page, invite, axe_check)
    page.goto(page.url.replace("/app", "/app/answer?i=vas_fatigue"))
    slider = page.get_by_role("slider")
    expect(slider).to_be_visible()
    page.get_by_role("button", name="Review").click()
    expect(page.locator("#e-vas_fatigue_1")).to_have_text("Please answer this question.")
    slider.fill("63")
    expect(page.locator("#o-vas_fatigue_1")).to_have_text("63")
    axe_check(page, "slider")
    page.get_by_role("button", name="Review").click()
    expect(page.locator("dl.review")).to_contain_text("63")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Sent").first).to_be_visible()
    with app.app_context():
        row = db.session.scalars(select(Assessment).where(
            Assessment.patient_id == invite["patient"]["id"],
            Assessment.instrument_id == "vas_fatigue")).one()
        assert row.answers == {"vas_fatigue_1": 63}
