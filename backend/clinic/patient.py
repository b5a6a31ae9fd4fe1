"""One patient's clinician page, gathered in a fixed handful of queries whatever the history.

The page must stay fast for a patient with years of daily answers (issue #6: 2 years x 4
instruments, 30 doses, at most 10x a bare page), so:

- a rule's series is read from where the verdicts shown need it (``outcomes.decided_from``),
  as the driver's bare tuples in one statement, and judged as columns of integer times;
  datetimes are made only for the points the charts show;
- only the latest verdicts shown are turned into dicts and sentences;
- the answers table is paged (newest first, ``ANSWERS_PER_PAGE`` a page) with one indexed
  range per instrument, so a page costs the same on day 10 and on day 700;
- charts are drawn by ``backend.charts`` with plain string formatting.

The deciding is done by the pure cores (outcomes, charts, words); this module reads and
arranges.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import groupby, repeat
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    bindparam,
    func,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import aliased

from ..assessments.models import Assessment, ScoreValue
from ..audit.service import record
from ..charts import Band, BandBin, Line, Marker, Point, line_chart
from ..dbtypes import UTCDateTime, utcnow
from ..extensions import db
from ..instruments.service import registry
from ..outcomes import Rule as RuleSpec
from ..outcomes import ScorePoint, count_anchors, decided_from, evaluate_columns
from ..outcomes.model import Dose, from_micros, to_micros
from ..patients import service as patients
from ..patients.models import Alert, Patient
from ..rules import evaluation
from ..rules.models import Rule
from ..treatments.models import Treatment
from . import reference, trends
from .pages import domain_label, rule_label
from .words import (
    VERDICT_MARKS,
    VERDICT_WORDS,
    hours_text,
    threshold_value,
    verdict_sentence,
    when_text,
)

SIDE_EFFECTS = "side_effects"
RANGES = {"90": 90, "365": 365, "all": None}
#: Answers per page of the answers table (newest first).
ANSWERS_PER_PAGE = 30
#: Verdicts shown per domain unless all are asked for.
VERDICTS_SHOWN = 10
# The page's small reads, built once: rows of the columns shown, not tracked ORM objects
# (the page only reads, and each ORM entity query cost a few tenths of a millisecond).
TREATMENTS = (select(Treatment.id, Treatment.given_at, Treatment.drug, Treatment.dose,
                     Treatment.dose_unit, Treatment.route, Treatment.course,
                     Treatment.session_number, Treatment.arm, Treatment.period,
                     Treatment.notes, Treatment.updated_at)
              .where(Treatment.patient_id == bindparam("patient"))
              .order_by(Treatment.given_at, Treatment.id))
#: The instruments the patient has answered: one index seek per instrument (a loose index
#: scan), not a pass over every answer as a GROUP BY makes.
INSTRUMENTS = text("""
WITH RECURSIVE answered(instrument_id) AS (
  SELECT min(instrument_id) FROM assessments WHERE patient_id = :patient
  UNION ALL
  SELECT (SELECT min(a.instrument_id) FROM assessments a
          WHERE a.patient_id = :patient AND a.instrument_id > answered.instrument_id)
  FROM answered WHERE answered.instrument_id IS NOT NULL)
SELECT instrument_id FROM answered WHERE instrument_id IS NOT NULL""")
#: The clinic's current rules, as ``rules.list_rules`` orders them.
RULES = (select(Rule.id, Rule.key, Rule.version, Rule.name, Rule.instrument_id, Rule.score_id,
                Rule.definition)
         .where(Rule.clinic_id == bindparam("clinic"), Rule.current.is_(True))
         .order_by(Rule.name, Rule.version))
#: The patient's safety alerts, newest first (as ``patients.list_alerts``).
ALERTS = (select(Alert.id, Alert.message, Alert.created_at, Alert.acknowledged_at)
          .where(Alert.patient_id == bindparam("patient")).order_by(Alert.created_at.desc()))


#: Row tags: ``_PARTS * n + part`` for pair n (see ``_series_statement``).
_PARTS = 4
_MAIN, _SHOWN, _LATEST, _COUNT = 0, 1, 2, 3
_TAG = _AT = itemgetter(0)
_TAG_AT = itemgetter(0, 1)
#: Read from here to read a whole series.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
#: Reads start this much before the time they need: the cut is made exactly in Python, so a
#: time stored in another text form than SQLAlchemy's (compared as text by SQLite) is never
#: lost at the edge.
SLACK = timedelta(days=1)


def dose_label(t) -> str:
    """A dose in words (``t``: a Treatment or a row of its columns)."""
    parts = [f"{t.drug} {t.dose:g} {t.dose_unit} {t.route}"]
    if t.course:
        parts.append(f"course {t.course}")
    if t.session_number:
        parts.append(f"session {t.session_number}")
    if t.arm or t.period:
        parts.append(" ".join(x for x in (t.arm or "", f"period {t.period}" if t.period else "")
                              if x))
    return ", ".join(parts)


def _pair_filter(n: int):
    return (ScoreValue.clinic_id == bindparam("clinic"),
            ScoreValue.instrument_id == bindparam(f"inst_{n}"),
            ScoreValue.score_id == bindparam(f"score_{n}"),
            ScoreValue.patient_id == bindparam("patient"))


@lru_cache(maxsize=64)
def _series_statement(lean: tuple[bool, ...]):
    """A UNION ALL of index ranges per (instrument, score) pair, built once per shape.

    Every row is (tag, at, value, in_window), tagged ``4 * n + part`` for pair n:

    - part 0: the points from ``from_<n>`` on. For a lean pair only those before
      ``since_<n>``, and only time and value, straight from the covering series index
      (in_window NULL: its rule does not look at it);
    - part 1, lean pairs only: the points from ``since_<n>`` on, with in_window, for the
      chart (and the rule);
    - part 2: the latest point (time and value), part 3: one row whose value is the series'
      length; both read the index alone.

    Values are bound per call: ``clinic``, ``patient``, ``inst_<n>``, ``score_<n>``,
    ``from_<n>``, ``since_<n>``.
    """
    parts = []
    for n, is_lean in enumerate(lean):
        tag = _PARTS * n

        def part(part_no, *columns, n=n, tag=tag):
            return select(literal(tag + part_no, Integer).label("tag"), *columns
                          ).where(*_pair_filter(n))

        def after(name, n=n):
            return ScoreValue.at >= bindparam(f"{name}_{n}", type_=UTCDateTime)

        full = (ScoreValue.at, ScoreValue.value, ScoreValue.in_window)
        if is_lean:
            parts.append(part(_MAIN, ScoreValue.at, ScoreValue.value, null())
                         .where(after("from"), ~after("since")))
            parts.append(part(_SHOWN, *full).where(after("since")))
        else:
            parts.append(part(_MAIN, *full).where(after("from")))
        latest = select(func.max(ScoreValue.at)).where(*_pair_filter(n)).scalar_subquery()
        parts.append(part(_LATEST, ScoreValue.at, ScoreValue.value, null())
                     .where(ScoreValue.at == latest))
        parts.append(part(_COUNT, null(), func.count(), null()))
    return union_all(*parts)


class Read(NamedTuple):
    """How one pair's series is read: its points from ``start`` on (``EARLIEST``: all of
    them), with their in_window unless ``lean`` (then only the chart's points carry it)."""

    start: datetime
    lean: bool = False


class Series(NamedTuple):
    """One pair's score series as the page needs it.

    ``ats`` (microseconds since the epoch), ``values`` and ``in_window`` (None for a lean
    read) are the points read, as columns in time order for ``evaluate_columns``; ``shown``
    the points from the chart's start on (all of them without one), ``latest`` the last
    point and ``count`` the length of the whole series.
    """

    ats: list[int]
    values: tuple
    in_window: tuple | None
    shown: list[ScorePoint]
    latest: ScorePoint | None
    count: int


def patient_series(clinic_id: int, patient_id: int, reads: dict[tuple[str, str], Read],
                   since: datetime | None) -> dict[tuple[str, str], Series]:
    """One patient's score series for several (instrument, score) pairs, in one statement.

    ``reads`` says how each pair is read, ``since`` is the charts' start (None: the charts
    show everything). Rows come as the driver hands them over (no result processing): times
    become integer microseconds column-wise (``evaluation.micros_column``), and datetimes
    are made only for the points a chart shows.
    """
    if not reads:
        return {}
    pairs = list(reads)
    values: dict = {"clinic": clinic_id, "patient": patient_id}
    for n, pair in enumerate(pairs):
        values[f"inst_{n}"], values[f"score_{n}"] = pair
        values[f"from_{n}"] = reads[pair].start
        if reads[pair].lean:
            values[f"since_{n}"] = since - SLACK
    rows = evaluation.driver_execute(
        _series_statement(tuple(reads[pair].lean for pair in pairs)), values)
    rows.sort(key=_TAG_AT)  # stable: equal times keep the index's order
    found = {tag: list(group) for tag, group in groupby(rows, _TAG)}
    sqlite = db.engine.dialect.name == "sqlite"
    out = {}
    for n, pair in enumerate(pairs):
        tag = _PARTS * n
        latest = _points(found.get(tag + _LATEST, [])[-1:], sqlite)
        count = int(found[tag + _COUNT][0][2])
        main = found.get(tag + _MAIN, [])
        ats, series_values, windows, shown = [], (), None, []
        if reads[pair].lean:  # the rule's points are both parts, the chart's the second
            recent = found.get(tag + _SHOWN, [])
            if main or recent:
                _, times, series_values, _ = zip(*(main + recent), strict=True)
                ats = evaluation.micros_column(times)
            shown = _points(recent, sqlite)
            shown = shown[bisect_left(shown, since, key=_AT):]
        elif main:
            _, times, series_values, windows = zip(*main, strict=True)
            times = _utc(times, sqlite)
            ats = evaluation.micros_column(times)
            if sqlite:
                windows = _booleans(windows)
            start = 0 if since is None else bisect_left(ats, to_micros(since))
            shown = list(map(ScorePoint, times[start:], series_values[start:],
                             repeat(None), windows[start:]))
        out[pair] = Series(ats, series_values, windows, shown, latest[0] if latest else None,
                           count)
    return out


def _utc(times, sqlite: bool) -> list[datetime]:
    """UTCDateTime values as the driver hands them over, as aware datetimes in UTC. SQLite's
    text is naive UTC: parsed with its offset added (several times faster than setting the
    zone afterwards)."""
    if sqlite:
        return [datetime.fromisoformat(at + "+00:00") for at in times]
    return [at.astimezone(UTC) for at in times]


def _booleans(column) -> tuple:
    """A boolean column as SQLite hands it over (0 and 1) as booleans, None kept, as
    SQLAlchemy's Boolean reads it."""
    return tuple(None if value is None else bool(value) for value in column)


def _points(rows, sqlite: bool) -> list[ScorePoint]:
    """Rows of (tag, at, value, in_window) as ScorePoints in UTC."""
    if not rows:
        return []
    _, times, values, windows = zip(*rows, strict=True)
    if sqlite:
        windows = _booleans(windows)
    return list(map(ScorePoint, _utc(times, sqlite), values, repeat(None), windows))


def _rule_for(instrument_id: str, current: list[Rule], wanted: str | None) -> Rule | None:
    options = [r for r in current if r.instrument_id == instrument_id]
    return next((r for r in options if r.key == wanted), options[0] if options else None)


def patient_page(clinic_id: int, patient_id: int, *, rule_choice: dict[str, str],
                 range_key: str = "90", answers_page: int = 1,
                 all_verdicts: bool = False) -> dict:
    """Everything on one patient's page: trend and verdicts per domain, answers, doses.

    Only reads; the audit events it adds are written together when the request commits.
    """
    with db.session.no_autoflush:
        return _patient_page(clinic_id, patient_id, rule_choice, range_key, answers_page,
                             all_verdicts)


def _patient_page(clinic_id: int, patient_id: int, rule_choice: dict[str, str],
                  range_key: str, answers_page: int, all_verdicts: bool) -> dict:
    patient = patients.get_patient(clinic_id, patient_id)  # audited patient.read
    tz = ZoneInfo(patient.timezone or "UTC")
    now = utcnow()
    known = registry()
    own = {"patient": patient.id}
    # The page's reads are Core selects: run on the session's connection (its transaction),
    # without the ORM's execution layer (a tenth of a millisecond each).
    con = db.session.connection()
    treatments = con.execute(TREATMENTS, own).all()
    # The same doses ``evaluation.load_doses`` reads, from the rows already here.
    doses = [Dose(t.id, t.given_at, t.drug, t.course, t.session_number, t.arm, t.period)
             for t in treatments]
    # dose id -> (local time, dose in words, drug and dose): for the tables and the charts
    given = {t.id: (when_text(t.given_at, tz), dose_label(t),
                    f"{t.drug} {t.dose:g} {t.dose_unit} {t.route}") for t in treatments}
    markers = [Marker(t.given_at, given[t.id][1], f"{t.drug} {t.dose:g} {t.dose_unit}"[:24])
               for t in treatments]
    present = set(con.execute(INSTRUMENTS, own).scalars())
    current = con.execute(RULES, {"clinic": clinic_id}).all()
    range_key = range_key if range_key in RANGES else "90"
    days = RANGES[range_key]
    x_range = (now - timedelta(days=days), now) if days else None
    wanted = []
    for instrument in known.all():
        if instrument.id not in present or instrument.id == SIDE_EFFECTS:
            continue
        rule = _rule_for(instrument.id, current, rule_choice.get(instrument.id))
        score_def = instrument.score_def(rule.score_id) if rule else instrument.primary_score
        spec = evaluation.rule_spec(rule) if rule else None
        wanted.append((instrument, rule, score_def, spec))
    # A rule's series is read from where the verdicts shown need it (in_window only when
    # the rule looks at it), and only those verdicts are judged; a score without a rule
    # only needs what its chart shows.
    pairs = [(i.id, sd.id) for i, _r, sd, _spec in wanted]
    specs = {(i.id, sd.id): spec for i, _r, sd, spec in wanted if spec is not None}
    since = x_range[0] if x_range else None
    last = None if all_verdicts else VERDICTS_SHOWN
    reads = {pair: _read(specs.get(pair), doses, since, last) for pair in pairs}
    series = patient_series(clinic_id, patient.id, reads, since)
    judged = {pair: _judged(series[pair], doses, spec, last) for pair, spec in specs.items()}
    totals = {pair: count_anchors(doses, spec) for pair, spec in specs.items()}
    # The chart's baseline line is the latest verdict's that has one. When none of those
    # judged has one, judge every dose, on the whole series (read again if it was cut).
    older = [pair for pair, verdicts in judged.items()
             if len(verdicts) < totals[pair] and all(v.baseline is None for v in verdicts)]
    again = {pair: reads[pair]._replace(start=EARLIEST) for pair in older
             if reads[pair].start > EARLIEST}
    if again:
        series |= patient_series(clinic_id, patient.id, again, since)
    for pair in older:
        judged[pair] = _judged(series[pair], doses, specs[pair], None)
    first_dose = treatments[0].given_at if treatments else None
    ranges = {pair: x_range or chart_range(series[pair].shown, markers, x_range)
              for pair in pairs}
    bands = {}
    if first_dose is not None and pairs:
        bands = reference.cohort_bands(clinic_id, patient.id, pairs, first_dose,
                                       min(r[0] for r in ranges.values()),
                                       max(r[1] for r in ranges.values()))
    items = reference.item_changes(patient.id, [i for i, _r, _sd, _spec in wanted
                                                if len(i.items) > 1], first_dose)
    page = _Page(doses, markers, current, tz, all_verdicts,
                 given,
                 first_dose)
    domains = [_domain(page, instrument, rule, score_def, series[(instrument.id, score_def.id)],
                       judged.get((instrument.id, score_def.id)),
                       totals.get((instrument.id, score_def.id), 0),
                       ranges[(instrument.id, score_def.id)],
                       bands.get((instrument.id, score_def.id), []), items.get(instrument.id))
               for instrument, rule, score_def, _spec in wanted]
    side = _side_effects(patient, treatments, known) if SIDE_EFFECTS in present else {}
    alerts = con.execute(ALERTS, own).all()
    answers = answer_page(patient, sorted(present), answers_page, tz)
    record("clinic.patient_page", patient_id=patient.id, target_type="patient",
           target_id=patient.id, detail=f"range={range_key}")
    return {"patient": patient, "tz": tz, "treatments": treatments, "domains": domains,
            "answers": answers, "side_effects": side, "alerts": alerts,
            "open_alerts": [a for a in alerts if a.acknowledged_at is None],
            "now": now, "range_key": range_key, "all_doses": all_verdicts,
            "given": page.given, "first_dose": first_dose,
            "first_dose_text": when_text(first_dose, tz)[:-6] if first_dose else None,
            "band_patients": reference.BAND_PATIENTS, "band_min": trends.MIN_PATIENTS}


def _judged(series: Series, doses: list[Dose], spec: RuleSpec, last: int | None) -> list:
    """The verdicts of the last ``last`` anchors (None: all), judged on the points read."""
    return evaluate_columns(series.ats, series.values, doses, spec,
                            in_window=series.in_window, last=last)


def _read(spec: RuleSpec | None, doses: list[Dose], since: datetime | None,
          last: int | None) -> Read:
    """How a score's series is read: from the charts' start (``since``, None for all) and,
    under a rule, from what the ``last`` verdicts need (None: all of them; see
    ``outcomes.decided_from``). Lean when the rule does not look at in_window."""
    if since is None:
        return Read(EARLIEST)
    if spec is None:
        return Read(since - SLACK)
    cut = decided_from(doses, spec, last) if last else None
    start = EARLIEST if cut is None else from_micros(cut) - SLACK
    if spec.require_in_window:
        return Read(min(start, since - SLACK))
    return Read(start, lean=True)


def chart_range(points: list[ScorePoint], markers: list[Marker],
                x_range: tuple[datetime, datetime] | None) -> tuple[datetime, datetime] | None:
    """The time span a chart shows: ``x_range``, else its points and doses (at least a day,
    as ``line_chart`` draws it)."""
    if x_range:
        return x_range
    times = [m.at for m in markers]
    if points:
        times += [points[0].at, points[-1].at]
    if not times:
        return None
    t0, t1 = min(times), max(times)
    if t1 - t0 < timedelta(days=1):
        t0, t1 = t0 - timedelta(hours=12), t1 + timedelta(hours=12)
    return t0, t1


@dataclass(frozen=True)
class _Page:
    """What every domain section of one page shares."""

    doses: list[Dose]
    markers: list[Marker]
    current: list[Rule]
    tz: ZoneInfo
    all_verdicts: bool
    #: dose id -> (local time, dose in words, drug and dose)
    given: dict[int, tuple[str, str, str]]
    first_dose: datetime | None


def _domain(page: _Page, instrument, rule: Rule | None, score_def, series: Series,
            judged: list | None, total: int, x_range: tuple[datetime, datetime] | None,
            band: list[trends.BandWeek], items: dict | None) -> dict:
    """One instrument's section: verdicts (the latest ones as sentences), the chart with the
    cohort band, and the items that changed most.

    ``judged`` are the rule's latest verdicts (all of them when all are shown, or when the
    chart's baseline is older than the latest ``VERDICTS_SHOWN``), ``total`` how many
    anchors the rule has.

    Table cells are written here as text (times, hours, marks) so the template only prints.
    """
    label = domain_label(instrument, score_def)
    verdicts, baseline, threshold = [], None, None
    words = rule_label(rule) if rule else None
    if rule is not None:
        baseline = next((v.baseline for v in reversed(judged) if v.baseline is not None), None)
        threshold = threshold_value(rule.definition, baseline)
        for v in judged if page.all_verdicts else judged[-VERDICTS_SHOWN:]:
            verdicts.append(_verdict_row(v, label, words, page))
    shown = series.shown
    unit = "" if score_def.unit == "{score}" else score_def.unit
    first = page.first_dose
    chart_band = None
    if band and first is not None:
        chart_band = Band([BandBin(*trends.week_span(w.week, first), w.q1, w.median, w.q3,
                                   trends.band_text(w, first)) for w in band],
                          "other patients' median and middle half, by week since first dose")
    svg = line_chart(
        [Point(p.at, p.value, p.in_window) for p in shown], doses=page.markers,
        y_range=tuple(score_def.range), direction=score_def.direction,
        baseline=Line(baseline, "Baseline") if baseline is not None else None,
        threshold=Line(threshold, "Threshold") if threshold is not None else None,
        title=f"{instrument.text(score_def.title, 'en')} over time", unit=unit, tz=page.tz,
        x_range=x_range if shown or page.markers else None, width=720, height=240,
        chart_id=f"chart-{instrument.id}", band=chart_band)
    drawn = [w for w in band if x_range and first is not None
             and trends.week_span(w.week, first)[1] > x_range[0]
             and trends.week_span(w.week, first)[0] < x_range[1]]
    return {
        "instrument": instrument, "score": score_def, "label": label, "rule": rule,
        "rule_label": words,
        "rules": [r for r in page.current if r.instrument_id == instrument.id],
        "svg": svg, "count": series.count, "shown": len(shown),
        "out_of_window": sum(1 for p in shown if p.in_window is False),
        "latest": series.latest, "verdicts": verdicts,
        "verdict_count": total, "band": drawn, "band_summary": trends.band_summary(drawn),
        "changed": _items_shown(items, page.tz)}


def _verdict_row(v, label: str, words: str, page: _Page) -> dict:
    """One verdict's table cells and sentence.

    The fields the sentence reads are the API's (``AnchorVerdict.to_dict``); the follow-ups
    are turned into rows only when the sentence reads them (not for a verdict that is not
    evaluable), and nothing else of the API's shape is built.
    """
    d = {"verdict": v.verdict, "reason": v.reason, "baseline": v.baseline,
         "onset_hours": v.onset_hours, "duration_hours": v.duration_hours,
         "censored": v.censored, "anchor_dose_id": v.anchor_dose_id, "drug": v.drug,
         "followups": (v.view.row_dicts(v.view.window)
                       if v.view is not None and v.verdict != "not_evaluable" else [])}
    d["sentence"] = verdict_sentence(label, d, words)
    d["words"] = VERDICT_WORDS[d["verdict"]]
    d["mark"] = VERDICT_MARKS[d["verdict"]]
    d["given"], d["dose_text"] = page.given.get(d["anchor_dose_id"], (
        when_text(v.anchor_at, page.tz), d["drug"]))[:2]
    d["baseline_text"] = "—" if d["baseline"] is None else f"{d['baseline']:.1f}"
    d["onset_text"] = hours_text(d["onset_hours"])
    hours = d["duration_hours"]
    if hours is None:
        d["duration_text"] = "—"
    elif d["censored"]:  # the template adds "still responding at the last answer"
        d["duration_text"] = f"at least {hours_text(hours)}, " if hours > 0 else ""
    else:
        d["duration_text"] = hours_text(hours)
    return d


#: Items listed under "changed most" per instrument.
ITEMS_SHOWN = 3


def _items_shown(items: dict | None, tz) -> dict | None:
    """The largest item changes in words, and the two answers compared."""
    if not items:
        return None
    moved = [c for c in items["items"] if c.change]
    return {"from": when_text(items["baseline"]["completed_at"], tz)[:-6],
            "to": when_text(items["latest"]["completed_at"], tz)[:-6],
            "before_dose": items["baseline"]["before_first_dose"],
            "baseline_id": items["baseline"]["assessment_id"],
            "latest_id": items["latest"]["assessment_id"],
            "rows": [{"id": c.item_id, "text": c.text, "words": trends.change_words(c),
                      "better": c.better} for c in moved[:ITEMS_SHOWN]],
            "more": max(0, len(moved) - ITEMS_SHOWN), "compared": len(items["items"])}


def _answer_cells(instrument, answers: dict) -> list[dict]:
    cells = []
    for item_id, value in answers.items():
        text, shown = item_id, str(value)
        try:
            item = instrument.item(item_id)
            text = instrument.text(item.text, "en")
            option = next((o for o in item.options if o.value == value), None)
            if option is not None:
                shown = f"{value} ({instrument.text(option.label, 'en')})"
        except KeyError:
            pass
        short = item_id.rsplit("_", 1)[-1] if "_" in item_id else item_id
        cells.append({"id": item_id, "short": short, "text": text, "value": value,
                      "shown": shown, "title": f"{text}: {shown}"})
    return cells


@lru_cache(maxsize=16)
def _answers_statement(instruments: int):
    """Per instrument the newest ``:want`` current answers from the (patient, instrument,
    completed_at) index, merged, ordered as the API orders them and cut to ``:offset`` ..
    ``:offset + :size``. Built once per number of instruments; values are bound per call."""
    later = aliased(Assessment)
    current = ~select(later.id).where(later.supersedes_id == Assessment.id).exists()
    cols = (Assessment.id, Assessment.instrument_id, Assessment.answers, Assessment.scores,
            Assessment.completed_at, Assessment.in_window, Assessment.supersedes_id)
    parts = [select(*cols).where(Assessment.patient_id == bindparam("patient"),
                                 Assessment.instrument_id == bindparam(f"inst_{n}"), current)
             .order_by(Assessment.completed_at.desc(), Assessment.id.desc())
             .limit(bindparam("want", type_=Integer)).subquery()
             for n in range(instruments)]
    merged = union_all(*(select(p) for p in parts)).subquery()
    return (select(merged).order_by(merged.c.completed_at.desc(), merged.c.id.desc())
            .offset(bindparam("offset", type_=Integer))
            .limit(bindparam("size", type_=Integer)))


def answer_page(patient: Patient, instruments: list[str], page: int = 1, tz=None,
                per_page: int | None = None) -> dict:
    """One page of the patient's current (not superseded) answers, newest first.

    The same rows, in the same order, as the API's assessment list (completed_at, then id,
    descending), without sorting the whole history: see ``_answers_statement``. One row
    more than a page is read to tell whether an older page exists.
    """
    per_page = per_page or ANSWERS_PER_PAGE
    page = max(1, page)
    offset = (page - 1) * per_page
    rows = []
    if instruments:
        values = {"patient": patient.id, "want": offset + per_page + 1, "offset": offset,
                  "size": per_page + 1}
        values |= {f"inst_{n}": inst for n, inst in enumerate(instruments)}
        rows = db.session.connection().execute(_answers_statement(len(instruments)),
                                               values).all()
    older = len(rows) > per_page
    rows = rows[:per_page]
    record("assessment.list", clinic_id=patient.clinic_id, patient_id=patient.id,
           target_type="patient", target_id=patient.id,
           detail=f"{len(rows)} rows, page {page}")
    known = registry()
    out = []
    for a in rows:
        instrument = known.get(a.instrument_id) if a.instrument_id in known else None
        scores = a.scores.get("scores", {}) if isinstance(a.scores, dict) else {}
        out.append({
            "a": a, "when": when_text(a.completed_at, tz),
            "title": instrument.text(instrument.title, "en") if instrument else a.instrument_id,
            "scores": "; ".join(
                ("not scored" if s.get("value") is None else f"{s['value']:g}")
                + (f" ({s['band']})" if s.get("band") else "") for s in scores.values()) or "—",
            "cells": _answer_cells(instrument, a.answers) if instrument else
            [{"short": k, "text": k, "value": v, "shown": str(v), "title": f"{k}: {v}"}
             for k, v in a.answers.items()],
        })
    return {"rows": out, "page": page, "per_page": per_page, "first": offset + 1,
            "older": older}


def _side_effects(patient: Patient, treatments: list, known) -> dict[int, list]:
    """Side-effect answers after each dose (before the next one), non-zero items in words."""
    if SIDE_EFFECTS not in known or not treatments:
        return {}
    instrument = known.get(SIDE_EFFECTS)
    rows = db.session.connection().execute(
        select(Assessment.completed_at, Assessment.answers)
        .where(Assessment.patient_id == patient.id, Assessment.instrument_id == SIDE_EFFECTS)
        .order_by(Assessment.completed_at)).all()
    out: dict[int, list] = defaultdict(list)
    times = [t.given_at for t in treatments]
    for at, answers in rows:
        i = bisect_right(times, at) - 1  # the last dose given at or before the answer
        if i < 0:
            continue
        owner = treatments[i]
        cells = [c for c in _answer_cells(instrument, answers) if c["value"]]
        # (effect, level, separator): the template needs no loop.last (whose loop object
        # Jinja then builds for every enclosing loop too, i.e. for every dose row)
        out[owner.id].append({"at": at, "hours": (at - owner.given_at).total_seconds() / 3600,
                              "effects": [(c["text"].split(" (")[0], c["shown"].split("(")[-1]
                                           .rstrip(")").lower(),
                                           ", " if k < len(cells) - 1 else "")
                                          for k, c in enumerate(cells)]})
    return out
