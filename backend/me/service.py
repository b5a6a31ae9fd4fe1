"""The patient's own progress: one server-drawn SVG chart per instrument they have answered."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..assessments.models import ScoreValue
from ..audit.service import record
from ..charts import Marker, Point, line_chart
from ..extensions import db
from ..instruments.service import registry
from ..treatments.models import Treatment


def progress(patient, lang: str = "en") -> list[dict]:
    """Per instrument answered: primary score series, latest value and an SVG chart."""
    tz = ZoneInfo(patient.timezone or "UTC")
    doses = [Marker(at, f"Dose {n}" + (f" ({drug})" if drug else ""))
             for n, (at, drug) in enumerate(db.session.execute(
                 select(Treatment.given_at, Treatment.drug)
                 .where(Treatment.patient_id == patient.id)
                 .order_by(Treatment.given_at)).all(), start=1)]
    rows = db.session.execute(
        select(ScoreValue.instrument_id, ScoreValue.score_id, ScoreValue.at, ScoreValue.value,
               ScoreValue.in_window)
        .where(ScoreValue.patient_id == patient.id).order_by(ScoreValue.at)).all()
    known = registry()
    out = []
    for instrument_id in dict.fromkeys(r.instrument_id for r in rows):
        if instrument_id not in known:
            continue
        instrument = known.get(instrument_id)
        primary = instrument.primary_score
        series = [Point(r.at, r.value, r.in_window) for r in rows
                  if r.instrument_id == instrument_id and r.score_id == primary.id]
        if not series:
            continue
        title = instrument.text(primary.title, lang)
        out.append({
            "instrument_id": instrument_id, "title": instrument.text(instrument.title, lang),
            "score_title": title, "direction": primary.direction, "range": list(primary.range),
            "count": len(series), "latest": series[-1].value, "latest_at": series[-1].at,
            "svg": line_chart(series, doses=doses, y_range=tuple(primary.range),
                              direction=primary.direction, title=title, tz=tz,
                              chart_id=f"chart-{instrument_id}", width=360, height=230),
        })
    record("patient.progress", clinic_id=patient.clinic_id, patient_id=patient.id,
           target_type="patient", target_id=patient.id)
    return out
