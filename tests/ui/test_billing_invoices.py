"""The "Invoices" tab, driven as the billing office uses it: make a draft, issue it, take a
payment on it, void it, print it — reading the invoice and the ledger back after each click."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from ui.billing_ui_helpers import TODAY, Opened, Scene, balance, billing_scene, type_text

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.invoices import create_invoice, issue_invoice, list_invoices
from ketadesk.billing.models import EntryKind
from ketadesk.billing.views import InvoiceState
from ketadesk.db import Database
from ketadesk.ui.billing.corrections import CorrectionDialog, ReasonDialog, ReversalDialog
from ketadesk.ui.billing.invoices import InvoicesTab, NewInvoiceDialog
from ketadesk.ui.billing.payment_dialog import TakePaymentDialog
from ketadesk.ui.context import AppContext

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
BILLING = Actor(username="billing-carmen", role=Role.BILLING)
FRONT = Actor(username="desk-dana", role=Role.FRONT_DESK)
ZOE, ANA = "Zoë Łukasiewicz", "Ana Ng"


@pytest.fixture
def scene(sqlite_db: Database) -> Scene:
    return billing_scene(sqlite_db, posted=True)


def draft_for(db: Database, patient_id: int, *, issued: bool = False) -> int:
    with db.transaction() as session:
        invoice = create_invoice(session, ADMIN, patient_id=patient_id, today=TODAY)
        if issued:
            issue_invoice(session, ADMIN, invoice.id, on=TODAY)
        return invoice.id


def make_tab(
    qtbot: QtBot, db: Database, actor: Actor = BILLING, opener: Opened | None = None
) -> InvoicesTab:
    tab = InvoicesTab(AppContext(db, actor), today=lambda: TODAY, opener=opener)
    qtbot.add_widget(tab)
    tab.resize(1240, 760)
    tab.show()
    return tab


def text_field(dialog: CorrectionDialog | TakePaymentDialog, name: str) -> QLineEdit:
    editor = dialog.form.editors[name]
    assert isinstance(editor, QLineEdit)
    return editor


def state_of(db: Database, invoice_id: int) -> InvoiceState:
    with db.reading() as session:
        return next(r.state for r in list_invoices(session) if r.id == invoice_id)


def column(tab: InvoicesTab, number: int) -> list[str]:
    return [tab.table.item(row, number).text() for row in range(tab.table.rowCount())]


# --- a new invoice -------------------------------------------------------------------------


def test_a_new_invoice_is_made_for_the_patient_picked_by_mrn(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    tab = make_tab(qtbot, sqlite_db)
    assert tab.table.rowCount() == 0
    qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, NewInvoiceDialog)
    type_text(qtbot, text_field(dialog, "patient_search"), scene.mrns[ANA])
    assert dialog.results.count() == 1 and "Ng, Ana" in dialog.results.item(0).text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert column(tab, 0) == ["NYC-2026-00001"]
    assert tab.selected_id() is not None
    detail = tab.detail
    assert detail.title.text() == "Invoice NYC-2026-00001 · Draft"
    assert "Ana Ng · MRN 100003" in detail.facts.text()
    assert detail.lines.rowCount() == 5  # 12/02: 96365, J3490; 12/04: 96365, 96366, J3490
    assert detail.total_label.text() == "$1,000.00"
    assert detail.due_label.text() == "$1,000.00"
    assert detail.notice.text() == (
        "Created draft invoice NYC-2026-00001 ($1,000.00). Check it, then issue it."
    )
    assert detail.issue_button.isEnabled() and not detail.pay_button.isEnabled()


def test_a_new_invoice_with_a_date_range_and_a_refusal_in_words(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    tab = make_tab(qtbot, sqlite_db)
    dialog = tab.new_invoice()
    assert isinstance(dialog, NewInvoiceDialog)
    type_text(qtbot, text_field(dialog, "patient_search"), "Ng")
    type_text(qtbot, text_field(dialog, "date_from"), "12/32/2026")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.form.error_text("date_from")  # not a date, beside its field
    type_text(qtbot, text_field(dialog, "date_from"), "2027-01-01")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.form.banner.isVisibleTo(dialog)
    assert dialog.form.banner.text().startswith(
        "There are no posted charges to invoice for Ana Ng from 2027-01-01 on"
    )
    assert tab.table.rowCount() == 0
    type_text(qtbot, text_field(dialog, "date_from"), "12/04/2026")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert tab.detail.total_label.text() == "$550.00"


# --- issue, pay, void ----------------------------------------------------------------------


def test_issuing_dates_the_invoice_and_sets_its_due_date(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    invoice_id = draft_for(sqlite_db, scene.patients[ZOE])
    tab = make_tab(qtbot, sqlite_db)
    assert tab.open_invoice(invoice_id)
    qtbot.mouseClick(tab.detail.issue_button, Qt.MouseButton.LeftButton)
    due = TODAY + timedelta(days=30)
    assert state_of(sqlite_db, invoice_id) is InvoiceState.ISSUED
    assert tab.detail.notice.text() == f"Issued invoice NYC-2026-00001; due {due:%m/%d/%Y}."
    assert tab.detail.title.text() == "Invoice NYC-2026-00001 · Issued"
    assert f"Due {due:%m/%d/%Y}" in tab.detail.facts.text()
    assert column(tab, 6) == ["Issued"]
    assert not tab.detail.issue_button.isEnabled() and tab.detail.pay_button.isEnabled()


def test_a_payment_taken_on_the_invoice_shows_in_its_detail(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe = scene.patients[ZOE]
    invoice_id = draft_for(sqlite_db, zoe, issued=True)
    tab = make_tab(qtbot, sqlite_db)
    tab.open_invoice(invoice_id)
    qtbot.mouseClick(tab.detail.pay_button, Qt.MouseButton.LeftButton)
    dialog = tab.detail.dialog
    assert isinstance(dialog, TakePaymentDialog)
    assert dialog.apply_to.currentData() == f"invoice:{invoice_id}"
    type_text(qtbot, text_field(dialog, "amount"), "250")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert state_of(sqlite_db, invoice_id) is InvoiceState.PARTLY_PAID
    detail = tab.detail
    assert detail.title.text() == "Invoice NYC-2026-00001 · Partly paid"
    assert detail.payments.rowCount() == 1
    assert detail.payments.item(0, 1).text() == "Card"
    assert detail.payments.item(0, 3).text() == "$250.00"
    assert (detail.paid_label.text(), detail.due_label.text()) == ("$250.00", "$750.00")
    assert detail.account_label.text() == "$750.00"
    assert column(tab, 8) == ["$750.00"]
    assert balance(sqlite_db, zoe) == Decimal("750.00")


def test_reversing_a_payment_from_the_invoice_needs_a_reason(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe = scene.patients[ZOE]
    invoice_id = draft_for(sqlite_db, zoe, issued=True)
    tab = make_tab(qtbot, sqlite_db)
    tab.open_invoice(invoice_id)
    pay = tab.detail.take_payment()
    assert pay is not None
    type_text(qtbot, text_field(pay, "amount"), "1000")
    qtbot.mouseClick(pay.save_button, Qt.MouseButton.LeftButton)
    assert state_of(sqlite_db, invoice_id) is InvoiceState.PAID
    assert not tab.detail.reverse_button.isEnabled()  # no payment selected yet
    tab.detail.payments.selectRow(0)
    qtbot.mouseClick(tab.detail.reverse_button, Qt.MouseButton.LeftButton)
    dialog = tab.detail.dialog
    assert isinstance(dialog, ReversalDialog)
    type_text(qtbot, text_field(dialog, "reason"), "check returned unpaid")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert state_of(sqlite_db, invoice_id) is InvoiceState.ISSUED
    assert balance(sqlite_db, zoe) == Decimal("1000.00")
    assert tab.detail.notice.text() == "Payment reversed; what it paid is owed again."


def test_voiding_an_issued_invoice_reverses_its_charges(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    ana = scene.patients[ANA]
    invoice_id = draft_for(sqlite_db, ana, issued=True)
    tab = make_tab(qtbot, sqlite_db)
    tab.open_invoice(invoice_id)
    qtbot.mouseClick(tab.detail.void_button, Qt.MouseButton.LeftButton)
    dialog = tab.detail.dialog
    assert isinstance(dialog, ReasonDialog)
    assert "charges are reversed on the ledger" in dialog.heading.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "say why" in dialog.form.error_text("reason")
    assert state_of(sqlite_db, invoice_id) is InvoiceState.ISSUED
    type_text(qtbot, text_field(dialog, "reason"), "billed to the wrong patient")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert state_of(sqlite_db, invoice_id) is InvoiceState.VOID
    assert balance(sqlite_db, ana) == Decimal("0.00")
    detail = tab.detail
    assert detail.title.text() == "Invoice NYC-2026-00001 · Void"
    assert detail.void_note.text() == "Void: billed to the wrong patient"
    assert detail.notice.text() == "Voided invoice NYC-2026-00001."
    assert not any(
        b.isEnabled()
        for b in (detail.issue_button, detail.pay_button, detail.adjust_button, detail.void_button)
    )
    with sqlite_db.reading() as session:
        from ketadesk.billing import ledger

        kinds = [line.kind for line in ledger.lines(session, ana)]
    assert kinds.count(EntryKind.REVERSAL) == kinds.count(EntryKind.CHARGE) == 5


def test_the_pdf_button_hands_the_viewer_a_pdf(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    pytest.importorskip("ketadesk.documents.invoice")
    invoice_id = draft_for(sqlite_db, scene.patients[ZOE], issued=True)
    opened = Opened()
    tab = make_tab(qtbot, sqlite_db, opener=opened)
    tab.open_invoice(invoice_id)
    qtbot.mouseClick(tab.detail.pdf_button, Qt.MouseButton.LeftButton)
    assert len(opened.paths) == 1
    assert opened.paths[0].endswith("invoice-NYC-2026-00001.pdf")
    assert opened.last_bytes().startswith(b"%PDF")


def test_save_as_writes_the_pdf_where_the_person_chose(
    qtbot: QtBot, sqlite_db: Database, scene: Scene, tmp_path: object
) -> None:
    pytest.importorskip("ketadesk.documents.invoice")
    from pathlib import Path

    invoice_id = draft_for(sqlite_db, scene.patients[ZOE])
    tab = make_tab(qtbot, sqlite_db)
    tab.open_invoice(invoice_id)
    target = Path(str(tmp_path)) / "for-patient"
    asked: list[str] = []

    def choose(_parent: object, suggested: str) -> str:
        asked.append(suggested)
        return str(target)

    tab.detail.pdf_button.choose = choose
    saved = tab.detail.pdf_button.save_as()
    assert asked == ["invoice-NYC-2026-00001.pdf"]
    assert saved == target.with_name("for-patient.pdf")
    assert saved.read_bytes().startswith(b"%PDF")


# --- finding invoices ----------------------------------------------------------------------


def test_search_by_number_mrn_or_name_and_filter_by_state(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe_invoice = draft_for(sqlite_db, scene.patients[ZOE], issued=True)
    draft_for(sqlite_db, scene.patients[ANA])
    tab = make_tab(qtbot, sqlite_db)
    assert column(tab, 0) == ["NYC-2026-00002", "NYC-2026-00001"]  # newest first
    assert tab.count.text() == "2 invoices"
    for typed, expected in (
        ("nyc-2026-00001", ["NYC-2026-00001"]),
        ("00002", ["NYC-2026-00002"]),
        (scene.mrns[ANA], ["NYC-2026-00002"]),
        ("lukasiewicz", ["NYC-2026-00001"]),
        ("nobody-like-this", []),
    ):
        tab.search.setText(typed)
        tab.refresh()
        assert column(tab, 0) == expected, typed
    tab.search.clear()
    tab.state.setCurrentIndex(tab.state.findData(InvoiceState.DRAFT))
    assert column(tab, 0) == ["NYC-2026-00002"]
    tab.state.setCurrentIndex(tab.state.findData(InvoiceState.ISSUED))
    assert column(tab, 0) == ["NYC-2026-00001"]
    assert tab.open_invoice(zoe_invoice)


def test_the_front_desk_may_take_payments_but_not_issue_or_void(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    invoice_id = draft_for(sqlite_db, scene.patients[ZOE], issued=True)
    tab = make_tab(qtbot, sqlite_db, actor=FRONT)
    tab.open_invoice(invoice_id)
    assert not tab.new_button.isEnabled()
    assert "may not review charges, invoices and estimates" in tab.new_button.toolTip()
    assert not tab.detail.void_button.isEnabled()
    assert tab.detail.void_button.toolTip() == (
        "Your role (Front desk) may not adjust, refund, reverse or void."
    )
    assert not tab.detail.adjust_button.isEnabled()
    assert tab.detail.pay_button.isEnabled()
    assert tab.new_invoice() is None
