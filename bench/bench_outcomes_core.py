"""Micro-benchmark of the outcomes core: evaluate + summarize over a synthetic cohort.

Run: .venv/bin/python bench/bench_outcomes_core.py [--patients 10000] [--points 50]
        [--repeat 3] [--ordered]

Prints seconds (best of --repeat) and ratios against baselines measured in the same run:
one plain pass over every point, and sorting every patient's points by time. Each patient's
points arrive shuffled unless --ordered (as a query with ORDER BY time delivers them).
Nothing is asserted; the app's target is < 1 s for 10,000 x 50 including the SQL read.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from backend.outcomes import (
    Criteria,
    Criterion,
    Dose,
    Rule,
    ScorePoint,
    Window,
    evaluate,
    summarize,
)

SCHEDULE_HOURS = (-2, 40 / 60, 24, 72, 168, 336)
RULE = Rule(
    name="fatigue 20% by day 3",
    instrument="fatigue_vas",
    score="total",
    direction="lower_is_better",
    criteria=Criteria("all", (Criterion("percent_improvement", 20),)),
    window=Window(0, 72),
)


def cohort(patients: int, per_patient: int, *, ordered: bool = False, seed: int = 7
           ) -> list[tuple[list, list]]:
    """Three doses 4 weeks apart per patient, scheduled answers around each, the rest spread."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    out = []
    for p in range(patients):
        first = start + timedelta(hours=rng.randrange(0, 24 * 60))
        arms = ("ketamine", "midazolam") if p % 2 else ("midazolam", "ketamine")
        doses = [Dose(f"{p}-{k}", first + timedelta(days=28 * k), drug=arms[k % 2],
                      session=k + 1, arm=arms[k % 2], period=k + 1) for k in range(3)]
        hours = [28 * 24 * k + h for k in range(3) for h in SCHEDULE_HOURS]
        hours += [rng.uniform(-168, 84 * 24) for _ in range(per_patient - len(hours))]
        points = []
        for i, h in enumerate(hours[:per_patient]):
            value = max(0.0, rng.gauss(55, 15) * (0.7 if 0 < h % (28 * 24) < 96 else 1.0))
            points.append(ScorePoint(first + timedelta(hours=h), round(value, 1), i,
                                     rng.random() < 0.9))
        if ordered:
            points.sort(key=lambda p: p.at)
        else:
            rng.shuffle(points)
        out.append((points, doses))
    return out


def best(repeat: int, work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ordered", action="store_true", help="points already in time order")
    args = parser.parse_args()
    data = cohort(args.patients, args.points, ordered=args.ordered)

    def one_pass() -> float:
        total = 0.0
        for points, _ in data:
            for point in points:
                total += point.value
        return total

    def sort_only() -> int:
        return sum(len(sorted(points, key=lambda p: p.at)) for points, _ in data)

    def evaluate_all() -> dict:
        return {i: evaluate(points, doses, RULE) for i, (points, doses) in enumerate(data)}

    t_pass, _ = best(args.repeat, one_pass)
    t_sort, _ = best(args.repeat, sort_only)
    t_eval, verdicts = best(args.repeat, evaluate_all)
    t_sum, result = best(args.repeat, lambda: summarize(verdicts, group_by="arm_period"))
    total = t_eval + t_sum
    n_points = sum(len(points) for points, _ in data)
    n_anchors = sum(len(v) for v in verdicts.values())
    print(f"{args.patients} patients, {n_points} points "
          f"({'ordered' if args.ordered else 'shuffled'}), {n_anchors} anchors, "
          f"{len(result.groups)} groups (best of {args.repeat})")
    print(f"one pass over points   {t_pass:8.3f} s")
    print(f"sort points by time    {t_sort:8.3f} s")
    print(f"evaluate               {t_eval:8.3f} s")
    print(f"summarize (arm_period) {t_sum:8.3f} s")
    print(f"evaluate + summarize   {total:8.3f} s  = {total / t_pass:.1f}x one pass, "
          f"{total / t_sort:.1f}x sorting")


if __name__ == "__main__":
    main()
