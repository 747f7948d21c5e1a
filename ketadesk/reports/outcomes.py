"""Outcomes: PHQ-9 and GAD-7 change from the first scored session of a series, with response
and remission rates, split by protocol, modality, measure, location and period.

How the figures are made:

1. A series is measured on a scale (PHQ-9 or GAD-7) when at least two of its completed
   sessions carry a score on that scale. Its *baseline* is the score of the first of them,
   its *latest* the score of the last one up to the end of the period; it counts in the
   period (the location's local day) of that latest score.
2. One GROUP BY over the scored sessions of the series scored in the filter's window gives
   each (series, scale) its first and last scored instants; two joins read the two scores.
   A compact row per series and scale, never an ORM object per session.
3. Python folds those rows: means of baseline and latest, the mean change (latest −
   baseline: negative is better), response (latest at most half the baseline: a fall of
   at least 50%) and remission (latest under 5, on PHQ-9 and on GAD-7 alike).

Unless split by measure the report reads PHQ-9 alone, and its total is always PHQ-9's: the
two scales have different ranges, so their means are never added together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, case, func, literal, select, type_coerce
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Patient
from ketadesk.db import UTCDateTime
from ketadesk.reports import periods
from ketadesk.reports.catalog import ReportSpec
from ketadesk.reports.clock import Clock, read_clock, utc_hour, utc_window
from ketadesk.reports.model import (
    TENTH,
    Chart,
    Detail,
    DetailRow,
    Dimension,
    Kind,
    Measure,
    ReportFilter,
    ReportTable,
    Row,
    Value,
    percent,
    require_by,
)
from ketadesk.reports.model import Series as ChartSeries
from ketadesk.reports.names import Names, read_names
from ketadesk.scheduling.models import (
    Protocol,
    ScoreKind,
    Series,
    SessionStatus,
    TreatmentSession,
)
from ketadesk.scheduling.outcomes import rules
from ketadesk.scheduling.outcomes.measures import shipped

REMISSION_BELOW = {m.key: m.remission_threshold for m in shipped()}
PERIODS = periods.DIMENSIONS
DIMENSIONS = (
    *PERIODS,
    Dimension("protocol", "Protocol"),
    Dimension("modality", "Modality"),
    Dimension("measure", "Measure"),
    Dimension("location", "Location"),
)
MEASURES = (
    Measure(
        "patients",
        "Patients",
        Kind.COUNT,
        "Patients with a series scored at least twice on the scale, its latest score in "
        "the period.",
    ),
    Measure(
        "baseline_mean",
        "Baseline mean",
        Kind.NUMBER,
        "Mean score at each series' first scored session.",
    ),
    Measure(
        "latest_mean",
        "Latest mean",
        Kind.NUMBER,
        "Mean score at each series' last scored session up to the end of the period.",
    ),
    Measure(
        "change_mean",
        "Mean change",
        Kind.NUMBER,
        "Latest mean − baseline mean: negative means symptoms fell.",
    ),
    Measure(
        "response_rate",
        "Response rate",
        Kind.PERCENT,
        "Series whose latest score fell at least 50% from baseline ÷ series × 100.",
    ),
    Measure(
        "remission_rate",
        "Remission rate",
        Kind.PERCENT,
        f"Series whose latest score is under {REMISSION_BELOW[ScoreKind.PHQ9]} (PHQ-9; "
        f"under {REMISSION_BELOW[ScoreKind.GAD7]} on GAD-7) ÷ series × 100.",
    ),
)
DETAIL_LIMIT = 2000


@dataclass(frozen=True)
class Scored:
    """One series measured on one scale."""

    series_id: int
    patient_id: int
    location_id: int
    protocol_id: int
    modality: str
    scale: str
    baseline: int
    latest: int
    latest_day: date
    latest_session_id: int

    @property
    def responded(self) -> bool:
        return rules.responded(self.baseline, self.latest)

    @property
    def remitted(self) -> bool:
        return bool(rules.remitted(self.latest, REMISSION_BELOW[self.scale]))

    def key(self, dimension: str) -> Any:
        if dimension == "location":
            return self.location_id
        if dimension == "protocol":
            return self.protocol_id
        if dimension == "modality":
            return self.modality
        if dimension == "measure":
            return self.scale
        return periods.key_of(self.latest_day, periods.Grain(dimension))


def scored(session: Session, flt: ReportFilter) -> list[Scored]:
    """Every (series, scale) whose latest score up to ``flt.date_to`` is in the period."""
    clock = read_clock(session)
    dialect = session.get_bind().dialect.name
    visit = TreatmentSession
    start, end = utc_window(flt.date_from, flt.date_to)
    has_score = and_(
        type_coerce(visit.status, String) == SessionStatus.COMPLETED.value,
        visit.score.is_not(None),
        visit.score_kind.is_not(None),
    )
    candidates = select(visit.series_id).where(
        visit.location_id.in_(flt.location_ids or tuple(clock.zones)),
        visit.starts_at >= start,
        visit.starts_at < end,
        has_score,
    )
    if flt.provider_ids:
        candidates = candidates.where(visit.provider_id.in_(flt.provider_ids))
    kind = type_coerce(visit.score_kind, String)
    spans = (
        select(
            visit.series_id,
            kind.label("scale"),
            func.min(visit.starts_at).label("first"),
            func.max(visit.starts_at).label("last"),
        )
        .where(visit.series_id.in_(candidates), has_score, _by_the_end(visit, clock, flt))
        .group_by(visit.series_id, kind)
        .having(func.count() >= 2)
        .subquery()
    )
    base = aliased(TreatmentSession, name="base")
    late = aliased(TreatmentSession, name="late")
    query = (
        select(
            Series.id,
            Series.patient_id,
            Series.location_id,
            Series.protocol_id,
            type_coerce(Protocol.modality, String),
            spans.c.scale,
            base.score,
            late.score,
            utc_hour(spans.c.last, dialect),
            late.id,
        )
        .join(Series, Series.id == spans.c.series_id)
        .join(Protocol, Protocol.id == Series.protocol_id)
        .join(base, _at(base, spans.c.series_id, spans.c.scale, spans.c.first))
        .join(late, _at(late, spans.c.series_id, spans.c.scale, spans.c.last))
    )
    found = []
    for line in session.execute(query):
        day = clock.local(line[2], line[8]).day
        if flt.date_from <= day <= flt.date_to:
            found.append(
                Scored(
                    series_id=line[0],
                    patient_id=line[1],
                    location_id=line[2],
                    protocol_id=line[3],
                    modality=line[4],
                    scale=line[5],
                    baseline=line[6],
                    latest=line[7],
                    latest_day=day,
                    latest_session_id=line[9],
                )
            )
    return sorted(found, key=lambda s: (s.latest_day, s.series_id, s.scale))


def _by_the_end(visit: Any, clock: Clock, flt: ReportFilter) -> ColumnElement[bool]:
    """SQL: the session started before the end of the period's last day at its location
    (local midnight, a different instant in each time zone).

    A CASE rather than an OR per location: an OR lets the planner read every location's
    whole history down its index instead of the few series asked for.
    """
    following = flt.date_to + timedelta(days=1)
    ends = [
        (
            visit.location_id == location_id,
            literal(datetime.combine(following, time(), zone), UTCDateTime()),
        )
        for location_id, zone in clock.zones.items()
    ]
    _, latest = utc_window(flt.date_to, flt.date_to)
    before: ColumnElement[bool] = visit.starts_at < case(
        *ends, else_=literal(latest, UTCDateTime())
    )
    return before


def _at(visit: Any, series_id: Any, scale: Any, moment: Any) -> Any:
    return and_(
        visit.series_id == series_id,
        type_coerce(visit.score_kind, String) == scale,
        visit.starts_at == moment,
        visit.score.is_not(None),
    )


def outcomes(
    session: Session, actor: Actor, flt: ReportFilter, by: Sequence[str] = ("measure",)
) -> ReportTable:
    """The outcomes report for ``flt``, one row per group of ``by``."""
    actor.require(Permission.REPORT_VIEW)
    dims = require_by(by, DIMENSIONS, "outcomes")
    keys = [d.key for d in dims]
    found = scored(session, flt)
    phq9 = [s for s in found if s.scale == ScoreKind.PHQ9.value]
    shown = found if "measure" in keys else phq9
    groups: dict[tuple[Any, ...], list[Scored]] = defaultdict(list)
    for item in shown:
        groups[tuple(item.key(k) for k in keys)].append(item)
    names = read_names(session)
    protocols = {row.id: row.name for row in session.execute(select(Protocol.id, Protocol.name))}
    rows = tuple(
        _row(group, keys, names, protocols, groups[group]) for group in sorted(groups, key=_order)
    )
    total = _row((), [], names, protocols, phq9)
    return ReportTable(
        name="outcomes",
        title="Outcomes",
        filter=flt,
        dimensions=tuple(dims),
        measures=MEASURES,
        rows=rows if keys else (),
        total=Row(labels=("Total (PHQ-9)",) * max(len(dims), 1), values=total.values),
        notes=(
            "Change from each series' first scored session to its latest one; a series "
            "counts in the period of its latest score.",
            "PHQ-9 unless split by measure; the total is PHQ-9's. Remission: latest score "
            f"under {REMISSION_BELOW} on PHQ-9, and the same cut-off on GAD-7.",
        ),
    )


def _order(group: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v if isinstance(v, int) else str(v)) for v in group)


def _mean(total: int, count: int) -> Value:
    return (Decimal(total) / Decimal(count)).quantize(TENTH) if count else None




def _row(
    group: tuple[Any, ...],
    keys: Sequence[str],
    names: Names,
    protocols: dict[int, str],
    items: Sequence[Scored],
) -> Row:
    count = len(items)
    baseline = sum(s.baseline for s in items)
    latest = sum(s.latest for s in items)
    values: tuple[Value, ...] = (
        len({s.patient_id for s in items}),
        _mean(baseline, count),
        _mean(latest, count),
        _mean(latest - baseline, count),
        percent(sum(1 for s in items if s.responded), count),
        percent(sum(1 for s in items if s.remitted), count),
    )
    return Row(
        labels=tuple(
            label(key, value, names, protocols) for key, value in zip(keys, group, strict=True)
        ),
        values=values,
        keys=group,
    )


def label(key: str, value: Any, names: Names, protocols: dict[int, str]) -> str:
    """A group key as people read it."""
    common = names.group(key, value)
    if common is not None:
        return common
    if key == "protocol":
        return protocols.get(value, f"Protocol {value}")
    if key == "measure":
        return ScoreKind(value).label
    return str(value)


def chart(table: ReportTable) -> Chart | None:
    """The outcome trend: latest mean score per period, one line per scale (PHQ-9 alone
    unless split by measure); without a period, the latest mean per row as bars."""
    keys = [d.key for d in table.dimensions]
    if not table.rows:
        return None
    at = table.measure_index("latest_mean")
    grain = next((k for k in keys if k in periods.Grain.__members__.values()), None)
    if grain is None:
        categories = tuple(" · ".join(row.labels) for row in table.rows)
        values = tuple(Decimal(v or 0) for v in table.column("latest_mean"))
        bars = (ChartSeries("Latest mean", values),)
        return Chart("Latest mean score", "bar", categories, bars, kind=Kind.NUMBER)
    when = keys.index(grain)
    scale = keys.index("measure") if "measure" in keys else None
    order: list[str] = []
    cells: dict[str, dict[str, list[Decimal]]] = defaultdict(dict)
    weight = table.measure_index("patients")
    for row in table.rows:
        period = row.labels[when]
        if period not in order:
            order.append(period)
        name = row.labels[scale] if scale is not None else ScoreKind.PHQ9.label
        cell = cells[name].setdefault(period, [Decimal(0), Decimal(0)])
        n = Decimal(row.values[weight] or 0)
        cell[0] += Decimal(row.values[at] or 0) * n
        cell[1] += n
    series = tuple(
        ChartSeries(
            f"{name} latest mean",
            tuple(
                (by_period[p][0] / by_period[p][1]).quantize(TENTH)
                if p in by_period and by_period[p][1]
                else Decimal(0)
                for p in order
            ),
        )
        for name, by_period in cells.items()
    )
    return Chart("Outcome trend", "line", tuple(order), series, kind=Kind.NUMBER)


def _wanted(item: Scored, measure: str) -> bool:
    if measure == "response_rate":
        return item.responded
    if measure == "remission_rate":
        return item.remitted
    return True


def detail(session: Session, actor: Actor, table: ReportTable, row: Row, measure: str) -> Detail:
    """The series behind one figure of ``row``, each with its latest scored session."""
    actor.require(Permission.REPORT_VIEW)
    keys = [d.key for d in table.dimensions]
    wanted = dict(zip(keys, row.keys, strict=False))
    if "measure" not in wanted:
        wanted["measure"] = ScoreKind.PHQ9.value
    items = [
        item
        for item in scored(session, table.filter)
        if all(item.key(k) == v for k, v in wanted.items()) and _wanted(item, measure)
    ][: DETAIL_LIMIT + 1]
    patients = {
        line.id: line
        for line in session.execute(
            select(Patient.id, Patient.mrn, Patient.family_name, Patient.given_name).where(
                Patient.id.in_({item.patient_id for item in items})
            )
        )
    }
    found = []
    for item in items:
        person = patients[item.patient_id]
        marks = [
            w for w, yes in (("response", item.responded), ("remission", item.remitted)) if yes
        ]
        found.append(
            DetailRow(
                on=item.latest_day,
                patient_id=item.patient_id,
                mrn=person.mrn,
                patient=f"{person.family_name}, {person.given_name}",
                description=f"{ScoreKind(item.scale).label} {item.baseline} → {item.latest}"
                + (f" ({', '.join(marks)})" if marks else ""),
                amount=Decimal(item.latest - item.baseline),
                session_id=item.latest_session_id,
            )
        )
    title = table.measures[table.measure_index(measure)].label
    return Detail(
        title=f"{title}: {' · '.join(row.labels)}",
        rows=tuple(found[:DETAIL_LIMIT]),
        truncated=len(found) > DETAIL_LIMIT,
        amount_label="Change",
    )


SPEC = ReportSpec(
    name="outcomes",
    title="Outcomes",
    summary="PHQ-9 and GAD-7 change from the first scored session, response and remission.",
    dimensions=DIMENSIONS,
    default_by=("measure",),
    run=outcomes,
    detail=detail,
    chart=chart,
)
