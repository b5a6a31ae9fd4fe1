"""`python -m bench` runs every benchmark in `bench/` and nothing that is not one."""

import importlib

from bench.__main__ import discover


def test_every_module_the_bench_command_runs_is_a_benchmark_with_a_main():
    names = discover()
    assert names[0] == "submissions"  # first, on a quiet machine
    assert {"submissions", "page_weight", "outcomes_db", "clinician_pages"} <= set(names)
    for name in names:
        assert callable(getattr(importlib.import_module(f"bench.{name}"), "main", None)), name
