"""The dashboard: each key figure is its report's own total, for the period and the one before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from reports.reports_helpers import MANAGER, report_clinic

from ketadesk.access.permissions import Actor, Role
from ketadesk.db import Database
from ketadesk.errors import PermissionDenied
from ketadesk.reports.catalog import run_report
from ketadesk.reports.dashboard import CHARTS, TILES, dashboard
from ketadesk.reports.model import ReportFilter

YEAR = ReportFilter(date(2025, 12, 8), date(2026, 12, 7))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from ui.demo_clinic import demo_clinic

    db = demo_clinic(tmp_path_factory.mktemp("dashboard-demo"))
    yield db
    db.dispose()


def _total(db: Database, report: str, flt: ReportFilter, keys: tuple[str, ...]) -> object:
    with db.reading() as session:
        table = run_report(session, MANAGER, report, flt, ())
    values = [table.total.values[table.measure_index(k)] for k in keys]
    if len(values) == 1:
        return values[0]
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


def test_each_figure_is_its_reports_total_now_and_before(demo: Database) -> None:
    with demo.reading() as session:
        board = dashboard(session, MANAGER, YEAR)
    assert [f.key for f in board.figures] == [t.key for t in TILES]
    for tile, figure in zip(TILES, board.figures, strict=True):
        assert figure.value == _total(demo, tile.report, YEAR, tile.measures), tile.key
        assert figure.previous == _total(demo, tile.report, YEAR.previous(), tile.measures)
        assert figure.definition
    # A year of the demo clinic has money, bookings and finished inductions to show.
    shown = {f.key: f.value for f in board.figures}
    assert isinstance(shown["net_revenue"], Decimal) and shown["net_revenue"] > 0
    assert shown["utilisation"] is not None and shown["no_show_rate"] is not None


def test_the_change_is_against_the_period_just_before(demo: Database) -> None:
    with demo.reading() as session:
        board = dashboard(session, MANAGER, YEAR)
    revenue = board.figures[0]
    assert YEAR.previous().date_to == date(2025, 12, 7)
    assert isinstance(revenue.value, Decimal) and isinstance(revenue.previous, Decimal)
    assert revenue.change == revenue.value - revenue.previous
    ar = next(f for f in board.figures if f.key == "ar_over_90")
    assert ar.better_when_higher is False and "90 days" in ar.definition


def test_the_charts_are_the_reports_own(demo: Database) -> None:
    with demo.reading() as session:
        board = dashboard(session, MANAGER, YEAR)
        titles = [c.title for c in board.charts]
        assert len(board.charts) == len(CHARTS)
        revenue = run_report(session, MANAGER, "revenue", YEAR, ["month", "payer"])
    months = {row.labels[0] for row in revenue.rows}
    assert set(board.charts[0].categories) == months
    assert any(c.style == "heat" for c in board.charts), titles


def test_only_who_may_read_reports_sees_the_dashboard(database: Database) -> None:
    with database.transaction() as session:
        report_clinic(session)
        with pytest.raises(PermissionDenied):
            dashboard(session, Actor(username="desk", role=Role.FRONT_DESK), YEAR)


def test_an_empty_clinic_shows_figures_it_can_and_says_none_for_rates(database: Database) -> None:
    with database.transaction() as session:
        report_clinic(session)
        board = dashboard(session, MANAGER, YEAR)
    shown = {f.key: f for f in board.figures}
    assert shown["net_revenue"].value == Decimal("0.00")
    assert shown["net_collection_rate"].value is None
    assert shown["net_collection_rate"].change is None


def test_in_parallel_it_is_the_same_dashboard(demo: Database) -> None:
    from ketadesk.reports.dashboard import dashboard_in_parallel, plan

    with demo.reading() as session:
        alone = dashboard(session, MANAGER, YEAR)
    assert dashboard_in_parallel(demo.reading, MANAGER, YEAR, threads=3) == alone
    # Each report runs once: the charted totals stand for revenue, aging and utilisation.
    jobs = plan(YEAR)
    assert len(jobs) == len(set(jobs)) == len(CHARTS) + 3 + len(TILES)
