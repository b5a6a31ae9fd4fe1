"""Patients API: clinicians manage patients and invites; patients enrol and unlock."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import clinician_required, current_clinician, current_patient
from ..extensions import limiter
from ..users.routes import session_payload
from ..users.schemas import SessionSchema
from . import service
from .schemas import (
    AckSchema,
    AlertSchema,
    EnrollSchema,
    InviteSchema,
    NewPatientResultSchema,
    NewPatientSchema,
    PatientListItemSchema,
    PatientQuerySchema,
    PatientSchema,
    PatientUpdateSchema,
    PinSchema,
)

blp = Blueprint("patients", __name__, url_prefix="/api/v1", description="Patients and invites")


def enroll_limit() -> str:
    return current_app.config["ENROLL_RATE_LIMIT"]


def clinic_patient(patient_id: int):
    return service.get_patient(current_clinician().clinic_id, patient_id)


@blp.route("/patients")
class Patients(MethodView):
    @clinician_required
    @blp.arguments(PatientQuerySchema(), location="query")
    @blp.response(200, PatientListItemSchema(many=True))
    def get(self, args):
        """The clinic's patients, those with open safety alerts first."""
        return service.list_patients(current_clinician().clinic_id, **args)

    @clinician_required
    @blp.arguments(NewPatientSchema(), required=False)
    @blp.response(201, NewPatientResultSchema)
    def post(self, data):
        """Create a patient (pseudonymous code) and their first invite link and QR code."""
        user = current_clinician()
        patient = service.create_patient(user, **data)
        return {"patient": patient, "invite": service.issue_invite(patient, user)}


@blp.route("/patients/<int:patient_id>")
class PatientItem(MethodView):
    @clinician_required
    @blp.response(200, PatientSchema)
    def get(self, patient_id):
        """One patient of the clinic."""
        return clinic_patient(patient_id)

    @clinician_required
    @blp.arguments(PatientUpdateSchema(), required=False)
    @blp.response(200, PatientSchema)
    def patch(self, data, patient_id):
        """Change a patient's time zone, language or status (withdrawing ends their sessions)."""
        return service.update_patient(clinic_patient(patient_id), data)


@blp.route("/patients/<int:patient_id>/invites")
class Invites(MethodView):
    @clinician_required
    @blp.response(200, InviteSchema(many=True))
    def get(self, patient_id):
        """The patient's invites and their states (tokens are never shown again)."""
        return service.list_invites(clinic_patient(patient_id))

    @clinician_required
    @blp.response(201, InviteSchema)
    def post(self, patient_id):
        """Issue a new invite, revoking any open one."""
        return service.issue_invite(clinic_patient(patient_id), current_clinician())


@blp.route("/patients/<int:patient_id>/invites/<int:invite_id>")
class InviteItem(MethodView):
    @clinician_required
    @blp.response(204)
    def delete(self, patient_id, invite_id):
        """Revoke an invite."""
        service.revoke_invite(clinic_patient(patient_id), invite_id)


@blp.route("/patients/<int:patient_id>/alerts")
class Alerts(MethodView):
    @clinician_required
    @blp.response(200, AlertSchema(many=True))
    def get(self, patient_id):
        """The patient's safety alerts, newest first."""
        return service.list_alerts(clinic_patient(patient_id))


@blp.route("/patients/<int:patient_id>/alerts/<int:alert_id>/acknowledge")
class AlertAck(MethodView):
    @clinician_required
    @blp.arguments(AckSchema(), required=False)
    @blp.response(200, AlertSchema)
    def post(self, data, patient_id, alert_id):
        """Acknowledge a safety alert, with an optional note of what was done."""
        return service.acknowledge_alert(clinic_patient(patient_id), alert_id,
                                         current_clinician(), data["note"])


@blp.route("/enroll")
class Enroll(MethodView):
    decorators = [limiter.limit(enroll_limit, methods=["POST"])]

    @blp.arguments(EnrollSchema())
    @blp.response(201, SessionSchema)
    @blp.alt_response(404, description="Unknown invite")
    @blp.alt_response(410, description="Invite used, expired or revoked")
    def post(self, data):
        """Use an invite link: starts a long-lived patient session, optionally PIN-guarded."""
        return session_payload(service.enroll(data["token"], data["pin"]))


@blp.route("/auth/unlock")
class Unlock(MethodView):
    decorators = [limiter.limit(enroll_limit, methods=["POST"])]

    @blp.arguments(PinSchema())
    @blp.response(200, SessionSchema)
    def post(self, data):
        """A patient proves their PIN after the app was idle."""
        patient = current_patient()
        service.unlock(patient, data["pin"])
        return session_payload(patient)
