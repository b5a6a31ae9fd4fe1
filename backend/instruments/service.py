"""The app's instrument registry: built once in ``create_app`` from shipped and local files."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from ..errors import NotFound
from . import SHIPPED_DIR, build_registry


def init_registry(app: Flask) -> None:
    """Load and validate every instrument file; a bad file stops start-up with its reason."""
    dirs = [SHIPPED_DIR]
    local = app.config.get("INSTRUMENTS_LOCAL_DIR")
    if local:
        dirs.append(Path(local))
    app.extensions["ebb.instruments"] = build_registry(dirs)


def registry():
    return current_app.extensions["ebb.instruments"]


def get_instrument(instrument_id: str, field: str = "instrument_id"):
    try:
        return registry().get(instrument_id)
    except KeyError:
        raise NotFound(f"No instrument {instrument_id!r}.",
                       errors=[{"field": field, "reason": "unknown instrument"}]) from None
