"""The operational reports (utilisation, attendance, series, outcomes) on the demo clinic,
each against an independent computation: plain SQL reads the raw rows (sessions, series,
protocols, opening hours, closures, holidays worked), and short Python written from the
measures' definitions, not from the reports' code, turns them into the figures. Python is
needed for what SQLite cannot do: a session's local day at its location, and opening hours
on the wall clock. Every row's figures must agree exactly (minutes and rates to a tenth).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from reports.reports_helpers import MANAGER
from sqlalchemy import text
from sqlalchemy.orm import Session

from ketadesk.db import Database
from ketadesk.reports import attendance, outcomes, series, utilisation
from ketadesk.reports.model import ReportFilter, ReportTable

# The demo's last year, ending on its "today".
YEAR = ReportFilter(date(2025, 12, 8), date(2026, 12, 7))
TENTH = Decimal("0.1")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from ui.demo_clinic import demo_clinic

    db = demo_clinic(tmp_path_factory.mktemp("ops-demo"))
    yield db
    db.dispose()


@dataclass(frozen=True)
class Visit:
    id: int
    series_id: int
    number: int
    patient_id: int
    location_id: int
    chair_id: int
    status: str
    starts_at: datetime
    ends_at: datetime
    day: date  # local, at the session's location
    score_kind: str | None
    score: int | None


def instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def zones(session: Session) -> dict[int, ZoneInfo]:
    rows = session.execute(text("SELECT id, time_zone FROM location"))
    return {location: ZoneInfo(zone) for location, zone in rows}


def visits(session: Session) -> list[Visit]:
    zone = zones(session)
    found = []
    for row in session.execute(
        text(
            "SELECT id, series_id, number, patient_id, location_id, chair_id, status, "
            "starts_at, ends_at, score_kind, score FROM treatment_session"
        )
    ):
        starts = instant(row.starts_at)
        found.append(
            Visit(
                row.id,
                row.series_id,
                row.number,
                row.patient_id,
                row.location_id,
                row.chair_id,
                row.status,
                starts,
                instant(row.ends_at),
                starts.astimezone(zone[row.location_id]).date(),
                row.score_kind,
                row.score,
            )
        )
    return found


def month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def tenth(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(TENTH) if whole else None


def percent(part: int, whole: int) -> Decimal | None:
    return tenth(100 * part, whole)


def shown(table: ReportTable) -> dict[tuple[Any, ...], list[Any]]:
    return {row.keys: list(row.values) for row in table.rows}


def in_year(day: date) -> bool:
    return YEAR.date_from <= day <= YEAR.date_to


# --- attendance ------------------------------------------------------------------------------


def test_attendance_matches_plain_sql(demo: Database) -> None:
    with demo.transaction() as session:
        table = attendance.attendance(session, MANAGER, YEAR, ["location", "month"])
        every = visits(session)
    done = [v for v in every if v.status == "completed"]
    patient_first = {}
    series_first = {}
    for v in done:
        patient_first[v.patient_id] = min(patient_first.get(v.patient_id, v.starts_at), v.starts_at)
        series_first[v.series_id] = min(series_first.get(v.series_id, v.number), v.number)
    counts: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for v in every:
        if not in_year(v.day):
            continue
        c = counts[(v.location_id, month(v.day))]
        c[v.status] += 1
        c["sessions"] += v.status not in ("scheduled", "confirmed", "cancelled")
        if v.status == "completed":
            c["new"] += patient_first[v.patient_id] == v.starts_at
            c["started"] += series_first[v.series_id] == v.number
    expected = {
        group: [
            c["sessions"],
            c["completed"],
            c["no_show"],
            c["late_cancelled"],
            c["cancelled"],
            percent(c["no_show"], c["sessions"]),
            percent(c["late_cancelled"], c["sessions"]),
            c["new"],
            c["started"],
        ]
        for group, c in counts.items()
    }
    assert len(expected) >= 30 and shown(table) == expected
    assert sum(row[0] for row in expected.values()) > 400
    assert sum(row[2] for row in expected.values()) > 10  # no-shows
    assert sum(row[7] for row in expected.values()) > 30  # new patients


# --- utilisation ----------------------------------------------------------------------------


def open_intervals(session: Session) -> dict[tuple[int, date], list[tuple[datetime, datetime]]]:
    """Each location's open stretches (UTC) on each local day of the year."""
    zone = zones(session)
    places = session.execute(text("SELECT id, state, observe_holidays FROM location")).all()
    hours = defaultdict(list)
    for location, weekday, opens, closes in session.execute(
        text("SELECT location_id, weekday, opens, closes FROM opening_hours")
    ):
        hours[(location, weekday)].append(
            (time.fromisoformat(str(opens)), time.fromisoformat(str(closes)))
        )
    closures = session.execute(text("SELECT location_id, first_day, last_day FROM closure")).all()
    worked = {
        (location, name.casefold())
        for location, name in session.execute(
            text("SELECT location_id, holiday_name FROM holiday_worked")
        )
    }
    found = {}
    years = range(YEAR.date_from.year, YEAR.date_to.year + 1)
    for location, state, observe in places:
        calendar = holidays.country_holidays("US", subdiv=state, years=years, language="en_US")
        day = YEAR.date_from
        while day <= YEAR.date_to:
            names = [n.removesuffix(" (observed)") for n in calendar.get_list(day)]
            holiday = observe and any((location, n.casefold()) not in worked for n in names)
            closed = any(
                c.location_id == location
                and date.fromisoformat(str(c.first_day))
                <= day
                <= date.fromisoformat(str(c.last_day))
                for c in closures
            )
            found[(location, day)] = (
                []
                if holiday or closed
                else sorted(
                    (
                        datetime.combine(day, a, zone[location]).astimezone(UTC),
                        datetime.combine(day, b, zone[location]).astimezone(UTC),
                    )
                    for a, b in hours[(location, day.weekday())]
                )
            )
            day += timedelta(days=1)
    return found


def test_utilisation_matches_plain_sql(demo: Database) -> None:
    with demo.transaction() as session:
        table = utilisation.utilisation(session, MANAGER, YEAR, ["location", "month"])
        every = visits(session)
        opened_days = open_intervals(session)
        chairs = defaultdict(set)
        for chair, location in session.execute(
            text(
                "SELECT id, location_id FROM chair WHERE active OR id IN (SELECT chair_id "
                "FROM treatment_session WHERE status NOT IN ('cancelled', 'late_cancelled'))"
            )
        ):
            chairs[location].add(chair)
    seconds: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for (location, day), stretches in opened_days.items():
        for a, b in stretches:
            seconds[(location, month(day))][1] += int((b - a).total_seconds()) * len(
                chairs[location]
            )
    for v in every:
        if v.status in ("cancelled", "late_cancelled") or not in_year(v.day):
            continue
        for a, b in opened_days[(v.location_id, v.day)]:
            overlap = (min(b, v.ends_at) - max(a, v.starts_at)).total_seconds()
            seconds[(v.location_id, month(v.day))][0] += max(int(overlap), 0)
    expected = {
        group: [tenth(booked, 60), tenth(opened, 60), percent(booked, opened)]
        for group, (booked, opened) in seconds.items()
    }
    assert len(expected) >= 30 and shown(table) == expected
    busy = [row for group, row in expected.items() if "2026-01" <= group[1] < "2026-12"]
    assert len(busy) == 33 and all(row[0] > 0 and row[1] > 0 for row in busy)


# --- series ---------------------------------------------------------------------------------


def test_series_matches_plain_sql(demo: Database) -> None:
    with demo.transaction() as session:
        by_protocol = series.series_report(session, MANAGER, YEAR, ["location", "protocol"])
        by_month = series.series_report(session, MANAGER, YEAR, ["month"])
        zone = zones(session)
        spans = session.execute(
            text(
                "SELECT s.id, s.patient_id, s.location_id, s.protocol_id, s.status, p.phase, "
                "MIN(t.starts_at) AS first, MAX(t.starts_at) AS last "
                "FROM series s JOIN protocol p ON p.id = s.protocol_id "
                "JOIN treatment_session t ON t.series_id = s.id AND t.status = 'completed' "
                "GROUP BY s.id, s.patient_id, s.location_id, s.protocol_id, s.status, p.phase"
            )
        ).all()
    day_of = {
        s.id: (
            instant(s.first).astimezone(zone[s.location_id]).date(),
            instant(s.last).astimezone(zone[s.location_id]).date(),
        )
        for s in spans
    }
    maintenance = defaultdict(list)
    for s in spans:
        if s.phase == "maintenance":
            maintenance[s.patient_id].append(day_of[s.id][0])
    cohort = [s for s in spans if s.phase == "induction" and in_year(day_of[s.id][0])]

    def figures(group: list[Any]) -> list[Any]:
        status = [s.status for s in group]
        completed = [s for s in group if s.status == "completed"]
        days = sorted((day_of[s.id][1] - day_of[s.id][0]).days for s in completed)
        half = len(days) // 2
        median = None
        if days:
            middle = days[half] if len(days) % 2 else Decimal(days[half - 1] + days[half]) / 2
            median = Decimal(middle).quantize(TENTH)
        retained = sum(
            1
            for s in completed
            if any(
                day_of[s.id][1] <= day <= day_of[s.id][1] + timedelta(days=90)
                for day in maintenance[s.patient_id]
            )
        )
        done, dropped = status.count("completed"), status.count("discontinued")
        return [
            len(group),
            done,
            dropped,
            status.count("planned") + status.count("active"),
            percent(done, done + dropped),
            median,
            retained,
            percent(retained, done),
        ]

    def grouped(key: Any) -> dict[tuple[Any, ...], list[Any]]:
        groups = defaultdict(list)
        for s in cohort:
            groups[key(s)].append(s)
        return {group: figures(members) for group, members in groups.items()}

    expected = grouped(lambda s: (s.location_id, s.protocol_id))
    assert len(expected) >= 5 and shown(by_protocol) == expected
    assert shown(by_month) == grouped(lambda s: (month(day_of[s.id][0]),))
    assert list(by_month.total.values) == figures(cohort)
    total = figures(cohort)
    assert total[0] > 30 and total[1] > 10 and total[2] > 0 and total[6] > 0


# --- outcomes -------------------------------------------------------------------------------


def test_outcomes_matches_plain_sql(demo: Database) -> None:
    with demo.transaction() as session:
        by_measure = outcomes.outcomes(session, MANAGER, YEAR, ["measure", "location"])
        by_month = outcomes.outcomes(session, MANAGER, YEAR, ["month"])
        every = visits(session)
        owners = {
            s.id: (s.patient_id, s.location_id)
            for s in session.execute(text("SELECT id, patient_id, location_id FROM series"))
        }
    scored = defaultdict(list)
    for v in every:
        usable = v.status == "completed" and v.score is not None and v.score_kind is not None
        if usable and v.day <= YEAR.date_to:
            scored[(v.series_id, v.score_kind)].append(v)
    found = []  # (patient, location, scale, latest month, baseline, latest)
    for (series_id, scale), scores in scored.items():
        if len(scores) < 2:
            continue
        scores.sort(key=lambda v: v.starts_at)
        first, last = scores[0], scores[-1]
        if in_year(last.day):
            patient, location = owners[series_id]
            found.append((patient, location, scale, month(last.day), first.score, last.score))

    def figures(items: list[Any]) -> list[Any]:
        n = len(items)
        base = sum(i[4] for i in items)
        late = sum(i[5] for i in items)
        return [
            len({i[0] for i in items}),
            tenth(base, n),
            tenth(late, n),
            tenth(late - base, n),
            percent(sum(1 for i in items if i[4] > 0 and 2 * i[5] <= i[4]), n),
            percent(sum(1 for i in items if i[5] < 5), n),
        ]

    def grouped(items: list[Any], key: Any) -> dict[tuple[Any, ...], list[Any]]:
        groups = defaultdict(list)
        for item in items:
            groups[key(item)].append(item)
        return {group: figures(members) for group, members in groups.items()}

    phq9 = [i for i in found if i[2] == "phq9"]
    expected = grouped(found, lambda i: (i[2], i[1]))
    assert len(expected) >= 4 and shown(by_measure) == expected
    assert shown(by_month) == grouped(phq9, lambda i: (i[3],))
    assert list(by_month.total.values) == figures(phq9)
    assert len(phq9) > 20 and any(i[2] == "gad7" for i in found)
    assert figures(phq9)[3] < 0 and figures(phq9)[4] > 0
