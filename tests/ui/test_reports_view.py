"""Reports in the window, driven as a manager uses it on the demo clinic: the dashboard's six
tiles, a report split by payer whose total is the report's own, a figure drilled down to its
rows and on to the patient's ledger, export to CSV, stale answers dropped, and a role without
reports told so in words."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from ui.demo_clinic import DEMO_DAY
from ui.fit import clipped, too_big

from ketadesk.access.permissions import Actor, Role
from ketadesk.db import Database
from ketadesk.reports.catalog import NAMES, run_report, spec
from ketadesk.reports.dashboard import dashboard
from ketadesk.reports.model import ReportFilter
from ketadesk.ui.charts import figure_text
from ketadesk.ui.context import AppContext
from ketadesk.ui.main_window import MainWindow
from ketadesk.ui.reports import ReportsView
from ketadesk.ui.reports.dashboard_view import DashboardView, change_colour, change_text
from ketadesk.ui.reports.detail import DetailDialog
from ketadesk.ui.reports.filters import DEFAULT_PRESET, preset_period
from ketadesk.ui.reports.report_view import ReportView
from ketadesk.ui.reports.table_model import TOTAL, cell_text

pytestmark = pytest.mark.gui

MANAGER = Actor(username="manager-mo", role=Role.MANAGER)
FRONT = Actor(username="desk-dana", role=Role.FRONT_DESK)
YEAR = ReportFilter(DEMO_DAY.replace(month=1, day=1), DEMO_DAY)  # "This year": to date


@pytest.fixture(autouse=True)
def no_message_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    shown: list[str] = []

    def record(_parent: QWidget | None, _title: str, text: str, *_args: object) -> object:
        shown.append(text)
        return QMessageBox.StandardButton.No

    for name in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, record)
    yield shown
    assert not shown, f"a message box was opened: {shown}"


@pytest.fixture
def reports(qtbot: QtBot, demo_db: Database) -> ReportsView:
    view = ReportsView(AppContext(demo_db, MANAGER), today=lambda: DEMO_DAY)
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    return view


def idle(qtbot: QtBot, page: ReportView | DashboardView) -> None:
    qtbot.waitUntil(lambda: not page.runs.busy and not getattr(page, "drills", page.runs).busy)


def revenue_page(qtbot: QtBot, reports: ReportsView) -> ReportView:
    page = reports.show_tab("revenue")
    assert isinstance(page, ReportView)
    idle(qtbot, page)
    page.filters.preset.setCurrentText("This year")
    idle(qtbot, page)
    return page


def test_the_area_lists_the_dashboard_and_every_report(reports: ReportsView) -> None:
    assert reports.list is not None
    titles = [reports.list.item(i).text() for i in range(reports.list.count())]
    assert titles[0] == "Dashboard"
    assert len(titles) == 1 + len(NAMES)
    assert titles[1] == spec("revenue").title


def test_the_dashboard_shows_six_tiles_from_the_dashboard_service(
    qtbot: QtBot, reports: ReportsView, demo_db: Database
) -> None:
    qtbot.waitUntil(lambda: "dashboard" in reports.pages)
    board = reports.pages["dashboard"]
    assert isinstance(board, DashboardView)
    idle(qtbot, board)
    flt = board.filters.report_filter()
    assert (flt.date_from, flt.date_to) == preset_period(DEFAULT_PRESET, DEMO_DAY)
    with demo_db.reading() as session:
        expected = dashboard(session, MANAGER, flt)
    assert len(board.tiles) == 6
    assert [t.figure for t in board.tiles] == list(expected.figures)
    for tile, figure in zip(board.tiles, expected.figures, strict=True):
        assert tile.label.text() == figure.label.upper()
        assert tile.value.text() == figure_text(figure.value, figure.kind)  # type: ignore[arg-type]
        assert tile.change.text() == change_text(figure)
        assert tile.toolTip().startswith(figure.definition)
    assert len(board.charts) == len(expected.charts)


def test_double_clicking_a_tile_opens_its_report_on_the_same_period(
    qtbot: QtBot, reports: ReportsView
) -> None:
    from decimal import Decimal

    from ketadesk.reports.dashboard import Dashboard
    from ketadesk.reports.model import KeyFigure, Kind

    qtbot.waitUntil(lambda: "dashboard" in reports.pages)
    board = reports.pages["dashboard"]
    assert isinstance(board, DashboardView)
    idle(qtbot, board)
    asked = ReportFilter(date(2026, 3, 1), date(2026, 5, 31))
    figure = KeyFigure("net_revenue", "Net revenue", Kind.MONEY, Decimal("10"), None, "Net.")
    board.show_dashboard(Dashboard(asked, (figure,), ()))
    assert board.tiles[0].value.text() == "$10.00"
    qtbot.mouseDClick(board.tiles[0], Qt.MouseButton.LeftButton)
    page = reports.stack.currentWidget()
    assert isinstance(page, ReportView) and page.spec.name == "revenue"
    idle(qtbot, page)
    assert page.table is not None
    assert (page.table.filter.date_from, page.table.filter.date_to) == (
        asked.date_from,
        asked.date_to,
    )


def test_a_report_split_by_payer_totals_as_run_report_does(
    qtbot: QtBot, reports: ReportsView, demo_db: Database
) -> None:
    page = revenue_page(qtbot, reports)
    payer = page.filters.split[0]
    payer.setCurrentIndex(payer.findData("payer"))
    idle(qtbot, page)
    shown = page.table
    assert shown is not None and [d.key for d in shown.dimensions] == ["payer"]
    with demo_db.reading() as session:
        expected = run_report(session, MANAGER, "revenue", YEAR, ("payer",))
    assert shown.total == expected.total
    model = page.model
    assert model.rowCount() == len(expected.rows) + 1  # and the total
    last = model.rowCount() - 1
    assert model.index(last, 0).data() == TOTAL
    net = 1 + expected.measure_index("net_revenue")
    measure = expected.measures[net - 1]
    assert model.index(last, net).data() == cell_text(expected.total.values[net - 1], measure)
    labels = sorted(model.index(r, 0).data() for r in range(last))
    assert labels == sorted(row.labels[0] for row in expected.rows)
    assert model.headerData(net, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == (
        measure.definition
    )
    # sorting by the figure keeps the total last
    page.view.sortByColumn(net, Qt.SortOrder.DescendingOrder)
    figures = [model.row_at(r).values[net - 1] for r in range(last)]  # type: ignore[union-attr]
    assert figures == sorted(figures, reverse=True)
    assert model.index(last, 0).data() == TOTAL
    assert "What the figures mean" in page.definitions.text()
    assert measure.label in page.definitions.text()


def test_changing_the_split_twice_shows_only_the_newest_answer(
    qtbot: QtBot, reports: ReportsView
) -> None:
    page = revenue_page(qtbot, reports)
    dropped = page.runs.dropped
    first = page.filters.split[0]
    first.setCurrentIndex(first.findData("location"))
    first.setCurrentIndex(first.findData("payer"))  # before the location answer is back
    idle(qtbot, page)
    assert page.table is not None and [d.key for d in page.table.dimensions] == ["payer"]
    assert page.runs.dropped == dropped + 1


def test_double_click_drills_down_and_a_row_opens_the_ledger(
    qtbot: QtBot, reports: ReportsView, demo_db: Database, tmp_path: Path
) -> None:
    page = revenue_page(qtbot, reports)
    model = page.model
    assert page.table is not None
    column = 1 + page.table.measure_index("patient_payments")
    total = model.index(model.rowCount() - 1, column)
    rect = page.view.visualRect(total)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: page.dialog is not None or page.notice.refused)
    assert not page.notice.refused, page.notice.text()
    dialog = page.dialog
    assert isinstance(dialog, DetailDialog)
    with demo_db.reading() as session:
        expected = spec("revenue").detail(
            session, MANAGER, page.table, page.table.total, "patient_payments"
        )
    assert dialog.detail == expected
    assert dialog.table.rowCount() == len(expected.rows) > 0
    assert dialog.table.item(0, 1).text() == expected.rows[0].mrn
    dialog.ask_path = lambda *_args: str(tmp_path / "rows")
    qtbot.mouseClick(dialog.csv_button, Qt.MouseButton.LeftButton)
    assert dialog.last_export == tmp_path / "rows.csv"
    with dialog.last_export.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert len(lines) == 1 + len(expected.rows)  # a header, then one line a row
    assert expected.rows[0].mrn in lines[1]
    row = next(i for i, r in enumerate(expected.rows) if r.claim_id is None)
    with qtbot.wait_signal(reports.open_ledger) as opened:
        dialog.table.cellDoubleClicked.emit(row, 0)
    assert opened.args == [expected.rows[row].patient_id]
    dialog.close()


def test_export_writes_a_csv_whose_rows_match(
    qtbot: QtBot, reports: ReportsView, tmp_path: Path
) -> None:
    page = revenue_page(qtbot, reports)
    target = tmp_path / "revenue-year"
    page.ask_path = lambda *_args: str(target)
    qtbot.mouseClick(page.csv_button, Qt.MouseButton.LeftButton)
    written = tmp_path / "revenue-year.csv"
    assert page.last_export == written
    assert written.stat().st_mode & 0o077 == 0  # readable by its owner only
    with written.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert page.table is not None
    rows = page.table.rows
    body = [line for line in lines[1:] if line and line[0] != TOTAL]
    assert [line[0] for line in body] == [row.labels[0] for row in rows]
    assert any(line and line[0] == TOTAL for line in lines)


def test_export_writes_the_report_as_a_pdf(
    qtbot: QtBot, reports: ReportsView, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    page = revenue_page(qtbot, reports)
    page.ask_path = lambda *_args: str(tmp_path / "revenue.pdf")
    qtbot.mouseClick(page.pdf_button, Qt.MouseButton.LeftButton)
    written = tmp_path / "revenue.pdf"
    assert page.last_export == written, page.notice.text()
    assert written.stat().st_mode & 0o077 == 0
    text = "".join(p.extract_text() for p in PdfReader(str(written)).pages)
    assert "Revenue" in text
    assert page.table is not None
    assert page.table.measures[0].definition.split()[0] in text


def test_without_report_view_the_area_says_so(qtbot: QtBot, demo_db: Database) -> None:
    view = ReportsView(AppContext(demo_db, FRONT), today=lambda: DEMO_DAY)
    qtbot.add_widget(view)
    assert view.refusal is not None
    assert "may not read the manager's reports" in view.refusal.text()
    assert view.list is None
    with pytest.raises(KeyError):
        view.show_tab("revenue")


def test_the_window_opens_one_report_by_view_name_and_drills_to_the_ledger(
    qtbot: QtBot, demo_db: Database
) -> None:
    window = MainWindow(
        AppContext(demo_db, Actor(username="fit-admin", role=Role.ADMIN)), initial="reports:revenue"
    )
    qtbot.add_widget(window)
    area = window.area("reports")
    assert isinstance(area, ReportsView)
    page = area.stack.currentWidget()
    assert isinstance(page, ReportView) and page.spec.name == "revenue"
    idle(qtbot, page)
    area.open_ledger.emit(_a_patient(demo_db))
    assert window.current_area() == "patients"
    patients = window.area("patients")
    detail = getattr(patients, "detail", None)
    assert detail is not None and detail.tabs.currentWidget() is detail.ledger
    claim = _a_claim(demo_db)
    area.open_claim.emit(claim)
    assert window.current_area() == "billing"
    claims = window.show_view("claims")
    assert claims.selected_ids() == [claim]  # type: ignore[attr-defined]


def _a_claim(db: Database) -> int:
    from sqlalchemy import select

    from ketadesk.billing.claims.models import Claim

    with db.reading() as session:
        found = session.scalars(select(Claim.id).order_by(Claim.id.desc()).limit(1)).one()
    return int(found)


def _a_patient(db: Database) -> int:
    from sqlalchemy import select

    from ketadesk.clinic.models import Patient

    with db.reading() as session:
        found = session.scalars(select(Patient.id).order_by(Patient.id).limit(1)).one()
    return int(found)


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("This month", date(2026, 12, 1), date(2026, 12, 7)),
        ("Last month", date(2026, 11, 1), date(2026, 11, 30)),
        ("This quarter", date(2026, 10, 1), date(2026, 12, 7)),
        ("This year", date(2026, 1, 1), date(2026, 12, 7)),
        ("Last 12 months", date(2026, 1, 1), date(2026, 12, 7)),
    ],
)
def test_presets_end_today_and_last_month_is_whole(preset: str, first: date, last: date) -> None:
    assert preset_period(preset, DEMO_DAY) == (first, last)
    assert preset_period("Last 12 months", date(2026, 3, 15)) == (
        date(2025, 4, 1),
        date(2026, 3, 15),
    )
    assert preset_period("Last month", date(2026, 1, 9)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_tile_change_colours_follow_better_when_higher() -> None:
    from decimal import Decimal

    from ketadesk.reports.model import KeyFigure, Kind
    from ketadesk.ui import style

    up = KeyFigure(
        "x",
        "No-show rate",
        Kind.PERCENT,
        Decimal("12.0"),
        Decimal("10.0"),
        "d",
        better_when_higher=False,
    )
    assert change_text(up) == "▲ 2.0 pts vs period before"
    assert change_colour(up) == style.ERROR
    money = KeyFigure("y", "Net revenue", Kind.MONEY, Decimal("900"), Decimal("1000"), "d")
    assert change_text(money) == "▼ $100.00 vs period before"
    assert change_colour(money) == style.ERROR
    better = KeyFigure("z", "Net revenue", Kind.MONEY, Decimal("1000"), Decimal("900"), "d")
    assert change_colour(better) == style.GOOD
    none = KeyFigure("w", "Rate", Kind.PERCENT, None, Decimal("1"), "d")
    assert change_text(none) == "no figure for the period before"


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["laptop", "full-hd"])
def test_the_dashboard_and_every_report_read_whole(
    qtbot: QtBot, demo_db: Database, size: tuple[int, int]
) -> None:
    window = MainWindow(AppContext(demo_db, MANAGER), initial="reports")
    qtbot.add_widget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    area = window.area("reports")
    assert isinstance(area, ReportsView)
    found: dict[str, list[str]] = {}
    for name in area.page_names():
        page = area.show_tab(name)
        if isinstance(page, (ReportView, DashboardView)):
            idle(qtbot, page)
        QApplication.processEvents()
        found[name] = too_big(window, QSize(*size)) + clipped(window)
    assert not any(found.values()), found


def test_one_report_is_a_view_name_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from ketadesk.cli import main

    found = main.window_arguments(["--demo", "--view", "reports:aging"])
    assert found is not None and found.view == "reports:aging"
    assert main.window_arguments(["--view", "reports:nope"]) is None
    with pytest.raises(SystemExit):
        main.build_parser().parse_args(["--view", "reports:nope"])
    assert "there is no view 'reports:nope'" in capsys.readouterr().err


def test_a_request_still_waiting_for_a_thread_is_taken_back(
    qtbot: QtBot, demo_db: Database
) -> None:
    import threading

    from PySide6.QtCore import QThreadPool

    from ketadesk.ui.reports.running import LatestRun
    from ketadesk.ui.workers import Worker

    gate = threading.Event()
    blockers = [
        Worker(demo_db, lambda _session, _progress: gate.wait(30))
        for _ in range(QThreadPool.globalInstance().maxThreadCount())
    ]
    for blocker in blockers:
        blocker.start()
    runs, answers = LatestRun(demo_db), []
    runs.start(lambda _s, _p: "older", answers.append, answers.append)
    runs.start(lambda _s, _p: "newer", answers.append, answers.append)
    assert runs.dropped == 1 and runs.running == 1  # the older one never took a thread
    gate.set()
    qtbot.waitUntil(lambda: not runs.busy)
    assert answers == ["newer"]


@pytest.mark.qt_log_ignore("This plugin does not support (grabbing the keyboard|raise)")  # a popup
def test_ticking_two_locations_reports_on_those_two(
    qtbot: QtBot, reports: ReportsView, demo_db: Database
) -> None:
    page = revenue_page(qtbot, reports)
    choices = page.filters.locations
    assert choices is not None and choices.text() == "All locations"
    menu = choices.menu()
    menu.popup(choices.mapToGlobal(choices.rect().bottomLeft()))
    qtbot.waitExposed(menu)
    chosen = list(choices.actions_by_key)[:2]
    for key in chosen:
        action = choices.actions_by_key[key]
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
        assert action.isChecked() and menu.isVisible()  # the menu stays open for the next
    menu.close()
    assert choices.text() == "2 chosen"
    idle(qtbot, page)
    assert page.table is not None and set(page.table.filter.location_ids) == set(chosen)
    with demo_db.reading() as session:
        expected = run_report(session, MANAGER, "revenue", page.table.filter, ("month",))
    assert page.table.total == expected.total


def test_refresh_reads_the_figures_again(qtbot: QtBot, reports: ReportsView) -> None:
    page = revenue_page(qtbot, reports)
    before, shown = page.runs.generation, page.table
    qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
    idle(qtbot, page)
    assert page.runs.generation == before + 1
    assert page.table is not shown and page.table == shown  # read anew, the same figures
