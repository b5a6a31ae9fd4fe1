"""Assessments API: patients submit from the phone; clinicians back-fill and correct."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import (
    clinician_required,
    current_clinician,
    current_patient,
    current_principal,
    patient_required,
)
from ..errors import ValidationProblem
from ..extensions import db
from ..patients.routes import clinic_patient
from . import service
from .schemas import (
    AssessmentQuerySchema,
    AssessmentSchema,
    BackfillAssessmentSchema,
    NewAssessmentSchema,
    SubmittedSchema,
)

blp = Blueprint("assessments", __name__, url_prefix="/api/v1",
                description="Completed questionnaires")


def _check_idempotency_key(data: dict) -> None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and key.strip().lower() != str(data["client_uuid"]).lower():
        raise ValidationProblem("The Idempotency-Key header and client_uuid differ.",
                                errors=[{"field": "client_uuid",
                                         "reason": "differs from the Idempotency-Key header"}])


def _submitted(patient, assessment, created: bool):
    # Commit now rather than at the request boundary: on SQLite the write lock is then held
    # for the inserts alone, not also while the response is serialized, and the other workers
    # wait less. (Everything this request writes is already in the transaction.)
    db.session.commit()
    assessment.replayed = not created
    positive = any(f.get("severity") == "safety" for f in assessment.scores.get("flags", []))
    assessment.crisis_text = patient.clinic.crisis_text if positive else None
    return assessment, 201 if created else 200


@blp.route("/assessments")
class Assessments(MethodView):
    @patient_required
    @blp.arguments(NewAssessmentSchema())
    @blp.response(201, SubmittedSchema)
    @blp.alt_response(200, schema=SubmittedSchema, description="A retry: the first result")
    def post(self, data):
        """Submit a completed questionnaire from the patient's phone (idempotent)."""
        _check_idempotency_key(data)
        patient = current_principal()  # read-only here: no ORM object needed (see access.py)
        assessment, created = service.submit(patient, data, source="patient")
        return _submitted(patient, assessment, created)

    @patient_required
    @blp.arguments(AssessmentQuerySchema(), location="query")
    @blp.response(200, AssessmentSchema(many=True))
    def get(self, args):
        """The signed-in patient's own assessments, newest first."""
        return service.list_assessments(current_patient(), **args)


@blp.route("/patients/<int:patient_id>/assessments")
class PatientAssessments(MethodView):
    @clinician_required
    @blp.arguments(AssessmentQuerySchema(), location="query")
    @blp.response(200, AssessmentSchema(many=True))
    def get(self, args, patient_id):
        """A patient's assessments, newest first."""
        return service.list_assessments(clinic_patient(patient_id), **args)

    @clinician_required
    @blp.arguments(BackfillAssessmentSchema())
    @blp.response(201, SubmittedSchema)
    @blp.alt_response(200, schema=SubmittedSchema, description="A retry: the first result")
    def post(self, data, patient_id):
        """Enter answers for a patient (paper form, import) or correct an earlier assessment."""
        _check_idempotency_key(data)
        patient = clinic_patient(patient_id)
        source = data.pop("source")
        assessment, created = service.submit(patient, data, source=source,
                                             user=current_clinician())
        return _submitted(patient, assessment, created)
