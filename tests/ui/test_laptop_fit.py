"""Every view and dialog reads whole on a laptop: 1280×800 and 1366×768.

A small demo clinic (the demo generator: three locations with their long chain names, a
year of history) is opened in the main window at laptop size; :func:`ui.tour.tour` walks
every area and tab as a person would (the schedule's day and week, a patient's record and
ledger, each Settings page with a record open), and :func:`ui.fit.clipped` measures every
button, label, tab, drop-down and table column on each screen. The dialogs are opened
with real records of the same clinic. A test fails naming each piece of text that is cut —
"button ledgerTakePayment 'Take payment…' needs 106px, has 78px" — or a window that needs
more room than the screen has.

The first tests show that the measuring itself catches what it should: a squeezed button,
label, tab and column are each reported.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select
from ui.demo_clinic import DEMO_DAY
from ui.fit import clipped, too_big
from ui.tour import busiest_patient, settle, tour

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.models import Invoice
from ketadesk.db import Database
from ketadesk.ui import app, style
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import flow_holder
from ketadesk.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

ADMIN = Actor(username="fit-admin", role=Role.ADMIN)  # sees every tab, Users too
LAPTOPS = (QSize(1280, 800), QSize(1366, 768))


@pytest.fixture(autouse=True)
def kd_look(qapp: QApplication) -> Iterator[None]:
    """The window's own look (Fusion, the palette, the style sheet, the shipped fonts), as
    ``ketadesk`` starts with: padding and weights decide what fits. Put back afterwards."""
    before = (qapp.styleSheet(), qapp.style().name(), qapp.palette())
    style.apply(qapp)
    app._load_shipped_fonts()
    yield
    qapp.setStyleSheet(before[0])
    qapp.setStyle(before[1])
    qapp.setPalette(before[2])


@pytest.fixture
def window(qtbot: QtBot, demo_db: Database) -> MainWindow:
    shown = MainWindow(AppContext(demo_db, ADMIN), initial="today")
    qtbot.addWidget(shown)
    return shown


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{name}:\n    " + "\n    ".join(problems)
                     for name, problems in found.items() if problems)


# --- the measuring catches what it should -----------------------------------------------


def test_a_squeezed_button_label_tab_and_column_are_reported(qtbot: QtBot) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    row = QHBoxLayout(page)
    button = QPushButton("Take payment…")
    button.setObjectName("squeezedButton")
    button.setFixedWidth(60)
    label = QLabel("$102,075.00")
    label.setObjectName("squeezedFigure")
    label.setFixedWidth(40)
    tabs = QTabWidget()
    tabs.addTab(QWidget(), "Credits && prepayments")
    tabs.tabBar().setExpanding(False)
    table = QTableWidget(1, 2)
    table.setObjectName("squeezedTable")
    table.setHorizontalHeaderLabels(["Description", "Balance"])
    table.setColumnWidth(0, 30)
    for widget in (button, label, tabs, table):
        row.addWidget(widget)
    page.resize(900, 300)
    page.show()
    qtbot.waitExposed(page)
    tabs.tabBar().setFixedWidth(50)
    settle()

    problems = "\n".join(clipped(page))

    assert "squeezedButton" in problems and "'Take payment…'" in problems
    assert "squeezedFigure" in problems
    assert "'Credits & prepayments'" in problems
    assert "column 'Description' of squeezedTable" in problems


def test_words_that_fit_are_not_reported(qtbot: QtBot) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    row = QHBoxLayout(page)
    row.addWidget(QPushButton("Take payment…"))
    row.addWidget(QLabel("$102,075.00"))
    page.show()
    qtbot.waitExposed(page)

    assert clipped(page) == []


def test_a_window_wider_than_the_screen_is_reported(qtbot: QtBot) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    page.setMinimumWidth(1400)
    page.show()

    assert too_big(page, QSize(1280, 800))


# --- every view ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("screen", LAPTOPS, ids=lambda s: f"{s.width()}x{s.height()}")
def test_every_view_reads_whole_on_a_laptop(
    qtbot: QtBot, window: MainWindow, screen: QSize
) -> None:
    window.resize(screen)
    window.show()
    qtbot.waitExposed(window)
    found: dict[str, list[str]] = {}
    for name in tour(window):
        found[name] = too_big(window, screen) + clipped(window)

    assert {"today", "schedule-day", "schedule-week", "patients-list", "patients-record",
            "patients-ledger", "billing-invoices", "settings-locations-details"} <= set(found)
    assert not any(found.values()), _report(found)


# --- every dialog -------------------------------------------------------------------------


def _today_view(window: MainWindow) -> QWidget:
    view = window.show_area("today")
    settle()
    return view


def _board_session(window: MainWindow) -> object:
    """A session on today's floor, as its card shows it (the floor dialogs are about one)."""
    view = _today_view(window)
    board = view.board  # type: ignore[attr-defined]
    for card in board.cards:
        if card.current is not None:
            return card.current
        if card.next_up is not None:
            return card.next_up
    raise AssertionError("the demo floor has nobody on it")


def _patient(window: MainWindow) -> int:
    patient = busiest_patient(window)
    assert patient is not None
    return patient


def _open_invoice(window: MainWindow) -> int:
    with window.context.db.reading() as session:
        found = session.scalar(select(func.min(Invoice.id)))
    assert found is not None
    return int(found)


def _floor(kind: str) -> Callable[[MainWindow], QDialog]:
    def build(window: MainWindow) -> QDialog:
        from ketadesk.ui.today.view import DIALOG_STEPS

        view = _today_view(window)
        dialog_type, title = DIALOG_STEPS[kind]
        return dialog_type(window.context, _board_session(window), view.now,  # type: ignore[attr-defined]
                           title, parent=window)
    return build


def _cancel(window: MainWindow) -> QDialog:
    from ketadesk.ui.today.dialogs import CancelDialog

    view = _today_view(window)
    return CancelDialog(window.context, _board_session(window), view.now,  # type: ignore[attr-defined]
                        "Cancel session", parent=window)


def _reschedule(window: MainWindow) -> QDialog:
    from ketadesk.ui.today.reschedule import RescheduleDialog

    view = _today_view(window)
    return RescheduleDialog(window.context, _board_session(window), view.now,  # type: ignore[attr-defined]
                            parent=window)


def _filed(window: MainWindow) -> QDialog:
    from ketadesk.ui.today.dialogs import FiledDialog

    view = _today_view(window)
    board = view.board  # type: ignore[attr-defined]
    assert board.rems_due, "the demo has REMS forms to file"
    return FiledDialog(window.context, board.rems_due[0], DEMO_DAY, parent=window)


def _session(window: MainWindow) -> QDialog:
    from ketadesk.ui.schedule.session_dialog import SessionDialog

    view = window.show_area("schedule")
    settle()
    data = view.window_data  # type: ignore[attr-defined]
    assert data is not None and data.entries
    return SessionDialog(window.context, data.entries[0], data.location_id, parent=window)


def _wizard(window: MainWindow) -> QDialog:
    from ketadesk.ui.schedule.wizard import NewSeriesWizard

    return NewSeriesWizard(window.context, parent=window)


def _patient_form(window: MainWindow) -> QDialog:
    from ketadesk.ui.patients.form import PatientDialog

    return PatientDialog(window.context, parent=window)


def _policy(window: MainWindow) -> QDialog:
    from ketadesk.ui.patients.policies import PolicyDialog

    return PolicyDialog(window.context, _patient(window), parent=window)


def _payment(window: MainWindow) -> QDialog:
    from ketadesk.ui.billing.payment_dialog import TakePaymentDialog

    return TakePaymentDialog(window.context, _patient(window), amount=Decimal("150.00"),
                             parent=window)


def _refund(window: MainWindow) -> QDialog:
    from ketadesk.ui.billing.corrections import RefundDialog

    return RefundDialog(window.context, _patient(window), parent=window)


def _adjustment(window: MainWindow) -> QDialog:
    from ketadesk.ui.billing.corrections import AdjustmentDialog

    return AdjustmentDialog(window.context, _patient(window), parent=window)


def _new_invoice(window: MainWindow) -> QDialog:
    from ketadesk.ui.billing.invoices import NewInvoiceDialog

    return NewInvoiceDialog(window.context, parent=window)


def _sell_package(window: MainWindow) -> QDialog:
    from ketadesk.ui.billing.packages import SellPackageDialog

    return SellPackageDialog(window.context, patient_id=_patient(window), parent=window)


def _range(window: MainWindow) -> QDialog:
    from ketadesk.ui.billing.superbills import RangeDialog

    return RangeDialog(date(2026, 1, 1), DEMO_DAY, "Superbill", parent=window)


def _charge(window: MainWindow) -> QDialog:
    from ketadesk.ui.billing.charges import ChargeDialog

    billing = window.show_area("billing")
    settle()
    rows = billing.charges.rows  # type: ignore[attr-defined]
    assert rows, "the demo has charges to review"
    return ChargeDialog(window.context, rows[0], parent=window)


def _login(window: MainWindow) -> QDialog:
    from ketadesk.ui.login import LoginDialog

    return LoginDialog(window.context.db, database_label="demo.sqlite3", parent=window)


DIALOGS: dict[str, Callable[[MainWindow], QDialog]] = {
    "login": _login,
    "patient-form": _patient_form,
    "policy": _policy,
    "new-series-wizard": _wizard,
    "session": _session,
    "checklist": _floor("checklist"),
    "dose": _floor("dose"),
    "vitals": _floor("vitals"),
    "observation": _floor("observation"),
    "score": _floor("score"),
    "cancel": _cancel,
    "reschedule": _reschedule,
    "rems-filed": _filed,
    "take-payment": _payment,
    "refund": _refund,
    "adjustment": _adjustment,
    "new-invoice": _new_invoice,
    "sell-package": _sell_package,
    "superbill-range": _range,
    "charge": _charge,
}


@pytest.mark.parametrize("name", list(DIALOGS))
def test_every_dialog_reads_whole_on_a_laptop(
    qtbot: QtBot, window: MainWindow, name: str
) -> None:
    screen = LAPTOPS[0]
    window.resize(screen)
    window.show()
    qtbot.waitExposed(window)
    dialog = DIALOGS[name](window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    settle()

    problems = too_big(dialog, screen) + clipped(dialog)

    assert not problems, "\n".join(problems)



# --- screenshots at a chosen size -------------------------------------------------------


@pytest.mark.slow
def test_a_screenshot_is_taken_at_the_size_asked_for(demo_db: Database, tmp_path: Path) -> None:
    png = tmp_path / "settings.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "ketadesk", "--db", demo_db.url, "--screenshot", str(png),
         "--view", "settings", "--size", "1366x768"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )

    assert done.returncode == 0, done.stderr
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1366, 768)


@pytest.mark.parametrize(("text", "says"), [
    ("1280", "is not WIDTHxHEIGHT"),
    ("1280x", "is not WIDTHxHEIGHT"),
    ("1280.5x800", "is not WIDTHxHEIGHT"),
    ("-1280x800", "is not WIDTHxHEIGHT"),
    ("100x100", "is outside 640x480 to 7680x4320"),
    ("99999x800", "is outside"),
])
def test_a_size_that_is_not_a_screen_is_refused_in_one_line(
    text: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = app.run(argparse.Namespace(db=None, demo=False, screenshot="x.png",
                                        view="today", size=text))

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("ketadesk: error: --size") and says in err
    assert err.count("\n") == 1


def test_sizes_are_read_as_a_person_writes_them() -> None:
    assert app.parse_size("1366x768") == (1366, 768)
    assert app.parse_size(" 1920 X 1080 ") == (1920, 1080)
    assert app.parse_size("1280×800") == (1280, 800)


# --- the flow layout the button rows use --------------------------------------------------


def test_a_flow_of_buttons_wraps_instead_of_squeezing_them(qtbot: QtBot) -> None:
    holder, flow = flow_holder(spacing=8)
    qtbot.addWidget(holder)
    buttons = [QPushButton(text) for text in ("Take payment…", "Statement PDF",
                                              "Year-end receipt", "Superbill…")]
    for button in buttons:
        flow.addWidget(button)
    widest = max(button.sizeHint().width() for button in buttons)
    one_line = sum(button.sizeHint().width() for button in buttons) + 3 * 8

    holder.resize(one_line, flow.heightForWidth(one_line))
    holder.show()
    settle()
    assert len({button.y() for button in buttons}) == 1
    holder.resize(widest + 20, flow.heightForWidth(widest + 20))
    settle()

    assert flow.minimumSize().width() == widest
    assert len({button.y() for button in buttons}) == 4  # one a line, none cut
    assert flow.heightForWidth(widest + 20) > flow.heightForWidth(one_line)
    assert clipped(holder) == []
