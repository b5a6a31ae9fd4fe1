"""The ``ebb`` command: Flask's CLI over ``create_app`` plus Ebb's own commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app():
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Ebb: patient-reported outcomes and treatment response."""


def upgrade_db() -> None:
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


@click.command("create-clinic")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--timezone", default="UTC")
@with_appcontext
def create_clinic_command(name: str, slug: str, timezone: str) -> None:
    """Create a clinic (the tenant)."""
    from .clinics.service import create_clinic
    from .extensions import db

    clinic = create_clinic(name=name, slug=slug, timezone=timezone)
    db.session.commit()
    click.echo(f"clinic {clinic.id} {clinic.slug}")


@click.command("create-user")
@click.option("--clinic", "clinic_slug", required=True, help="clinic slug")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["clinician", "admin"]), default="clinician")
@click.option("--name", default="")
@click.password_option()
@with_appcontext
def create_user_command(clinic_slug: str, email: str, role: str, name: str,
                        password: str) -> None:
    """Create a clinician or clinic admin account."""
    from .clinics.service import clinic_by_slug
    from .errors import Problem
    from .extensions import db
    from .users.service import create_user

    clinic = clinic_by_slug(clinic_slug)
    try:
        user = create_user(clinic.id, email, password, role=role, name=name)
    except Problem as exc:
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    click.echo(f"user {user.id} {user.email} ({user.role})")


@click.command("seed-demo")
@click.option("--json", "as_json", is_flag=True, help="print credentials and invites as JSON")
@click.option("--patients", default=12, show_default=True)
@click.option("--days", default=90, show_default=True)
@with_appcontext
def seed_demo_command(as_json: bool, patients: int, days: int) -> None:
    """Create a demo clinic with clinicians, patients, treatments, answers and invites."""
    from .demo import seed_demo

    result = seed_demo(n_patients=patients, days=days)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print_login(result)


def _print_login(result: dict) -> None:
    base = result["base_url"]
    click.echo("")
    click.echo(f"  Ebb demo clinic: {result['clinic']['name']}")
    click.echo(f"  Clinician sign-in: {base}/login")
    click.echo(f"    email:    {result['clinician']['email']}")
    click.echo(f"    password: {result['clinician']['password']}")
    click.echo(f"  Clinic admin: {result['admin']['email']} / {result['admin']['password']}")
    if result["invites"]:
        invite = result["invites"][0]
        click.echo(f"  Patient invite ({invite['code']}), open on a phone: {invite['url']}")
    click.echo("")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def demo_command(host: str, port: int) -> None:
    """Migrate, seed the demo clinic if the database is empty, and serve."""
    from .demo import demo_credentials, seed_demo

    app: Flask = current_app._get_current_object()
    app.config["PUBLIC_BASE_URL"] = app.config["PUBLIC_BASE_URL"] or f"http://{host}:{port}"
    upgrade_db()
    result = demo_credentials() or seed_demo()
    _print_login(result)
    from werkzeug.serving import run_simple

    # Flask refuses app.run() inside its own CLI; serve with Werkzeug directly (threaded).
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@click.group("instruments")
def instruments_group() -> None:
    """Instrument files."""


@instruments_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def validate_command(paths) -> None:
    """Check instrument files (default: shipped and local ones); exit 1 on any problem."""
    from pathlib import Path

    from .instruments import SHIPPED_DIR, validate_paths

    targets = [Path(p) for p in paths] or [SHIPPED_DIR]
    problems = validate_paths(targets)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        sys.exit(1)
    click.echo(f"ok: {', '.join(str(t) for t in targets)}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the SQLite database to PATH while the app keeps running (consistent snapshot)."""
    from .backup import BackupError, backup

    try:
        summary = backup(path)
    except BackupError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"backup written: {summary}")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace a database that holds data")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Replace the SQLite database with the backup at PATH (checked first). Stop the app first."""
    from .backup import BackupError, restore

    try:
        summary = restore(path, force=force)
    except BackupError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"restored: {summary}")


def init_app(app: Flask) -> None:
    for command in (create_clinic_command, create_user_command, seed_demo_command, demo_command,
                    instruments_group, backup_command, restore_command):
        app.cli.add_command(command)
