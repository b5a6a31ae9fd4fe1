"""Run every benchmark in ``bench/`` and write ``bench/results.json`` plus a table.

Each module in this folder with a ``main()`` is a benchmark; it returns a dict of results
(or None) and prints its own lines; a ``headline`` key, if any, goes into the summary table.
Modules that set ``QUICK = True`` get ``--quick`` from ``python -m bench --quick``.
A module that is missing, fails to import or fails to run is reported and skipped: one
broken benchmark does not hide the others.
Run: ``./dev bench`` or ``python -m bench [--only NAME ...] [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import io
import json
import pkgutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Run first (the load test wants a quiet machine); the rest follow in name order.
FIRST = ("submissions",)
#: Helpers of the benchmarks, not benchmarks (pin_workers is a gunicorn config module).
SKIP = {"__main__", "bare_app", "load", "pin_workers"}


def discover() -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name not in SKIP)
    return [n for n in FIRST if n in names] + [n for n in names if n not in FIRST]


def run_one(name: str, quick: bool) -> dict:
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
    except Exception as exc:  # a peer's benchmark may be half-written
        return {"status": "import failed", "error": f"{type(exc).__name__}: {exc}"}
    main = getattr(module, "main", None)
    if main is None:
        return {"status": "no main()"}
    kwargs = {}
    if "argv" in inspect.signature(main).parameters:
        kwargs["argv"] = ["--quick"] if quick and getattr(module, "QUICK", False) else []
    saved_argv, saved_stdout = sys.argv, sys.stdout
    sys.argv = [f"bench/{name}.py"]  # a main() that parses sys.argv sees no options of ours
    captured = io.StringIO()
    sys.stdout = Tee(saved_stdout, captured)
    try:
        result = main(**kwargs)
    except SystemExit as exc:
        return {"status": "exited", "error": f"exit {exc.code}", "output": _tail(captured)}
    except Exception as exc:
        traceback.print_exc()
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                "seconds": round(time.perf_counter() - started, 1), "output": _tail(captured)}
    finally:
        sys.argv, sys.stdout = saved_argv, saved_stdout
    return {"status": "ok", "seconds": round(time.perf_counter() - started, 1),
            "result": result, "output": _tail(captured)}


class Tee(io.TextIOBase):
    """Print as usual and keep a copy, so results.json holds what each benchmark printed."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self):
        for stream in self.streams:
            stream.flush()


def _tail(buffer: io.StringIO, lines: int = 40) -> list[str]:
    kept = [line for line in buffer.getvalue().splitlines() if not line.startswith("INFO  [")]
    return kept[-lines:]


def headline(result) -> str:
    """The benchmark's own headline, or its top-level numbers."""
    if not isinstance(result, dict):
        return ""
    if result.get("headline"):
        return str(result["headline"])
    numbers = [f"{k} {v:.3g}" for k, v in result.items() if isinstance(v, (int, float))
               and not isinstance(v, bool)]
    return ", ".join(numbers[:4])


def table(results: dict) -> str:
    lines = [f"{'benchmark':<22} {'status':<14} {'time':>7}  headline", "-" * 78]
    for name, entry in results["benchmarks"].items():
        line = headline(entry.get("result"))
        if not line and entry.get("error"):
            line = entry["error"][:60]
        if not line and entry.get("output"):
            line = entry["output"][-1][:70]
        seconds = f"{entry['seconds']:.0f} s" if "seconds" in entry else ""
        lines.append(f"{name:<22} {entry['status']:<14} {seconds:>7}  {line}")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="module names to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args(argv)
    names = discover()
    if args.only:
        names = [n for n in names if n in args.only]
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
               "python": sys.version.split()[0], "benchmarks": {}}
    if args.only and Path(args.out).exists():  # keep the other benchmarks' last results
        results["benchmarks"] = json.loads(Path(args.out).read_text()).get("benchmarks", {})
    for name in names:
        print(f"\n=== {name}", flush=True)
        results["benchmarks"][name] = run_one(name, args.quick)
    Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("\n" + table(results))
    print(f"\nwritten: {args.out}")
    return results


if __name__ == "__main__":
    main()
