"""The schedule as people read it: one location, a run of days, chairs as columns.

:func:`calendar_window` answers the day and week views, the printed day sheet and
``ketadesk schedule day`` with one query for the sessions (joined to patient, series,
protocol, chair and provider) plus the location's chairs and opening hours
(:func:`~ketadesk.clinic.locations.read_openings`), all read as plain rows through
statements built once. Every entry is an immutable :class:`CalendarEntry` carrying both
the UTC instants and the location's local times, so the views never convert time zones
themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.locations import (
    Interval,
    closed_reason,
    hours_on,
    local_days,
    read_openings,
)
from ketadesk.clinic.models import Chair, Modality, Patient, Provider
from ketadesk.db import connection_of
from ketadesk.errors import NotFound
from ketadesk.scheduling.models import (
    RELEASED,
    Protocol,
    Series,
    SessionStatus,
    TreatmentSession,
)


@dataclass(frozen=True)
class ChairColumn:
    chair_id: int
    name: str
    modalities: frozenset[Modality]
    active: bool


class CalendarEntry(NamedTuple):
    """One session as the schedule shows it; immutable.

    A named tuple rather than a frozen dataclass: a week shows hundreds of sessions, and
    a frozen dataclass sets each of its 24 fields through ``object.__setattr__``, which
    cost the week view more than SQLite spent reading the rows (issue 14).
    """

    session_id: int
    reference: str
    version: int
    series_id: int
    number: int
    series_size: int | None  # the protocol's session count; None when open-ended
    patient_id: int
    patient_name: str
    mrn: str
    protocol_key: str
    protocol_name: str
    modality: Modality
    status: SessionStatus
    chair_id: int
    chair_name: str
    provider_id: int
    provider_name: str
    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    local_end: datetime
    driver_confirmed: bool  # the ride home was confirmed at the pre-dose checklist
    driver_name: str = ""  # the patient's usual driver, from their record
    driver_phone: str = ""  # ten digits, or "" when none is recorded

    @property
    def holds_chair(self) -> bool:
        return self.status not in RELEASED

    @property
    def progress(self) -> str:
        """``"4 of 6"``, or ``"#4"`` for an open-ended series."""
        return f"{self.number} of {self.series_size}" if self.series_size else f"#{self.number}"


@dataclass(frozen=True)
class CalendarDay:
    day: date
    closed: str | None  # why the location is closed, or None
    hours: tuple[Interval, ...]


@dataclass(frozen=True)
class CalendarWindow:
    location_id: int
    location_code: str
    location_name: str
    time_zone: str
    days: tuple[CalendarDay, ...]
    chairs: tuple[ChairColumn, ...]
    entries: tuple[CalendarEntry, ...]  # by local start, then chair name

    def on(self, day: date) -> list[CalendarEntry]:
        return [e for e in self.entries if e.local_start.date() == day]

    def earliest_opening(self, default: time = time(8)) -> time:
        opens = [iv.opens for d in self.days for iv in d.hours]
        return min(opens, default=default)

    def latest_closing(self, default: time = time(18)) -> time:
        closes = [iv.closes for d in self.days for iv in d.hours]
        return max(closes, default=default)


def calendar_window(
    session: Session,
    actor: Actor,
    location_id: int,
    first_day: date,
    days: int = 1,
    *,
    include_released: bool = True,
) -> CalendarWindow:
    """The location's schedule for ``days`` local days from ``first_day``.

    Cancelled, late-cancelled and no-show sessions are included (the views draw them
    faded) unless ``include_released`` is false. Raises :class:`NotFound` for an unknown
    location.
    """
    actor.require(Permission.SCHEDULE_VIEW)
    # Plain rows on the session's connection (flushed first, so sessions changed in this
    # transaction show as they are), which skips the ORM's per-execution set-up.
    connection = connection_of(session)
    location = read_openings(connection, location_id)
    if location is None:
        raise NotFound(f"no location with id {location_id}")
    zone = ZoneInfo(location.time_zone)
    span = [first_day + timedelta(days=n) for n in range(days)]
    start, end = local_days(first_day, days, zone)
    chairs = connection.execute(_chairs_statement(), {"location_id": location_id}).all()
    rows = connection.execute(_entries_statement(include_released),
                              {"location_id": location_id, "start": start, "end": end}).all()
    return CalendarWindow(
        location_id=location.id,
        location_code=location.code,
        location_name=location.name,
        time_zone=location.time_zone,
        days=tuple(
            CalendarDay(d, closed_reason(location, d), tuple(hours_on(location, d))) for d in span
        ),
        chairs=tuple(ChairColumn(*row) for row in chairs),
        entries=tuple([_entry(row, zone) for row in rows]),
    )


# The week view asks again on every move, so its statements are built once and kept, the
# location and the time span as bound parameters: building the selects and computing their
# cache keys cost SQLAlchemy more than SQLite spent reading (docs/PERFORMANCE.md). The
# location is read as plain rows too (clinic.locations.read_openings).


@cache
def _chairs_statement() -> Executable:
    return (select(Chair.id, Chair.name, Chair.modalities, Chair.active)
            .where(Chair.location_id == bindparam("location_id"))
            .order_by(Chair.name, Chair.id))


@cache
def _entries_statement(include_released: bool) -> Executable:
    ts = aliased(TreatmentSession)
    query = (
        select(
            ts.id,
            ts.version,
            ts.series_id,
            ts.number,
            Protocol.session_count,
            ts.patient_id,
            Patient.family_name,
            Patient.given_name,
            Patient.mrn,
            Protocol.key,
            Protocol.name,
            ts.modality,
            ts.status,
            ts.chair_id,
            Chair.name,
            ts.provider_id,
            Provider.given_name,
            Provider.family_name,
            Provider.credentials,
            ts.starts_at,
            ts.ends_at,
            ts.driver_confirmed,
            Patient.driver_name,
            Patient.driver_phone,
        )
        .join(Patient, Patient.id == ts.patient_id)
        .join(Series, Series.id == ts.series_id)
        .join(Protocol, Protocol.id == Series.protocol_id)
        .join(Chair, Chair.id == ts.chair_id)
        .join(Provider, Provider.id == ts.provider_id)
        .where(ts.location_id == bindparam("location_id"),
               ts.starts_at >= bindparam("start"), ts.starts_at < bindparam("end"))
        .order_by(ts.starts_at, func.lower(Chair.name))
    )
    if not include_released:
        query = query.where(ts.status.not_in(RELEASED))
    return query


def _entry(row: Sequence[Any], zone: ZoneInfo) -> CalendarEntry:
    (sid, version, series_id, number, size, patient_id, family, given, mrn, key, name,
     modality, status, chair_id, chair_name, provider_id, p_given, p_family, p_cred,
     starts_at, ends_at, driver, driver_name, driver_phone) = row
    # Built from a tuple in field order: half the cost of naming 24 keyword arguments, for
    # each of a week's hundreds of sessions. test_calendar checks every field.
    return CalendarEntry._make((
        sid, f"S-{sid}", version, series_id, number, size,
        patient_id, f"{family}, {given}", mrn, key, name, modality, status,
        chair_id, chair_name, provider_id, f"{p_given} {p_family}, {p_cred}",
        starts_at, ends_at, starts_at.astimezone(zone), ends_at.astimezone(zone),
        driver, driver_name, driver_phone,
    ))


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (the week view starts on Mondays)."""
    return day - timedelta(days=day.weekday())
