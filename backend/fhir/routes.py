"""FHIR R4 read endpoints: Questionnaires now; patient Bundles with the exports."""

import json

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import clinician_required
from ..instruments.service import get_instrument
from .questionnaire import questionnaire_resource

blp = Blueprint("fhir", __name__, url_prefix="/fhir", description="FHIR R4 resources")

FHIR_JSON = "application/fhir+json"


def fhir_response(resource: dict) -> Response:
    return Response(json.dumps(resource), mimetype=FHIR_JSON)


@blp.route("/Questionnaire/<string:instrument_id>")
class Questionnaire(MethodView):
    @blp.response(200, content_type=FHIR_JSON)
    def get(self, instrument_id):
        """The instrument as a FHIR R4 Questionnaire (SDC), LOINC-coded where codes exist.

        FHIR ids use hyphens (``nrs-pain``); the instrument id (``nrs_pain``) works too.
        """
        lang = request.args.get("lang", "en")[:8]
        instrument = get_instrument(instrument_id.replace("-", "_"), field="id")
        return fhir_response(questionnaire_resource(instrument, lang=lang,
                                                    base_url=request.host_url + "fhir"))


@blp.route("/Patient/<int:patient_id>/$everything")
class PatientEverything(MethodView):
    @clinician_required
    @blp.response(200, content_type=FHIR_JSON)
    def get(self, patient_id):
        """Everything about one patient of the clinic as a FHIR R4 Bundle (collection).

        Patient (pseudonymous code only), a QuestionnaireResponse per assessment with its score
        Observations, and a MedicationAdministration per dose. Clinicians only; audited.
        """
        from sqlalchemy import select

        from ..assessments.models import Assessment
        from ..audit.service import record
        from ..dbtypes import utcnow
        from ..extensions import db
        from ..instruments.service import registry
        from ..patients.routes import clinic_patient
        from ..treatments.models import Treatment
        from .bundle import patient_bundle

        patient = clinic_patient(patient_id)
        assessments = db.session.scalars(select(Assessment)
                                         .where(Assessment.patient_id == patient.id)
                                         .order_by(Assessment.completed_at, Assessment.id)).all()
        treatments = db.session.scalars(select(Treatment)
                                        .where(Treatment.patient_id == patient.id)
                                        .order_by(Treatment.given_at)).all()
        known = registry()
        bundle = patient_bundle(patient, assessments, treatments,
                                {i.id: i for i in known.all()},
                                base_url=request.host_url + "fhir", timestamp=utcnow())
        record("fhir.patient_everything", patient_id=patient.id, target_type="patient",
               target_id=patient.id, detail=f"{len(bundle['entry'])} resources")
        response = fhir_response(bundle)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="ebb-{patient.code}-fhir.json"')
        return response
