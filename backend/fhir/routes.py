"""FHIR R4 read endpoints: Questionnaires now; patient Bundles with the exports."""

import json

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

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
