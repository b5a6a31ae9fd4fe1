"""Comparisons API: what the clinician patient page draws beside a patient's own trend.

The cohort band (the clinic's other patients, by week since their first dose) and the items
that changed most since baseline, from the same functions as the page (``reference``).
"""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from ..access import clinician_required
from ..dbtypes import utcnow
from ..errors import NotFound
from ..extensions import db
from ..fields import Instant
from ..instruments.service import get_instrument, registry
from ..patients.routes import clinic_patient
from ..treatments.models import Treatment
from . import reference, trends

blp = Blueprint("comparisons", __name__, url_prefix="/api/v1",
                description="A patient beside the clinic's other patients; item changes")


class BandQuerySchema(Schema):
    instrument_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    score_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64),
                             metadata={"description": "The instrument's primary score if left out"})
    start = Instant(data_key="from", load_default=None, metadata={
        "description": "Default: four weeks before the patient's first dose"})
    end = Instant(data_key="to", load_default=None,
                               metadata={"description": "Default: now"})


class BandWeekSchema(Schema):
    week = fields.Integer(metadata={"description": "Weeks since the first dose (0: the first "
                                                   "seven days, -1: the week before)"})
    start = fields.DateTime(metadata={"description": "The week on this patient's time line"})
    end = fields.DateTime()
    n = fields.Integer(metadata={"description": "Other patients with an answer that week"})
    q1 = fields.Float()
    median = fields.Float()
    q3 = fields.Float()


class BandSchema(Schema):
    patient_id = fields.Integer()
    instrument_id = fields.String()
    score_id = fields.String()
    first_dose_at = fields.DateTime(allow_none=True)
    start = fields.DateTime(data_key="from", allow_none=True)
    end = fields.DateTime(data_key="to", allow_none=True)
    patients_at_most = fields.Integer()
    min_patients = fields.Integer()
    weeks = fields.List(fields.Nested(BandWeekSchema))


class ItemQuerySchema(Schema):
    instrument_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class ItemChangeSchema(Schema):
    item_id = fields.String()
    text = fields.String()
    before = fields.Float()
    after = fields.Float()
    change = fields.Float()
    better = fields.Boolean(allow_none=True)


class AnswerRefSchema(Schema):
    assessment_id = fields.Integer()
    completed_at = fields.DateTime()
    before_first_dose = fields.Boolean()


class ItemChangesSchema(Schema):
    instrument_id = fields.String()
    baseline = fields.Nested(AnswerRefSchema)
    latest = fields.Nested(AnswerRefSchema)
    items = fields.List(fields.Nested(ItemChangeSchema),
                        metadata={"description": "Largest change first"})


def _first_dose(patient_id: int):
    return db.session.scalar(select(func.min(Treatment.given_at))
                             .where(Treatment.patient_id == patient_id))


@blp.route("/patients/<int:patient_id>/cohort-band")
class CohortBand(MethodView):
    @clinician_required
    @blp.arguments(BandQuerySchema(), location="query")
    @blp.response(200, BandSchema)
    def get(self, args, patient_id):
        """Other patients' weekly median and quartiles, aligned by week since first dose.

        Up to the 50 most recently added other patients with a dose; each counts once a week
        (the mean of their answers); weeks with fewer than 5 of them are left out. Weeks are
        placed on this patient's time line from their own first dose.
        """
        patient = clinic_patient(patient_id)
        instrument = get_instrument(args["instrument_id"])
        score_id = args["score_id"] or instrument.primary_score.id
        try:
            instrument.score_def(score_id)
        except KeyError:
            raise NotFound("No such score.", errors=[{"field": "score_id",
                                                      "reason": "unknown score"}]) from None
        first = _first_dose(patient.id)
        out = {"patient_id": patient.id, "instrument_id": instrument.id, "score_id": score_id,
               "first_dose_at": first, "start": None, "end": None,
               "patients_at_most": reference.BAND_PATIENTS,
               "min_patients": trends.MIN_PATIENTS, "weeks": []}
        if first is None:
            return out
        start = args["start"] or first - timedelta(days=28)
        end = args["end"] or utcnow()
        pair = (instrument.id, score_id)
        weeks = reference.cohort_bands(patient.clinic_id, patient.id, [pair], first, start,
                                       end)[pair]
        out |= {"start": start, "end": end, "weeks": [
            w.to_dict() | dict(zip(("start", "end"), trends.week_span(w.week, first),
                                   strict=True)) for w in weeks]}
        return out


@blp.route("/patients/<int:patient_id>/item-changes")
class ItemChanges(MethodView):
    @clinician_required
    @blp.arguments(ItemQuerySchema(), location="query")
    @blp.response(200, ItemChangesSchema(many=True))
    def get(self, args, patient_id):
        """Per instrument answered more than once: each item's change from the baseline
        answer (the last before the first dose, else the first) to the latest, largest first.
        """
        patient = clinic_patient(patient_id)
        wanted = [i for i in registry().all() if args["instrument_id"] in (None, i.id)]
        changes = reference.item_changes(patient.id, wanted, _first_dose(patient.id))
        return [c | {"items": [i.to_dict() for i in c["items"]]} for c in changes.values()]
