"""Locations: where care happens, when each one is open, and which days it is closed.

Three kinds of data describe a location, and each has its own services here:

* **The record** (address, POS code, organisation NPI, TIN, time zone). Input arrives as raw
  values keyed by :data:`LOCATION_FIELDS`; :func:`clean_location` validates them all at
  once and :func:`create_location` / :func:`update_location` store them.
* **Weekly opening hours**, a list of :class:`Interval` (a weekday may have several, e.g.
  a lunch break). People type them as compact text, ``"mon-fri 08:00-18:00; sat
  09:00-13:00"``: :func:`parse_hours` reads that text, :func:`format_hours` writes it back,
  and :func:`set_hours` replaces a location's intervals.
* **Days off**: closures the clinic enters (training, repairs, weather) and US public
  holidays from the ``holidays`` package for the location's state, minus the holidays
  the clinic chooses to work (:func:`set_holiday_worked`).

Scheduling asks one question many times: "is this location open on this day, and if not,
why?" — :func:`closed_reason`. It reads the location's already-loaded hours and closures
and a per-(state, year) holiday table cached in memory, so it does no query of its own
once the location's relationships are loaded. It and :func:`hours_on` accept anything
shaped like :class:`OpeningRules`: a mapped :class:`Location`, or the frozen
:class:`LocationOpenings` that :func:`read_openings` reads as plain rows for views that
only show a calendar (the week view asks on every move, and building ORM objects for the
location, its hours, closures and worked holidays cost it more than reading them).

Every write checks :data:`Permission.CLINIC_SETUP` and adds an audit row in the caller's
transaction; reads check :data:`Permission.CLINIC_VIEW`. Services never commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import pos_code
from ketadesk.clinic.models import Closure, HolidayWorked, Location, OpeningHours
from ketadesk.db import Reader, connection_of
from ketadesk.errors import FieldProblem, InvalidValue, NotFound, ValidationError

__all__ = [
    "LOCATION_FIELDS",
    "WEEKDAY_NAMES",
    "ClosedDays",
    "Interval",
    "LocationOpenings",
    "OpeningRules",
    "PublicHoliday",
    "WorkedHoliday",
    "add_closure",
    "clean_location",
    "closed_reason",
    "create_location",
    "format_hours",
    "get_location",
    "hours_on",
    "interval_problems",
    "list_locations",
    "location_code",
    "location_values",
    "parse_hours",
    "public_holidays",
    "read_openings",
    "remove_closure",
    "set_holiday_worked",
    "set_hours",
    "set_location_active",
    "update_location",
]

# ---------------------------------------------------------------------------------------
# The location record
# ---------------------------------------------------------------------------------------

_CODE_FORM = re.compile(r"[A-Z0-9]{2,12}")


def location_code(value: Any) -> str:
    """A location's short code: 2 to 12 letters or digits, upper-cased (``"nyc"`` -> ``"NYC"``)."""
    text = str(value).strip().upper()
    if not _CODE_FORM.fullmatch(text):
        raise InvalidValue(
            f"{text!r} is not a location code; expected 2 to 12 letters or digits, "
            "e.g. NYC or BKLYN2"
        )
    return text


LOCATION_FIELDS: tuple[v.FieldSpec, ...] = (
    v.FieldSpec("code", "Code", True, location_code),
    v.FieldSpec("name", "Name", True, v.plain_text(120)),
    *v.address_fields(required=True),
    v.FieldSpec("phone", "Phone", False, v.us_phone),
    v.FieldSpec("pos_code", "Place of service", False, pos_code),
    v.FieldSpec("npi", "Organisation NPI", True, v.npi),
    v.FieldSpec("tin", "Tax ID (TIN)", True, v.tin),
    v.FieldSpec("time_zone", "Time zone", True, v.time_zone),
    v.FieldSpec("observe_holidays", "Closed on public holidays", False, v.parse_flag),
)
_LOCATION_BLANKS: dict[str, Any] = {
    "address_line2": "",
    "phone": "",
    "pos_code": "11",
    "observe_holidays": True,
}


def _clean(
    session: Session | None,
    raw: Mapping[str, object],
    own_id: int | None,
) -> dict[str, Any]:
    checker = v.Checker()
    clean = v.collect_fields(checker, raw, LOCATION_FIELDS, _LOCATION_BLANKS, "location")
    if session is not None and clean["code"]:
        other = session.scalar(
            select(Location).where(Location.code == clean["code"], Location.id != (own_id or 0))
        )
        if other is not None:
            checker.add("code", f"{other.name} already uses code {other.code}; choose another")
    checker.raise_if_problems()
    return clean


def clean_location(raw: Mapping[str, object]) -> dict[str, Any]:
    """Validate every field of ``raw``; return clean values or raise every problem at once.

    Uniqueness of the code needs the database, so :func:`create_location` and
    :func:`update_location` check it as well, together with these problems.
    """
    return _clean(None, raw, None)


def _load(session: Session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(f"There is no location with id {location_id}.")
    return location


def create_location(session: Session, actor: Actor, raw: Mapping[str, object]) -> Location:
    """Add a location (active, no opening hours yet)."""
    actor.require(Permission.CLINIC_SETUP)
    location = Location(active=True, **_clean(session, raw, None))
    session.add(location)
    session.flush()
    audit.record(session, actor, "create", "location", location.id, after=audit.snapshot(location))
    return location


def update_location(
    session: Session,
    actor: Actor,
    location_id: int,
    raw: Mapping[str, object],
) -> Location:
    """Save an edit of the whole form (start from :func:`location_values`)."""
    actor.require(Permission.CLINIC_SETUP)
    location = _load(session, location_id)
    clean = _clean(session, raw, location.id)
    before = audit.snapshot(location)
    for key, value in clean.items():
        setattr(location, key, value)
    session.flush()
    audit.record_update(session, actor, "location", location.id, before, audit.snapshot(location))
    return location


def set_location_active(session: Session, actor: Actor, location_id: int, active: bool) -> Location:
    """Open (``True``) or retire (``False``) a location; its history stays."""
    actor.require(Permission.CLINIC_SETUP)
    location = _load(session, location_id)
    if location.active != active:
        audit.record(
            session,
            actor,
            "update",
            "location",
            location.id,
            before={"active": location.active},
            after={"active": active},
        )
        location.active = active
        session.flush()
    return location


def list_locations(
    session: Session,
    actor: Actor,
    *,
    include_inactive: bool = False,
) -> list[Location]:
    """Locations ordered by code; retired ones only when asked."""
    actor.require(Permission.CLINIC_VIEW)
    query = select(Location).order_by(Location.code)
    if not include_inactive:
        query = query.where(Location.active.is_(True))
    return list(session.scalars(query))


def get_location(session: Session, code_or_id: str | int) -> Location:
    """A location by id (``int``) or by code (``str``, any case; digits fall back to an id)."""
    if isinstance(code_or_id, int):
        return _load(session, code_or_id)
    text = code_or_id.strip().upper()
    found = session.scalar(select(Location).where(Location.code == text))
    if found is None and text.isdigit():
        found = session.get(Location, int(text))
    if found is None:
        raise NotFound(f"There is no location with code {text}.")
    return found


def location_values(location: Location) -> dict[str, Any]:
    """The editable fields of ``location`` as :func:`clean_location` returns them (for forms)."""
    return {spec.name: getattr(location, spec.name) for spec in LOCATION_FIELDS}


def _local_today(location: Location) -> date:
    """Today where the location is: a clinic's "this year" flips at its own midnight."""
    return datetime.now(ZoneInfo(location.time_zone)).date()


# ---------------------------------------------------------------------------------------
# Weekly opening hours
# ---------------------------------------------------------------------------------------

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ABBREVIATIONS = tuple(name[:3] for name in WEEKDAY_NAMES)


@dataclass(frozen=True, order=True)
class Interval:
    """One opening interval on one weekday (0 = Monday … 6 = Sunday), local wall time."""

    weekday: int
    opens: time
    closes: time

    def __str__(self) -> str:
        return f"{_clock(self.opens)}-{_clock(self.closes)}"


_DAY_WORDS: dict[str, tuple[int, ...]] = {
    **{name.casefold(): (day,) for day, name in enumerate(WEEKDAY_NAMES)},
    **{abbr.casefold(): (day,) for day, abbr in enumerate(_ABBREVIATIONS)},
    "tues": (1,),
    "weds": (2,),
    "thur": (3,),
    "thurs": (3,),
    "daily": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
}
_CLOCK = r"([0-9]{1,2})(?::([0-9]{2}))?(?::([0-9]{2}))?\s*(?:([ap])\.?m\.?)?"
_RANGE_FORM = re.compile(rf"{_CLOCK}\s*(?:-|–|to)\s*{_CLOCK}", re.IGNORECASE)
_HOURS_EXAMPLE = "e.g. mon-fri 08:00-18:00; sat 09:00-13:00"


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def _day(word: str, part: str) -> int:
    found = _DAY_WORDS.get(word.strip().casefold())
    if found is None or len(found) != 1:
        raise InvalidValue(
            f"{word.strip()!r} in {part.strip()!r} is not a day of the week; "
            f"expected mon, tue, wed, thu, fri, sat or sun"
        )
    return found[0]


def _days(text: str, part: str) -> list[int]:
    """``"mon-wed, fri"`` -> ``[0, 1, 2, 4]``; a range may wrap (``"sat-mon"``)."""
    days: list[int] = []
    for item in v.split_list(text):
        if item.casefold() in _DAY_WORDS and len(_DAY_WORDS[item.casefold()]) > 1:
            days.extend(_DAY_WORDS[item.casefold()])
            continue
        ends = re.split(r"\s*[-–]\s*", item)
        if len(ends) > 2:
            raise InvalidValue(f"{item!r} in {part.strip()!r} is not a day or a range of days")
        first, last = _day(ends[0], part), _day(ends[-1], part)
        days.extend((first + step) % 7 for step in range((last - first) % 7 + 1))
    if not days:
        raise InvalidValue(f"{part.strip()!r} does not start with a day; expected {_HOURS_EXAMPLE}")
    return days


def _time(groups: Sequence[str | None], piece: str) -> time:
    hour, minute, second = (int(g) if g else 0 for g in groups[:3])
    half = (groups[3] or "").casefold()
    if half and not 1 <= hour <= 12:
        raise InvalidValue(f"{piece!r} has hour {hour} with am/pm; expected 1 to 12")
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidValue(f"{piece!r} is not a time of day; expected 00:00 to 23:59")
    return time(hour, minute, second)


def _ranges(text: str, part: str) -> list[tuple[time, time]]:
    ranges = []
    for piece in v.split_list(text):
        match = _RANGE_FORM.fullmatch(piece)
        if match is None:
            raise InvalidValue(
                f"{piece!r} in {part.strip()!r} is not a time range; "
                "expected e.g. 08:00-18:00 or 8am-6pm"
            )
        groups = match.groups()
        ranges.append((_time(groups[:4], piece), _time(groups[4:], piece)))
    return ranges


def _part(part: str) -> list[Interval]:
    """One ``days times`` group, e.g. ``"Mon 8:00-12:00, 13:00-17:00"``."""
    digit = re.search(r"[0-9]", part)
    if digit is None:
        words = part.split()
        if words and words[-1].casefold() == "closed":  # "sun closed" says no hours
            _days(part[: part.casefold().rindex("closed")], part)
            return []
        raise InvalidValue(f"{part.strip()!r} has no opening times; expected {_HOURS_EXAMPLE}")
    days = _days(part[: digit.start()], part)
    ranges = _ranges(part[digit.start() :], part)
    return [Interval(day, opens, closes) for day in days for opens, closes in ranges]


def parse_hours(text: str) -> list[Interval]:
    """Weekly hours written compactly -> intervals sorted by weekday and opening time.

    Groups are separated by ``;`` or new lines; each is days then one or more time ranges
    separated by commas: ``"mon-fri 08:00-18:00; sat 09:00-13:00"``, ``"Mon 8:00-12:00,
    13:00-17:00"``, ``"tue, thu 8am-6pm"``, ``"weekdays 9-17"``. Blank text means closed
    every day. Raises :class:`InvalidValue` naming the first unreadable piece, or listing
    every day whose intervals are reversed or overlap.
    """
    intervals = [iv for part in re.split(r"[;\n]+", text) if part.strip() for iv in _part(part)]
    problems = interval_problems(intervals)
    if problems:
        raise InvalidValue("; ".join(problems))
    return sorted(intervals)


def format_hours(intervals: Iterable[Interval]) -> str:
    """Intervals -> the compact text :func:`parse_hours` reads back to the same intervals.

    Days with the same intervals share a group, and consecutive ones a range:
    ``"Mon-Fri 08:00-18:00; Sat 09:00-13:00"``. No intervals gives ``""``.
    """
    by_day: dict[int, list[str]] = {}
    for interval in sorted(intervals):
        by_day.setdefault(interval.weekday, []).append(str(interval))
    groups: dict[tuple[str, ...], list[int]] = {}
    for day, ranges in by_day.items():  # insertion order is weekday order
        groups.setdefault(tuple(ranges), []).append(day)
    return "; ".join(f"{_day_runs(days)} {', '.join(ranges)}" for ranges, days in groups.items())


def _day_runs(days: list[int]) -> str:
    """``[0, 1, 2, 4]`` -> ``"Mon-Wed, Fri"``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        _ABBREVIATIONS[run[0]] + (f"-{_ABBREVIATIONS[run[-1]]}" if len(run) > 1 else "")
        for run in runs
    )


def interval_problems(intervals: Iterable[Interval]) -> list[str]:
    """Every reason ``intervals`` cannot be a week of opening hours, each naming its day."""
    problems: list[str] = []
    usable: list[Interval] = []
    for interval in intervals:
        if not 0 <= interval.weekday <= 6:
            problems.append(f"{interval.weekday} is not a weekday (0 = Monday … 6 = Sunday)")
        elif interval.opens >= interval.closes:
            problems.append(
                f"{WEEKDAY_NAMES[interval.weekday]}: opens at {_clock(interval.opens)} but "
                f"closes at {_clock(interval.closes)}; the closing time must be later"
            )
        else:
            usable.append(interval)
    latest: Interval | None = None
    for interval in sorted(usable):
        if latest and latest.weekday == interval.weekday and interval.opens < latest.closes:
            problems.append(f"{WEEKDAY_NAMES[interval.weekday]}: {interval} overlaps {latest}")
        if latest is None or latest.weekday != interval.weekday or interval.closes > latest.closes:
            latest = interval
    return problems


def _intervals(location: OpeningRules) -> list[Interval]:
    return sorted(Interval(h.weekday, h.opens, h.closes) for h in location.hours)


def set_hours(
    session: Session,
    actor: Actor,
    location_id: int,
    intervals: Sequence[Interval],
) -> None:
    """Replace all of a location's weekly opening hours with ``intervals``.

    Raises :class:`ValidationError` on field ``hours`` listing every reversed or overlapping
    interval by day; nothing is changed then.
    """
    actor.require(Permission.CLINIC_SETUP)
    location = _load(session, location_id)
    problems = interval_problems(intervals)
    if problems:
        raise ValidationError(FieldProblem("hours", problem) for problem in problems)
    before = format_hours(_intervals(location))
    location.hours = [
        OpeningHours(weekday=iv.weekday, opens=iv.opens, closes=iv.closes)
        for iv in sorted(intervals)
    ]
    session.flush()
    after = format_hours(intervals)
    audit.record_update(
        session, actor, "location", location.id, {"hours": before}, {"hours": after}
    )


def hours_on(location: OpeningRules, day: date) -> list[Interval]:
    """The intervals ``location`` is open on the date ``day``: none on a closed day."""
    if closed_reason(location, day) is not None:
        return []
    weekday = day.weekday()
    return sorted(Interval(weekday, h.opens, h.closes) for h in location.hours
                  if h.weekday == weekday)


def local_days(first: date, days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight starting ``first`` and ending ``days`` days later.

    A query for what starts on those local days asks ``start <= starts_at < end``; a day the
    clocks change on is 23 or 25 hours long, which adding hours in UTC would get wrong.
    """
    start = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(), tzinfo=zone).astimezone(UTC)
    return start, end


# ---------------------------------------------------------------------------------------
# Closures
# ---------------------------------------------------------------------------------------


def _span(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else v.parse_date(value)


def add_closure(
    session: Session,
    actor: Actor,
    location_id: int,
    first_day: date | str,
    last_day: date | str,
    reason: str,
) -> Closure:
    """Close ``location`` from ``first_day`` to ``last_day`` inclusive, for ``reason``.

    Refuses (every problem at once) a blank reason, a last day before the first, and a
    span overlapping an existing closure, which the message names.
    """
    actor.require(Permission.CLINIC_SETUP)
    location = _load(session, location_id)
    checker = v.Checker()
    first = checker.check("first_day", _as_date, first_day)
    last = checker.check("last_day", _as_date, last_day)
    text = checker.check("reason", v.plain_text(200), reason)
    if first and last and last < first:
        checker.add(
            "last_day",
            f"{last.isoformat()} is before the first day {first.isoformat()}; "
            "a closure ends on or after the day it starts",
        )
    elif first and last:
        for other in location.closures:
            if other.first_day <= last and first <= other.last_day:
                checker.add(
                    "first_day",
                    (
                        f"{_span(first, last)} overlaps the closure for {other.reason!r} "
                        f"({_span(other.first_day, other.last_day)}); "
                        "change or remove that one first"
                    ),
                )
    checker.raise_if_problems()
    closure = Closure(first_day=first, last_day=last, reason=text)
    location.closures.append(closure)
    session.flush()
    audit.record(session, actor, "create", "closure", closure.id, after=audit.snapshot(closure))
    return closure


def remove_closure(session: Session, actor: Actor, closure_id: int) -> None:
    """Delete a closure (the location opens on those days again); audited with its values."""
    actor.require(Permission.CLINIC_SETUP)
    closure = session.get(Closure, closure_id)
    if closure is None:
        raise NotFound(f"There is no closure with id {closure_id}.")
    audit.record(session, actor, "delete", "closure", closure.id, before=audit.snapshot(closure))
    # Through the collection, so a location already loaded here forgets it at once too.
    closure.location.closures.remove(closure)
    session.flush()


# ---------------------------------------------------------------------------------------
# Public holidays
# ---------------------------------------------------------------------------------------

_OBSERVED = " (observed)"  # the package's suffix for a weekend holiday's weekday off


@dataclass(frozen=True)
class PublicHoliday:
    """A public holiday at a location.

    ``observed`` is the clinic's choice, not the package's: ``False`` means the clinic
    works that day (switched off, or the location does not observe holidays at all).
    A holiday falling on a weekend appears twice: on its date, and on the weekday it is
    observed, named e.g. ``"Independence Day (observed)"``.
    """

    day: date
    name: str
    observed: bool


def _base_name(name: str) -> str:
    """``"Independence Day (observed)"`` -> ``"Independence Day"``: one switch for both days."""
    name = " ".join(name.split())
    return name[: -len(_OBSERVED)] if name.endswith(_OBSERVED) else name


@lru_cache(maxsize=256)
def _calendar(state: str, year: int) -> Mapping[date, tuple[str, ...]]:
    """The public holidays of ``state`` in ``year``, computed once per (state, year).

    A state the package does not know (it knows all 50, DC and the territories today)
    falls back to the federal holidays rather than failing a scheduling screen.
    """
    # Imported here, and the states read from the US calendar alone: importing the package
    # and listing every country it supports cost every start of the window about 0.1 s.
    import holidays
    from holidays.countries.united_states import UnitedStates

    subdivision = state if state in UnitedStates.subdivisions else None
    table = holidays.country_holidays("US", subdiv=subdivision, years=year, language="en_US")
    days = sorted(day for day in table if day.year == year)
    return MappingProxyType({day: tuple(table.get_list(day)) for day in days})


def _worked(location: OpeningRules) -> set[str]:
    return {h.holiday_name.casefold() for h in location.holidays_worked}


def public_holidays(location: Location, year: int) -> list[PublicHoliday]:
    """Every public holiday of ``location``'s state in ``year``, by date.

    Each is ``observed=True`` unless the clinic works it; when the location does not
    observe holidays at all, every one is ``observed=False``.
    """
    worked = _worked(location)
    return [
        PublicHoliday(day, name, _observes(location, name, worked))
        for day, names in _calendar(location.state, year).items()
        for name in names
    ]


def _observes(location: OpeningRules, name: str, worked: set[str]) -> bool:
    return location.observe_holidays and _base_name(name).casefold() not in worked


def _holiday_names(location: Location, years: Iterable[int]) -> list[str]:
    calendars = [_calendar(location.state, year) for year in years]
    return sorted({_base_name(n) for table in calendars for names in table.values() for n in names})


def set_holiday_worked(
    session: Session,
    actor: Actor,
    location_id: int,
    holiday_name: str,
    worked: bool,
) -> None:
    """Switch one public holiday off (``worked=True``: open that day) or back on.

    The name is matched without regard to case or an ``(observed)`` suffix, and must be a
    holiday of the location's state this year or next (in the location's time zone).
    """
    actor.require(Permission.CLINIC_SETUP)
    location = _load(session, location_id)
    year = _local_today(location).year
    names = _holiday_names(location, (year, year + 1))
    wanted = _base_name(holiday_name).casefold()
    match = next((name for name in names if name.casefold() == wanted), None)
    if match is None:
        raise ValidationError.single(
            "holiday_name",
            (
                f"{holiday_name.strip()!r} is not a public holiday in {location.state} in {year} "
                f"or {year + 1}; choose one of {', '.join(names)}"
            ),
        )
    rows = {h.holiday_name.casefold(): h for h in location.holidays_worked}
    before = sorted(h.holiday_name for h in location.holidays_worked)
    if worked and wanted not in rows:
        location.holidays_worked.append(HolidayWorked(holiday_name=match))
    elif not worked and wanted in rows:
        location.holidays_worked.remove(rows[wanted])
    session.flush()
    after = sorted(h.holiday_name for h in location.holidays_worked)
    audit.record_update(
        session,
        actor,
        "location",
        location.id,
        {"holidays_worked": before},
        {"holidays_worked": after},
    )


# ---------------------------------------------------------------------------------------
# Open or closed on a given day
# ---------------------------------------------------------------------------------------


class _Hours(Protocol):
    @property
    def weekday(self) -> int: ...
    @property
    def opens(self) -> time: ...
    @property
    def closes(self) -> time: ...


class _Closure(Protocol):
    @property
    def first_day(self) -> date: ...
    @property
    def last_day(self) -> date: ...
    @property
    def reason(self) -> str: ...


class _Worked(Protocol):
    @property
    def holiday_name(self) -> str: ...


class OpeningRules(Protocol):
    """What :func:`closed_reason` and :func:`hours_on` read of a location.

    A mapped :class:`Location` (its collections loaded, or loaded on first use) and a
    :class:`LocationOpenings` both have this shape, so the rules have one home for both.
    """

    @property
    def state(self) -> str: ...
    @property
    def observe_holidays(self) -> bool: ...
    @property
    def hours(self) -> Sequence[_Hours]: ...
    @property
    def closures(self) -> Sequence[_Closure]: ...
    @property
    def holidays_worked(self) -> Sequence[_Worked]: ...


@dataclass(frozen=True)
class ClosedDays:
    """A closure as plain values: closed from ``first_day`` to ``last_day`` inclusive."""

    first_day: date
    last_day: date
    reason: str


@dataclass(frozen=True)
class WorkedHoliday:
    """A public holiday, by name, the location works (see :func:`set_holiday_worked`)."""

    holiday_name: str


@dataclass(frozen=True)
class LocationOpenings:
    """A location as a calendar shows it, read as plain rows by :func:`read_openings`.

    The same values as the mapped :class:`Location` and its ``hours`` (by weekday and
    opening time), ``closures`` (by first day) and ``holidays_worked``; it is an
    :class:`OpeningRules`, so :func:`closed_reason` and :func:`hours_on` work on it.
    """

    id: int
    code: str
    name: str
    time_zone: str
    state: str
    observe_holidays: bool
    hours: tuple[Interval, ...]
    closures: tuple[ClosedDays, ...]
    holidays_worked: tuple[WorkedHoliday, ...]


def read_openings(reader: Reader, location_id: int) -> LocationOpenings | None:
    """``location_id``'s record, hours, closures and worked holidays, or ``None`` if unknown.

    Read as plain rows (:func:`~ketadesk.db.connection_of`): a session is flushed first, so
    changes made in its transaction show as they now are.
    """
    connection = connection_of(reader)
    params = {"location_id": location_id}
    rows = connection.execute(_openings_statement(), params).all()
    if not rows:
        return None
    closures = connection.execute(_closures_statement(), params).all()
    worked = connection.execute(_worked_statement(), params).all()
    first = rows[0]
    return LocationOpenings(
        id=location_id,
        code=first.code,
        name=first.name,
        time_zone=first.time_zone,
        state=first.state,
        observe_holidays=first.observe_holidays,
        hours=tuple(Interval(r.weekday, r.opens, r.closes) for r in rows if r.weekday is not None),
        closures=tuple(ClosedDays(*row) for row in closures),
        holidays_worked=tuple(WorkedHoliday(row.holiday_name) for row in worked),
    )


# Kept statements (built once, the location as a bound parameter): building a select and
# its cache key costs SQLAlchemy more than SQLite spends reading these few rows.


@cache
def _openings_statement() -> Executable:
    """The location's row once per interval of its hours (once with no hours)."""
    return (
        select(Location.code, Location.name, Location.time_zone, Location.state,
               Location.observe_holidays, OpeningHours.weekday, OpeningHours.opens,
               OpeningHours.closes)
        .outerjoin(OpeningHours, OpeningHours.location_id == Location.id)
        .where(Location.id == bindparam("location_id"))
        .order_by(OpeningHours.weekday, OpeningHours.opens)
    )


@cache
def _closures_statement() -> Executable:
    return (select(Closure.first_day, Closure.last_day, Closure.reason)
            .where(Closure.location_id == bindparam("location_id"))
            .order_by(Closure.first_day))


@cache
def _worked_statement() -> Executable:
    return (select(HolidayWorked.holiday_name)
            .where(HolidayWorked.location_id == bindparam("location_id")))



def closed_reason(location: OpeningRules, day: date) -> str | None:
    """Why ``location`` is closed on ``day``, in words, or ``None`` when it is open.

    In order: a closure (``"Closed: staff training"``), a public holiday the clinic
    observes (``"Thanksgiving Day (public holiday)"``), a weekday without opening hours
    (``"Closed on Sundays"``). Cheap enough to call for every day of a planning window.
    """
    for closure in location.closures:
        if closure.first_day <= day <= closure.last_day:
            return f"Closed: {closure.reason}"
    if location.observe_holidays:
        names = _calendar(location.state, day.year).get(day, ())
        if names:
            worked = _worked(location)
            kept = [name for name in names if _observes(location, name, worked)]
            if kept:
                return f"{' and '.join(kept)} (public holiday)"
    if not location.hours:
        return "Closed: no opening hours are set"
    if all(h.weekday != day.weekday() for h in location.hours):
        return f"Closed on {WEEKDAY_NAMES[day.weekday()]}s"
    return None
