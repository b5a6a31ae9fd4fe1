"""The signed-in patient's own API: who they are (with the clinic's texts) and their progress."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import current_patient, patient_required
from . import service
from .schemas import MeSchema, ProgressSchema

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="The patient's own views")


@blp.route("/me")
class Me(MethodView):
    @patient_required
    @blp.response(200, MeSchema)
    def get(self):
        """The signed-in patient, with their clinic's consent and crisis texts."""
        return current_patient()


@blp.route("/me/progress")
class MyProgress(MethodView):
    @patient_required
    @blp.response(200, ProgressSchema(many=True))
    def get(self):
        """The patient's scores over time: one SVG chart per instrument, doses marked."""
        patient = current_patient()
        return service.progress(patient, patient.language)
