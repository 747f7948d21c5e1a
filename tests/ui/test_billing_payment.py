"""Taking a payment and correcting money, driven as the front desk and billing office do.

Each test types into the real dialog, clicks its buttons, and then reads the ledger
(``ledger.balance``, the entries) to see what really changed — or that nothing did.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select
from ui.billing_ui_helpers import TODAY, Opened, Scene, balance, billing_scene, type_text

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.invoices import create_invoice, issue_invoice
from ketadesk.billing.models import EntryKind, LedgerEntry, PaymentMethod
from ketadesk.db import Database
from ketadesk.ui.billing import Confirm, parse_amount
from ketadesk.ui.billing.corrections import AdjustmentDialog, RefundDialog, ReversalDialog
from ketadesk.ui.billing.payment_dialog import TakePaymentDialog
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import balance_text, dollars

pytestmark = pytest.mark.gui

FRONT = Actor(username="desk-dana", role=Role.FRONT_DESK)
BILLING = Actor(username="billing-carmen", role=Role.BILLING)
ZOE = "Zoë Łukasiewicz"


@pytest.fixture
def scene(sqlite_db: Database) -> Scene:
    return billing_scene(sqlite_db, posted=True)


def entries(db: Database, kind: EntryKind) -> int:
    with db.reading() as session:
        return (
            session.scalar(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == kind)
            )
            or 0
        )


def payment_dialog(
    qtbot: QtBot,
    db: Database,
    patient_id: int,
    actor: Actor = FRONT,
    *,
    invoice_id: int | None = None,
    opener: Opened | None = None,
    confirm: Confirm | None = None,
) -> TakePaymentDialog:
    dialog = TakePaymentDialog(
        AppContext(db, actor),
        patient_id,
        invoice_id=invoice_id,
        today=lambda: TODAY,
        opener=opener,
        **({"confirm": confirm} if confirm is not None else {}),
    )
    qtbot.add_widget(dialog)
    dialog.show()
    return dialog


def editor(
    dialog: TakePaymentDialog | RefundDialog | AdjustmentDialog | ReversalDialog, name: str
) -> QLineEdit:
    found = dialog.form.editors[name]
    assert isinstance(found, QLineEdit)
    return found


def pick(
    dialog: TakePaymentDialog | RefundDialog | AdjustmentDialog, name: str, value: str
) -> None:
    combo = dialog.form.editors[name]
    assert isinstance(combo, QComboBox)
    index = combo.findData(value)
    assert index >= 0, value
    combo.setCurrentIndex(index)


# --- formatting ----------------------------------------------------------------------------


def test_money_is_shown_in_dollars_and_a_negative_balance_as_credit() -> None:
    assert dollars(Decimal("1234.5")) == "$1,234.50"
    assert dollars(Decimal("-0.05")) == "-$0.05"
    assert balance_text(Decimal("120.00")) == "$120.00"
    assert balance_text(Decimal("-50.00")) == "$50.00 credit"
    assert parse_amount(" $1,200.50 ") == Decimal("1200.50")


# --- taking a payment ------------------------------------------------------------------------


def test_a_card_payment_pays_the_oldest_charges_and_says_so(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe = scene.patients[ZOE]
    before = balance(sqlite_db, zoe)
    with sqlite_db.reading() as session:
        oldest = [(o.entry.id, o.left) for o in ledger.open_debits(session, zoe)[:2]]
    dialog = payment_dialog(qtbot, sqlite_db, zoe)
    assert dialog.balance_label.text() == f"Balance: {dollars(before)}"
    assert dialog.charges.count() == 5  # 96365, 96366, J3490 on 12/01; 96365, J3490 on 12/03
    type_text(qtbot, editor(dialog, "amount"), "400")
    pick(dialog, "method", PaymentMethod.CARD.value)
    type_text(qtbot, editor(dialog, "reference"), "slip 0042")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert balance(sqlite_db, zoe) == before - Decimal("400.00")
    assert dialog.payment is not None and dialog.payment.applied == Decimal("400.00")
    with sqlite_db.reading() as session:
        payment = ledger.get_entry(session, dialog.payment.entry_id)
        assert (payment.method, payment.reference, payment.posted_on) == (
            PaymentMethod.CARD,
            "slip 0042",
            TODAY,
        )
    # oldest first: the $300 first hour and $100 additional hour of 12/01
    assert dialog.payment.allocations == tuple(oldest)
    assert [amount for _id, amount in oldest] == [Decimal("300.00"), Decimal("100.00")]
    shown = dialog.outcome.text()
    assert "Received $400.00 by Card." in shown
    assert "Applied $400.00 to 2 charges." in shown
    assert f"Balance now {dollars(before - Decimal('400.00'))}." in shown
    assert dialog.save_button.isHidden() and not dialog.receipt_button.isHidden()
    assert dialog.close_button.text() == "Close"


def test_a_bad_amount_is_refused_beside_the_field_and_nothing_is_written(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe = scene.patients[ZOE]
    before = balance(sqlite_db, zoe)
    dialog = payment_dialog(qtbot, sqlite_db, zoe)
    for typed, words in (
        ("forty", "is not an amount of money"),
        ("12.345", "fraction of a cent"),
        ("0", "above zero"),
        ("", "enter an amount"),
    ):
        type_text(qtbot, editor(dialog, "amount"), typed)
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert words in dialog.form.error_text("amount"), typed
        assert dialog.payment is None
    assert balance(sqlite_db, zoe) == before
    assert entries(sqlite_db, EntryKind.PAYMENT) == 0
    assert not dialog.save_button.isHidden()


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("45,00", "comma for cents"),
        ("1e3", "with an exponent"),
        ("1.000,00", "comma for cents"),
        ("1_000", "has an underscore"),
        ("\u0664\u0665", "digits other than 0-9"),
        ("1e999999", "with an exponent"),
        ("9" * 40, "larger than the most one entry may hold"),
    ],
)
def test_an_amount_a_reader_could_take_two_ways_is_refused_in_words(
    qtbot: QtBot, sqlite_db: Database, scene: Scene, typed: str, words: str
) -> None:
    zoe = scene.patients[ZOE]
    before = balance(sqlite_db, zoe)
    dialog = payment_dialog(qtbot, sqlite_db, zoe)
    if typed.isascii():
        type_text(qtbot, editor(dialog, "amount"), typed)
    else:  # QTest cannot type keys outside Latin-1; pasted, as from another program
        editor(dialog, "amount").clear()
        editor(dialog, "amount").insert(typed)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert words in dialog.form.error_text("amount")
    assert dialog.payment is None
    assert balance(sqlite_db, zoe) == before
    assert entries(sqlite_db, EntryKind.PAYMENT) == 0


def test_an_amount_far_above_any_fee_asks_and_no_posts_nothing(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe = scene.patients[ZOE]
    before = balance(sqlite_db, zoe)
    asked: list[str] = []
    answers = [False, True]

    def confirm(_parent: object, _title: str, question: str) -> bool:
        asked.append(question)
        return answers.pop(0)

    dialog = payment_dialog(qtbot, sqlite_db, zoe, confirm=confirm)
    threshold = dialog.setup.unusual_above
    assert threshold is not None
    too_much = threshold + Decimal("0.01")
    type_text(qtbot, editor(dialog, "amount"), f"{too_much:,}")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and dollars(too_much) in asked[0]
    assert "Nothing was taken" in dialog.form.banner.text()
    assert dialog.payment is None and entries(sqlite_db, EntryKind.PAYMENT) == 0

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)  # asked again: yes
    assert len(asked) == 2 and dialog.payment is not None
    assert balance(sqlite_db, zoe) == before - too_much


def test_an_ordinary_amount_is_taken_without_a_question(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    def confirm(_parent: object, _title: str, question: str) -> bool:
        raise AssertionError(f"asked about an ordinary amount: {question}")

    dialog = payment_dialog(qtbot, sqlite_db, scene.patients[ZOE], confirm=confirm)
    threshold = dialog.setup.unusual_above
    assert threshold is not None
    type_text(qtbot, editor(dialog, "amount"), f"${threshold:,}")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.payment is not None and dialog.payment.amount == threshold


def test_paying_more_than_is_owed_leaves_credit_shown_as_credit(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    ana = scene.patients["Ana Ng"]
    owed = balance(sqlite_db, ana)
    dialog = payment_dialog(qtbot, sqlite_db, ana)
    assert editor(dialog, "amount").text() == format(owed, "f")  # offered: all that is owed
    type_text(qtbot, editor(dialog, "amount"), format(owed + Decimal("50"), "f"))
    pick(dialog, "method", PaymentMethod.CASH.value)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert balance(sqlite_db, ana) == Decimal("-50.00")
    assert "$50.00 kept as credit on the account." in dialog.outcome.text()
    assert "Balance now $50.00 credit." in dialog.outcome.text()
    assert dialog.balance_label.text() == "Balance: $50.00 credit"


def test_ticking_charges_pays_only_those(qtbot: QtBot, sqlite_db: Database, scene: Scene) -> None:
    zoe = scene.patients[ZOE]
    with sqlite_db.reading() as session:
        last = ledger.open_debits(session, zoe)[-1]
        wanted, owed = last.entry.id, last.left
    dialog = payment_dialog(qtbot, sqlite_db, zoe)
    dialog.charges.set_checked_value(str(wanted))
    assert dialog.apply_to.currentData() == "ticked"  # ticking chose "only these"
    assert editor(dialog, "amount").text() == format(owed, "f")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.payment is not None
    assert dialog.payment.allocations == ((wanted, owed),)


def test_choosing_ticked_charges_without_ticking_any_is_refused(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    dialog = payment_dialog(qtbot, sqlite_db, scene.patients[ZOE])
    pick(dialog, "apply_to", "ticked")
    type_text(qtbot, editor(dialog, "amount"), "100")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.form.error_text("entry_ids") == "tick the charges this payment is for"
    assert entries(sqlite_db, EntryKind.PAYMENT) == 0


def test_opened_for_an_invoice_it_pays_that_invoice(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    ana = scene.patients["Ana Ng"]
    admin = Actor("test-admin", Role.ADMIN)
    with sqlite_db.transaction() as session:
        invoice = create_invoice(
            session, admin, patient_id=ana, today=TODAY, date_from=TODAY.replace(day=4)
        )
        issue_invoice(session, admin, invoice.id, on=TODAY)
        invoice_id, number = invoice.id, invoice.number
    dialog = payment_dialog(qtbot, sqlite_db, ana, invoice_id=invoice_id)
    assert dialog.apply_to.currentData() == f"invoice:{invoice_id}"
    assert number in dialog.apply_to.currentText()
    assert editor(dialog, "amount").text() == "550.00"  # 96365 + 96366 + J3490 of 12/04
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.payment is not None and dialog.payment.applied == Decimal("550.00")
    assert balance(sqlite_db, ana) == Decimal("450.00")  # the 12/02 visit is still owed


def test_the_receipt_button_opens_a_pdf(qtbot: QtBot, sqlite_db: Database, scene: Scene) -> None:
    pytest.importorskip("ketadesk.documents.receipt")
    opened = Opened()
    dialog = payment_dialog(qtbot, sqlite_db, scene.patients[ZOE], opener=opened)
    type_text(qtbot, editor(dialog, "amount"), "125.00")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.receipt_button, Qt.MouseButton.LeftButton)
    assert len(opened.paths) == 1 and opened.paths[0].endswith(".pdf")
    assert opened.last_bytes().startswith(b"%PDF")


# --- corrections ---------------------------------------------------------------------------


def test_a_refund_needs_a_reason_then_pays_credit_back(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    ana = scene.patients["Ana Ng"]
    owed = balance(sqlite_db, ana)
    pay = payment_dialog(qtbot, sqlite_db, ana)
    type_text(qtbot, editor(pay, "amount"), format(owed + Decimal("80"), "f"))
    qtbot.mouseClick(pay.save_button, Qt.MouseButton.LeftButton)
    assert balance(sqlite_db, ana) == Decimal("-80.00")

    dialog = RefundDialog(AppContext(sqlite_db, BILLING), ana, today=lambda: TODAY)
    qtbot.add_widget(dialog)
    dialog.show()
    assert "Credit that can be refunded: $80.00" in dialog.heading.text()
    assert editor(dialog, "amount").text() == "80.00"
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)  # no reason yet
    assert "say why" in dialog.form.error_text("note")
    assert entries(sqlite_db, EntryKind.REFUND) == 0
    type_text(qtbot, editor(dialog, "amount"), "100.00")
    type_text(qtbot, editor(dialog, "note"), "overpaid at check-out")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "has $80.00 of credit" in dialog.form.banner.text()  # the service refused, in words
    assert entries(sqlite_db, EntryKind.REFUND) == 0
    type_text(qtbot, editor(dialog, "amount"), "80")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert balance(sqlite_db, ana) == Decimal("0.00")
    with sqlite_db.reading() as session:
        refund = session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == EntryKind.REFUND)
        ).one()
        assert (refund.amount, refund.note, refund.created_by) == (
            Decimal("80.00"),
            "overpaid at check-out",
            BILLING.username,
        )


def test_an_adjustment_against_a_ticked_charge_takes_it_off_with_a_reason(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe = scene.patients[ZOE]
    before = balance(sqlite_db, zoe)
    with sqlite_db.reading() as session:
        first = ledger.open_debits(session, zoe)[0].entry.id
    dialog = AdjustmentDialog(AppContext(sqlite_db, BILLING), zoe, today=lambda: TODAY)
    qtbot.add_widget(dialog)
    dialog.show()
    pick(dialog, "reason", "sliding_scale")
    dialog.charges.set_checked_value(str(first))
    assert editor(dialog, "amount").text() == "300.00"
    type_text(qtbot, editor(dialog, "amount"), "90")
    type_text(qtbot, editor(dialog, "note"), "sliding scale per income form")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert balance(sqlite_db, zoe) == before - Decimal("90.00")
    with sqlite_db.reading() as session:
        assert ledger.allocated_to(session, first) == Decimal("90.00")


def test_reversing_a_payment_makes_its_charges_owed_again(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe = scene.patients[ZOE]
    before = balance(sqlite_db, zoe)
    pay = payment_dialog(qtbot, sqlite_db, zoe)
    type_text(qtbot, editor(pay, "amount"), "200")
    qtbot.mouseClick(pay.save_button, Qt.MouseButton.LeftButton)
    assert pay.payment is not None
    dialog = ReversalDialog(
        AppContext(sqlite_db, BILLING), pay.payment.entry_id, today=lambda: TODAY
    )
    qtbot.add_widget(dialog)
    dialog.show()
    assert "Payment, Card" in dialog.heading.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "say why" in dialog.form.error_text("reason")
    type_text(qtbot, editor(dialog, "reason"), "card declined by the bank")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert balance(sqlite_db, zoe) == before
    assert entries(sqlite_db, EntryKind.REVERSAL) == 1


def test_the_front_desk_cannot_correct_money_and_is_told_why(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    zoe = scene.patients[ZOE]
    dialog = AdjustmentDialog(AppContext(sqlite_db, FRONT), zoe, today=lambda: TODAY)
    qtbot.add_widget(dialog)
    assert not dialog.ok_button.isEnabled()
    assert dialog.ok_button.toolTip() == (
        "Your role (Front desk) may not adjust, refund, reverse or void."
    )
    before = balance(sqlite_db, zoe)
    dialog.charges.set_checked_value(dialog.charges.item(0).data(Qt.ItemDataRole.UserRole))
    type_text(qtbot, editor(dialog, "note"), "courtesy")
    dialog.submit()  # even if the button were pressed, the service refuses
    assert "may not adjust, refund, reverse or void" in dialog.form.banner.text()
    assert balance(sqlite_db, zoe) == before


# --- credits & prepayments -----------------------------------------------------------------


def test_the_credits_tab_lists_credit_and_refunds_it(
    qtbot: QtBot, sqlite_db: Database, scene: Scene
) -> None:
    from ketadesk.ui.billing.view import CreditsTab

    ana = scene.patients["Ana Ng"]
    pay = payment_dialog(qtbot, sqlite_db, ana)
    type_text(qtbot, editor(pay, "amount"), format(balance(sqlite_db, ana) + 60, "f"))
    qtbot.mouseClick(pay.save_button, Qt.MouseButton.LeftButton)
    tab = CreditsTab(AppContext(sqlite_db, BILLING), today=lambda: TODAY)
    qtbot.add_widget(tab)
    assert tab.table.rowCount() == 1
    assert [tab.table.item(0, c).text() for c in range(5)] == [
        scene.mrns["Ana Ng"],
        "Ng, Ana",
        "$60.00",
        "$0.00",
        "$60.00",
    ]
    assert tab.summary.text() == "Credit $60.00 · prepaid $0.00 · in all $60.00"
    assert not tab.refund_button.isEnabled()  # nobody chosen yet
    tab.table.selectRow(0)
    qtbot.mouseClick(tab.refund_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, RefundDialog)
    type_text(qtbot, editor(dialog, "note"), "treatment ended early")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert balance(sqlite_db, ana) == Decimal("0.00")
    assert tab.table.rowCount() == 0
    assert tab.notice.text() == "Refunded credit to Ng, Ana."


def test_credit_can_be_applied_to_charges_posted_later(qtbot: QtBot, sqlite_db: Database) -> None:
    from ketadesk.billing.capture import capture_pending
    from ketadesk.billing.models import Charge, ChargeStatus
    from ketadesk.ui.billing.view import CreditsTab

    scene = billing_scene(sqlite_db, captured=False)
    zoe = scene.patients[ZOE]
    admin = Actor("test-admin", Role.ADMIN)
    pay = payment_dialog(qtbot, sqlite_db, zoe)  # a deposit: nothing is owed yet
    assert pay.apply_to.currentText() == "Nothing is owed: keep it as credit"
    type_text(qtbot, editor(pay, "amount"), "500")
    qtbot.mouseClick(pay.save_button, Qt.MouseButton.LeftButton)
    with sqlite_db.transaction() as session:  # charges posted without applying the credit
        capture_pending(session, admin, through=TODAY)
        for charge in session.scalars(
            select(Charge).where(Charge.patient_id == zoe, Charge.status == ChargeStatus.PENDING)
        ):
            ledger.post(
                session,
                admin,
                patient_id=zoe,
                location_id=charge.location_id,
                kind=EntryKind.CHARGE,
                amount=charge.amount,
                posted_on=charge.service_date,
                description=charge.description,
            )
    tab = CreditsTab(AppContext(sqlite_db, FRONT), today=lambda: TODAY)
    qtbot.add_widget(tab)
    tab.table.selectRow(0)
    assert not tab.refund_button.isEnabled()  # the front desk may not refund
    assert "may not adjust, refund, reverse or void" in tab.refund_button.toolTip()
    qtbot.mouseClick(tab.apply_button, Qt.MouseButton.LeftButton)
    assert tab.notice.text() == "Applied Łukasiewicz, Zoë's credit to 3 charges."
    assert tab.table.rowCount() == 0
    with sqlite_db.reading() as session:
        assert ledger.unapplied_credits(session, zoe) == []
