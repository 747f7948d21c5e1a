"""Outcomes on hand-made scores: baseline and latest per series and scale, the period of the
latest score, response and remission, PHQ-9 alone unless split by measure, rates over nothing,
the outcome trend and the series behind a figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reports.ops_helpers import MANAGER, Clinic, ops_clinic
from sqlalchemy.orm import Session

from ketadesk.reports.catalog import spec
from ketadesk.reports.model import ReportFilter
from ketadesk.reports.outcomes import outcomes
from ketadesk.scheduling.models import ScoreKind, SessionStatus

PHQ9, GAD7 = ScoreKind.PHQ9, ScoreKind.GAD7
DECEMBER = ReportFilter(date(2026, 12, 1), date(2026, 12, 31))
KEYS = (
    "patients",
    "baseline_mean",
    "latest_mean",
    "change_mean",
    "response_rate",
    "remission_rate",
)


def scores(clinic: Clinic) -> dict[str, int]:
    """Series A (PHQ-9 20→8, GAD-7 14→4), B (PHQ-9 15→4 in December, 3 in January),
    E (the same patient as A: PHQ-9 6→2); C scored once and D in November do not count."""
    iv1, iv2, nasal1, _ = clinic.chairs
    p0 = clinic.base.patient
    a = clinic.series("iv-induction", p0)
    clinic.visit(a, "2026-12-01 09:00", chair=iv1, score=(PHQ9, 20))
    clinic.visit(a, "2026-12-02 09:00", chair=iv1, score=(GAD7, 14))
    clinic.visit(a, "2026-12-03 09:00", chair=iv1, score=(PHQ9, 12))
    clinic.visit(a, "2026-12-08 09:00", chair=iv1)  # no score
    clinic.visit(a, "2026-12-09 09:00", chair=iv1, score=(GAD7, 4))
    clinic.visit(a, "2026-12-10 09:00", chair=iv1, score=(PHQ9, 8))
    b = clinic.series("esketamine-induction", clinic.patient())
    clinic.visit(b, "2026-12-04 11:00", chair=nasal1, score=(PHQ9, 15))
    b_last = clinic.visit(b, "2026-12-11 11:00", chair=nasal1, score=(PHQ9, 4))
    # 1 January: after December in New York, though before 2 January in UTC.
    clinic.visit(b, "2027-01-01 11:00", chair=nasal1, score=(PHQ9, 3))
    c = clinic.series("iv-induction", clinic.patient())
    clinic.visit(c, "2026-12-05 13:00", chair=iv2, score=(PHQ9, 18))
    clinic.visit(c, "2026-12-12 13:00", chair=iv2, status=SessionStatus.NO_SHOW)
    d = clinic.series("iv-induction", clinic.patient())
    clinic.visit(d, "2026-11-10 15:00", chair=iv2, score=(PHQ9, 10))
    clinic.visit(d, "2026-11-20 15:00", chair=iv2, score=(PHQ9, 9))
    e = clinic.series("iv-booster", p0)
    clinic.visit(e, "2026-12-14 09:00", chair=iv1, score=(PHQ9, 6))
    e_last = clinic.visit(e, "2026-12-21 09:00", chair=iv1, score=(PHQ9, 2))
    return {"b": b_last.id, "e": e_last.id}


def figures(table, labels: tuple[str, ...] | None = None) -> dict[str, object]:
    row = table.total if labels is None else next(r for r in table.rows if r.labels == labels)
    return dict(zip(KEYS, row.values, strict=True))


PHQ9_DECEMBER = {
    "patients": 2,
    "baseline_mean": Decimal("13.7"),  # (20 + 15 + 6) / 3
    "latest_mean": Decimal("4.7"),  # (8 + 4 + 2) / 3
    "change_mean": Decimal("-9.0"),
    "response_rate": Decimal("100.0"),
    "remission_rate": Decimal("66.7"),  # B and E under 5
}


def test_phq9_alone_unless_split_by_measure(session: Session) -> None:
    scores(ops_clinic(session))
    table = outcomes(session, MANAGER, DECEMBER, ())
    assert figures(table) == PHQ9_DECEMBER
    by_protocol = outcomes(session, MANAGER, DECEMBER, ["protocol"])
    assert [(r.labels[0], r.value(by_protocol, "latest_mean")) for r in by_protocol.rows] == [
        ("IV ketamine induction", Decimal("8.0")),
        ("Esketamine (Spravato) induction", Decimal("4.0")),
        ("IV ketamine booster", Decimal("2.0")),
    ]


def test_split_by_measure(session: Session) -> None:
    scores(ops_clinic(session))
    table = outcomes(session, MANAGER, DECEMBER, ["measure"])
    assert [r.labels for r in table.rows] == [("GAD-7",), ("PHQ-9",)]
    assert figures(table, ("GAD-7",)) == {
        "patients": 1,
        "baseline_mean": Decimal("14.0"),
        "latest_mean": Decimal("4.0"),
        "change_mean": Decimal("-10.0"),
        "response_rate": Decimal("100.0"),
        "remission_rate": Decimal("100.0"),
    }
    assert figures(table, ("PHQ-9",)) == PHQ9_DECEMBER
    assert figures(table) == PHQ9_DECEMBER  # the total never mixes the scales


def test_rates_over_nothing_are_none(session: Session) -> None:
    scores(ops_clinic(session))
    table = outcomes(session, MANAGER, ReportFilter(date(2026, 2, 1), date(2026, 2, 28)))
    assert table.rows == ()
    assert figures(table) == dict.fromkeys(KEYS, None) | {"patients": 0}


def test_the_outcome_trend(session: Session) -> None:
    scores(ops_clinic(session))
    flt = ReportFilter(date(2026, 11, 1), date(2026, 12, 31))
    table = outcomes(session, MANAGER, flt, ["month"])
    chart = spec("outcomes").chart(table)
    assert chart is not None and chart.style == "line"
    assert chart.categories == ("Nov 2026", "Dec 2026")
    assert [(s.name, s.values) for s in chart.series] == [
        ("PHQ-9 latest mean", (Decimal("9.0"), Decimal("4.7")))
    ]
    both = spec("outcomes").chart(outcomes(session, MANAGER, flt, ["month", "measure"]))
    assert both is not None
    assert [s.name for s in both.series] == ["PHQ-9 latest mean", "GAD-7 latest mean"]


def test_detail_lists_the_series_behind_remission(session: Session) -> None:
    ids = scores(ops_clinic(session))
    table = outcomes(session, MANAGER, DECEMBER, ["measure"])
    row = next(r for r in table.rows if r.labels == ("PHQ-9",))
    found = spec("outcomes").detail(session, MANAGER, table, row, "remission_rate")
    assert [(d.session_id, d.amount) for d in found.rows] == [
        (ids["b"], Decimal(-11)),
        (ids["e"], Decimal(-4)),
    ]
    assert found.rows[0].description == "PHQ-9 15 → 4 (response, remission)"
