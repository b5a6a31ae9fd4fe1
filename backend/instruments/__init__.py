"""Instrument files: load and check YAML definitions, and hold them in a registry."""

from .loader import InstrumentFileError, load_instrument, validate_paths
from .presets import preset_rules
from .registry import SHIPPED_DIR, Registry, UnknownInstrument, build_registry

__all__ = [
    "SHIPPED_DIR",
    "InstrumentFileError",
    "Registry",
    "UnknownInstrument",
    "build_registry",
    "load_instrument",
    "preset_rules",
    "validate_paths",
]
