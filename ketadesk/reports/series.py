"""Series: induction series started, completed, discontinued (and why) and still running,
how long a completed induction took, and how many patients went on to maintenance.

How the figures are made:

1. The cohort is every *induction* series whose first completed session falls in the period
   (on the location's local day). One query finds the series with a completed session in
   the filter's window (the location index read as ranges), then one GROUP BY over those
   series' sessions gives each series' first and last completed session: a compact row per
   series, never an ORM object.
2. A second GROUP BY gives each *maintenance* series' first completed session, by patient.
3. Python folds the series into the rows asked for; medians are taken there.

A series counts by its status today: completed, discontinued (with its reason), or running
(planned or active). Maintenance retention: a completed induction whose patient's first
maintenance session came within 90 days after the induction's last session.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Patient
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
    Phase,
    Protocol,
    Series,
    SeriesStatus,
    SessionStatus,
    TreatmentSession,
)

RETENTION_DAYS = 90
PERIODS = periods.DIMENSIONS
DIMENSIONS = (
    *PERIODS,
    Dimension("protocol", "Protocol"),
    Dimension("modality", "Modality"),
    Dimension("location", "Location"),
    Dimension("reason", "Reason discontinued"),
)
MEASURES = (
    Measure(
        "started",
        "Started",
        Kind.COUNT,
        "Induction series whose first completed session was in the period.",
    ),
    Measure("completed", "Completed", Kind.COUNT, "Of those, series completed."),
    Measure("discontinued", "Discontinued", Kind.COUNT, "Of those, series discontinued."),
    Measure("running", "Running", Kind.COUNT, "Of those, series still planned or active."),
    Measure(
        "completion_rate",
        "Completion rate",
        Kind.PERCENT,
        "Completed ÷ (completed + discontinued) × 100: series still running are not counted.",
    ),
    Measure(
        "median_days_to_finish",
        "Median days to finish",
        Kind.DAYS,
        "Median of the days from the first to the last completed session of completed series.",
    ),
    Measure(
        "retained",
        "Went on to maintenance",
        Kind.COUNT,
        f"Completed series whose patient's first maintenance session came within "
        f"{RETENTION_DAYS} days after the induction's last session.",
    ),
    Measure(
        "retention_rate",
        "Maintenance retention",
        Kind.PERCENT,
        "Went on to maintenance ÷ completed × 100.",
    ),
)
NOT_DISCONTINUED = "Not discontinued"
NO_REASON = "No reason given"
DETAIL_LIMIT = 2000
_COMPLETED = SessionStatus.COMPLETED.value


@dataclass(frozen=True)
class Run:
    """One induction series of the cohort, as the report reads it."""

    series_id: int
    patient_id: int
    location_id: int
    protocol_id: int
    modality: str
    status: SeriesStatus
    reason: str
    first_day: date
    last_day: date
    first_session_id: int
    retained: bool

    def key(self, dimension: str) -> Any:
        if dimension == "location":
            return self.location_id
        if dimension == "protocol":
            return self.protocol_id
        if dimension == "modality":
            return self.modality
        if dimension == "reason":
            if self.status is not SeriesStatus.DISCONTINUED:
                return None
            return self.reason.strip() or NO_REASON
        return periods.key_of(self.first_day, periods.Grain(dimension))


def cohort(session: Session, flt: ReportFilter) -> list[Run]:
    """The induction series whose first completed session is in ``flt``'s period."""
    clock = read_clock(session)
    dialect = session.get_bind().dialect.name
    visit = TreatmentSession
    done = type_coerce(visit.status, String) == _COMPLETED
    start, end = utc_window(flt.date_from, flt.date_to)
    candidates = select(visit.series_id).where(
        visit.location_id.in_(flt.location_ids or tuple(clock.zones)),
        visit.starts_at >= start,
        visit.starts_at < end,
        done,
    )
    if flt.provider_ids:
        candidates = candidates.where(visit.provider_id.in_(flt.provider_ids))
    spans = (
        select(
            visit.series_id,
            func.min(visit.starts_at).label("first"),
            func.max(visit.starts_at).label("last"),
        )
        .where(visit.series_id.in_(candidates), done)
        .group_by(visit.series_id)
        .subquery()
    )
    first_hour = utc_hour(spans.c.first, dialect)
    last_hour = utc_hour(spans.c.last, dialect)
    first_session = (
        select(func.min(visit.id))
        .where(visit.series_id == spans.c.series_id, visit.starts_at == spans.c.first)
        .scalar_subquery()
    )
    query = (
        select(
            Series.id,
            Series.patient_id,
            Series.location_id,
            Series.protocol_id,
            type_coerce(Protocol.modality, String),
            Series.status,
            Series.discontinued_reason,
            first_hour,
            last_hour,
            first_session,
        )
        .join(spans, spans.c.series_id == Series.id)
        .join(Protocol, Protocol.id == Series.protocol_id)
        .where(type_coerce(Protocol.phase, String) == Phase.INDUCTION.value)
    )
    rows = []
    for line in session.execute(query):
        first = clock.local(line[2], line[7]).day
        if flt.date_from <= first <= flt.date_to:
            rows.append((line, first, clock.local(line[2], line[8]).day))
    patients = {line[1] for line, _, _ in rows}
    starts = _maintenance_starts(session, clock, flt.date_from, patients)
    runs = [_run(line, first, last, starts) for line, first, last in rows]
    return sorted(runs, key=lambda run: (run.first_day, run.series_id))


def _maintenance_starts(
    session: Session, clock: Clock, since: date, patients: set[int]
) -> dict[int, list[date]]:
    """The first completed day of each of ``patients``' maintenance series, for the series
    that started from ``since`` on. A series' start is its first completed session ever (a
    series begun before ``since`` never counts as starting later), on its location's day."""
    if not patients:
        return {}
    dialect = session.get_bind().dialect.name
    visit = TreatmentSession
    first = func.min(visit.starts_at)
    start, _ = utc_window(since, since)
    query = (
        select(Series.patient_id, Series.location_id, utc_hour(first, dialect))
        .join(Series, Series.id == visit.series_id)
        .join(Protocol, Protocol.id == Series.protocol_id)
        .where(
            type_coerce(Protocol.phase, String) == Phase.MAINTENANCE.value,
            type_coerce(visit.status, String) == _COMPLETED,
            Series.patient_id.in_(sorted(patients)),
        )
        .group_by(visit.series_id, Series.patient_id, Series.location_id)
        .having(first >= start)
    )
    starts: dict[int, list[date]] = defaultdict(list)
    for patient_id, location_id, hour in session.execute(query):
        starts[patient_id].append(clock.local(location_id, hour).day)
    return starts


def _run(line: Any, first: date, last: date, starts: dict[int, list[date]]) -> Run:
    status = SeriesStatus(line[5])
    retained = status is SeriesStatus.COMPLETED and any(
        last <= day <= last + timedelta(days=RETENTION_DAYS) for day in starts.get(line[1], ())
    )
    return Run(
        series_id=line[0],
        patient_id=line[1],
        location_id=line[2],
        protocol_id=line[3],
        modality=line[4],
        status=status,
        reason=line[6] or "",
        first_day=first,
        last_day=last,
        first_session_id=line[9],
        retained=retained,
    )


def series_report(
    session: Session, actor: Actor, flt: ReportFilter, by: Sequence[str] = ("protocol",)
) -> ReportTable:
    """The series report for ``flt``, one row per group of ``by``."""
    actor.require(Permission.REPORT_VIEW)
    dims = require_by(by, DIMENSIONS, "series")
    keys = [d.key for d in dims]
    runs = cohort(session, flt)
    groups: dict[tuple[Any, ...], list[Run]] = defaultdict(list)
    for run in runs:
        groups[tuple(run.key(k) for k in keys)].append(run)
    names = read_names(session)
    protocols = _protocol_names(session)
    rows = tuple(
        _row(group, keys, names, protocols, groups[group]) for group in sorted(groups, key=_order)
    )
    total = _row((), [], names, protocols, runs)
    return ReportTable(
        name="series",
        title="Treatment series",
        filter=flt,
        dimensions=tuple(dims),
        measures=MEASURES,
        rows=rows if keys else (),
        total=Row(labels=("Total",) * max(len(dims), 1), values=total.values),
        notes=(
            "Induction series, counted in the period of their first completed session, "
            "by their status today.",
            f"Maintenance retention looks {RETENTION_DAYS} days past an induction's last "
            "session: inductions finished less than that ago may still go on to maintenance.",
        ),
    )


def _protocol_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Protocol.id, Protocol.name))}


def _order(group: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v if isinstance(v, int) else str(v)) for v in group)




def _row(
    group: tuple[Any, ...],
    keys: Sequence[str],
    names: Names,
    protocols: dict[int, str],
    runs: Sequence[Run],
) -> Row:
    count = dict.fromkeys(SeriesStatus, 0)
    for run in runs:
        count[run.status] += 1
    completed, discontinued = count[SeriesStatus.COMPLETED], count[SeriesStatus.DISCONTINUED]
    durations = [
        (run.last_day - run.first_day).days for run in runs if run.status is SeriesStatus.COMPLETED
    ]
    median: Value = None
    if durations:
        median = Decimal(str(statistics.median(durations))).quantize(TENTH)
    retained = sum(1 for run in runs if run.retained)
    values: tuple[Value, ...] = (
        len(runs),
        completed,
        discontinued,
        count[SeriesStatus.PLANNED] + count[SeriesStatus.ACTIVE],
        percent(completed, completed + discontinued),
        median,
        retained,
        percent(retained, completed),
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
    if key == "reason":
        return NOT_DISCONTINUED if value is None else str(value)
    return str(value)


def chart(table: ReportTable) -> Chart | None:
    """Completed, discontinued and running series per row, stacked."""
    if not table.rows:
        return None
    categories = tuple(" · ".join(row.labels) for row in table.rows)
    series = tuple(
        ChartSeries(
            table.measures[table.measure_index(key)].label,
            tuple(Decimal(v or 0) for v in table.column(key)),
        )
        for key in ("completed", "discontinued", "running")
    )
    return Chart("Induction series", "bar", categories, series, kind=Kind.COUNT)


def _wanted(run: Run, measure: str) -> bool:
    if measure in ("completed", "median_days_to_finish"):
        return run.status is SeriesStatus.COMPLETED
    if measure == "discontinued":
        return run.status is SeriesStatus.DISCONTINUED
    if measure == "running":
        return run.status in (SeriesStatus.PLANNED, SeriesStatus.ACTIVE)
    if measure in ("retained", "retention_rate"):
        return run.retained
    return True


def detail(session: Session, actor: Actor, table: ReportTable, row: Row, measure: str) -> Detail:
    """The series behind one figure of ``row``, each with its first completed session."""
    actor.require(Permission.REPORT_VIEW)
    keys = [d.key for d in table.dimensions]
    wanted = dict(zip(keys, row.keys, strict=False))
    runs = [
        run
        for run in cohort(session, table.filter)
        if all(run.key(k) == v for k, v in wanted.items()) and _wanted(run, measure)
    ]
    runs = runs[: DETAIL_LIMIT + 1]
    patients = {
        line.id: line
        for line in session.execute(
            select(Patient.id, Patient.mrn, Patient.family_name, Patient.given_name).where(
                Patient.id.in_({run.patient_id for run in runs})
            )
        )
    }
    protocols = _protocol_names(session)
    found = []
    for run in runs:
        person = patients[run.patient_id]
        words = f"{protocols.get(run.protocol_id, '')}: {run.status.label}"
        if run.status is SeriesStatus.DISCONTINUED:
            words += f" ({run.reason.strip() or NO_REASON})"
        found.append(
            DetailRow(
                on=run.first_day,
                patient_id=run.patient_id,
                mrn=person.mrn,
                patient=f"{person.family_name}, {person.given_name}",
                description=words,
                amount=(run.last_day - run.first_day).days,
                session_id=run.first_session_id,
            )
        )
    title = table.measures[table.measure_index(measure)].label
    return Detail(
        title=f"{title}: {' · '.join(row.labels)}",
        rows=tuple(found[:DETAIL_LIMIT]),
        truncated=len(found) > DETAIL_LIMIT,
        amount_label="Days first to last",
    )


SPEC = ReportSpec(
    name="series",
    title="Treatment series",
    summary="Induction series completed, discontinued and running, days to finish, and "
    "maintenance retention.",
    dimensions=DIMENSIONS,
    default_by=("protocol",),
    run=series_report,
    detail=detail,
    chart=chart,
)
