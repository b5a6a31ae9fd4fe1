"""Schedules API: clinicians read and change the clinic's schedule; patients see what is due."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import clinician_required, current_clinician, current_patient, patient_required
from ..patients.routes import clinic_patient
from . import service
from .schemas import DueListSchema, ScheduleSchema

blp = Blueprint("schedules", __name__, url_prefix="/api/v1",
                description="Which questionnaires are due when")


@blp.route("/schedule")
class ClinicSchedule(MethodView):
    @clinician_required
    @blp.response(200, ScheduleSchema)
    def get(self):
        """The clinic's schedule in force (the newest version)."""
        schedule = service.current(current_clinician().clinic_id)
        if schedule is None:
            from ..errors import NotFound

            raise NotFound("This clinic has no schedule yet.")
        return schedule

    @clinician_required
    @blp.arguments(ScheduleSchema())
    @blp.response(200, ScheduleSchema)
    def put(self, data):
        """Replace the schedule: stored as a new version; answers keep the version they met."""
        user = current_clinician()
        return service.save(user.clinic_id, data["definition"], user)


@blp.route("/me/due")
class MyDueList(MethodView):
    @patient_required
    @blp.response(200, DueListSchema)
    def get(self):
        """The signed-in patient's questionnaires: due now, coming up and recently done."""
        return service.due_list(current_patient())


@blp.route("/patients/<int:patient_id>/due")
class PatientDueList(MethodView):
    @clinician_required
    @blp.response(200, DueListSchema)
    def get(self, patient_id):
        """What a patient has due now, coming up and recently done."""
        return service.due_list(clinic_patient(patient_id))
