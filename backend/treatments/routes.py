"""Treatments API: doses are recorded and corrected by clinicians."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import clinician_required, current_clinician
from ..patients.routes import clinic_patient
from . import service
from .schemas import TreatmentSchema, TreatmentUpdateSchema

blp = Blueprint("treatments", __name__, url_prefix="/api/v1", description="Doses given")


@blp.route("/patients/<int:patient_id>/treatments")
class Treatments(MethodView):
    @clinician_required
    @blp.response(200, TreatmentSchema(many=True))
    def get(self, patient_id):
        """The patient's doses, oldest first."""
        return service.list_treatments(clinic_patient(patient_id))

    @clinician_required
    @blp.arguments(TreatmentSchema())
    @blp.response(201, TreatmentSchema)
    def post(self, data, patient_id):
        """Record a dose (drug, dose and unit, route, time, course and session, arm, period)."""
        return service.add_treatment(clinic_patient(patient_id), current_clinician(), data)


@blp.route("/patients/<int:patient_id>/treatments/<int:treatment_id>")
class TreatmentItem(MethodView):
    @clinician_required
    @blp.arguments(TreatmentUpdateSchema(), required=False)
    @blp.response(200, TreatmentSchema)
    def patch(self, data, patient_id, treatment_id):
        """Correct a recorded dose."""
        return service.correct_treatment(clinic_patient(patient_id), treatment_id, data)
