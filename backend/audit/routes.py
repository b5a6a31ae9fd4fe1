"""Audit API: clinic admins list and filter their clinic's trail."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import admin_required, current_clinician
from . import service
from .schemas import AuditEventSchema, AuditQuerySchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit trail")


@blp.route("/audit")
class Audit(MethodView):
    @admin_required
    @blp.arguments(AuditQuerySchema(), location="query")
    @blp.response(200, AuditEventSchema(many=True))
    def get(self, args):
        """The clinic's audit events, newest first (clinic admins only)."""
        return service.list_events(current_clinician().clinic_id, **args)
