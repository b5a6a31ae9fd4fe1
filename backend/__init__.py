"""Ebb: patient-reported outcomes and threshold-based treatment response."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing flask here would make every backend.* import load it
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment (``config`` keys win), extensions, routes."""
    from flask import Flask

    from . import apidocs, cli, database, errors, models, security, web  # noqa: F401
    from .config import load_settings
    from .extensions import api, db, limiter, login_manager, migrate
    from .instruments.service import init_registry

    app = Flask(__name__, static_folder=str(ROOT / "static"), static_url_path="/static",
                template_folder="templates")
    app.config.update(load_settings(app.instance_path, config))

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    login_manager.init_app(app)
    from .users.sessions import VerifiedCookieSessions

    app.session_interface = VerifiedCookieSessions()
    login_manager.session_protection = None  # our server-side sessions do this job
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    api.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    init_registry(app)
    _register_blueprints(app, api)
    apidocs.document_errors(app, api)
    apidocs.null_means_null(api)
    web.init_app(app)
    cli.init_app(app)
    return app


def _register_blueprints(app: Flask, api) -> None:
    from .assessments.routes import blp as assessments
    from .audit.routes import blp as audit
    from .clinic.api import blp as comparisons
    from .fhir.routes import blp as fhir
    from .instruments.routes import blp as instruments
    from .me.routes import blp as me
    from .patients.routes import blp as patients
    from .rules.routes import blp as rules
    from .schedules.routes import blp as schedules
    from .treatments.routes import blp as treatments
    from .users.routes import blp as auth

    for blp in (auth, patients, treatments, instruments, assessments, rules, comparisons, audit,
                fhir, schedules, me):
        api.register_blueprint(blp)
    from .pwa import routes as pwa

    app.register_blueprint(pwa.bp)
