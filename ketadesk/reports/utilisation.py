"""Chair utilisation: booked chair-minutes ÷ open chair-minutes, split by chair, location,
weekday, hour and period.

How the figures are made:

1. *Open time* comes from each location's opening hours on each day it is open
   (:func:`~ketadesk.clinic.locations.hours_on`: closures and observed public holidays
   removed), on the location's wall clock, times every chair counted at the location.
   Each opening interval becomes UTC instants through the location's time zone, so a day the
   clocks change on still opens 08:00–18:00 local and lasts what it really lasts.
2. *Booked time* is every session that held its chair: all but cancellations and late
   cancellations. No-shows count as booked: the chair was kept for the patient and no one
   else could take it. One GROUP BY returns each distinct booking (location, chair when asked,
   start, end) with how many sessions share it, so Python handles far fewer rows than
   sessions; each booking is clipped to the opening intervals of its local day.
3. With ``hour`` asked, both are cut at the local hour boundaries (in UTC, so an hour is
   60 minutes even on the day of a change).

A chair is counted if it is active or held a session in the period. The provider filter does
not apply: chairs are open whoever supervises.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, exists, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.locations import WEEKDAY_NAMES, LocationOpenings, hours_on, read_openings
from ketadesk.clinic.models import Chair, Patient
from ketadesk.reports import periods
from ketadesk.reports.catalog import ReportSpec
from ketadesk.reports.clock import days, period_key, utc_window
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
    require_by,
)
from ketadesk.reports.model import Series as ChartSeries
from ketadesk.reports.names import Names, read_names
from ketadesk.scheduling.models import TreatmentSession

PERIODS = periods.DIMENSIONS
DIMENSIONS = (
    *PERIODS,
    Dimension("location", "Location"),
    Dimension("chair", "Chair"),
    Dimension("weekday", "Weekday"),
    Dimension("hour", "Hour"),
)
MEASURES = (
    Measure(
        "booked_minutes",
        "Booked chair-minutes",
        Kind.NUMBER,
        "Minutes of chair time held by sessions (all but cancellations and late "
        "cancellations; no-shows count, they kept the chair), inside opening hours.",
    ),
    Measure(
        "open_minutes",
        "Open chair-minutes",
        Kind.NUMBER,
        "Opening hours on open days (closures and observed public holidays excluded), in "
        "the location's time zone, times the chairs counted there.",
    ),
    Measure(
        "utilisation",
        "Utilisation",
        Kind.PERCENT,
        "Booked chair-minutes ÷ open chair-minutes × 100.",
    ),
)
NOT_BOOKED = ("cancelled", "late_cancelled")  # sessions that do not hold chair time
DETAIL_LIMIT = 2000
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    """A stretch of open time on one location's local day: its local hour (None when the
    report is not split by hour) and its UTC bounds."""

    day: date
    hour: int | None
    start: datetime
    end: datetime


@dataclass
class _Place:
    """One location as the report reads it: its opening rules, zone and counted chairs."""

    openings: LocationOpenings
    zone: ZoneInfo
    chairs: list[int]


def utilisation(
    session: Session, actor: Actor, flt: ReportFilter, by: Sequence[str] = ("location",)
) -> ReportTable:
    """The utilisation report for ``flt``, one row per group of ``by``."""
    actor.require(Permission.REPORT_VIEW)
    dims = require_by(by, DIMENSIONS, "utilisation")
    keys = [d.key for d in dims]
    places = _places(session, flt)
    by_hour = "hour" in keys
    slots = {
        (loc, day): _slots(place, day, by_hour)
        for loc, place in places.items()
        for day in days(flt.date_from, flt.date_to)
    }
    cells: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    _add_open(cells, keys, places, slots)
    _add_booked(cells, keys, session, flt, places, slots)
    names = read_names(session)
    rows = [_row(group, keys, names, *cells[group]) for group in sorted(cells, key=_order)]
    booked = sum(c[0] for c in cells.values())
    opened = sum(c[1] for c in cells.values())
    total = _row((), [], names, booked, opened)
    return ReportTable(
        name="utilisation",
        title="Chair utilisation",
        filter=flt,
        dimensions=tuple(dims),
        measures=MEASURES,
        rows=tuple(rows) if keys else (),
        total=Row(labels=("Total",) * max(len(dims), 1), values=total.values),
        notes=(
            "Booked time counts only inside opening hours; no-shows count as booked, "
            "cancellations and late cancellations do not.",
            "Weekday and hour are the location's local time. The provider filter does not "
            "apply to chair time.",
        ),
    )


def _places(session: Session, flt: ReportFilter) -> dict[int, _Place]:
    """Every location in the filter with its opening rules and the chairs counted there."""
    start, end = utc_window(flt.date_from, flt.date_to)
    visit = TreatmentSession
    used = exists().where(
        visit.chair_id == Chair.id,
        visit.starts_at >= start,
        visit.starts_at < end,
        type_coerce(visit.status, String).not_in(NOT_BOOKED),
    )
    query = select(Chair.id, Chair.location_id).where(or_(Chair.active, used))
    if flt.location_ids:
        query = query.where(Chair.location_id.in_(flt.location_ids))
    chairs: dict[int, list[int]] = defaultdict(list)
    for chair_id, location_id in session.execute(query):
        chairs[location_id].append(chair_id)
    places = {}
    for location_id in sorted(chairs):
        openings = read_openings(session, location_id)
        if openings is not None:
            zone = ZoneInfo(openings.time_zone)
            places[location_id] = _Place(openings, zone, sorted(chairs[location_id]))
    return places


def _slots(place: _Place, day: date, by_hour: bool) -> list[Slot]:
    """The open stretches of ``day`` at ``place``, cut at local hours when ``by_hour``."""
    found = []
    for interval in hours_on(place.openings, day):
        opens = _utc(day, interval.opens, place.zone)
        closes = _utc(day, interval.closes, place.zone)
        if not by_hour:
            found.append(Slot(day, None, opens, closes))
            continue
        for hour in range(interval.opens.hour, 24):
            start = max(opens, _utc(day, time(hour), place.zone))
            following = (
                _utc(day, time(hour + 1), place.zone)
                if hour < 23
                else _utc(day + timedelta(days=1), time(), place.zone)
            )
            end = min(closes, following)
            if start >= closes:
                break
            if end > start:
                found.append(Slot(day, hour, start, end))
    return found


def _utc(day: date, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, zone).astimezone(UTC)


def _seconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


def _key(keys: Sequence[str], location: int, chair: int | None, slot: Slot) -> tuple[Any, ...]:
    values: list[Any] = []
    for key in keys:
        if key == "location":
            values.append(location)
        elif key == "chair":
            values.append(chair)
        elif key == "weekday":
            values.append(slot.day.weekday())
        elif key == "hour":
            values.append(slot.hour)
        else:
            values.append(period_key(slot.day, periods.Grain(key)))
    return tuple(values)


def _add_open(
    cells: dict[tuple[Any, ...], list[int]],
    keys: Sequence[str],
    places: dict[int, _Place],
    slots: dict[tuple[int, date], list[Slot]],
) -> None:
    per_chair = "chair" in keys
    for (location, _day), stretch in slots.items():
        place = places[location]
        for slot in stretch:
            seconds = _seconds(slot.start, slot.end)
            if per_chair:
                for chair in place.chairs:
                    cells[_key(keys, location, chair, slot)][1] += seconds
            else:
                cells[_key(keys, location, None, slot)][1] += seconds * len(place.chairs)


def _bookings(
    session: Session, flt: ReportFilter, locations: Sequence[int], per_chair: bool
) -> Any:
    """Each distinct booking (location, chair when asked, start, end) and how many sessions
    hold it, over the filter's UTC window."""
    start, end = utc_window(flt.date_from, flt.date_to)
    visit = TreatmentSession
    chair = visit.chair_id if per_chair else literal(None)
    columns = [visit.location_id, chair, visit.starts_at, visit.ends_at]
    query = (
        select(*columns, func.count())
        .where(
            visit.starts_at >= start,
            visit.starts_at < end,
            type_coerce(visit.status, String).not_in(NOT_BOOKED),
        )
        .group_by(*columns)
    )
    # The locations named: the database reads ix_session_location_start as one range each.
    return session.execute(query.where(visit.location_id.in_(locations)))


def _add_booked(
    cells: dict[tuple[Any, ...], list[int]],
    keys: Sequence[str],
    session: Session,
    flt: ReportFilter,
    places: dict[int, _Place],
    slots: dict[tuple[int, date], list[Slot]],
) -> None:
    per_chair = "chair" in keys
    groups: dict[tuple[int, int | None, Slot], tuple[Any, ...]] = {}
    for location, chair, starts_at, ends_at, count in _bookings(
        session, flt, sorted(places), per_chair
    ):
        place = places.get(location)
        if place is None:
            continue
        day = starts_at.astimezone(place.zone).date()
        for slot in slots.get((location, day), ()):  # in order of time
            if slot.start >= ends_at:
                break
            if slot.end <= starts_at:
                continue
            start, end = max(starts_at, slot.start), min(ends_at, slot.end)
            place_key = (location, chair, slot)
            group = groups.get(place_key)
            if group is None:
                group = groups[place_key] = _key(keys, location, chair, slot)
            cells[group][0] += _seconds(start, end) * count


def _order(group: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v if isinstance(v, int) else str(v)) for v in group)


def _row(
    group: tuple[Any, ...], keys: Sequence[str], names: Names, booked: int, opened: int
) -> Row:
    """One row from booked and open chair-seconds."""
    rate: Value = None
    if opened > 0:
        rate = (Decimal(booked) * 100 / Decimal(opened)).quantize(_TENTH)
    return Row(
        labels=tuple(label(key, value, names) for key, value in zip(keys, group, strict=True)),
        values=(_in_minutes(booked), _in_minutes(opened), rate),
        keys=group,
    )


_TENTH = Decimal("0.1")


def _in_minutes(seconds: int) -> Decimal:
    return (Decimal(seconds) / 60).quantize(_TENTH)


def label(key: str, value: Any, names: Names) -> str:
    """A group key as people read it."""
    common = names.group(key, value)
    return str(value) if common is None else common


def chart(table: ReportTable) -> Chart | None:
    """A heat map of weekday rows × hour columns when split by both, else bars."""
    keys = [d.key for d in table.dimensions]
    if not table.rows:
        return None
    at = table.measure_index("utilisation")
    if "weekday" in keys and "hour" in keys:
        return _heat(table, keys.index("weekday"), keys.index("hour"), at)
    categories = tuple(" · ".join(row.labels) for row in table.rows)
    values = tuple(_number(row.values[at]) for row in table.rows)
    return Chart(
        "Chair utilisation",
        "bar",
        categories,
        (ChartSeries("Utilisation", values),),
        kind=Kind.PERCENT,
    )


def _heat(table: ReportTable, day_at: int, hour_at: int, at: int) -> Chart:
    """Utilisation per weekday and hour (rows split further are weighted together)."""
    sums: dict[tuple[int, int], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    booked, opened = table.measure_index("booked_minutes"), table.measure_index("open_minutes")
    for row in table.rows:
        cell = sums[(int(str(row.keys[day_at])), int(str(row.keys[hour_at])))]
        cell[0] += _number(row.values[booked])
        cell[1] += _number(row.values[opened])
    weekdays = sorted({day for day, _ in sums})
    hours = sorted({hour for _, hour in sums})
    series = tuple(
        ChartSeries(
            WEEKDAY_NAMES[day],
            tuple(_rate(*sums.get((day, hour), [Decimal(0), Decimal(0)])) for hour in hours),
        )
        for day in weekdays
    )
    return Chart(
        "Chair utilisation by weekday and hour",
        "heat",
        tuple(f"{hour:02d}:00" for hour in hours),
        series,
        kind=Kind.PERCENT,
        rows=tuple(WEEKDAY_NAMES[day] for day in weekdays),
    )


def _rate(booked: Decimal, opened: Decimal) -> Decimal:
    return (booked * 100 / opened).quantize(_TENTH) if opened else Decimal("0.0")


def _number(value: Value) -> Decimal:
    return Decimal(value) if value is not None else Decimal(0)


def detail(session: Session, actor: Actor, table: ReportTable, row: Row, measure: str) -> Detail:
    """The sessions booked in the chairs, days and hours of ``row`` (at most
    ``DETAIL_LIMIT``), each with the chair-minutes it adds to the row."""
    actor.require(Permission.REPORT_VIEW)
    flt = table.filter
    keys = [d.key for d in table.dimensions]
    wanted = dict(zip(keys, row.keys, strict=False))
    places = _places(session, flt)
    by_hour = "hour" in keys
    start, end = utc_window(flt.date_from, flt.date_to)
    visit = TreatmentSession
    query = (
        select(
            visit.id,
            visit.location_id,
            visit.chair_id,
            visit.starts_at,
            visit.ends_at,
            visit.status,
            visit.patient_id,
            Patient.mrn,
            Patient.family_name,
            Patient.given_name,
        )
        .join(Patient, Patient.id == visit.patient_id)
        .where(
            visit.starts_at >= start,
            visit.starts_at < end,
            type_coerce(visit.status, String).not_in(NOT_BOOKED),
        )
        .order_by(visit.starts_at, visit.id)
    )
    if "location" in wanted:
        query = query.where(visit.location_id == wanted["location"])
    elif flt.location_ids:
        query = query.where(visit.location_id.in_(flt.location_ids))
    if "chair" in wanted:
        query = query.where(visit.chair_id == wanted["chair"])
    names = read_names(session)
    found: list[DetailRow] = []
    for line in session.execute(query):
        place = places.get(line.location_id)
        if place is None:
            continue
        day = line.starts_at.astimezone(place.zone).date()
        if not flt.date_from <= day <= flt.date_to:
            continue
        seconds = 0
        for slot in _slots(place, day, by_hour):
            if _matches(wanted, slot):
                a, b = max(line.starts_at, slot.start), min(line.ends_at, slot.end)
                seconds += max(_seconds(a, b), 0)
        if not seconds:
            continue
        local = line.starts_at.astimezone(place.zone)
        found.append(
            DetailRow(
                on=day,
                patient_id=line.patient_id,
                mrn=line.mrn,
                patient=f"{line.family_name}, {line.given_name}",
                description=f"{names.chair(line.chair_id)} at {local:%H:%M} ({line.status.label})",
                amount=_in_minutes(seconds),
                session_id=line.id,
            )
        )
        if len(found) > DETAIL_LIMIT:
            break
    return Detail(
        title=f"Booked sessions: {' · '.join(row.labels)}",
        rows=tuple(found[:DETAIL_LIMIT]),
        truncated=len(found) > DETAIL_LIMIT,
        amount_label="Chair-minutes",
    )


def _matches(wanted: dict[str, Any], slot: Slot) -> bool:
    for key, value in wanted.items():
        if key == "weekday" and slot.day.weekday() != value:
            return False
        if key == "hour" and slot.hour != value:
            return False
        is_period = key in periods.Grain.__members__.values()
        if is_period and periods.key_of(slot.day, periods.Grain(key)) != value:
            return False
    return True


SPEC = ReportSpec(
    name="utilisation",
    title="Chair utilisation",
    summary="Booked chair-minutes against open chair-minutes, by chair, location, weekday "
    "and hour.",
    dimensions=DIMENSIONS,
    default_by=("location",),
    run=utilisation,
    detail=detail,
    chart=chart,
)
