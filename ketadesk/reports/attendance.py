"""Attendance: sessions kept and missed (no-shows, late cancellations) and their rates, new
patients and series started, split by location, provider, weekday, hour, modality and period.

How the figures are made:

1. One GROUP BY over ``treatment_session`` counts the sessions due in the filter's UTC
   window per location, UTC hour of the start, status and any of provider and modality
   asked for, and counts among them the sessions that were a patient's first completed
   session ever and a series' first completed session (two NOT EXISTS probes down the
   patient and series indexes). No ORM object is built per session.
2. Each (location, UTC hour) becomes the location's local day, weekday and hour
   (:mod:`ketadesk.reports.clock`); groups outside the filter's local days are dropped and
   the rest folded into the rows asked for.

The denominator of both rates is *sessions*: the sessions due in the period that were not
cancelled in time and are no longer only booked (completed, on the floor, no-shows, late
cancellations). Sessions still scheduled or confirmed are not yet kept or missed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import String, case, exists, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Patient
from ketadesk.reports import periods
from ketadesk.reports.catalog import ReportSpec
from ketadesk.reports.clock import Clock, Local, period_key, read_clock, utc_hour, utc_window
from ketadesk.reports.model import (
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
from ketadesk.scheduling.models import SessionStatus, TreatmentSession

PERIODS = periods.DIMENSIONS
DIMENSIONS = (
    *PERIODS,
    Dimension("location", "Location"),
    Dimension("provider", "Provider"),
    Dimension("weekday", "Weekday"),
    Dimension("hour", "Hour"),
    Dimension("modality", "Modality"),
)
MEASURES = (
    Measure(
        "sessions",
        "Sessions",
        Kind.COUNT,
        "Sessions due in the period that were not cancelled in time and are past booking: "
        "completed, on the floor, no-shows and late cancellations (the rates' denominator).",
    ),
    Measure("completed", "Completed", Kind.COUNT, "Sessions completed."),
    Measure("no_shows", "No-shows", Kind.COUNT, "Sessions the patient did not come to."),
    Measure(
        "late_cancels",
        "Late cancellations",
        Kind.COUNT,
        "Sessions cancelled inside the location's late-cancellation window.",
    ),
    Measure(
        "cancelled",
        "Cancelled in time",
        Kind.COUNT,
        "Sessions cancelled before the late-cancellation window (not in sessions).",
    ),
    Measure("no_show_rate", "No-show rate", Kind.PERCENT, "No-shows ÷ sessions × 100."),
    Measure(
        "late_cancel_rate",
        "Late-cancellation rate",
        Kind.PERCENT,
        "Late cancellations ÷ sessions × 100.",
    ),
    Measure(
        "new_patients",
        "New patients",
        Kind.COUNT,
        "Patients whose first completed session ever was in the period.",
    ),
    Measure(
        "series_started",
        "Series started",
        Kind.COUNT,
        "Series whose first completed session was in the period.",
    ),
)
_COUNTS = ("sessions", "completed", "no_shows", "late_cancels", "cancelled")
_EXTRA = ("new_patients", "series_started")
_STATUS_MEASURE = {
    SessionStatus.COMPLETED: "completed",
    SessionStatus.NO_SHOW: "no_shows",
    SessionStatus.LATE_CANCELLED: "late_cancels",
    SessionStatus.CANCELLED: "cancelled",
}
_WAITING = frozenset({SessionStatus.SCHEDULED, SessionStatus.CONFIRMED})
# By the stored text, as the GROUP BY returns it.
_MEASURE_OF = {status.value: measure for status, measure in _STATUS_MEASURE.items()}
_IN_SESSIONS = frozenset(
    s.value for s in SessionStatus if s not in _WAITING and s is not SessionStatus.CANCELLED
)
_SQL_DIMENSIONS = ("provider", "modality")
DETAIL_LIMIT = 2000


def attendance(
    session: Session, actor: Actor, flt: ReportFilter, by: Sequence[str] = ("location",)
) -> ReportTable:
    """The attendance report for ``flt``, one row per group of ``by``."""
    actor.require(Permission.REPORT_VIEW)
    dims = require_by(by, DIMENSIONS, "attendance")
    keys = [d.key for d in dims]
    clock = read_clock(session)
    groups: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys((*_COUNTS, *_EXTRA), 0)
    )
    for line in session.execute(_counts(session, clock, flt, keys)):
        local = clock.local(line.location_id, line.hour)
        if not flt.date_from <= local.day <= flt.date_to:
            continue
        group = _key(keys, line, local)
        _fold(groups[group], line.status, line.n, line.new, line.started)
    names = read_names(session)
    ordered = sorted(groups, key=_order)
    rows = tuple(_row(g, keys, names, groups[g]) for g in ordered) if keys else ()
    total = dict.fromkeys((*_COUNTS, *_EXTRA), 0)
    for counts in groups.values():
        for measure, value in counts.items():
            total[measure] += value
    return ReportTable(
        name="attendance",
        title="Attendance",
        filter=flt,
        dimensions=tuple(dims),
        measures=MEASURES,
        rows=rows,
        total=Row(labels=("Total",) * max(len(dims), 1), values=_row((), [], names, total).values),
        notes=(
            "A session counts on its local day, weekday and hour at its location. Rates are "
            "over sessions: not cancelled in time and no longer only booked.",
            "The payer filter does not apply to attendance.",
        ),
    )


def _counts(session: Session, clock: Clock, flt: ReportFilter, keys: Sequence[str]) -> Any:
    """Sessions counted per location, UTC hour, status and provider/modality when asked."""
    dialect = session.get_bind().dialect.name
    visit = TreatmentSession
    earlier = aliased(TreatmentSession, name="earlier")
    completed = type_coerce(visit.status, String) == SessionStatus.COMPLETED.value
    earlier_done = type_coerce(earlier.status, String) == SessionStatus.COMPLETED.value
    before_for_patient = exists().where(
        earlier.patient_id == visit.patient_id, earlier.starts_at < visit.starts_at, earlier_done
    )
    before_in_series = exists().where(
        earlier.series_id == visit.series_id, earlier.number < visit.number, earlier_done
    )
    hour = utc_hour(visit.starts_at, dialect).label("hour")
    status = type_coerce(visit.status, String).label("status")
    extra = [
        (visit.provider_id if key == "provider" else type_coerce(visit.modality, String)).label(key)
        for key in keys
        if key in _SQL_DIMENSIONS
    ]
    start, end = utc_window(flt.date_from, flt.date_to)
    query = (
        select(
            visit.location_id,
            hour,
            status,
            *extra,
            func.count().label("n"),
            func.sum(case((completed & ~before_for_patient, 1), else_=0)).label("new"),
            func.sum(case((completed & ~before_in_series, 1), else_=0)).label("started"),
        )
        .where(visit.starts_at >= start, visit.starts_at < end)
        .group_by(visit.location_id, hour, status, *extra)
    )
    # Every location named, even when all are wanted: the database then reads
    # ix_session_location_start as one range per location instead of the whole table.
    query = query.where(visit.location_id.in_(flt.location_ids or tuple(clock.zones)))
    if flt.provider_ids:
        query = query.where(visit.provider_id.in_(flt.provider_ids))
    return query


def _fold(counts: dict[str, int], status: str, n: int, new: Any, started: Any) -> None:
    measure = _MEASURE_OF.get(status)
    if measure:
        counts[measure] += n
    if status in _IN_SESSIONS:
        counts["sessions"] += n
    counts["new_patients"] += int(new or 0)
    counts["series_started"] += int(started or 0)


def _key(keys: Sequence[str], line: Any, local: Local) -> tuple[Any, ...]:
    values: list[Any] = []
    for key in keys:
        if key == "location":
            values.append(line.location_id)
        elif key in _SQL_DIMENSIONS:
            values.append(getattr(line, key))
        elif key == "weekday":
            values.append(local.weekday)
        elif key == "hour":
            values.append(local.hour)
        else:
            values.append(period_key(local.day, periods.Grain(key)))
    return tuple(values)


def _order(group: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v if isinstance(v, int) else str(v)) for v in group)




def _row(group: tuple[Any, ...], keys: Sequence[str], names: Names, counts: dict[str, int]) -> Row:
    values: list[Value] = [counts[k] for k in _COUNTS]
    values.append(percent(counts["no_shows"], counts["sessions"]))
    values.append(percent(counts["late_cancels"], counts["sessions"]))
    values.extend(counts[k] for k in _EXTRA)
    return Row(
        labels=tuple(label(key, value, names) for key, value in zip(keys, group, strict=True)),
        values=tuple(values),
        keys=group,
    )


def label(key: str, value: Any, names: Names) -> str:
    """A group key as people read it."""
    common = names.group(key, value)
    return str(value) if common is None else common


def chart(table: ReportTable) -> Chart | None:
    """No-show and late-cancellation rates per row."""
    if not table.rows:
        return None
    categories = tuple(" · ".join(row.labels) for row in table.rows)
    series = tuple(
        ChartSeries(
            table.measures[table.measure_index(key)].label,
            tuple(Decimal(v) if v is not None else Decimal(0) for v in table.column(key)),
        )
        for key in ("no_show_rate", "late_cancel_rate")
    )
    style = "line" if table.dimensions[0].key in periods.Grain.__members__.values() else "bar"
    return Chart("Missed sessions", style, categories, series, kind=Kind.PERCENT)


def _statuses(measure: str) -> tuple[str, ...] | None:
    """The statuses of the sessions behind ``measure`` (None: new patients / series)."""
    if measure in ("no_shows", "no_show_rate"):
        return (SessionStatus.NO_SHOW.value,)
    if measure in ("late_cancels", "late_cancel_rate"):
        return (SessionStatus.LATE_CANCELLED.value,)
    if measure == "cancelled":
        return (SessionStatus.CANCELLED.value,)
    if measure in ("completed", *_EXTRA):
        return (SessionStatus.COMPLETED.value,)
    return tuple(_IN_SESSIONS)


def detail(session: Session, actor: Actor, table: ReportTable, row: Row, measure: str) -> Detail:
    """The sessions behind one figure of ``row`` (at most ``DETAIL_LIMIT``)."""
    actor.require(Permission.REPORT_VIEW)
    flt = table.filter
    keys = [d.key for d in table.dimensions]
    wanted = dict(zip(keys, row.keys, strict=False))
    visit = TreatmentSession
    dialect = session.get_bind().dialect.name
    start, end = utc_window(flt.date_from, flt.date_to)
    query = (
        select(
            visit.id,
            visit.location_id,
            visit.provider_id.label("provider"),
            type_coerce(visit.modality, String).label("modality"),
            visit.starts_at,
            visit.status,
            visit.patient_id,
            visit.series_id,
            visit.number,
            utc_hour(visit.starts_at, dialect).label("hour"),
            Patient.mrn,
            Patient.family_name,
            Patient.given_name,
        )
        .join(Patient, Patient.id == visit.patient_id)
        .where(
            visit.starts_at >= start,
            visit.starts_at < end,
            type_coerce(visit.status, String).in_(_statuses(measure) or ()),
        )
        .order_by(visit.starts_at, visit.id)
    )
    if flt.location_ids:
        query = query.where(visit.location_id.in_(flt.location_ids))
    if flt.provider_ids:
        query = query.where(visit.provider_id.in_(flt.provider_ids))
    for key, column in (("location", visit.location_id), ("provider", visit.provider_id)):
        if key in wanted:
            query = query.where(column == wanted[key])
    clock = read_clock(session)
    firsts = _firsts(session, measure)
    found = [
        _detail_row(line, clock)
        for line in session.execute(query)
        if _kept(line, clock, flt, keys, wanted, firsts)
    ]
    title = table.measures[table.measure_index(measure)].label
    return Detail(
        title=f"{title}: {' · '.join(row.labels)}",
        rows=tuple(found[:DETAIL_LIMIT]),
        truncated=len(found) > DETAIL_LIMIT,
        amount_label="",
    )


def _firsts(session: Session, measure: str) -> set[int] | None:
    """For new patients or series started: the ids of those first completed sessions."""
    if measure not in _EXTRA:
        return None
    visit = TreatmentSession
    owner = visit.patient_id if measure == "new_patients" else visit.series_id
    order = visit.starts_at if measure == "new_patients" else visit.number
    done = type_coerce(visit.status, String) == SessionStatus.COMPLETED.value
    first = (
        select(owner.label("owner"), func.min(order).label("first"))
        .where(done)
        .group_by(owner)
        .subquery()
    )
    query = select(visit.id).join(first, (first.c.owner == owner) & (first.c.first == order))
    return set(session.scalars(query.where(done)))


def _kept(
    line: Any,
    clock: Clock,
    flt: ReportFilter,
    keys: Sequence[str],
    wanted: dict[str, Any],
    firsts: set[int] | None,
) -> bool:
    local = clock.local(line.location_id, line.hour)
    if not flt.date_from <= local.day <= flt.date_to:
        return False
    if firsts is not None and line.id not in firsts:
        return False
    return all(
        value == wanted[key]
        for key, value in zip(keys, _key(keys, line, local), strict=True)
        if key in wanted
    )


def _detail_row(line: Any, clock: Clock) -> DetailRow:
    local = line.starts_at.astimezone(clock.zone(line.location_id))
    return DetailRow(
        on=local.date(),
        patient_id=line.patient_id,
        mrn=line.mrn,
        patient=f"{line.family_name}, {line.given_name}",
        description=f"Session {line.number} of series {line.series_id} at {local:%H:%M}: "
        f"{line.status.label}",
        session_id=line.id,
    )


SPEC = ReportSpec(
    name="attendance",
    title="Attendance",
    summary="Sessions kept and missed, no-show and late-cancellation rates, new patients and "
    "series started.",
    dimensions=DIMENSIONS,
    default_by=("location",),
    run=attendance,
    detail=detail,
    chart=chart,
)
