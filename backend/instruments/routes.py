"""Instrument catalog API and stateless scoring."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..errors import ValidationProblem
from ..scoring import AnswerError, score
from . import api_schemas as s
from .service import get_instrument, registry

blp = Blueprint("instruments", __name__, url_prefix="/api/v1",
                description="Questionnaires and scoring")


@blp.route("/instruments")
class Instruments(MethodView):
    @blp.arguments(s.InstrumentQuerySchema(), location="query")
    @blp.response(200, s.InstrumentSummarySchema(many=True))
    def get(self, args):
        """Every instrument this server can serve (shipped and the clinic's licensed ones)."""
        return [s.summary(i, args["lang"]) for i in registry().all()]


@blp.route("/instruments/<string:instrument_id>")
class InstrumentItem(MethodView):
    @blp.arguments(s.InstrumentQuerySchema(), location="query")
    @blp.response(200, s.InstrumentSchema)
    def get(self, args, instrument_id):
        """One instrument with its items and scores in the asked language."""
        return s.detail(get_instrument(instrument_id), args["lang"])


@blp.route("/instruments/<string:instrument_id>/score")
class ScoreAnswers(MethodView):
    @blp.arguments(s.ScoreRequestSchema())
    @blp.response(200, s.ScoreResultSchema)
    def post(self, data, instrument_id):
        """Score answers without storing anything."""
        instrument = get_instrument(instrument_id)
        try:
            return score(instrument, data["answers"]).to_dict()
        except AnswerError as exc:
            raise ValidationProblem(f"{len(exc.problems)} answer(s) cannot be scored: {exc}",
                                    errors=[p.to_dict() for p in exc.problems]) from None
