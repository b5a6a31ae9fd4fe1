"""Server-rendered pages: clinician sign-in and pages, the patient app shell."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..clinic.routes import bp as clinic
    from .routes import bp

    app.register_blueprint(bp)
    app.register_blueprint(clinic)
