"""The outcomes core stays pure: no Flask, no SQLAlchemy, no clock (STYLE habit 4)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "backend" / "outcomes"
CHECK = (
    "import sys, backend.outcomes; "
    "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
    "('flask', 'sqlalchemy', 'flask_sqlalchemy'))))"
)


def loaded_by_import(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_importing_backend_outcomes_loads_neither_flask_nor_sqlalchemy():
    assert loaded_by_import(CHECK) == ""


def test_the_outcomes_package_itself_imports_nothing_of_the_web_stack():
    # Same check with `backend` as a bare namespace, so backend/__init__.py is not run: if the
    # test above fails while this one passes, the culprit is backend/__init__.py.
    bare = (f"import sys, types; pkg = types.ModuleType('backend'); "
            f"pkg.__path__ = [{str(ROOT / 'backend')!r}]; sys.modules['backend'] = pkg; " + CHECK)
    assert loaded_by_import(bare) == ""


def test_the_outcomes_code_never_reads_the_clock():
    clock = re.compile(r"\.(now|utcnow|today|time|time_ns|monotonic|perf_counter)\s*\(")
    for source in sorted(PACKAGE.glob("*.py")):
        text = source.read_text()
        assert not clock.findall(text), source.name
        assert not re.search(r"^\s*(from|import)\s+(time|flask|sqlalchemy)\b", text, re.M), \
            source.name
