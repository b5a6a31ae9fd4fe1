"""The set of instruments a running app knows, built explicitly (in create_app), never on import.

Shipped instruments come from SHIPPED_DIR; a clinic's licensed files come from a local,
git-ignored folder listed after it. The same id in two files is an error, not an override.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from backend.scoring.model import Instrument

from .loader import InstrumentFileError, display_path, instrument_files, load_instrument

#: The repository's instruments/ folder of freely shippable instruments.
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "instruments"


class UnknownInstrument(KeyError):
    """No instrument with this id is registered."""

    #: HTTP status for the app's problem+json handler.
    status_code = 404

    def __init__(self, instrument_id: str):
        self.instrument_id = instrument_id
        super().__init__(instrument_id)

    def __str__(self) -> str:
        return f"unknown instrument '{self.instrument_id}'"


class Registry:
    """Instruments by id, in the order they were loaded."""

    def __init__(
        self, instruments: Iterable[Instrument] = (), sources: dict[str, Path] | None = None
    ):
        self._by_id: dict[str, Instrument] = {}
        for instrument in instruments:
            if instrument.id in self._by_id:
                raise ValueError(f"instrument '{instrument.id}' given twice")
            self._by_id[instrument.id] = instrument
        self._sources = dict(sources or {})

    def get(self, instrument_id: str) -> Instrument:
        """The instrument with this id; UnknownInstrument if there is none."""
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise UnknownInstrument(instrument_id) from None

    def all(self) -> tuple[Instrument, ...]:
        return tuple(self._by_id.values())

    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def source(self, instrument_id: str) -> Path | None:
        """The file an instrument was loaded from, if it came from a file."""
        self.get(instrument_id)
        return self._sources.get(instrument_id)

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def build_registry(dirs: Iterable[Path | str], *, missing_ok: bool = True) -> Registry:
    """Load every instrument file in `dirs`, in order; the first bad file raises.

    Folders that do not exist are skipped unless `missing_ok` is False (the local licensed
    folder is usually absent). An id already loaded from an earlier file is an error.
    """
    instruments: list[Instrument] = []
    sources: dict[str, Path] = {}
    for given in dirs:
        folder = Path(given)
        if not folder.is_dir():
            if missing_ok and not folder.exists():
                continue
            raise InstrumentFileError(folder, "", "not a folder of instrument files")
        for path in instrument_files(folder):
            instrument = load_instrument(path)
            if instrument.id in sources:
                earlier = display_path(sources[instrument.id])
                reason = f"instrument '{instrument.id}' is already defined in {earlier}"
                raise InstrumentFileError(path, "id", reason)
            instruments.append(instrument)
            sources[instrument.id] = path
    return Registry(instruments, sources)
