"""HTML pages. Thin views over the same services as the API."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import (
    Blueprint,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user

from ..errors import Problem
from ..users import service as users
from ..users import sessions

bp = Blueprint("web", __name__)


def _form_csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    return bool(expected) and hmac.compare_digest(sent, expected)


@bp.get("/")
def index():
    if current_user.is_authenticated and not current_user.is_patient:
        return redirect(url_for("web.patients"))
    return redirect(url_for("web.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        if not _form_csrf_ok():
            error = "Your session expired. Please try again."
        else:
            try:
                users.login(email, request.form.get("password", ""),
                            request.form.get("totp_code") or None)
                return redirect(url_for("web.patients"))
            except Problem as exc:
                error = exc.detail
    return render_template("web/login.html", error=error, email=email,
                           csrf_token=sessions.csrf_token()), 401 if error else 200


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sessions.end()
    return redirect(url_for("web.login"))


def clinician_page(view):
    """Clinician pages send anyone else to the sign-in page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or current_user.is_patient:
            return redirect(url_for("web.login"))
        return view(*args, **kwargs)

    return wrapper


@bp.get("/api/docs")
def api_docs():
    """Interactive API documentation (Swagger UI, served from this server, no inline script)."""
    return render_template("api_docs.html")


@bp.get("/api/docs/assets/<path:filename>")
def api_docs_assets(filename: str):
    import swagger_ui_bundle

    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


@bp.get("/clinic/patients")
@clinician_page
def patients():
    from ..clinic.routes import patient_list

    return patient_list()
