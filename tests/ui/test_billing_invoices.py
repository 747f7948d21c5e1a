"""The "Invoices" tab, driven as the billing office uses it: make a draft, issue it, take a
payment on it, void it, print it — reading the invoice and the ledger back after each click."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from builders import patient_raw
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui.billing_ui_helpers import TODAY, Opened, Scene, balance, billing_scene, type_text

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.invoices import create_invoice, issue_invoice, list_invoices
from ketadesk.billing.models import EntryKind, Invoice
from ketadesk.billing.views import InvoiceState
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.ui.billing.corrections import CorrectionDialog, ReasonDialog, ReversalDialog
from ketadesk.ui.billing.invoices import DETAIL_MIN_HEIGHT, InvoicesTab, NewInvoiceDialog
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
        return next(r.state for r in list_invoices(session, ADMIN).rows if r.id == invoice_id)


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


# --- long lists, read a page at a time --------------------------------------------------------

MANY = 520  # more than the 500 the list used to stop at


def many_drafts(db: Database, scene: Scene) -> int:
    """``MANY`` empty drafts for Ana Ng, written straight to the table; the oldest's id."""
    with db.transaction() as session:
        made = [
            Invoice(
                number=f"NYC-2025-{n:05d}",
                patient_id=scene.patients[ANA],
                location_id=scene.location_id,
            )
            for n in range(1, MANY + 1)
        ]
        session.add_all(made)
        session.flush()
        return made[0].id


def scroll_to_end(tab: InvoicesTab) -> None:
    """Drag the list's scroll bar to its end, as far as the rows read so far reach."""
    QApplication.processEvents()  # the bar's range follows the rows added last time
    bar = tab.table.verticalScrollBar()
    bar.setValue(bar.maximum())


def test_the_list_says_the_true_count_and_reads_more_as_the_person_scrolls(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    many_drafts(sqlite_db, scene)
    tab = make_tab(qtbot, sqlite_db)
    assert tab.table.rowCount() == 200
    assert tab.count.text() == "520 invoices (200 shown)"

    scroll_to_end(tab)
    assert tab.table.rowCount() == 400
    scroll_to_end(tab)
    assert tab.table.rowCount() == 520 and tab.count.text() == "520 invoices"
    assert column(tab, 0)[-1] == "NYC-2025-00001"
    assert len(set(column(tab, 0))) == 520

    tab.refresh()  # a refresh keeps what was read, so the place is not lost
    assert tab.table.rowCount() == 520
    tab.state.setCurrentIndex(tab.state.findData(InvoiceState.DRAFT))  # a new filter: page 1
    assert tab.table.rowCount() == 200 and tab.count.text() == "520 invoices (200 shown)"


def test_searching_finds_an_invoice_past_the_first_page_in_sql(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    oldest = many_drafts(sqlite_db, scene)
    tab = make_tab(qtbot, sqlite_db)
    type_text(qtbot, tab.search, "2025-00001")
    tab.refresh()
    assert column(tab, 0) == ["NYC-2025-00001"] and tab.count.text() == "1 invoice"
    type_text(qtbot, tab.search, "ng ana")
    tab.refresh()
    assert tab.count.text() == "520 invoices (200 shown)"

    tab.search.clear()
    tab.refresh()
    assert tab.open_invoice(oldest)  # reads page after page until it is there
    assert tab.selected_id() == oldest and tab.table.rowCount() == 520
    assert tab.detail.title.text() == "Invoice NYC-2025-00001 · Draft"


def test_opening_an_invoice_in_the_window_is_an_audited_read(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    invoice_id = draft_for(sqlite_db, scene.patients[ANA])
    tab = make_tab(qtbot, sqlite_db)
    assert tab.open_invoice(invoice_id)
    with sqlite_db.reading() as session:
        viewed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "view", AuditEntry.entity == "invoice")
        ).all()
        assert [(row.actor, row.entity_id) for row in viewed][-1] == (
            BILLING.username,
            str(invoice_id),
        )


def test_a_front_desk_user_reads_invoices_but_may_not_issue(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    invoice_id = draft_for(sqlite_db, scene.patients[ANA])
    tab = make_tab(qtbot, sqlite_db, FRONT)
    assert tab.table.rowCount() == 1 and tab.open_invoice(invoice_id)
    assert tab.detail.total_label.text() == "$1,000.00"
    assert not tab.detail.issue_button.isEnabled() and not tab.new_button.isEnabled()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1440, 900)])
def test_the_split_gives_the_list_room_and_the_person_can_move_it(
    qtbot: QtBot, sqlite_db: Database, scene: Scene, width: int, height: int
) -> None:
    many_drafts(sqlite_db, scene)
    tab = make_tab(qtbot, sqlite_db)
    tab.resize(width - 220, height - 110)  # the window's side bar and title take the rest
    qtbot.wait_exposed(tab)
    rows = tab.table.viewport().height() // tab.table.verticalHeader().defaultSectionSize()
    assert rows >= (10 if height >= 900 else 7)  # it was six at 1440x900
    assert tab.detail.height() >= DETAIL_MIN_HEIGHT  # the invoice's buttons, lines and totals

    handle = tab.splitter.handle(1)
    middle = handle.rect().center()
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=middle)
    qtbot.mouseMove(handle, middle + QPoint(0, -60))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=middle + QPoint(0, -60))
    moved = tab.splitter.sizes()
    assert moved[0] < rows * 28

    again = make_tab(qtbot, sqlite_db)  # the next time the tab opens, the split is as left
    again.resize(width - 220, height - 110)
    qtbot.wait_exposed(again)
    assert again.splitter.sizes()[0] == moved[0]


def test_the_patient_picker_says_how_many_it_did_not_list(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    with sqlite_db.transaction() as session:
        for n in range(25):  # with Ana Ng, 26 patients called Ng
            create_patient(session, ADMIN, patient_raw(family_name="Ng", given_name=f"Bo{n}"))
    tab = make_tab(qtbot, sqlite_db)
    dialog = tab.new_invoice()
    assert isinstance(dialog, NewInvoiceDialog)
    type_text(qtbot, text_field(dialog, "patient_search"), "ng")
    assert dialog.results.count() == 21
    last = dialog.results.item(20)
    assert last.text().startswith("… and 6 more; type more of the name")
    dialog.results.setCurrentRow(20)
    assert dialog.chosen_patient() is None  # the note is not a patient
    type_text(qtbot, text_field(dialog, "patient_search"), "ng ana")
    assert dialog.results.count() == 1 and dialog.chosen_patient() == scene.patients[ANA]
