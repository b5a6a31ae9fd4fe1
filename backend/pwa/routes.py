"""Patient app pages (static shells filled by ES modules), the service worker and manifest.

The shells hold no patient data, so they are public and cacheable by the service worker; the
data comes from the patient API. The service worker is served from the root so its scope is
the whole app.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, send_from_directory
from flask_login import current_user

from .. import ROOT
from .i18n import DEFAULT, catalog, languages, translator

bp = Blueprint("pwa", __name__)

PAGES = {"join": "app/join.html", "home": "app/home.html", "answer": "app/answer.html",
         "progress": "app/progress.html"}


def _lang() -> str:
    if getattr(current_user, "is_patient", False) and current_user.language in languages():
        return current_user.language
    return request.accept_languages.best_match(languages()) or DEFAULT


def _page(name: str):
    lang = _lang()
    return render_template(PAGES[name], lang=lang, t=translator(lang), catalog=catalog(lang),
                           page=name)


@bp.get("/join")
def join():
    """Welcome page an invite link opens; the token stays in the URL fragment."""
    return _page("join")


@bp.get("/app")
def home():
    return _page("home")


@bp.get("/app/answer")
def answer():
    return _page("answer")


@bp.get("/app/progress")
def progress():
    return _page("progress")


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the root (scope "/"); never cached by HTTP, so updates land."""
    response = send_from_directory(ROOT / "static" / "js", "sw.js", max_age=0)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = send_from_directory(ROOT / "static", "manifest.webmanifest",
                                   max_age=current_app.get_send_file_max_age("x"))
    response.headers["Content-Type"] = "application/manifest+json"
    return response
