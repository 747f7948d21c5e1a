"""Attendance on a hand-made week: what counts as a session (the rates' denominator),
no-shows and late cancellations, new patients and series started, local weekdays, rates over
nothing, and the sessions behind a figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from reports.ops_helpers import MANAGER, Clinic, ops_clinic
from sqlalchemy.orm import Session

from ketadesk.reports.attendance import attendance
from ketadesk.reports.catalog import spec
from ketadesk.reports.model import ReportFilter
from ketadesk.scheduling.models import SessionStatus

WEEK = ReportFilter(date(2026, 12, 7), date(2026, 12, 13))
KEYS = (
    "sessions",
    "completed",
    "no_shows",
    "late_cancels",
    "cancelled",
    "no_show_rate",
    "late_cancel_rate",
    "new_patients",
    "series_started",
)


def week(clinic: Clinic) -> dict[str, int]:
    """Three patients' sessions in the week of 7 December 2026; returns session ids."""
    iv1, iv2, nasal1, _ = clinic.chairs
    a = clinic.series("iv-induction")
    clinic.visit(a, "2026-11-30 09:00", chair=iv1)  # before the week: not a new patient
    clinic.visit(a, "2026-12-07 09:00", chair=iv1)
    clinic.visit(a, "2026-12-09 09:00", status=SessionStatus.NO_SHOW, chair=iv1)
    clinic.visit(a, "2026-12-11 10:00", status=SessionStatus.LATE_CANCELLED, chair=iv1)
    b = clinic.series("esketamine-induction", clinic.patient())
    clinic.visit(b, "2026-12-08 11:00", status=SessionStatus.CANCELLED, chair=nasal1)
    b2 = clinic.visit(b, "2026-12-10 11:00", chair=nasal1)
    clinic.visit(b, "2026-12-11 14:00", status=SessionStatus.SCHEDULED, chair=nasal1)
    c = clinic.series("iv-induction", clinic.patient())
    c1 = clinic.visit(c, "2026-12-07 09:00", chair=iv2)
    clinic.visit(c, "2026-12-09 16:00", status=SessionStatus.CHECKED_IN, chair=iv2)
    # 19:30 on Sunday in New York is 00:30 UTC on Monday: it belongs to Sunday.
    c3 = clinic.visit(c, "2026-12-13 19:30", status=SessionStatus.NO_SHOW, chair=iv2)
    return {"b2": b2.id, "c1": c1.id, "c3": c3.id}


def figures(table, labels: tuple[str, ...] | None = None) -> dict[str, object]:
    row = table.total if labels is None else next(r for r in table.rows if r.labels == labels)
    return dict(zip(KEYS, row.values, strict=True))


def test_totals_and_their_denominator(session: Session) -> None:
    week(ops_clinic(session))
    table = attendance(session, MANAGER, WEEK, ())
    assert figures(table) == {
        "sessions": 7,  # completed 3, on the floor 1, no-shows 2, late cancellations 1
        "completed": 3,
        "no_shows": 2,
        "late_cancels": 1,
        "cancelled": 1,
        "no_show_rate": Decimal("28.6"),
        "late_cancel_rate": Decimal("14.3"),
        "new_patients": 2,
        "series_started": 2,
    }


def test_by_modality(session: Session) -> None:
    week(ops_clinic(session))
    table = attendance(session, MANAGER, WEEK, ["modality"])
    assert [r.labels for r in table.rows] == [("Esketamine nasal",), ("IV infusion",)]
    assert figures(table, ("Esketamine nasal",)) == {
        "sessions": 1,
        "completed": 1,
        "no_shows": 0,
        "late_cancels": 0,
        "cancelled": 1,
        "no_show_rate": Decimal("0.0"),
        "late_cancel_rate": Decimal("0.0"),
        "new_patients": 1,
        "series_started": 1,
    }
    assert figures(table, ("IV infusion",))["sessions"] == 6


def test_weekday_and_hour_are_local(session: Session) -> None:
    week(ops_clinic(session))
    table = attendance(session, MANAGER, WEEK, ["weekday"])
    assert [r.labels[0] for r in table.rows] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Sunday",
    ]
    assert figures(table, ("Monday",))["completed"] == 2
    assert figures(table, ("Sunday",))["no_shows"] == 1
    assert figures(table, ("Tuesday",))["sessions"] == 0
    assert figures(table, ("Tuesday",))["no_show_rate"] is None
    hours = attendance(session, MANAGER, WEEK, ["hour"])
    assert figures(hours, ("19:00",))["no_shows"] == 1


def test_rates_over_nothing_are_none(session: Session) -> None:
    week(ops_clinic(session))
    monday_after = ReportFilter(date(2026, 12, 14), date(2026, 12, 14))
    table = attendance(session, MANAGER, monday_after, ["location"])
    assert table.rows == ()
    assert figures(table)["sessions"] == 0
    assert figures(table)["no_show_rate"] is None
    assert figures(table)["late_cancel_rate"] is None


@pytest.mark.parametrize(
    ("by", "labels", "measure", "expected"),
    [
        (["weekday"], ("Sunday",), "no_show_rate", ["c3"]),
        (["week"], ("Week of 7 Dec 2026",), "new_patients", ["c1", "b2"]),
    ],
)
def test_detail_lists_the_sessions_behind_a_figure(
    session: Session, by: list[str], labels: tuple[str, ...], measure: str, expected: list[str]
) -> None:
    ids = week(ops_clinic(session))
    table = attendance(session, MANAGER, WEEK, by)
    row = next(r for r in table.rows if r.labels == labels)
    found = spec("attendance").detail(session, MANAGER, table, row, measure)
    assert [d.session_id for d in found.rows] == [ids[name] for name in expected]
    assert all(d.patient_id is not None for d in found.rows)


def test_every_split_adds_up_to_the_total(session: Session) -> None:
    week(ops_clinic(session))
    total = attendance(session, MANAGER, WEEK, ()).total
    for dimension in spec("attendance").dimensions:
        table = attendance(session, MANAGER, WEEK, [dimension.key, "location"])
        for index, key in enumerate(KEYS):
            if key.endswith("_rate"):
                continue
            assert sum(int(r.values[index] or 0) for r in table.rows) == total.values[index], (
                dimension.key,
                key,
            )
