"""Reads instrument YAML files into checked Instrument values, or says precisely what is wrong.

A bad file must stop start-up with its name, the field and the reason, so every failure
is an InstrumentFileError like "instruments/phq9.yaml: items[8].options: duplicate ...".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from backend.scoring.model import Instrument

from .build import build_instrument
from .checks import check_data, check_model
from .schemas import FORMAT_VERSION, InstrumentSchema

SUFFIXES = (".yaml", ".yml")


class InstrumentFileError(Exception):
    """A problem in one instrument file: which file, which field, and why."""

    def __init__(self, path: Path | str, field: str, reason: str):
        self.path = Path(path)
        self.field = field
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = display_path(self.path)
        return f"{shown}: {self.field}: {self.reason}" if self.field else f"{shown}: {self.reason}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.field, self.reason))


def load_instrument(path: Path | str) -> Instrument:
    """The instrument in `path`; raises the first InstrumentFileError found in it."""
    instrument, errors = _load(Path(path))
    if errors:
        raise errors[0]
    assert instrument is not None
    return instrument


def validate_paths(paths: Iterable[Path | str]) -> list[InstrumentFileError]:
    """Every problem in the given files and folders (folders: their YAML files), for the CLI.

    Also reports an instrument id used by more than one file. An empty list means valid.
    """
    errors: list[InstrumentFileError] = []
    seen: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        if not path.exists():
            errors.append(InstrumentFileError(path, "", "no such file or folder"))
            continue
        for file in instrument_files(path) if path.is_dir() else [path]:
            instrument, found = _load(file)
            errors.extend(found)
            if instrument is not None:
                duplicate = _duplicate(instrument, file, seen)
                if duplicate:
                    errors.append(duplicate)
    return errors


def instrument_files(folder: Path) -> list[Path]:
    """The instrument files directly inside `folder`, in name order."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES)


def _duplicate(
    instrument: Instrument, path: Path, seen: dict[str, Path]
) -> InstrumentFileError | None:
    if instrument.id in seen:
        earlier = display_path(seen[instrument.id])
        reason = f"instrument '{instrument.id}' is already defined in {earlier}"
        return InstrumentFileError(path, "id", reason)
    seen[instrument.id] = path
    return None


def _load(path: Path) -> tuple[Instrument | None, list[InstrumentFileError]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [InstrumentFileError(path, "", f"cannot read: {exc}")]
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [InstrumentFileError(path, "", f"not valid YAML: {exc}")]
    if not isinstance(raw, dict):
        return None, [InstrumentFileError(path, "", "must be a YAML mapping of keys to values")]
    version = raw.get("format_version")
    if version is None:
        reason = f"missing; this Ebb reads format_version {FORMAT_VERSION}"
        return None, [InstrumentFileError(path, "format_version", reason)]
    if version != FORMAT_VERSION or isinstance(version, bool):
        reason = f"unsupported format_version {version!r}; this Ebb reads {FORMAT_VERSION}"
        return None, [InstrumentFileError(path, "format_version", reason)]
    try:
        data = InstrumentSchema().load(raw)
    except ValidationError as exc:
        found = _flatten(exc.messages, raw)
        return None, [InstrumentFileError(path, field, reason) for field, reason in found]
    problems = check_data(data)
    if problems:
        return None, [InstrumentFileError(path, field, reason) for field, reason in problems]
    instrument = build_instrument(data)
    problems = check_model(instrument)
    if problems:
        return None, [InstrumentFileError(path, field, reason) for field, reason in problems]
    return instrument, []


def _flatten(messages: Any, raw: Any = None, prefix: str = "") -> list[tuple[str, str]]:
    """Marshmallow's nested error dict as (field path, reason) pairs, in file order."""
    if isinstance(messages, list | tuple):
        out: list[tuple[str, str]] = []
        for message in messages:
            if isinstance(message, dict | list):
                out.extend(_flatten(message, raw, prefix))
            else:
                out.append((prefix, _reason(str(message))))
        return out
    if not isinstance(messages, dict):
        return [(prefix, _reason(str(messages)))]
    order = list(raw) if isinstance(raw, dict) else []

    def position(key: Any) -> tuple[int, int, str]:
        if isinstance(key, int):
            return (0, key, "")
        if key in order:
            return (0, order.index(key), "")
        return (1, 0, str(key))

    out = []
    for key in sorted(messages, key=position):
        inner = None
        if isinstance(raw, dict):
            inner = raw.get(key)
        elif isinstance(raw, list) and isinstance(key, int) and key < len(raw):
            inner = raw[key]
        if key == "_schema":
            path, inner = prefix, raw
        elif isinstance(key, int):
            path = f"{prefix}[{key}]"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        out.extend(_flatten(messages[key], inner, path))
    return out


def _reason(message: str) -> str:
    if message == "Unknown field.":
        return f"unknown key (not part of format_version {FORMAT_VERSION})"
    if message == "Missing data for required field.":
        return "missing"
    return message


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it, as people type it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
