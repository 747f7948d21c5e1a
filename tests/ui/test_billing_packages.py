"""Billing → Packages driven as the desk uses it: sell a package, see it used, refund the rest.

Each test opens a real :class:`PackagesTab` over a migrated SQLite file holding the builders'
clinic with the shipped fee schedule and package templates, clicks and types, then checks
what the tab (and the patient's chart) shows and what the ledger holds.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.billing_helpers import (
    BillingClinic,
    billing_clinic,
    completed_iv_session,
    posted_charges,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import LedgerEntry, PackagePurchase, PackageStatus, PaymentMethod
from ketadesk.billing.packages import ensure_default_templates, list_templates
from ketadesk.db import Database
from ketadesk.ui.billing.packages import PackagesTab, RefundUnusedDialog, SellPackageDialog
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.view import PatientsView

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
DESK = Actor(username="desk-lee", role=Role.FRONT_DESK)
BILLING = Actor(username="bill-ann", role=Role.BILLING)
SALE_DAY = date(2026, 11, 30)
INDUCTION = "IV induction — 6 infusions"
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Message boxes are recorded instead of blocking; each test checks them."""
    shown: list[str] = []

    def record(_parent: QWidget | None, _title: str, text: str, *_args: object) -> object:
        shown.append(text)
        return QMessageBox.StandardButton.Yes

    for name in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, record)
    return shown


@pytest.fixture
def clinic(sqlite_db: Database) -> BillingClinic:
    """The builders' billing clinic and the shipped packages, committed (rows stay loaded)."""
    with sqlite_db.transaction() as session:
        built = billing_clinic(session, ADMIN)
        ensure_default_templates(session, ADMIN)
    return built


@pytest.fixture
def clinic_db(sqlite_db: Database, clinic: BillingClinic) -> Database:
    return sqlite_db


def patient_mrn(db: Database) -> tuple[int, str]:
    from ketadesk.clinic.models import Patient

    with db.reading() as session:
        patient = session.scalars(select(Patient)).one()
        return patient.id, patient.mrn


def open_tab(qtbot: QtBot, db: Database, actor: Actor = DESK) -> PackagesTab:
    tab = PackagesTab(AppContext(db, actor), today=lambda: SALE_DAY)
    qtbot.add_widget(tab)
    tab.resize(1280, 800)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


def choose_template(dialog: SellPackageDialog) -> None:
    index = dialog.template.findText(INDUCTION, Qt.MatchFlag.MatchStartsWith)
    assert index >= 0
    dialog.template.setCurrentIndex(index)


def sell_through_dialog(qtbot: QtBot, tab: PackagesTab, mrn: str) -> SellPackageDialog:
    qtbot.mouseClick(tab.sell_button, LEFT)
    dialog = tab.dialog
    assert isinstance(dialog, SellPackageDialog)
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.picker.search, mrn)
    qtbot.waitUntil(lambda: dialog.picker.patient_id() > 0)
    dialog.template.setCurrentIndex(
        dialog.template.findText(INDUCTION, Qt.MatchFlag.MatchStartsWith)
    )
    dialog.method.setCurrentIndex(dialog.method.findData(PaymentMethod.HSA_FSA.value))
    qtbot.keyClicks(dialog.form.editors["reference"], "HSA 7781")
    assert "$2,550.00" in dialog.terms.text() and "01/29/2027" in dialog.terms.text()
    with qtbot.waitSignal(dialog.sold):
        qtbot.mouseClick(dialog.sell_button, LEFT)
    return dialog


def test_a_sold_package_counts_down_in_the_tab_and_on_the_chart(
    qtbot: QtBot, clinic_db: Database, clinic: BillingClinic
) -> None:
    patient_id, mrn = patient_mrn(clinic_db)
    tab = open_tab(qtbot, clinic_db)
    assert tab.templates.rowCount() == 3
    sell_through_dialog(qtbot, tab, mrn)

    # The tab shows the patient's new package, untouched, and the prepayment held.
    assert tab.picker.patient_id() == patient_id
    assert tab.left_texts() == ["6 of 6"]
    assert tab.holders.rowCount() == 1
    assert tab.holders.item(0, 2).text() == "$2,550.00"
    assert "Sold IV induction" in tab.message.text()
    with clinic_db.reading() as session:
        purchase = session.scalars(select(PackagePurchase)).one()
        prepayment = session.scalars(
            select(LedgerEntry).where(LedgerEntry.package_purchase_id == purchase.id)
        ).one()
        assert (prepayment.amount, prepayment.method) == (
            Decimal("-2550.00"),
            PaymentMethod.HSA_FSA,
        )
        assert prepayment.reference == "HSA 7781"

    # A matching IV session is completed, captured and posted: the package covers it.
    with clinic_db.transaction() as session:
        ts = completed_iv_session(session, clinic, "2026-12-01 09:00", minutes=55)
        posted_charges(session, BILLING, ts)
    qtbot.mouseClick(tab.refresh_button, LEFT)
    assert tab.left_texts() == ["5 of 6"]
    assert tab.patient_packages.item(0, 2).text() == "$2,125.00"  # 2,550 less one sixth

    # The chart's Ledger tab says the same.
    chart = PatientsView(AppContext(clinic_db, DESK))
    qtbot.add_widget(chart)
    chart.resize(1280, 800)
    chart.show()
    assert chart.open_patient(patient_id) is not None
    chart.detail.show_ledger()
    ledger_tab = chart.detail.ledger
    assert ledger_tab is not None
    qtbot.waitUntil(lambda: ledger_tab.page is not None)
    assert "IV induction — 6 infusions: 5 of 6 sessions left" in ledger_tab.packages.text()
    # The prepayment is money held for the patient: the running balance ends in credit.
    assert ledger_tab.balance_texts()[-1] == "$2,125.00 credit"
    assert ledger_tab.owed.values["Prepaid packages"].text() == "$2,125.00"


def test_selling_needs_a_patient_and_a_refusal_changes_nothing(
    qtbot: QtBot, clinic_db: Database
) -> None:
    tab = open_tab(qtbot, clinic_db)
    dialog = tab.sell()
    assert isinstance(dialog, SellPackageDialog)
    assert not dialog.sell_button.isEnabled()  # nobody chosen yet
    # The template is taken off sale on another workstation while the dialog is open.
    with clinic_db.transaction() as session:
        from ketadesk.billing.packages import set_template_active

        induction = next(t for t in list_templates(session) if t.name == INDUCTION)
        set_template_active(session, ADMIN, induction.id, False)
    _patient_id, mrn = patient_mrn(clinic_db)
    dialog.picker.choose(mrn)
    dialog.template.setCurrentIndex(
        dialog.template.findText(INDUCTION, Qt.MatchFlag.MatchStartsWith)
    )
    assert dialog.submit() is None
    assert "no longer sold" in dialog.form.banner.text()
    with clinic_db.reading() as session:
        assert session.scalars(select(PackagePurchase)).all() == []
        assert session.scalars(select(LedgerEntry)).all() == []


def test_refund_unused_pays_back_the_value_left(qtbot: QtBot, clinic_db: Database) -> None:
    patient_id, mrn = patient_mrn(clinic_db)
    tab = open_tab(qtbot, clinic_db, BILLING)
    sell_through_dialog(qtbot, tab, mrn)
    assert tab.refund_button.isEnabled()
    qtbot.mouseClick(tab.refund_button, LEFT)
    dialog = tab.dialog
    assert isinstance(dialog, RefundUnusedDialog)
    assert dialog.submit() is None  # no reason given
    assert dialog.form.error_text("reason") == "say why the package is refunded"
    qtbot.keyClicks(dialog.form.editors["reason"], "moved away")
    with qtbot.waitSignal(dialog.refunded):
        qtbot.mouseClick(dialog.refund_button, LEFT)
    assert tab.patient_packages.item(0, 5).text() == "Refunded"
    assert tab.holders.rowCount() == 0
    with clinic_db.reading() as session:
        assert ledger.balance(session, patient_id) == Decimal("0.00")
        purchase = session.scalars(select(PackagePurchase)).one()
        assert purchase.status is PackageStatus.REFUNDED


def test_the_front_desk_may_sell_but_not_refund_or_expire(
    qtbot: QtBot, clinic_db: Database
) -> None:
    tab = open_tab(qtbot, clinic_db, DESK)
    assert tab.sell_button.isEnabled()
    assert not tab.expire_button.isEnabled()
    assert "may not review charges" in tab.expire_button.toolTip()
    assert not tab.refund_button.isEnabled()


def test_run_expiry_closes_packages_past_their_last_day(
    qtbot: QtBot, clinic_db: Database, messages: list[str]
) -> None:
    _patient_id, mrn = patient_mrn(clinic_db)
    tab = open_tab(qtbot, clinic_db, BILLING)
    sell_through_dialog(qtbot, tab, mrn)
    tab.today = lambda: date(2027, 2, 1)  # two days past the 60 days
    qtbot.mouseClick(tab.expire_button, LEFT)
    assert messages[-1].startswith("1 package expired: IV induction — 6 infusions")
    assert tab.patient_packages.item(0, 5).text() == "Expired"
    assert tab.holders.rowCount() == 1  # refundable: the clinic still owes it
