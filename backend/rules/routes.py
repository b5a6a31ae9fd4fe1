"""Rules API and the outcomes computed with them, per patient and per cohort."""

from flask import Response, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import clinician_required, current_clinician
from ..patients.routes import clinic_patient
from . import evaluation, exports, service
from .schemas import (
    CohortOutcomesSchema,
    CohortQuerySchema,
    OutcomeQuerySchema,
    PatientOutcomesSchema,
    RuleInSchema,
    RuleQuerySchema,
    RuleSchema,
)

blp = Blueprint("rules", __name__, url_prefix="/api/v1",
                description="Response rules and outcomes")


@blp.route("/rules")
class Rules(MethodView):
    @clinician_required
    @blp.arguments(RuleQuerySchema(), location="query")
    @blp.response(200, RuleSchema(many=True))
    def get(self, args):
        """The clinic's rules (current versions unless include_old)."""
        return service.list_rules(current_clinician().clinic_id, **args)

    @clinician_required
    @blp.arguments(RuleInSchema())
    @blp.response(201, RuleSchema)
    def post(self, data):
        """Create a rule, or save a new version of one (give its key); old verdicts stay."""
        key = data.pop("key")
        definition = {k: v for k, v in data.items() if v is not None}
        user = current_clinician()
        return service.save_rule(user.clinic_id, user, definition, key=key)


@blp.route("/rules/<string:rule_ref>")
class RuleItem(MethodView):
    @clinician_required
    @blp.response(200, RuleSchema)
    def get(self, rule_ref):
        """One rule by id, key or key@version."""
        return service.get_rule(current_clinician().clinic_id, rule_ref)


def _csv_response(chunks, filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/exports/endpoints.csv")
class EndpointsExport(MethodView):
    @clinician_required
    @blp.arguments(OutcomeQuerySchema(), location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """Derived endpoints: a row per patient x anchor for the rule (tidy CSV)."""
        clinic_id = current_clinician().clinic_id
        rule = service.get_rule(clinic_id, args["rule"])
        return _csv_response(exports.endpoints_csv(clinic_id, rule),
                             f"ebb-endpoints-{rule.key}-v{rule.version}.csv")


@blp.route("/exports/answers.csv")
class AnswersExport(MethodView):
    @clinician_required
    @blp.response(200, content_type="text/csv")
    def get(self):
        """Raw answers: a row per answered item, with the assessment's scores."""
        return _csv_response(exports.answers_csv(current_clinician().clinic_id),
                             "ebb-answers.csv")


@blp.route("/patients/<int:patient_id>/outcomes")
class PatientOutcomes(MethodView):
    @clinician_required
    @blp.arguments(OutcomeQuerySchema(), location="query")
    @blp.response(200, PatientOutcomesSchema)
    def get(self, args, patient_id):
        """Verdict per anchor dose: baseline, follow-ups, onset, loss and duration."""
        patient = clinic_patient(patient_id)
        rule = service.get_rule(patient.clinic_id, args["rule"])
        verdicts = evaluation.patient_outcomes(patient, rule)
        return {"patient_id": patient.id, "rule": rule,
                "verdicts": [v.to_dict() for v in verdicts]}


@blp.route("/cohort/outcomes")
class CohortOutcomes(MethodView):
    @clinician_required
    @blp.arguments(CohortQuerySchema(), location="query")
    @blp.response(200, CohortOutcomesSchema)
    def get(self, args):
        """Response rate with Wilson 95% interval, % change by time point, durability."""
        clinic_id = current_clinician().clinic_id
        rule = service.get_rule(clinic_id, args["rule"])
        result = evaluation.cohort_outcomes(clinic_id, rule, group_by=args["group_by"],
                                            per=args["per"])
        return {"rule": rule, **result}
