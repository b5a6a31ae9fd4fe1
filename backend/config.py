"""Settings, read from the environment inside ``create_app`` (never at import time)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

#: Every setting Ebb reads from the environment, with its default.
DEFAULTS: dict[str, object] = {
    "DATABASE_URL": None,  # SQLite file in the instance folder when unset
    "SECRET_KEY": None,  # generated once and kept in the instance folder when unset
    "INSTRUMENTS_LOCAL_DIR": None,  # a clinic's licensed instrument files
    "RATELIMIT_STORAGE_URI": "memory://",  # redis://host:6379 with several app instances
    "RATELIMIT_ENABLED": True,
    "LOGIN_RATE_LIMIT": "30 per minute",
    "ENROLL_RATE_LIMIT": "20 per minute",
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "CLINICIAN_IDLE_MINUTES": 30,
    "PATIENT_SESSION_DAYS": 365,
    "PATIENT_PIN_IDLE_MINUTES": 15,
    "INVITE_DAYS": 7,
    "PUBLIC_BASE_URL": "",  # e.g. https://ebb.example.org; used in invite links and QR codes
    "SESSION_COOKIE_SECURE": False,  # true in production (HTTPS)
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "SQLITE_SYNCHRONOUS": "FULL",
    "EBB_ENV": "development",  # "production" turns on HSTS and Secure cookies
}

_BOOL = {"1": True, "true": True, "yes": True, "on": True,
         "0": False, "false": False, "no": False, "off": False}


def _coerce(default: object, raw: str) -> object:
    if isinstance(default, bool):
        if raw.lower() not in _BOOL:
            raise ValueError(f"expected a boolean, got {raw!r}")
        return _BOOL[raw.lower()]
    if isinstance(default, int):
        return int(raw)
    return raw


def load_settings(instance_path: str, overrides: dict | None) -> dict:
    """Merge defaults, the environment and explicit overrides (which win) into Flask config."""
    settings: dict[str, object] = {}
    for key, default in DEFAULTS.items():
        raw = os.environ.get(key)
        settings[key] = default if raw in (None, "") else _coerce(default, raw)
    settings.update(overrides or {})

    Path(instance_path).mkdir(parents=True, exist_ok=True)
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "ebb.sqlite3")
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(Path(instance_path) / "secret_key")

    production = settings["EBB_ENV"] == "production"
    settings.setdefault("SQLALCHEMY_DATABASE_URI", settings["DATABASE_URL"])
    settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(str(settings["DATABASE_URL"])))
    settings.setdefault("SESSION_COOKIE_HTTPONLY", True)
    settings.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    settings["SESSION_COOKIE_SECURE"] = bool(settings["SESSION_COOKIE_SECURE"]) or production
    settings.setdefault("SESSION_COOKIE_NAME", "ebb_session")
    settings.setdefault("PERMANENT_SESSION_LIFETIME",
                        timedelta(days=int(settings["PATIENT_SESSION_DAYS"])))
    settings.setdefault("REMEMBER_COOKIE_DURATION", timedelta(seconds=0))
    # The cookie only names a server-side session, which tracks idle time and expiry itself:
    # re-signing the cookie on every request would be work (and a Set-Cookie) for nothing.
    settings.setdefault("SESSION_REFRESH_EACH_REQUEST", False)
    settings.setdefault("API_TITLE", "Ebb")
    settings.setdefault("API_VERSION", "v1")
    settings.setdefault("OPENAPI_VERSION", "3.0.3")
    settings.setdefault("OPENAPI_URL_PREFIX", "/api")
    settings.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    return settings


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        from .sqlite_turns import TurnTakingConnection

        return {"connect_args": {"timeout": 30, "factory": TurnTakingConnection}}
    return {"pool_pre_ping": True}


def _instance_secret(path: Path) -> str:
    """Read the instance's secret key, creating it once (mode 0600) if it does not exist."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
