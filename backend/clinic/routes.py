"""Clinician pages: server-rendered, behind clinician sign-in, forms with the session's CSRF token.

Each view parses the request, calls one function of ``pages`` or a feature service, and
renders. Writes post ordinary forms and redirect back (post/redirect/get), except where the
answer can only be shown once (a new invite's link and QR code).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from ..dbtypes import utcnow
from ..errors import Problem
from ..instruments.service import registry
from ..patients import service as patients
from ..rules import evaluation
from ..rules import service as rules
from ..treatments import service as treatments
from ..users import sessions
from ..web.routes import clinician_page
from . import cohort as cohort_data
from . import pages
from . import patient as patient_data
from .forms import FormError, definition_form, new_patient_data, rule_definition, treatment_data
from .words import when_text

bp = Blueprint("clinic", __name__, url_prefix="/clinic")
DEFAULT_TIME = "%-d %b %Y %H:%M"


@bp.app_template_filter("local")
def local_time(at: datetime | None, tz=None, fmt: str = DEFAULT_TIME) -> str:
    if at is None:
        return "—"
    if fmt == DEFAULT_TIME:
        return when_text(at, tz or UTC)
    return at.astimezone(tz or ZoneInfo("UTC")).strftime(fmt)


@bp.app_template_filter("pct")
def pct(value: float | None, digits: int = 0, signed: bool = True) -> str:
    if value is None:
        return "—"
    return f"{value:+.{digits}f}%" if signed else f"{value:.{digits}f}%"


@bp.app_template_filter("combine_page")
def combine_page(args: dict, page: int) -> dict:
    return {**args, "page": page}


@bp.app_template_filter("hours")
def hours(value: float | None) -> str:
    from .words import hours_text

    return hours_text(value)


bp.add_app_template_global(pages.rule_names, "rule_names")


def _render(template: str, status: int = 200, /, **context):
    return render_template(template, csrf_token=sessions.csrf_token(), user=current_user,
                           **context), status


def patient_list():
    """The clinic's patients: open alerts first, due/overdue, latest verdicts (web.patients)."""
    args = request.args
    data = pages.patient_list(current_user.clinic_id, q=args.get("q") or None,
                              status=args.get("status") or None, only=args.get("only") or None,
                              rule_refs=args.getlist("rule"), page=args.get("page", 1, type=int))
    return _render("clinic/patients.html", **data, q=args.get("q", ""),
                   status_filter=args.get("status", ""), only=args.get("only", ""))


@bp.route("/patients/new", methods=["GET", "POST"])
@clinician_page
def new_patient():
    """Create a patient (pseudonymous code) and hand over their first invite."""
    if request.method == "GET":
        return _render("clinic/new_patient.html", errors={}, form={})
    form = request.form
    try:
        data = new_patient_data(form)
        patient = patients.create_patient(current_user, code=data["code"],
                                          timezone=data["timezone"])
        invite = patients.issue_invite(patient, current_user)
    except FormError as exc:
        return _render("clinic/new_patient.html", 422, errors=exc.errors, form=form)
    except Problem as exc:
        errors = {e["field"]: e["reason"] for e in exc.errors or []} or {"code": exc.detail}
        return _render("clinic/new_patient.html", exc.status, errors=errors, form=form)
    return _invite_page(patient, invite, 201)


@bp.get("/patients/<int:patient_id>")
@clinician_page
def patient(patient_id: int):
    """One patient: per domain a trend chart and a verdict per dose; answers; doses; alerts.

    Built and rendered with the cyclic garbage collector paused: years of answers become
    tens of thousands of short-lived objects without cycles, which it would rescan several
    times; they are freed by reference counting when the page is sent.
    """
    args = request.args
    choice = {k[5:]: v for k, v in args.items() if k.startswith("rule_")}
    with evaluation.bulk():
        data = patient_data.patient_page(current_user.clinic_id, patient_id,
                                         rule_choice=choice, range_key=args.get("range", "90"),
                                         answers_page=args.get("answers_page", 1, type=int),
                                         all_verdicts=args.get("doses") == "all")
        edit = args.get("edit", type=int)
        editing = next((t for t in data["treatments"] if t.id == edit), None)
        return _render("clinic/patient.html", **data, editing=editing, errors={}, form={})


def _back(patient_id: int, anchor: str = ""):
    return redirect(url_for("clinic.patient", patient_id=patient_id) + anchor, code=303)


@bp.post("/patients/<int:patient_id>/treatments")
@clinician_page
def add_treatment(patient_id: int):
    """Record a dose (time in the patient's zone)."""
    patient = patients.get_patient(current_user.clinic_id, patient_id, audit=False)
    try:
        data = treatment_data(request.form, ZoneInfo(patient.timezone or "UTC"))
        treatments.add_treatment(patient, current_user, data)
    except FormError as exc:
        return _form_again(patient_id, exc.errors)
    return _back(patient_id, "#doses")


@bp.post("/patients/<int:patient_id>/treatments/<int:treatment_id>")
@clinician_page
def correct_treatment(patient_id: int, treatment_id: int):
    """Correct a recorded dose; the audit trail keeps old and new values."""
    patient = patients.get_patient(current_user.clinic_id, patient_id, audit=False)
    try:
        data = treatment_data(request.form, ZoneInfo(patient.timezone or "UTC"), partial=True)
        treatments.correct_treatment(patient, treatment_id, data)
    except FormError as exc:
        return _form_again(patient_id, exc.errors, edit=treatment_id)
    return _back(patient_id, "#doses")


def _form_again(patient_id: int, errors: dict, edit: int | None = None):
    data = patient_data.patient_page(current_user.clinic_id, patient_id, rule_choice={})
    editing = next((t for t in data["treatments"] if t.id == edit), None)
    return _render("clinic/patient.html", 422, **data, editing=editing, errors=errors,
                   form=request.form)


@bp.post("/patients/<int:patient_id>/alerts/<int:alert_id>/acknowledge")
@clinician_page
def acknowledge_alert(patient_id: int, alert_id: int):
    patient = patients.get_patient(current_user.clinic_id, patient_id, audit=False)
    patients.acknowledge_alert(patient, alert_id, current_user,
                               (request.form.get("note") or "").strip()[:2000] or None)
    return _back(patient_id, "#alerts")


def _invite_page(patient, invite: dict | None, status: int = 200):
    rows = patients.list_invites(patient)
    now = utcnow()
    return _render("clinic/invite.html", status, patient=patient, invite=invite, invites=rows,
                   states={i.id: i.state(now) for i in rows})


@bp.get("/patients/<int:patient_id>/invites")
@clinician_page
def invites(patient_id: int):
    patient = patients.get_patient(current_user.clinic_id, patient_id)
    return _invite_page(patient, None)


@bp.post("/patients/<int:patient_id>/invites")
@clinician_page
def reissue_invite(patient_id: int):
    """A new link and QR code (open ones are revoked); shown once, so rendered, not redirected."""
    patient = patients.get_patient(current_user.clinic_id, patient_id, audit=False)
    invite = patients.issue_invite(patient, current_user)
    return _invite_page(patient, invite, 201)


@bp.post("/patients/<int:patient_id>/invites/<int:invite_id>/revoke")
@clinician_page
def revoke_invite(patient_id: int, invite_id: int):
    patient = patients.get_patient(current_user.clinic_id, patient_id, audit=False)
    patients.revoke_invite(patient, invite_id)
    return redirect(url_for("clinic.invites", patient_id=patient_id), code=303)


@bp.get("/cohort")
@clinician_page
def cohort():
    """Response rate per group, % change by time point, durability, evaluable n and why not."""
    args = request.args
    data = cohort_data.cohort_page(current_user.clinic_id, args.get("rule"),
                             args.get("group_by", "none"), args.get("per", "anchor"))
    return _render("clinic/cohort.html", **data)


@bp.get("/rules")
@clinician_page
def rule_list():
    current = rules.list_rules(current_user.clinic_id)
    return _render("clinic/rules.html", rules=current,
                   labels={r.key: pages.rule_label(r) for r in current})


def _targets() -> list[tuple[str, str]]:
    out = []
    for instrument in registry().all():
        for score in instrument.scores:
            out.append((f"{instrument.id}:{score.id}",
                        f"{instrument.text(instrument.title, 'en')}: "
                        f"{instrument.text(score.title, 'en')}"))
    return out


@bp.route("/rules/edit", methods=["GET", "POST"])
@clinician_page
def rule_edit():
    """The rule form; "Preview" shows the unsaved rule on the current cohort, "Save" versions it."""
    clinic_id = current_user.clinic_id
    if request.method == "GET":
        key = request.args.get("key")
        form = {"name": "", "target": "nrs_pain:score", "mode": "all",
                "kind1": "percent_improvement", "value1": 30, "start_hours": 0,
                "end_hours": 72, "evaluation": "any", "baseline_method": "last",
                "span_hours": 168, "anchor": "each_session"}
        rule = None
        if key:
            rule = rules.get_rule(clinic_id, key)
            form = definition_form(rule.definition) | {"key": rule.key}
        return _render("clinic/rule_edit.html", form=form, rule=rule, targets=_targets(),
                       errors={}, preview=None)
    form = request.form
    rule = None
    try:
        definition, key = rule_definition(form)
        definition = rules.validate_definition(definition)
        if form.get("action") == "save":
            rule = rules.save_rule(clinic_id, current_user, definition, key=key)
            return redirect(url_for("clinic.cohort", rule=rule.key), code=303)
        result = evaluation.preview_outcomes(clinic_id, definition)
        preview = {"result": result, "label": pages.definition_label(definition),
                   **cohort_data.cohort_figures(result, definition)}
        return _render("clinic/rule_edit.html", form=form, rule=None, targets=_targets(),
                       errors={}, preview=preview)
    except FormError as exc:
        errors = exc.errors
    except Problem as exc:
        errors = {e["field"]: e["reason"] for e in exc.errors or []} or {"name": exc.detail}
    return _render("clinic/rule_edit.html", 422, form=form, rule=rule, targets=_targets(),
                   errors=errors, preview=None)
