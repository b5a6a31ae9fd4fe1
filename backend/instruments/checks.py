"""Meaning checks for an instrument file that passed its schema: references, text, ranges.

Each check yields (field, reason) pairs with the field written as in the file
("scores[0].inputs[2]"), so the loader can say exactly where a file is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from backend.scoring.arith import fmt, on_grid
from backend.scoring.model import Instrument
from backend.scoring.ranges import raw_range, score_ranges

Found = Iterator[tuple[str, str]]

#: A scale is a row of buttons; more points than this is a slider.
MAX_SCALE_POINTS = 101
#: Widest raw-score range a lookup table may have to cover.
MAX_TABLE_SPAN = 10_000


def check_data(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Every problem in schema-loaded data that would make the instrument wrong to use."""
    checks = (_texts, _items, _scores, _cycles, _flags, _rules)
    return [problem for check in checks for problem in check(data)]


def check_model(instrument: Instrument) -> list[tuple[str, str]]:
    """Problems only visible once built: declared ranges, bands and lookup tables."""
    found: list[tuple[str, str]] = []
    ranges = score_ranges(instrument)
    bounds = {i.id: (Fraction(i.min), Fraction(i.max)) for i in instrument.items}
    bounds.update(ranges)
    for index, score_def in enumerate(instrument.scores):
        where = f"scores[{index}]"
        lo, hi = score_def.range
        can_lo, can_hi = ranges[score_def.id]
        if score_def.method == "lookup":
            raw_lo, raw_hi = raw_range(score_def, bounds)
            if raw_hi - raw_lo > MAX_TABLE_SPAN:
                found.append((f"{where}.inputs", "raw scores span too wide for a table"))
                continue
            gaps = [k for k in range(int(raw_lo), int(raw_hi) + 1) if k not in score_def.table]
            if gaps:
                shown = ", ".join(str(k) for k in gaps[:10]) + (" ..." if len(gaps) > 10 else "")
                found.append((f"{where}.table", f"no value for raw scores {shown}"))
            outside = [k for k, v in score_def.table.items() if not lo <= v <= hi]
            if outside:
                found.append(
                    (f"{where}.table", f"values for raw {outside[0]} fall outside range")
                )
        if can_lo < lo or can_hi > hi:
            found.append(
                (
                    f"{where}.range",
                    f"declared {fmt(lo)} to {fmt(hi)} but the inputs give "
                    f"{_show(can_lo)} to {_show(can_hi)}",
                )
            )
        for b, band in enumerate(score_def.bands):
            if not lo <= band.min <= band.max <= hi:
                found.append(
                    (
                        f"{where}.bands[{b}]",
                        f"{fmt(band.min)} to {fmt(band.max)} is not inside the score range "
                        f"{fmt(lo)} to {fmt(hi)}",
                    )
                )
    return found


def _show(value: Fraction) -> str:
    return fmt(int(value)) if value.denominator == 1 else fmt(round(float(value), 4))


def _texts(data: dict[str, Any]) -> Found:
    langs = data["languages"]
    if len(set(langs)) != len(langs):
        yield "languages", "a language is listed twice"
    optional = not data["text_may_ship"]

    def need(field: str, texts: dict[str, str] | None, may_omit: bool = False) -> Found:
        if texts is None:
            if not may_omit:
                yield field, f"missing; give text in {', '.join(langs)}"
            return
        for lang in langs:
            if lang not in texts:
                yield field, f"no text in '{lang}'"
        for lang in texts:
            if lang not in langs:
                yield field, f"'{lang}' is not one of the declared languages"

    yield from need("title", data["title"])
    if "recall" in data:
        yield from need("recall.text", data["recall"]["text"])
    yield from need("stem", data.get("stem"), may_omit=True)
    for i, item in enumerate(data["items"]):
        yield from need(f"items[{i}].text", item.get("text"), may_omit=optional)
        for o, option in enumerate(item.get("options", [])):
            yield from need(f"items[{i}].options[{o}].label", option.get("label"), optional)
        if "anchors" in item:
            yield from need(f"items[{i}].anchors.min", item["anchors"]["min"])
            yield from need(f"items[{i}].anchors.max", item["anchors"]["max"])
    for s, score_def in enumerate(data["scores"]):
        yield from need(f"scores[{s}].title", score_def["title"])
    for f, flag in enumerate(data["flags"]):
        yield from need(f"flags[{f}].message", flag["message"])


def _items(data: dict[str, Any]) -> Found:
    seen: set[str] = set()
    for i, item in enumerate(data["items"]):
        where = f"items[{i}]"
        if item["id"] in seen:
            yield f"{where}.id", f"duplicate item id '{item['id']}'"
        seen.add(item["id"])
        kind = item["kind"]
        if kind == "choice":
            yield from _choice(where, item)
            continue
        if item.get("options"):
            yield f"{where}.options", f"a {kind} item takes min, max and step, not options"
        if "min" not in item or "max" not in item:
            yield where, f"a {kind} item needs min and max"
            continue
        low, high, step = item["min"], item["max"], item.get("step", 1)
        if low >= high:
            yield f"{where}.max", "must be greater than min"
        elif kind == "scale" and not all(isinstance(v, int) for v in (low, high, step)):
            yield where, "a scale takes whole-number min, max and step (use a slider)"
        elif kind == "scale" and (high - low) // step + 1 > MAX_SCALE_POINTS:
            yield where, f"a scale has at most {MAX_SCALE_POINTS} points (use a slider)"
        elif not on_grid(high, low, step):
            yield f"{where}.step", f"{fmt(high)} is not reachable from {fmt(low)} in steps"


def _choice(where: str, item: dict[str, Any]) -> Found:
    options = item.get("options") or []
    if not options:
        yield f"{where}.options", "a choice item needs options"
    for key in ("min", "max", "step"):
        if key in item:
            yield f"{where}.{key}", "a choice item takes its range from its options"
    if "anchors" in item:
        yield f"{where}.anchors", "a choice item labels its options instead"
    values = [o["value"] for o in options]
    for value in sorted({v for v in values if values.count(v) > 1}):
        yield f"{where}.options", f"duplicate option value {fmt(value)}"


def _scores(data: dict[str, Any]) -> Found:
    items = {i["id"]: i for i in data["items"]}
    scores = {s["id"]: s for s in data["scores"]}
    if len(scores) != len(data["scores"]):
        yield "scores", "duplicate score id"
    if sum(1 for s in data["scores"] if s["primary"]) > 1:
        yield "scores", "only one score may be primary"
    for s, sd in enumerate(data["scores"]):
        where = f"scores[{s}]"
        method, inputs = sd["method"], sd["inputs"]
        if sd["id"] in items:
            yield f"{where}.id", f"'{sd['id']}' is already an item id"
        if len(set(inputs)) != len(inputs):
            yield f"{where}.inputs", "an input is listed twice"
        for n, ref in enumerate(inputs):
            if ref == sd["id"]:
                yield f"{where}.inputs[{n}]", "a score cannot take itself as input"
            elif ref in items and not items[ref]["scored"]:
                yield f"{where}.inputs[{n}]", f"item '{ref}' is marked scored: false"
            elif ref not in items and ref not in scores:
                yield f"{where}.inputs[{n}]", f"no item or score called '{ref}'"
        for n, ref in enumerate(sd["reverse"]):
            if ref not in inputs or ref not in items:
                yield f"{where}.reverse[{n}]", f"'{ref}' is not an item among the inputs"
        if "weights" in sd:
            if method != "weighted_sum":
                yield f"{where}.weights", "only a weighted_sum takes weights"
            for ref in sd["weights"]:
                if ref not in inputs:
                    yield f"{where}.weights", f"'{ref}' is not among the inputs"
        if (method == "lookup") != ("table" in sd):
            yield f"{where}.table", "a lookup needs a table, and only a lookup takes one"
        from_scores = [ref for ref in inputs if ref in scores]
        if method == "lookup" and from_scores and len(inputs) != 1:
            yield f"{where}.inputs", "a lookup takes one score, or items only"
        if method == "lookup" and len(from_scores) == 1 == len(inputs):
            source = scores[from_scores[0]]
            if source["method"] not in ("sum", "lookup") or source.get("round", 0) != 0:
                yield f"{where}.inputs", "a lookup needs a whole-number raw score as input"
        yield from _missing_rules(where, sd, from_scores)
        low, high = sd["range"]
        if low >= high:
            yield f"{where}.range", "the low end must be below the high end"
        labels = [b["label"] for b in sd["bands"]]
        if len(set(labels)) != len(labels):
            yield f"{where}.bands", "a band label is used twice"
        for b, band in enumerate(sd["bands"]):
            if band["min"] > band["max"]:
                yield f"{where}.bands[{b}]", "min must not exceed max"


def _missing_rules(where: str, sd: dict[str, Any], from_scores: list[str]) -> Found:
    method, count = sd["method"], len(sd["inputs"])
    least = sd.get("min_answered")
    if least is not None and least > count:
        yield f"{where}.min_answered", f"more than the {count} inputs"
    partial = least is not None and least < count
    if sd["prorate"]:
        if method not in ("sum", "lookup") or from_scores:
            yield f"{where}.prorate", "only a sum or lookup over items can be prorated"
        elif not partial:
            yield f"{where}.prorate", "needs min_answered below the number of inputs"
    elif partial and method != "mean":
        yield f"{where}.min_answered", f"a {method} over fewer inputs needs prorate: true"


def _cycles(data: dict[str, Any]) -> Found:
    graph = {s["id"]: [r for r in s["inputs"] if r != s["id"]] for s in data["scores"]}
    index = {s["id"]: n for n, s in enumerate(data["scores"])}
    reported: set[str] = set()

    def walk(node: str, path: list[str]) -> Found:
        if node in path:
            cycle = path[path.index(node) :] + [node]
            if cycle[0] not in reported:
                reported.update(cycle)
                yield f"scores[{index[cycle[0]]}].inputs", "cycle: " + " -> ".join(cycle)
            return
        for ref in graph.get(node, []):
            if ref in graph:
                yield from walk(ref, path + [node])

    for node in graph:
        yield from walk(node, [])


def _flags(data: dict[str, Any]) -> Found:
    items = {i["id"] for i in data["items"]}
    scores = {s["id"] for s in data["scores"]}
    seen: set[str] = set()
    for f, flag in enumerate(data["flags"]):
        if flag["id"] in seen:
            yield f"flags[{f}].id", f"duplicate flag id '{flag['id']}'"
        seen.add(flag["id"])
        when = flag["when"]
        refs = [when["item"]] if "item" in when else when.get("items", [])
        for ref in refs:
            if ref not in items:
                yield f"flags[{f}].when", f"no item called '{ref}'"
        if "score" in when and when["score"] not in scores:
            yield f"flags[{f}].when.score", f"no score called '{when['score']}'"


def _rules(data: dict[str, Any]) -> Found:
    scores = {s["id"] for s in data["scores"]}
    names: set[str] = set()
    for r, rule in enumerate(data["default_rules"]):
        if rule["score"] not in scores:
            yield f"default_rules[{r}].score", f"no score called '{rule['score']}'"
        if rule["name"] in names:
            yield f"default_rules[{r}].name", f"duplicate rule name '{rule['name']}'"
        names.add(rule["name"])
