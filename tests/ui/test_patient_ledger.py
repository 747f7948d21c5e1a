"""The chart's Ledger tab driven as the desk uses it: read the balance, take a payment, print.

Each test opens a real :class:`PatientsView` over a migrated SQLite file holding the
builders' billing clinic, opens the patient, switches to the Ledger tab and checks what it
shows against the ledger in the database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from billing.billing_helpers import (
    BillingClinic,
    billing_clinic,
    completed_iv_session,
    posted_charges,
)
from builders import at
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import PaymentMethod
from ketadesk.db import Database
from ketadesk.scheduling.models import TreatmentSession
from ketadesk.ui.billing.payment_dialog import TakePaymentDialog
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.ledger import LedgerPanel
from ketadesk.ui.patients.view import PatientsView

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
DESK = Actor(username="desk-lee", role=Role.FRONT_DESK)
BILLING = Actor(username="bill-ann", role=Role.BILLING)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
TODAY = date(2026, 12, 10)
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def record(_parent: QWidget | None, _title: str, text: str, *_args: object) -> object:
        shown.append(text)
        return QMessageBox.StandardButton.No

    for name in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, record)
    return shown


@pytest.fixture
def clinic(sqlite_db: Database) -> BillingClinic:
    """The billing clinic with two one-hour IV infusions posted ($450 each, Dec 1 and 3)."""
    with sqlite_db.transaction() as session:
        built = billing_clinic(session, ADMIN)
        built.location.phone = "2125550142"
        for day in ("2026-12-01", "2026-12-03"):
            ts = completed_iv_session(session, built, f"{day} 09:00", minutes=55)
            posted_charges(session, BILLING, ts)
    return built


def open_ledger(qtbot: QtBot, db: Database, patient_id: int, actor: Actor = DESK) -> LedgerPanel:
    view = PatientsView(AppContext(db, actor))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    assert view.open_patient(patient_id) is not None
    tabs = view.detail.tabs
    assert tabs is not None and [tabs.tabText(i) for i in range(tabs.count())] == [
        "Record",
        "Ledger",
        "Intake",
        "Consent",
        "History",
        "Outcomes",
    ]
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(1).center())
    panel = view.detail.ledger
    assert panel is not None
    panel.today = lambda: TODAY
    panel.refresh()
    return panel


def test_the_ledger_tab_shows_the_running_balance_and_the_summary(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    panel = open_ledger(qtbot, sqlite_db, clinic.patient.id)
    with sqlite_db.reading() as session:
        lines = ledger.lines(session, clinic.patient.id)
    assert panel.table.rowCount() == len(lines) >= 2
    shown = panel.balance_texts()
    assert shown[-1] == "$900.00"  # what the ledger sums to
    assert panel.owed.values["Still owed"].text() == "$900.00"
    assert panel.year.title.text() == "THIS YEAR (2026)"
    assert panel.year.values["Charged"].text() == "$900.00"
    assert panel.total.values["Paid"].text() == "$0.00"
    assert panel.packages.text() == "No packages."
    assert panel.receipt_year.currentText() == "2026"


def test_take_a_payment_from_the_ledger_tab_and_the_balance_follows(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    panel = open_ledger(qtbot, sqlite_db, clinic.patient.id)
    before = panel.table.rowCount()
    qtbot.mouseClick(panel.pay_button, LEFT)
    dialog = panel.dialog
    assert isinstance(dialog, TakePaymentDialog)
    qtbot.waitExposed(dialog)
    amount = dialog.form.editors["amount"]
    qtbot.mouseClick(amount, LEFT)
    amount.selectAll()  # type: ignore[union-attr]
    qtbot.keyClicks(amount, "400.00")
    dialog.method.setCurrentIndex(dialog.method.findData(PaymentMethod.CASH.value))
    with qtbot.waitSignal(dialog.paid):
        qtbot.mouseClick(dialog.save_button, LEFT)
    # The tab read the ledger again while the dialog still shows the outcome.
    assert panel.table.rowCount() == before + 1
    assert panel.balance_texts()[-1] == "$500.00"
    assert panel.owed.values["Still owed"].text() == "$500.00"
    assert panel.year.values["Paid"].text() == "$400.00"
    last = [panel.table.item(panel.table.rowCount() - 1, c).text() for c in range(5)]
    assert last[1].startswith("Payment") and "Cash" in last[1] and last[3] == "$400.00"
    dialog.close_button.click()
    with sqlite_db.reading() as session:
        assert ledger.balance(session, clinic.patient.id) == Decimal("500.00")


def test_a_bad_amount_is_refused_and_changes_nothing(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    panel = open_ledger(qtbot, sqlite_db, clinic.patient.id)
    qtbot.mouseClick(panel.pay_button, LEFT)
    dialog = panel.dialog
    assert isinstance(dialog, TakePaymentDialog)
    amount = dialog.form.editors["amount"]
    amount.selectAll()  # type: ignore[union-attr]
    qtbot.keyClicks(amount, "45.001")
    qtbot.mouseClick(dialog.save_button, LEFT)
    assert "fraction of a cent" in dialog.form.error_text("amount")
    assert panel.balance_texts()[-1] == "$900.00"


def test_roles_without_billing_see_no_ledger(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    view = PatientsView(AppContext(sqlite_db, NURSE))
    qtbot.add_widget(view)
    view.show()
    assert view.open_patient(clinic.patient.id) is not None
    tabs = view.detail.tabs
    assert tabs is not None and view.detail.ledger is None
    shown = [tabs.tabText(i) for i in range(tabs.count())]
    assert shown == ["Record", "Intake", "Consent", "History", "Outcomes"]


def test_billing_may_print_but_the_clinical_payment_button_is_explained(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    panel = open_ledger(qtbot, sqlite_db, clinic.patient.id, BILLING)
    assert panel.pay_button.isEnabled()


def test_statement_and_year_end_receipt_open_as_pdfs(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    pytest.importorskip("ketadesk.documents.statement")
    opened: list[bytes] = []

    def opener(url: QUrl) -> bool:
        opened.append(Path(url.toLocalFile()).read_bytes())
        return True

    panel = open_ledger(qtbot, sqlite_db, clinic.patient.id)
    panel.set_opener(opener)
    panel.statement_button.open_pdf()
    panel.receipt_button.open_pdf()
    assert len(opened) == 2 and all(data.startswith(b"%PDF") for data in opened)
    assert panel.statement_button.last_path is not None
    assert "statement" in panel.statement_button.last_path.name.lower()


def test_a_superbill_from_the_chart_asks_for_the_range(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic, messages: list[str]
) -> None:
    pytest.importorskip("ketadesk.documents.superbill")
    from ketadesk.ui.billing.superbills import RangeDialog

    opened: list[str] = []
    panel = open_ledger(qtbot, sqlite_db, clinic.patient.id)
    panel.set_opener(lambda url: opened.append(url.toLocalFile()) or True)
    qtbot.mouseClick(panel.superbill_button, LEFT)
    dialog = panel.dialog
    assert isinstance(dialog, RangeDialog)
    assert dialog.dates() == (date(2026, 1, 1), TODAY)
    dialog.accept()
    assert messages == [] and len(opened) == 1
    assert Path(opened[0]).read_bytes().startswith(b"%PDF")


# -- at check-out, on the Today board ------------------------------------------------------


class Clock:
    def __init__(self, start: str) -> None:
        self.now = at(start)

    def __call__(self) -> datetime:
        return self.now


def test_the_desk_takes_payment_at_check_out_from_the_chair_card(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    from scheduling.floor_helpers import book, dose_esketamine, take_monitoring_bps

    from ketadesk.scheduling import floor
    from ketadesk.ui.today import TodayView

    start = "2026-12-07 09:00"
    dosed_at = at(start) + timedelta(minutes=5)
    with sqlite_db.transaction() as session:
        clinic = billing_clinic(session, ADMIN)
        ts = book(session, clinic, start=start)
        dose_esketamine(session, ts, dosed_at)
        take_monitoring_bps(session, ts, dosed_at)
        session_id, patient_id = ts.id, clinic.patient.id
    clock = Clock("2026-12-07 10:30")
    desk = TodayView(AppContext(sqlite_db, DESK), clock=clock)
    qtbot.add_widget(desk)
    desk.resize(1280, 860)
    desk.show()
    nasal = desk.card_widget("Nasal 1")
    assert nasal.card is not None and nasal.card.current is not None  # in monitoring
    assert "take_payment" not in nasal.buttons
    nurse = TodayView(AppContext(sqlite_db, NURSE), clock=clock)  # at the next workstation
    qtbot.add_widget(nurse)

    # The nurse discharges the patient at 11:05 and billing posts the visit's charges.
    clock.now = dosed_at + timedelta(minutes=120)
    with sqlite_db.transaction() as session:
        floor.discharge(session, NURSE, session_id, now=clock.now)
        posted_charges(session, BILLING, session.get(TreatmentSession, session_id))

    desk.refresh()  # the board's next read
    nasal = desk.card_widget("Nasal 1")
    assert nasal.card is not None and nasal.card.current is None  # the chair is free
    checked_out = nasal.findChild(QLabel, "checkedOut")
    assert checked_out is not None and "Łukasiewicz, Zoë" in checked_out.text()
    qtbot.mouseClick(nasal.button("take_payment"), LEFT)
    dialog = desk.dialog
    assert isinstance(dialog, TakePaymentDialog) and dialog.patient_id == patient_id
    with sqlite_db.reading() as session:
        owed = ledger.balance(session, patient_id)
    assert owed > 0 and dialog.amount.text() == format(owed, "f")
    with qtbot.waitSignal(dialog.paid):
        qtbot.mouseClick(dialog.save_button, LEFT)
    with sqlite_db.reading() as session:
        assert ledger.balance(session, patient_id) == Decimal("0.00")

    # Clinical staff, who take no payments, are not offered the button.
    nurse.refresh()
    assert nurse.card_widget("Nasal 1").card.current is None  # type: ignore[union-attr]
    assert "take_payment" not in nurse.card_widget("Nasal 1").buttons
    assert nurse.card_widget("Nasal 1").findChild(QLabel, "checkedOut") is None
