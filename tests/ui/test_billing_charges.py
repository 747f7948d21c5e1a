"""The "Charges to review" tab, driven as the billing office uses it: capture, edit, dismiss,
post — and the database read back to see what each click really did."""

from __future__ import annotations

from decimal import Decimal

import pytest
from builders import add_location
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui.billing_ui_helpers import (
    TODAY,
    balance,
    billing_scene,
    pending_count,
    type_text,
)

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.models import Charge, ChargeStatus
from ketadesk.db import Database
from ketadesk.ui.billing.charges import ChargeDialog, ChargesTab
from ketadesk.ui.billing.corrections import CorrectionDialog, ReasonDialog
from ketadesk.ui.context import AppContext

pytestmark = pytest.mark.gui

BILLING = Actor(username="billing-carmen", role=Role.BILLING)
FRONT = Actor(username="desk-dana", role=Role.FRONT_DESK)


class Answers:
    """The injected "are you sure?": records each question and answers as told."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.questions: list[str] = []

    def __call__(self, _parent: QWidget | None, _title: str, text: str) -> bool:
        self.questions.append(text)
        return self.answer


def make_tab(
    qtbot: QtBot, db: Database, actor: Actor = BILLING, answers: Answers | None = None
) -> ChargesTab:
    tab = ChargesTab(AppContext(db, actor), today=lambda: TODAY, confirm=answers or Answers())
    qtbot.add_widget(tab)
    tab.resize(1200, 700)
    tab.show()
    return tab


def select_rows(tab: ChargesTab, wanted: list[int]) -> None:
    """Select the rows at ``wanted`` as ctrl-clicks would."""
    tab.table.clearSelection()
    model = tab.table.selectionModel()
    from PySide6.QtCore import QItemSelectionModel

    for row in wanted:
        model.select(
            tab.table.model().index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


def field(dialog: CorrectionDialog, name: str) -> QLineEdit:
    editor = dialog.form.editors[name]
    assert isinstance(editor, QLineEdit)
    return editor


def statuses(db: Database) -> dict[int, ChargeStatus]:
    with db.reading() as session:
        rows = session.execute(select(Charge.id, Charge.status)).all()
    return {row[0]: row[1] for row in rows}


def flagged_row(tab: ChargesTab) -> int:
    return next(n for n, row in enumerate(tab.rows) if row.review_note)


# --- the queue -----------------------------------------------------------------------------


def test_the_queue_lists_captured_charges_with_their_totals(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    billing_scene(sqlite_db, no_show=True)
    tab = make_tab(qtbot, sqlite_db)
    assert tab.table.rowCount() == len(tab.rows) == 15
    assert tab.summary.text() == "15 charges to review · 1 needs a look · $2,750.00"
    first = [tab.table.item(0, column).text() for column in range(tab.table.columnCount())]
    assert first == [
        "12/01/2026",
        "Łukasiewicz, Zoë",
        "100001",
        "S-1",
        "96365",
        "",
        "IV infusion, first hour",
        "1",
        "$300.00",
        "$300.00",
        "1,2",
        "",
    ]
    fee = tab.rows.index(next(r for r in tab.rows if r.description == "No-show fee"))
    assert tab.table.item(fee, 4).text() == ""  # a clinic fee carries no code
    assert tab.table.item(fee, 9).text() == "$150.00"
    select_rows(tab, [flagged_row(tab)])
    assert "infusion's start or stop time" in tab.note.text() and tab.note.isVisible()


def test_a_location_filter_narrows_the_queue(qtbot: QtBot, sqlite_db: Database) -> None:
    billing_scene(sqlite_db)
    with sqlite_db.transaction() as session:
        add_location(session, "BKN", name="KetaDesk Brooklyn")
    tab = make_tab(qtbot, sqlite_db)
    tab.location.setCurrentIndex(tab.location.findText("BKN — KetaDesk Brooklyn"))
    assert tab.table.rowCount() == 0
    assert tab.summary.text() == "Nothing to review"
    assert not tab.post_all_button.isEnabled()
    tab.location.setCurrentIndex(tab.location.findText("NYC — KetaDesk NYC"))
    assert tab.table.rowCount() == 14


def test_capture_runs_in_a_worker_and_fills_the_queue(qtbot: QtBot, sqlite_db: Database) -> None:
    billing_scene(sqlite_db, captured=False, no_show=True)
    tab = make_tab(qtbot, sqlite_db)
    assert tab.table.rowCount() == 0
    qtbot.mouseClick(tab.capture_button, Qt.MouseButton.LeftButton)
    assert tab.worker is not None and not tab.capture_button.isEnabled()  # while it runs
    qtbot.wait_until(lambda: tab.table.rowCount() == 15, timeout=20_000)
    assert tab.status.text() == "Captured 15 charges from 7 sessions."
    assert pending_count(sqlite_db) == 15
    qtbot.wait_until(tab.capture_button.isEnabled, timeout=5_000)
    qtbot.mouseClick(tab.capture_button, Qt.MouseButton.LeftButton)  # nothing new: none twice
    qtbot.wait_until(lambda: "No completed sessions" in tab.status.text(), timeout=20_000)
    assert pending_count(sqlite_db) == 15


# --- editing and dismissing ----------------------------------------------------------------


def test_editing_a_charge_checks_each_field_then_saves(qtbot: QtBot, sqlite_db: Database) -> None:
    billing_scene(sqlite_db)
    tab = make_tab(qtbot, sqlite_db)
    row = flagged_row(tab)
    charge_id = tab.rows[row].charge_id
    select_rows(tab, [row])
    qtbot.mouseClick(tab.edit_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, ChargeDialog)
    assert "Needs a look" in dialog.heading.text()
    assert field(dialog, "code").text() == "96365"
    type_text(qtbot, field(dialog, "units"), "two")
    type_text(qtbot, field(dialog, "unit_price"), "300.001")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.form.error_text("units") and dialog.form.error_text("unit_price")
    with sqlite_db.reading() as session:
        assert session.get(Charge, charge_id).amount == Decimal("0.00")  # nothing changed
    type_text(qtbot, field(dialog, "units"), "1")
    type_text(qtbot, field(dialog, "unit_price"), "300.00")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    with sqlite_db.reading() as session:
        charge = session.get(Charge, charge_id)
        assert (charge.amount, charge.review_note) == (Decimal("300.00"), "")
    assert tab.summary.text() == "14 charges to review · $2,900.00"
    assert tab.status.text() == "Saved the 96365 charge of 阮, 文英."


def test_dismissing_needs_a_reason_and_removes_the_rows(qtbot: QtBot, sqlite_db: Database) -> None:
    billing_scene(sqlite_db)
    tab = make_tab(qtbot, sqlite_db)
    chosen = [tab.rows[0].charge_id, tab.rows[1].charge_id]
    select_rows(tab, [0, 1])
    qtbot.mouseClick(tab.dismiss_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, ReasonDialog)
    assert "2 charges ($400.00)" in dialog.heading.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "say why" in dialog.form.error_text("reason")
    assert all(statuses(sqlite_db)[c] is ChargeStatus.PENDING for c in chosen)
    type_text(qtbot, field(dialog, "reason"), "captured twice")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert all(statuses(sqlite_db)[c] is ChargeStatus.DISMISSED for c in chosen)
    assert tab.table.rowCount() == 12
    assert tab.status.text() == "Dismissed 2 charges."


# --- posting -------------------------------------------------------------------------------


def test_posting_selected_charges_asks_with_count_and_total_then_posts(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    scene = billing_scene(sqlite_db)
    zoe = scene.patients["Zoë Łukasiewicz"]
    answers = Answers(answer=False)
    tab = make_tab(qtbot, sqlite_db, answers=answers)
    select_rows(tab, [0, 1, 2])
    qtbot.mouseClick(tab.post_selected_button, Qt.MouseButton.LeftButton)
    assert answers.questions == [
        "Post 3 charges totalling $550.00? Posted charges are final: "
        "they go on the patients' ledgers."
    ]
    assert balance(sqlite_db, zoe) == Decimal("0.00")  # "No": nothing posted
    answers.answer = True
    qtbot.mouseClick(tab.post_selected_button, Qt.MouseButton.LeftButton)
    assert balance(sqlite_db, zoe) == Decimal("550.00")
    assert tab.status.text() == "Posted 3 charges ($550.00)."
    assert tab.table.rowCount() == 11


def test_post_all_refuses_in_words_while_a_charge_has_no_price(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    billing_scene(sqlite_db)
    answers = Answers()
    tab = make_tab(qtbot, sqlite_db, answers=answers)
    qtbot.mouseClick(tab.post_all_button, Qt.MouseButton.LeftButton)
    assert "1 of them still carry a note" in answers.questions[0]
    assert tab.status.refused
    assert tab.status.text().startswith("Nothing was posted:")
    assert "is still at $0.00" in tab.status.text()
    assert pending_count(sqlite_db) == 14


def test_without_charge_review_the_buttons_say_why(qtbot: QtBot, sqlite_db: Database) -> None:
    billing_scene(sqlite_db)
    tab = make_tab(qtbot, sqlite_db, actor=FRONT)
    assert tab.table.rowCount() == 14  # the queue can be read
    select_rows(tab, [0])
    for button in (
        tab.capture_button,
        tab.edit_button,
        tab.dismiss_button,
        tab.post_selected_button,
        tab.post_all_button,
    ):
        assert not button.isEnabled()
        assert (
            button.toolTip() == "Your role (Front desk) may not review charges, invoices "
            "and estimates."
        )
    assert tab.post_all() == 0 and pending_count(sqlite_db) == 14


# --- the area ------------------------------------------------------------------------------


def test_the_billing_area_shows_its_tabs_in_working_order(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    from ketadesk.ui.billing.view import LATER_TABS, BillingView
    from ketadesk.ui.main_window import MainWindow

    billing_scene(sqlite_db)
    window = MainWindow(AppContext(sqlite_db, BILLING), initial="billing")
    qtbot.add_widget(window)
    view = window.area("billing")
    assert isinstance(view, BillingView)
    assert view.titles == [
        "Charges to review",
        "Invoices",
        "Claims",
        "Credits & prepayments",
        "Packages",
        "Estimates",
        "Superbills",
    ]
    assert view.tabs.tabText(3) == "Credits && prepayments"  # shown as "&", not a shortcut
    assert view.tabs.currentWidget() is view.charges
    assert view.charges.table.rowCount() == 14
    for module_name, class_name, title in LATER_TABS:
        tab = view.tab(title)
        built = tab.__class__.__name__ == class_name
        notice = tab.findChild(QLabel, "tabNotInBuild")
        assert built or (notice is not None and title in notice.text()), module_name


def test_showing_a_tab_reads_it_again(qtbot: QtBot, sqlite_db: Database) -> None:
    from ketadesk.ui.billing.view import BillingView

    scene = billing_scene(sqlite_db, posted=True)
    view = BillingView(AppContext(sqlite_db, BILLING), today=lambda: TODAY)
    qtbot.add_widget(view)
    assert view.invoices.table.rowCount() == 0
    with sqlite_db.transaction() as session:
        from ketadesk.billing.invoices import create_invoice

        create_invoice(session, BILLING, patient_id=scene.patients["Ana Ng"], today=TODAY)
    view.show_tab("Invoices")
    assert view.invoices.table.rowCount() == 1


def test_clinical_staff_are_told_billing_is_not_theirs(qtbot: QtBot, sqlite_db: Database) -> None:
    from ketadesk.ui.billing.view import BillingView

    view = BillingView(AppContext(sqlite_db, Actor("nurse-kim", Role.CLINICAL)))
    qtbot.add_widget(view)
    refused = view.findChild(QLabel, "billingRefused")
    assert refused is not None
    assert refused.text() == "Your role (Clinical) may not view patient accounts and billing."
    assert view.tabs.count() == 0
