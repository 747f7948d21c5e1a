"""The series report on hand-made inductions: the cohort (first completed session in the
period), status today, reasons, median days to finish, maintenance within 90 days, rates over
nothing, and the series behind a figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reports.ops_helpers import MANAGER, Clinic, ops_clinic
from sqlalchemy.orm import Session

from ketadesk.reports.catalog import run_report, spec
from ketadesk.reports.model import ReportFilter
from ketadesk.reports.series import series_report
from ketadesk.scheduling.models import SeriesStatus as St
from ketadesk.scheduling.models import SessionStatus

DECEMBER = ReportFilter(date(2026, 12, 1), date(2026, 12, 31))
KEYS = (
    "started",
    "completed",
    "discontinued",
    "running",
    "completion_rate",
    "median_days_to_finish",
    "retained",
    "retention_rate",
)


def inductions(clinic: Clinic) -> dict[str, int]:
    """Seven induction series (five in December's cohort) and two maintenance series."""
    iv1, iv2, nasal1, nasal2 = clinic.chairs
    p0 = clinic.base.patient
    s1 = clinic.series("iv-induction", p0, St.COMPLETED)
    for day in ("01", "03", "08", "10", "15"):  # 14 days first to last
        clinic.visit(s1, f"2026-12-{day} 09:00", chair=iv1)
    clinic.visit(clinic.series("iv-booster", p0), "2027-01-20 09:00", chair=iv1)  # 36 days on
    p1 = clinic.patient()
    s2 = clinic.series("iv-induction", p1, St.COMPLETED)
    clinic.visit(s2, "2026-12-02 11:00", status=SessionStatus.NO_SHOW, chair=iv1)
    for day in ("03", "22"):  # 19 days: the first *completed* session counts
        clinic.visit(s2, f"2026-12-{day} 11:00", chair=iv1)
    clinic.visit(clinic.series("iv-booster", p1), "2027-04-01 09:00", chair=iv1)  # 100 days on
    s3 = clinic.series("esketamine-induction", clinic.patient(), St.DISCONTINUED, "Side effects")
    clinic.visit(s3, "2026-12-04 09:00", chair=nasal1)
    s4 = clinic.series("iv-induction", clinic.patient(), St.ACTIVE)
    clinic.visit(s4, "2026-12-28 13:00", chair=iv2)
    s5 = clinic.series("iv-induction", clinic.patient(), St.DISCONTINUED)
    clinic.visit(s5, "2026-11-20 15:00", chair=iv2)  # started in November
    clinic.visit(s5, "2026-12-01 15:00", chair=iv2)
    s6 = clinic.series("iv-induction", clinic.patient(), St.PLANNED)
    clinic.visit(s6, "2026-12-10 16:00", status=SessionStatus.SCHEDULED, chair=iv2)
    s7 = clinic.series("esketamine-induction", clinic.patient(), St.DISCONTINUED, "  ")
    clinic.visit(s7, "2026-12-05 11:00", chair=nasal2)
    return {"s1": s1.id, "s2": s2.id, "s3": s3.id, "s4": s4.id, "s7": s7.id}


def figures(table, labels: tuple[str, ...] | None = None) -> dict[str, object]:
    row = table.total if labels is None else next(r for r in table.rows if r.labels == labels)
    return dict(zip(KEYS, row.values, strict=True))


def test_the_cohort_and_its_outcome(session: Session) -> None:
    inductions(ops_clinic(session))
    table = series_report(session, MANAGER, DECEMBER, ())
    assert figures(table) == {
        "started": 5,
        "completed": 2,
        "discontinued": 2,
        "running": 1,
        "completion_rate": Decimal("50.0"),
        "median_days_to_finish": Decimal("16.5"),
        "retained": 1,
        "retention_rate": Decimal("50.0"),
    }


def test_a_maintenance_series_begun_before_the_induction_ended_is_not_going_on(
    session: Session,
) -> None:
    clinic = ops_clinic(session)
    iv1 = clinic.chairs[0]
    patient = clinic.base.patient
    booster = clinic.series("iv-booster", patient)
    clinic.visit(booster, "2026-10-05 09:00", chair=iv1)  # boosters before this induction
    clinic.visit(booster, "2027-01-10 09:00", chair=iv1)  # and one 26 days after it
    induction = clinic.series("iv-induction", patient, St.COMPLETED)
    for day in ("01", "03", "08", "10", "15"):
        clinic.visit(induction, f"2026-12-{day} 11:00", chair=iv1)
    total = figures(series_report(session, MANAGER, DECEMBER, ()))
    assert (total["completed"], total["retained"]) == (1, 0)


def test_discontinued_by_reason(session: Session) -> None:
    inductions(ops_clinic(session))
    table = run_report(session, MANAGER, "series", DECEMBER, ["reason"])
    assert [(r.labels, r.value(table, "started")) for r in table.rows] == [
        (("No reason given",), 1),
        (("Side effects",), 1),
        (("Not discontinued",), 3),
    ]


def test_by_modality_and_rates_over_nothing(session: Session) -> None:
    inductions(ops_clinic(session))
    table = series_report(session, MANAGER, DECEMBER, ["modality"])
    assert figures(table, ("Esketamine nasal",)) == {
        "started": 2,
        "completed": 0,
        "discontinued": 2,
        "running": 0,
        "completion_rate": Decimal("0.0"),
        "median_days_to_finish": None,
        "retained": 0,
        "retention_rate": None,
    }
    february = series_report(session, MANAGER, ReportFilter(date(2026, 2, 1), date(2026, 2, 28)))
    assert february.rows == ()
    assert figures(february)["completion_rate"] is None
    assert figures(february)["median_days_to_finish"] is None


def test_detail_names_the_series_and_their_first_sessions(session: Session) -> None:
    clinic = ops_clinic(session)
    ids = inductions(clinic)
    table = series_report(session, MANAGER, DECEMBER, ["month"])
    (row,) = table.rows
    found = spec("series").detail(session, MANAGER, table, row, "completed")
    assert [(d.amount, d.on) for d in found.rows] == [
        (14, date(2026, 12, 1)),
        (19, date(2026, 12, 3)),
    ]
    first = clinic.visits[f"{ids['s1']}:1"]
    assert found.rows[0].session_id == first.id
    retained = spec("series").detail(session, MANAGER, table, row, "retained")
    assert [d.patient_id for d in retained.rows] == [clinic.base.patient.id]
    chart = spec("series").chart(table)
    assert chart is not None
    assert [s.values for s in chart.series] == [
        (Decimal(2),),
        (Decimal(2),),
        (Decimal(1),),
    ]
