"""Periods a report is split by (day, week, month, quarter, year), the same in SQL and Python.

SQL groups a date column by a text key (``2026-12``, ``2026-Q4``, the Monday of a week…);
Python computes the same key for any day, lists every key of a range (so an empty month still
shows as a row of zeros) and names a key for people. Both back ends produce identical keys:
SQLite from the stored ``YYYY-MM-DD`` text, PostgreSQL with ``to_char``.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta

from sqlalchemy import Integer, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from ketadesk.reports.model import Dimension


class Grain(enum.StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday to Sunday, keyed by its Monday
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def label(self) -> str:
        return self.value.capitalize()


GRAINS = tuple(Grain)
DIMENSIONS = tuple(Dimension(g.value, g.label) for g in GRAINS)
"""The periods every dated report may be split by."""


def sql_key(column: ColumnElement[date] | object, grain: Grain, dialect: str) -> ColumnElement[str]:
    """SQL: the period key of a DATE column on this back end."""
    col: ColumnElement[date] = column  # type: ignore[assignment]
    if dialect == "postgresql":
        return _postgres_key(col, grain)
    if grain is Grain.DAY:
        return func.substr(col, 1, 10)
    if grain is Grain.WEEK:
        return func.date(col, "-6 days", "weekday 1")
    if grain is Grain.MONTH:
        return func.substr(col, 1, 7)
    if grain is Grain.QUARTER:
        month = cast(func.substr(col, 6, 2), Integer)
        quarter = (month + 2) / 3
        return func.substr(col, 1, 4).concat(literal("-Q")).concat(cast(quarter, Integer))
    return func.substr(col, 1, 4)


def _postgres_key(col: ColumnElement[date], grain: Grain) -> ColumnElement[str]:
    if grain is Grain.WEEK:
        return func.to_char(func.date_trunc("week", col), "YYYY-MM-DD")
    pattern = {
        Grain.DAY: "YYYY-MM-DD",
        Grain.MONTH: "YYYY-MM",
        Grain.QUARTER: 'YYYY-"Q"Q',
        Grain.YEAR: "YYYY",
    }[grain]
    return func.to_char(col, pattern)


def key_of(day: date, grain: Grain) -> str:
    """The key :func:`sql_key` gives ``day``."""
    if grain is Grain.DAY:
        return day.isoformat()
    if grain is Grain.WEEK:
        return (day - timedelta(days=day.weekday())).isoformat()
    if grain is Grain.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    if grain is Grain.QUARTER:
        return f"{day.year:04d}-Q{(day.month + 2) // 3}"
    return f"{day.year:04d}"


def start_of(key: str, grain: Grain) -> date:
    """The first day of the period ``key`` names."""
    if grain in (Grain.DAY, Grain.WEEK):
        return date.fromisoformat(key)
    year = int(key[:4])
    if grain is Grain.MONTH:
        return date(year, int(key[5:7]), 1)
    if grain is Grain.QUARTER:
        return date(year, 3 * int(key[-1]) - 2, 1)
    return date(year, 1, 1)


def end_of(key: str, grain: Grain) -> date:
    """The last day of the period ``key`` names."""
    start = start_of(key, grain)
    if grain is Grain.DAY:
        return start
    if grain is Grain.WEEK:
        return start + timedelta(days=6)
    if grain is Grain.YEAR:
        return date(start.year, 12, 31)
    months = 1 if grain is Grain.MONTH else 3
    month = start.month + months
    following = date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return following - timedelta(days=1)


def keys_between(first: date, last: date, grain: Grain) -> list[str]:
    """Every period key from the one holding ``first`` to the one holding ``last``."""
    keys: list[str] = []
    key = key_of(first, grain)
    while start_of(key, grain) <= last:
        keys.append(key)
        key = key_of(end_of(key, grain) + timedelta(days=1), grain)
    return keys


def label_of(key: str, grain: Grain) -> str:
    """A period as people read it: ``Dec 2026``, ``2026 Q4``, ``Week of 7 Dec 2026``."""
    start = start_of(key, grain)
    if grain is Grain.DAY:
        return f"{start:%a} {start.day} {start:%b %Y}"
    if grain is Grain.WEEK:
        return f"Week of {start.day} {start:%b %Y}"
    if grain is Grain.MONTH:
        return f"{start:%b %Y}"
    if grain is Grain.QUARTER:
        return f"{start.year} Q{key[-1]}"
    return str(start.year)


def year_before(key: str, grain: Grain) -> str:
    """The key of the same period a year earlier (52 weeks earlier for days and weeks, so a
    Monday is compared with a Monday)."""
    if grain in (Grain.DAY, Grain.WEEK):
        return (start_of(key, grain) - timedelta(weeks=52)).isoformat()
    return f"{int(key[:4]) - 1:04d}{key[4:]}"
