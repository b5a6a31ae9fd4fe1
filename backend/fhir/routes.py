"""FHIR R4 read endpoints: Questionnaires now; patient Bundles with the exports."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..instruments.service import get_instrument

blp = Blueprint("fhir", __name__, url_prefix="/fhir", description="FHIR R4 resources")


@blp.route("/Questionnaire/<string:instrument_id>")
class Questionnaire(MethodView):
    @blp.response(200, content_type="application/fhir+json")
    def get(self, instrument_id):
        """The instrument as a FHIR R4 Questionnaire (SDC), LOINC-coded where codes exist."""
        from .questionnaire import questionnaire_resource

        lang = request.args.get("lang", "en")[:8]
        return questionnaire_resource(get_instrument(instrument_id, field="id"), lang=lang,
                                      base_url=request.host_url.rstrip("/"))
