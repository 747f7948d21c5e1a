"""Local time for the operational reports: a session's day, weekday and hour where it happened.

Sessions are stored as UTC instants; a manager reads them in each location's own time zone.
SQL cannot convert time zones on SQLite, so the reports group by the UTC *hour* of an instant
(``2026-12-07 14``, the same text on both back ends) together with the location, and this
module turns each (location, UTC hour) into the local date, weekday and hour once, cached.
Every US time zone is a whole number of hours from UTC, so an hour's local date and hour are
exact; a daylight-saving change moves only which UTC hours map to which local hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ketadesk.clinic.models import Location
from ketadesk.reports import periods


def utc_hour(column: Any, dialect: str) -> ColumnElement[str]:
    """SQL: the UTC hour of an instant column as ``YYYY-MM-DD HH``."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)


@dataclass(frozen=True)
class Local:
    """Where a UTC hour falls on a location's wall clock."""

    day: date
    weekday: int  # 0 = Monday
    hour: int


class Clock:
    """Each location's time zone, and the (location, UTC hour) → local time lookups."""

    def __init__(self, zones: dict[int, ZoneInfo]) -> None:
        self.zones = zones
        self._seen: dict[tuple[int, str], Local] = {}

    def local(self, location_id: int, utc_hour_key: str) -> Local:
        found = self._seen.get((location_id, utc_hour_key))
        if found is None:
            key = utc_hour_key  # parsed by hand: strptime costs ten times as much
            instant = datetime(
                int(key[:4]), int(key[5:7]), int(key[8:10]), int(key[11:13]), tzinfo=UTC
            )
            wall = instant.astimezone(self.zones[location_id])
            found = Local(wall.date(), wall.weekday(), wall.hour)
            self._seen[(location_id, utc_hour_key)] = found
        return found

    def zone(self, location_id: int) -> ZoneInfo:
        return self.zones[location_id]


def read_clock(session: Session) -> Clock:
    rows = session.execute(select(Location.id, Location.time_zone)).all()
    return Clock({row.id: ZoneInfo(row.time_zone) for row in rows})


def utc_window(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants wide enough to hold every local day from ``first`` to ``last`` anywhere
    (a day either side); callers keep the rows whose local day is in range."""
    start = datetime.combine(first - timedelta(days=1), time(), UTC)
    end = datetime.combine(last + timedelta(days=2), time(), UTC)
    return start, end


def days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@lru_cache(maxsize=8192)
def period_key(day: date, grain: periods.Grain) -> str:
    """:func:`periods.key_of`, remembered: a report asks it for the same days again and again."""
    return periods.key_of(day, grain)
