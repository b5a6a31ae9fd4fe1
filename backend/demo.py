"""The demo clinic: clinicians, a dozen patients with 90 days of plausible history, invites.

Everything goes through the same services as real use (scoring, alerts, audit), so the demo
shows what a clinic would see. Credentials are generated once and kept in the instance folder.
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .assessments.service import submit
from .clinics.models import Clinic
from .clinics.service import create_clinic
from .dbtypes import utcnow
from .extensions import db
from .patients.service import create_patient, issue_invite
from .treatments.service import add_treatment
from .users.service import create_user

DEMO_SLUG = "demo"


def _credentials_path() -> Path:
    return Path(current_app.instance_path) / "demo-credentials.json"


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] or "http://127.0.0.1:5000"


def demo_credentials() -> dict | None:
    """The saved demo logins and a fresh invite link, when the demo clinic exists."""
    clinic = db.session.scalar(select(Clinic).where(Clinic.slug == DEMO_SLUG))
    path = _credentials_path()
    if clinic is None or not path.exists():
        return None
    saved = json.loads(path.read_text())
    from .patients.models import Patient
    from .users.models import User

    user = db.session.scalar(select(User).where(User.email == saved["clinician"]["email"]))
    waiting = db.session.scalars(select(Patient).where(Patient.clinic_id == clinic.id,
                                                       Patient.status == "invited")).all()
    invites = []
    with current_app.test_request_context(base_url=base_url()):
        for patient in waiting[:3]:
            invite = issue_invite(patient, user)
            invites.append({"code": patient.code, "url": invite["url"]})
    db.session.commit()
    return {**saved, "clinic": {"name": clinic.name, "slug": clinic.slug},
            "base_url": base_url(), "invites": invites}


def seed_demo(n_patients: int = 12, days: int = 90, seed: int = 7) -> dict:
    """Create the demo clinic (once) and return its logins and invite links."""
    existing = demo_credentials()
    if existing:
        return existing
    rng = random.Random(seed)
    clinic = create_clinic(name="Ebb Demo Ketamine Clinic", slug=DEMO_SLUG,
                           timezone="Europe/London")
    creds = {
        "clinician": {"email": "clinician@demo.ebb", "password": _password()},
        "admin": {"email": "admin@demo.ebb", "password": _password()},
    }
    clinician = create_user(clinic.id, creds["clinician"]["email"],
                            creds["clinician"]["password"], role="clinician",
                            name="Dr Demo")
    create_user(clinic.id, creds["admin"]["email"], creds["admin"]["password"], role="admin",
                name="Clinic Admin")
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    invites = []
    with current_app.test_request_context(base_url=base_url()):
        for index in range(n_patients):
            code = f"KET-{index + 1:03d}"
            patient = create_patient(clinician, code=code, timezone="Europe/London")
            if index >= n_patients - 3:  # the last three are waiting to enrol
                invite = issue_invite(patient, clinician)
                invites.append({"code": code, "url": invite["url"]})
                continue
            patient.status = "active"
            patient.enrolled_at = now - timedelta(days=days)
            _history(rng, patient, clinician, now, days, responder=index % 4 != 3,
                     alert=index == 2)
    db.session.commit()
    path = _credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh)
    return {**creds, "clinic": {"name": clinic.name, "slug": clinic.slug},
            "base_url": base_url(), "invites": invites}


def _password() -> str:
    return "demo-" + secrets.token_urlsafe(9)


def _history(rng: random.Random, patient, clinician, now, days: int, *, responder: bool,
             alert: bool) -> None:
    """A 5-day induction course, then maintenance doses, with answers that follow them."""
    start = now - timedelta(days=days) + timedelta(days=7, hours=9)
    doses = [start + timedelta(days=d) for d in range(5)]
    doses += [start + timedelta(days=d) for d in range(28, days - 7, 21)]
    for number, at in enumerate(doses, start=1):
        course = "induction" if number <= 5 else f"maintenance-{number - 5}"
        add_treatment(patient, clinician, {
            "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg", "route": "IV",
            "given_at": at, "course": course, "session_number": number if number <= 5 else 1,
            "notes": "40-minute infusion"})
    base = {"pain": rng.uniform(6, 8.5), "fatigue": rng.uniform(6, 9),
            "mood": rng.uniform(12, 20), "anxiety": rng.uniform(9, 15)}

    def relief(t) -> float:
        """0..1: how much better the patient is at time t (fades over ~10 days per dose)."""
        if not responder:
            return 0.08
        effect = 0.0
        for at in doses:
            hours = (t - at).total_seconds() / 3600
            if hours > 0:
                effect = max(effect, 0.55 * math.exp(-hours / 240))
        return effect

    def answer(instrument_id: str, answers: dict, t) -> None:
        submit(patient, {"client_uuid": str(uuid.uuid4()), "instrument_id": instrument_id,
                         "answers": answers, "completed_at": t}, source="patient")

    def clamp(x: float, hi: int) -> int:
        return max(0, min(hi, round(x)))

    for day in range(days, -1, -1):
        t = now - timedelta(days=day) + timedelta(hours=rng.choice((8, 9, 19, 20)))
        if t > now:
            continue
        r = relief(t)
        noise = rng.gauss(0, 0.6)
        if rng.random() < 0.85:
            answer("nrs_pain", {"nrs_pain_1": clamp(base["pain"] * (1 - r) + noise, 10)}, t)
            answer("nrs_fatigue", {"nrs_fatigue_1": clamp(base["fatigue"] * (1 - r) + noise,
                                                          10)}, t)
        if day % 7 == 0:
            phq = base["mood"] * (1 - r)
            items = _spread(rng, phq, 9, 3)
            if alert and day == 7:
                items[8] = 1
            else:
                items[8] = 0
            answer("phq9", {f"phq9_{i + 1}": v for i, v in enumerate(items)} | {"phq9_10": 1}, t)
            gad = _spread(rng, base["anxiety"] * (1 - r), 7, 3)
            answer("gad7", {f"gad7_{i + 1}": v for i, v in enumerate(gad)}, t)
            peg = [clamp(base["pain"] * (1 - r) + rng.gauss(0, 0.8), 10) for _ in range(3)]
            answer("peg", {"peg_1": peg[0], "peg_2": peg[1], "peg_3": peg[2]}, t)
    for at in doses:
        if at + timedelta(minutes=40) <= now:
            answer("side_effects", {
                "se_dissociation": rng.choice((1, 1, 2, 2, 3)), "se_nausea": rng.choice((0, 0, 1)),
                "se_dizziness": rng.choice((0, 1, 1, 2)), "se_headache": rng.choice((0, 0, 1)),
                "se_blurred_vision": rng.choice((0, 1)), "se_bladder": 0, "se_unsafe": 0,
            }, at + timedelta(minutes=40))


def _spread(rng: random.Random, total: float, n: int, top: int) -> list[int]:
    """n item answers in 0..top summing to about ``total``."""
    target = max(0, min(n * top, round(total)))
    items = [0] * n
    for _ in range(target):
        choices = [i for i in range(n) if items[i] < top]
        items[rng.choice(choices)] += 1
    return items
