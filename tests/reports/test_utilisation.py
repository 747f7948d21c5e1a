"""Chair utilisation on hand-made schedules: clipping to opening hours, what counts as
booked, closed days, a daylight-saving change, splits by chair and by weekday × hour."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from reports.ops_helpers import MANAGER, Clinic, ops_clinic
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic.locations import add_closure, parse_hours, set_hours
from ketadesk.errors import PermissionDenied
from ketadesk.reports.catalog import run_report, spec
from ketadesk.reports.model import ReportFilter
from ketadesk.reports.utilisation import utilisation
from ketadesk.scheduling.models import SessionStatus

WEDNESDAY = date(2026, 12, 9)


def one_day(day: date = WEDNESDAY) -> ReportFilter:
    return ReportFilter(day, day)


def values(table, key: str) -> dict[tuple[str, ...], object]:
    return {row.labels: row.value(table, key) for row in table.rows}


def busy_wednesday(clinic: Clinic) -> None:
    """Booked: 60 (completed) + 30 (17:30–18:30 clipped at closing) + 60 (no-show) + 30
    (07:00–08:30 clipped at opening) = 180 minutes; the cancelled and late-cancelled
    sessions release their chairs."""
    iv1, iv2, nasal1, nasal2 = clinic.chairs
    series = clinic.series()
    clinic.visit(series, "2026-12-09 09:00", 60, chair=iv1)
    clinic.visit(series, "2026-12-09 17:30", 60, chair=iv2)
    clinic.visit(series, "2026-12-09 10:00", 60, SessionStatus.NO_SHOW, chair=nasal1)
    clinic.visit(series, "2026-12-09 12:00", 60, SessionStatus.CANCELLED, chair=nasal2)
    clinic.visit(series, "2026-12-09 13:00", 60, SessionStatus.LATE_CANCELLED, chair=iv1)
    clinic.visit(series, "2026-12-09 07:00", 90, SessionStatus.SCHEDULED, chair=iv1)


def test_booked_over_open_inside_opening_hours(session: Session) -> None:
    clinic = ops_clinic(session)
    busy_wednesday(clinic)
    table = utilisation(session, MANAGER, one_day(), ())
    assert table.total.values == (Decimal("180.0"), Decimal("2400.0"), Decimal("7.5"))
    assert table.rows == ()


def test_split_by_chair(session: Session) -> None:
    clinic = ops_clinic(session)
    busy_wednesday(clinic)
    table = run_report(session, MANAGER, "utilisation", one_day(), ["chair"])
    assert values(table, "booked_minutes") == {
        ("NYC IV 1",): Decimal("90.0"),
        ("NYC IV 2",): Decimal("30.0"),
        ("NYC Nasal 1",): Decimal("60.0"),
        ("NYC Nasal 2",): Decimal("0.0"),
    }
    assert set(values(table, "open_minutes").values()) == {Decimal("600.0")}
    assert values(table, "utilisation")[("NYC IV 1",)] == Decimal("15.0")


def test_split_by_hour_cuts_sessions_at_local_hours(session: Session) -> None:
    clinic = ops_clinic(session)
    busy_wednesday(clinic)
    table = utilisation(session, MANAGER, one_day(), ["hour"])
    booked = values(table, "booked_minutes")
    assert [labels[0] for labels in booked] == [f"{h:02d}:00" for h in range(8, 18)]
    assert booked[("08:00",)] == Decimal("30.0")
    assert booked[("09:00",)] == Decimal("60.0")
    assert booked[("10:00",)] == Decimal("60.0")
    assert booked[("17:00",)] == Decimal("30.0")
    assert values(table, "open_minutes")[("09:00",)] == Decimal("240.0")
    assert values(table, "utilisation")[("09:00",)] == Decimal("25.0")
    assert sum(booked.values()) == table.total.values[0]


def test_holidays_closures_and_weekends_are_not_open(session: Session) -> None:
    clinic = ops_clinic(session)
    add_closure(session, MANAGER, clinic.base.location.id, "2026-11-27", "2026-11-27", "Training")
    series = clinic.series()
    clinic.visit(series, "2026-11-25 09:00", 120)
    clinic.visit(series, "2026-11-26 09:00", 60)  # Thanksgiving: closed, not counted
    flt = ReportFilter(date(2026, 11, 25), date(2026, 11, 29))
    table = utilisation(session, MANAGER, flt, ["day"])
    assert values(table, "open_minutes") == {("Wed 25 Nov 2026",): Decimal("2400.0")}
    assert table.total.values == (Decimal("120.0"), Decimal("2400.0"), Decimal("5.0"))


def test_rate_over_no_open_time_is_none(session: Session) -> None:
    ops_clinic(session)
    table = utilisation(session, MANAGER, one_day(date(2026, 12, 13)), ["location"])
    assert table.total.values == (Decimal("0.0"), Decimal("0.0"), None)


def test_weekday_and_hour_are_local_across_the_autumn_change(session: Session) -> None:
    """US clocks go back on Sunday 1 November 2026: 09:00 is 13:00 UTC on Friday and
    14:00 UTC on Monday; both land in the 09:00 column and each day opens 600 minutes."""
    clinic = ops_clinic(session)
    series = clinic.series()
    clinic.visit(series, "2026-10-30 09:00", 60)
    clinic.visit(series, "2026-11-02 09:00", 60)
    flt = ReportFilter(date(2026, 10, 30), date(2026, 11, 2))
    table = utilisation(session, MANAGER, flt, ["weekday", "hour"])
    booked = {labels: v for labels, v in values(table, "booked_minutes").items() if v}
    assert booked == {("Monday", "09:00"): Decimal("60.0"), ("Friday", "09:00"): Decimal("60.0")}
    assert values(table, "open_minutes")[("Monday", "09:00")] == Decimal("240.0")
    assert table.total.values[1] == Decimal("4800.0")
    chart = spec("utilisation").chart(table)
    assert chart is not None and chart.style == "heat"
    assert chart.rows == ("Monday", "Friday")
    assert chart.categories[1] == "09:00"
    assert chart.series[0].values[1] == Decimal("25.0")


@pytest.mark.parametrize(
    ("day", "minutes", "hour_one"),
    [(date(2026, 3, 8), "120.0", "60.0"), (date(2026, 11, 1), "240.0", "120.0")],
)
def test_opening_hours_through_the_change_last_what_they_really_last(
    session: Session, day: date, minutes: str, hour_one: str
) -> None:
    """Open 01:00–04:00 on a Sunday: 2 real hours when the clocks spring forward, 4 when
    they fall back (01:00–02:00 happens twice)."""
    clinic = ops_clinic(session)
    set_hours(session, MANAGER, clinic.base.location.id, parse_hours("sun 01:00-04:00"))
    table = utilisation(session, MANAGER, one_day(day), ["hour"])
    assert table.total.values[1] == Decimal(minutes) * 4
    assert values(table, "open_minutes")[("01:00",)] == Decimal(hour_one) * 4


def test_detail_lists_the_sessions_behind_a_chair(session: Session) -> None:
    clinic = ops_clinic(session)
    busy_wednesday(clinic)
    table = utilisation(session, MANAGER, one_day(), ["chair"])
    row = next(r for r in table.rows if r.labels == ("NYC IV 1",))
    found = spec("utilisation").detail(session, MANAGER, table, row, "booked_minutes")
    assert [(d.amount, d.session_id is not None) for d in found.rows] == [
        (Decimal("30.0"), True),
        (Decimal("60.0"), True),
    ]
    assert {d.patient_id for d in found.rows} == {clinic.base.patient.id}


def test_front_desk_may_not_read_it(session: Session, front_desk: Actor) -> None:
    with pytest.raises(PermissionDenied):
        utilisation(session, front_desk, one_day(), ())


def test_every_split_adds_up_to_the_total(session: Session) -> None:
    busy_wednesday(ops_clinic(session))
    flt = ReportFilter(date(2026, 12, 7), date(2026, 12, 13))
    total = utilisation(session, MANAGER, flt, ()).total
    assert total.values[:2] == (Decimal("180.0"), Decimal("12000.0"))
    for dimension in spec("utilisation").dimensions:
        table = utilisation(session, MANAGER, flt, [dimension.key])
        for index in (0, 1):
            assert sum(Decimal(r.values[index] or 0) for r in table.rows) == total.values[index]


def test_a_retired_chair_counts_only_where_it_held_sessions(session: Session) -> None:
    clinic = ops_clinic(session)
    nasal2 = clinic.chairs[3]
    nasal2.active = False
    series = clinic.series()
    clinic.visit(series, "2026-12-09 09:00", chair=nasal2, status=SessionStatus.CANCELLED)
    assert utilisation(session, MANAGER, one_day(), ()).total.values[1] == Decimal("1800.0")
    clinic.visit(series, "2026-12-09 10:00", chair=nasal2)
    assert utilisation(session, MANAGER, one_day(), ()).total.values[1] == Decimal("2400.0")
