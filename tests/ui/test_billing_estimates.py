"""Billing → Estimates driven as billing uses it: draft, watch the deadline, mark given,
and see a bill $400 over the estimate flagged.

A self-pay patient's six-session IV induction is booked from 2026-12-07 (Mon, Wed, Fri at
09:00). Drafted on Friday 2026-11-20, ten business days ahead (Thanksgiving on the 26th is
not one), the estimate must be given within three business days: by 11/25.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.billing_helpers import BillingClinic, billing_clinic
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from scheduling.booking_helpers import iv_induction
from sqlalchemy import select

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.estimates import list_estimates
from ketadesk.billing.models import Estimate, EstimateStatus
from ketadesk.billing.review import add_manual_charge, post_charges
from ketadesk.db import Database
from ketadesk.scheduling.models import Series, TreatmentSession
from ketadesk.ui.billing.estimates import EstimatesTab, GivenDialog
from ketadesk.ui.context import AppContext

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
BILLING = Actor(username="bill-ann", role=Role.BILLING)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
DRAFT_DAY = date(2026, 11, 20)
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
    """The billing clinic with the self-pay patient's IV induction booked (no estimate yet)."""
    with sqlite_db.transaction() as session:
        built = billing_clinic(session, ADMIN)
        iv_induction(session, built, ADMIN)
    return built


class Today:
    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


def open_tab(qtbot: QtBot, db: Database, today: Today, actor: Actor = BILLING) -> EstimatesTab:
    tab = EstimatesTab(AppContext(db, actor), today=today)
    qtbot.add_widget(tab)
    tab.resize(1280, 800)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


def drafted(qtbot: QtBot, tab: EstimatesTab) -> None:
    """Press "Draft estimates" and wait for the worker to finish and the list to show it."""
    qtbot.mouseClick(tab.draft_button, LEFT)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1 and tab.draft_button.isEnabled())


def cells(tab: EstimatesTab, row: int = 0) -> list[str]:
    return [tab.table.item(row, c).text() for c in range(tab.table.columnCount())]


def test_draft_then_overdue_in_red_then_given(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic, messages: list[str]
) -> None:
    today = Today(DRAFT_DAY)
    tab = open_tab(qtbot, sqlite_db, today)
    assert tab.table.rowCount() == 0 and tab.summary.text() == "No estimates to show."
    drafted(qtbot, tab)
    number, name, _mrn, series, total, on, give_by, given, status = cells(tab)
    assert number.startswith("GFE-2026-")
    assert name == "Zoë Łukasiewicz" and series == "IV ketamine induction"
    assert (on, give_by, given, status) == ("11/20/2026", "11/25/2026", "", "Draft")
    assert total.startswith("$") and "Drafted 1 estimate to give" in tab.summary.text()
    assert tab.overdue_numbers() == []

    # The deadline passes: the row turns red and says so.
    today.day = date(2026, 11, 30)
    qtbot.mouseClick(tab.refresh_button, LEFT)
    assert cells(tab)[8] == "Draft — overdue"
    assert tab.overdue_numbers() == [number]
    assert "1 past the deadline" in tab.summary.text()

    # Mark given: the day and how; then it leaves the "due" list.
    qtbot.mouseClick(tab.given_button, LEFT)
    dialog = tab.dialog
    assert isinstance(dialog, GivenDialog)
    dialog.how.setCurrentIndex(dialog.how.findData("email"))
    qtbot.mouseClick(dialog.save_button, LEFT)
    assert tab.table.rowCount() == 0
    tab.show_status(EstimateStatus.GIVEN)
    assert cells(tab)[7:] == ["11/30/2026", "Given"]
    with sqlite_db.reading() as session:
        estimate = session.scalars(select(Estimate)).one()
        assert (estimate.given_on, estimate.given_how, estimate.given_by) == (
            date(2026, 11, 30),
            "email",
            "bill-ann",
        )
    assert messages == []


def test_giving_a_day_before_the_draft_is_refused_in_the_dialog(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    tab = open_tab(qtbot, sqlite_db, Today(DRAFT_DAY))
    drafted(qtbot, tab)
    dialog = tab.mark_given()
    assert dialog is not None
    dialog.given_on.setDate(dialog.given_on.date().addDays(-3))
    assert not dialog.submit()
    assert "before" in dialog.form.banner.text()
    with sqlite_db.reading() as session:
        assert session.scalars(select(Estimate)).one().status is EstimateStatus.DRAFT


def test_a_bill_400_over_the_estimate_is_flagged(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    tab = open_tab(qtbot, sqlite_db, Today(DRAFT_DAY))
    drafted(qtbot, tab)
    with sqlite_db.reading() as session:
        estimate = session.scalars(select(Estimate)).one()
        total = estimate.total
    assert tab.variance_table.rowCount() == 1 and tab.flagged_numbers() == []

    # The first session is billed the whole estimate plus $400.00.
    with sqlite_db.transaction() as session:
        first = session.scalars(
            select(TreatmentSession)
            .join(Series)
            .where(Series.patient_id == clinic.patient.id)
            .order_by(TreatmentSession.starts_at)
        ).first()
        assert first is not None
        charge = add_manual_charge(
            session,
            BILLING,
            patient_id=clinic.patient.id,
            location_id=clinic.location.id,
            service_date=date(2026, 12, 7),
            code="99215",
            unit_price=total + Decimal("400.00"),
            session_id=first.id,
        )
        post_charges(session, BILLING, [charge.id], on=date(2026, 12, 7))
    qtbot.mouseClick(tab.refresh_button, LEFT)
    row = [tab.variance_table.item(0, c).text() for c in range(7)]
    assert row[5] == "+$400.00" and row[6] == "Over by $400 or more"
    assert tab.flagged_numbers() == [row[0]]
    tab.flagged_only.setChecked(True)
    assert tab.variance_table.rowCount() == 1


def test_estimate_pdf_opens(qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic) -> None:
    opened: list[bytes] = []
    tab = open_tab(qtbot, sqlite_db, Today(DRAFT_DAY))
    drafted(qtbot, tab)
    from pathlib import Path

    tab.pdf_button.opener = lambda url: opened.append(Path(url.toLocalFile()).read_bytes()) or True
    tab.pdf_button.open_pdf()
    assert len(opened) == 1 and opened[0].startswith(b"%PDF")


def test_who_may_draft_and_mark_given(
    qtbot: QtBot, sqlite_db: Database, clinic: BillingClinic
) -> None:
    with sqlite_db.transaction() as session:
        from ketadesk.billing.estimates import refresh_estimates

        refresh_estimates(session, ADMIN, today=DRAFT_DAY)
    desk = open_tab(qtbot, sqlite_db, Today(DRAFT_DAY), Actor("desk-lee", Role.FRONT_DESK))
    assert desk.draft_button.isEnabled() and desk.given_button.isEnabled()
    with sqlite_db.reading() as session:
        assert len(list_estimates(session, ADMIN, today=DRAFT_DAY)) == 1
