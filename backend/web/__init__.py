"""Server-rendered pages: clinician sign-in and pages, the patient app shell."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .routes import bp

    app.register_blueprint(bp)
