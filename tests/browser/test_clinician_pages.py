"""Clinician pages in Chromium at desktop (1280x800) and tablet (768x1024) size.

Sign in, create a patient, record a dose, read the trend and the verdict, open the cohort,
edit a rule with a preview, download each export; axe-core finds no WCAG 2.x A/AA violation
on any page, and no page reports a script error or CSP violation. Screenshots go to
/tmp/shots (EBB_SHOTS to change) for a human to look at.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..conftest import login
from .conftest import watch

SHOTS = Path(os.environ.get("EBB_SHOTS", "/tmp/shots"))
SIZES = {"desktop": {"width": 1280, "height": 800}, "tablet": {"width": 768, "height": 1024}}
PAIN_RULE = "nrs-pain-pain-reduced-by-30-or-more"


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def viewport(request) -> dict:
    return dict(SIZES[request.param], name=request.param)


@pytest.fixture
def context(browser, viewport):
    size = {"width": viewport["width"], "height": viewport["height"]}
    context = browser.new_context(viewport=size, locale="en-GB", accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def staff(make_clinic, make_user, make_client, make_patient):
    """A clinic with one patient who answered before and after two doses (pain 8 -> 4)."""
    user = make_user(make_clinic())
    api = make_client()
    login(api, user)
    patient, _ = make_patient(api, code="TREND-1", timezone="Europe/London")
    pid = patient["id"]
    now = datetime.now(UTC).replace(microsecond=0)
    for days_ago, arm in ((20, "ketamine"), (6, "midazolam")):
        given = now - timedelta(days=days_ago)
        r = api.post(f"/api/v1/patients/{pid}/treatments", json={
            "drug": arm, "dose": 0.5, "dose_unit": "mg/kg", "given_at": given.isoformat(),
            "arm": arm, "period": 1 if arm == "ketamine" else 2})
        assert r.status_code == 201
        for hours, value in ((-20, 8), (24, 4 if arm == "ketamine" else 7), (72, 5)):
            r = api.post(f"/api/v1/patients/{pid}/assessments", json={
                "client_uuid": str(uuid.uuid4()), "instrument_id": "nrs_pain",
                "answers": {"nrs_pain_1": value},
                "completed_at": (given + timedelta(hours=hours)).isoformat()})
            assert r.status_code == 201
    phq9 = {f"phq9_{i}": 2 for i in range(1, 10)} | {"phq9_9": 1}
    r = api.post(f"/api/v1/patients/{pid}/assessments", json={
        "client_uuid": str(uuid.uuid4()), "instrument_id": "phq9", "answers": phq9,
        "completed_at": (now - timedelta(days=1)).isoformat()})
    assert r.status_code == 201
    return {"user": user, "patient_id": pid}


def shot(page, viewport, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"clinic-{name}-{viewport['name']}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"clinic-{name}-{viewport['name']}-top.png"))


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(user["email"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()


def test_a_clinician_works_through_every_page(page, live_server, staff, viewport, axe_check,
                                              console_errors):
    sign_in(page, live_server, staff["user"])
    alerts = page.get_by_role("region", name=re.compile("Open safety alerts"))
    expect(alerts).to_contain_text("TREND-1")
    expect(page.locator("table.patients")).to_contain_text("responder")
    axe_check(page, "patient list")
    shot(page, viewport, "patients")

    # Create a patient: the page hands over a QR code and link.
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("Study code").fill(f"NEW-{viewport['name'][:3].upper()}")
    page.get_by_role("button", name="Create and show invite").click()
    expect(page.get_by_role("heading", name="Hand this over")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.get_by_label("Invite link")).to_have_value(re.compile(r"/join#"))
    axe_check(page, "invite")
    shot(page, viewport, "invite")

    # The patient page: the answer to "is it working?" first, then the trends.
    page.goto(f"{live_server}/clinic/patients/{staff['patient_id']}")
    summary = page.get_by_role("region", name="Is it working?")
    expect(summary).to_contain_text("Pain")
    expect(summary.locator(".verdict").first).to_be_visible()
    chart = page.locator("svg[aria-labelledby='chart-nrs_pain-t chart-nrs_pain-d']")
    expect(chart).to_be_visible()
    assert chart.locator(".chart-dose").count() == 2
    assert chart.locator(".chart-point").count() == 6
    expect(page.locator("table.verdicts").first).to_contain_text(
        "Pain fell 50% from 8.0 by 24 h: responder")
    axe_check(page, "patient page")
    shot(page, viewport, "patient")

    # Record a dose through the form; it appears among the doses.
    form = page.locator("#dose-form")
    form.get_by_label("Drug").fill("esketamine")
    form.get_by_label("Dose", exact=True).fill("56")
    form.get_by_label("Unit").fill("mg")
    form.get_by_label("Route").fill("intranasal")
    form.get_by_label("Given at").fill("2026-11-01T10:30")
    form.get_by_label("Session").fill("3")
    form.get_by_role("button", name="Record dose").click()
    expect(page.locator("table.doses")).to_contain_text("esketamine 56 mg intranasal")
    expect(page.locator("table.doses")).to_contain_text("1 Nov 2026 10:30")

    # Acknowledge the safety alert.
    page.get_by_label("What was done").fill("Phoned the patient")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("region", name=re.compile("Open safety alerts"))).to_have_count(0)

    # Print: navigation and forms are left out; charts and tables stay.
    page.emulate_media(media="print")
    expect(page.locator("header.bar")).to_be_hidden()
    expect(page.locator("#dose-form")).to_be_hidden()
    expect(chart).to_be_visible()
    shot(page, viewport, "patient-print")
    page.emulate_media(media="screen")

    # FHIR bundle download.
    with page.expect_download() as download:
        page.get_by_role("link", name="FHIR bundle").click()
    bundle = json.loads(Path(download.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["entry"][0]["resource"][
        "identifier"][0]["value"] == "TREND-1"

    # The cohort: grouped by arm, three charts, and the exports.
    page.get_by_role("link", name="Cohort").click()
    page.get_by_label("Rule", exact=True).select_option(PAIN_RULE)
    page.get_by_label("Group by").select_option("arm")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.groups")).to_contain_text("midazolam")
    assert page.locator("main svg.chart").count() == 3
    axe_check(page, "cohort")
    shot(page, viewport, "cohort")
    for name, header in (("Endpoints for this rule", "patient_code,rule_key"),
                         ("All raw answers", "patient_code,assessment_id")):
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile(name)).click()
        text = Path(download.value.path()).read_text()
        assert text.startswith(header) and "TREND-1" in text

    # The rules editor: preview on the cohort without saving, then save a new version.
    page.get_by_role("link", name="Rules", exact=True).click()
    axe_check(page, "rules")
    page.goto(f"{live_server}/clinic/rules/edit?key={PAIN_RULE}")
    editor_url = page.url
    page.get_by_label("Value 1").fill("60")
    # Live: the preview appears as the form changes, without a click or a page load.
    preview = page.get_by_role("heading", name=re.compile("Preview \\(not saved\\)"))
    expect(preview).to_contain_text("60%")
    assert page.url == editor_url
    page.get_by_label("Value 1").fill("20")
    expect(preview).to_contain_text("20%")
    page.get_by_role("button", name="Preview on current cohort").click()
    expect(page.get_by_role("heading", name=re.compile("Preview \\(not saved\\)"))).to_be_visible()
    axe_check(page, "rule preview")
    shot(page, viewport, "rule-preview")
    page.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_role("heading", name="Cohort")).to_be_visible()
    expect(page.locator(".lead")).to_contain_text("(v2)")
    assert not console_errors, console_errors



def test_the_list_and_the_patient_page_read_on_a_phone(browser, live_server, staff, axe_check):
    viewport = {"width": 390, "height": 844, "name": "phone"}
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB",
                                  has_touch=True)
    errors: list = []
    try:
        page = context.new_page()
        watch(page, errors)
        sign_in(page, live_server, staff["user"])
        axe_check(page, "patient list on a phone")
        shot(page, viewport, "patients")
        page.get_by_role("link", name="TREND-1").first.click()
        expect(page.get_by_role("region", name="Is it working?")).to_contain_text("responder")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("""[...document.querySelectorAll('body *')]
            .map(e => [e, e.getBoundingClientRect().right])
            .filter(([e, right]) => right > 391 && !e.closest('.scroll')).slice(0, 6)
            .map(([e, right]) => e.tagName + '.' + e.className + ' ' + Math.round(right))""")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px): {wide}"
        axe_check(page, "patient page on a phone")
        shot(page, viewport, "patient")
        assert not errors, errors
    finally:
        context.close()


@pytest.fixture
def with_cohort(staff, make_client, make_patient):
    """Five other patients a week either side of their first dose, and a second PHQ-9 for
    TREND-1 (so its items can be compared)."""
    api = make_client()
    login(api, staff["user"])
    now = datetime.now(UTC).replace(microsecond=0)
    given = now - timedelta(days=20)
    for i in range(5):
        other, _ = make_patient(api, code=f"OTHER-{i}")
        assert api.post(f"/api/v1/patients/{other['id']}/treatments", json={
            "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg",
            "given_at": given.isoformat()}).status_code == 201
        for days, value in ((-3, 8), (2, 3 + i), (9, 4)):
            assert api.post(f"/api/v1/patients/{other['id']}/assessments", json={
                "client_uuid": str(uuid.uuid4()), "instrument_id": "nrs_pain",
                "answers": {"nrs_pain_1": value},
                "completed_at": (given + timedelta(days=days)).isoformat()}).status_code == 201
    phq9 = {f"phq9_{i}": 1 for i in range(1, 10)} | {"phq9_1": 3, "phq9_9": 0}
    assert api.post(f"/api/v1/patients/{staff['patient_id']}/assessments", json={
        "client_uuid": str(uuid.uuid4()), "instrument_id": "phq9", "answers": phq9,
        "completed_at": (now - timedelta(hours=3)).isoformat()}).status_code == 201
    return staff


@pytest.mark.parametrize("size", [{"width": 390, "height": 844, "name": "phone"},
                                  {"width": 1280, "height": 800, "name": "desktop"}],
                         ids=["phone", "desktop"])
def test_the_cohort_band_and_the_items_that_changed_read_at_both_sizes(
        browser, live_server, with_cohort, axe_check, size):
    context = browser.new_context(viewport={"width": size["width"], "height": size["height"]},
                                  locale="en-GB")
    errors: list = []
    try:
        page = context.new_page()
        watch(page, errors)
        sign_in(page, live_server, with_cohort["user"])
        pid = with_cohort["patient_id"]
        page.goto(f"{live_server}/clinic/patients/{pid}")
        api = page.request.get(f"{live_server}/api/v1/patients/{pid}/cohort-band",
                               params={"instrument_id": "nrs_pain"}).json()
        assert api["weeks"] and all(w["n"] == 5 for w in api["weeks"])
        chart = page.locator("svg[aria-labelledby='chart-nrs_pain-t chart-nrs_pain-d']")
        band = chart.locator("g.chart-band")
        expect(band).to_be_attached()
        assert chart.locator("path.chart-band-iqr").first.is_visible()
        titles = band.locator("g.chart-band-bin > title").all_text_contents()
        assert len(titles) == len(api["weeks"])
        assert all("(5 patients)" in t for t in titles)
        pain = page.locator("section.domain", has=chart)
        expect(pain.locator(".key-band")).to_be_visible()
        expect(pain.locator(".band-line")).to_contain_text("Other patients from")
        items = page.get_by_role("list", name="Items that changed most")
        expect(items.locator("li").first).to_contain_text("2 (More than half the days) → 3")
        changes = page.request.get(f"{live_server}/api/v1/patients/{pid}/item-changes",
                                   params={"instrument_id": "phq9"}).json()
        moved = [i["item_id"] for i in changes[0]["items"] if i["change"]]
        assert [li.get_attribute("data-item") for li in items.locator("li").all()] == moved[:3]
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"the page scrolls sideways ({width}px)"
        axe_check(page, f"patient page with band and items ({size['name']})")
        shot(page, size, "patient-band")
        pain.screenshot(path=str(SHOTS / f"clinic-patient-band-pain-{size['name']}.png"))
        assert not errors, errors
    finally:
        context.close()
