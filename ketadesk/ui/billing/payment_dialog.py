"""Take a payment: how much, how it was paid, and what it pays.

Used from the Billing area's invoices, from the patient chart and at check-out, so it needs
only the context and a patient: ``TakePaymentDialog(context, patient_id, invoice_id=…,
amount=…)``.

Flow: :func:`load_setup` reads, in one read-only session, the patient's name, balance, the
charges still owed (oldest first), the invoices that can take a payment and the amount above
which a payment is out of all proportion (:func:`~ketadesk.billing.payments.unusual_threshold`).
The person types
an amount (``450``, ``$1,200.50``), picks a method, a reference (card slip, check number)
and what to apply it to — the oldest charges first, one invoice, or only the charges they
tick. Until they type an amount themselves the amount follows that choice (the invoice's
balance due, the ticked charges' sum). "Take payment" reads the amount with
:func:`~ketadesk.ui.billing.parse_amount` (a bad one is refused beside the field, and
nothing is written), asks before taking an amount above that threshold (``No`` writes
nothing) and calls :func:`ketadesk.billing.payments.take_payment` inside one
``db.transaction()``; a refusal is shown in the dialog, in words.

Once saved the dialog stays open and says what happened — received, applied to which
charges, any credit left, the new balance — offers the receipt as a PDF, and emits
:attr:`TakePaymentDialog.paid` so whoever opened it can refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.invoices import list_invoices, patient_location
from ketadesk.billing.models import PaymentMethod
from ketadesk.billing.payments import (
    PaymentResult,
    take_payment,
    unusual_amount,
    unusual_threshold,
)
from ketadesk.billing.views import InvoiceState
from ketadesk.clinic.locations import list_locations
from ketadesk.clinic.models import Patient
from ketadesk.errors import FieldProblem, NotFound, ValidationError
from ketadesk.money import ZERO
from ketadesk.ui.billing import (
    Clock,
    Confirm,
    ask,
    attempt_in,
    guard,
    read_amount,
)
from ketadesk.ui.billing.pdf import Opener, PdfButton
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import balance_text, dollars, us_date
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.style import ACCENT_SOFT, INK, LINE, set_role

OLDEST = "oldest"
TICKED = "ticked"
INVOICE_PREFIX = "invoice:"
PAYABLE_STATES = frozenset({InvoiceState.ISSUED, InvoiceState.PARTLY_PAID})
OUTCOME_STYLE = (
    f"background: {ACCENT_SOFT}; border: 1px solid {LINE}; border-radius: 6px; "
    f"padding: 8px 10px; color: {INK};"
)


@dataclass(frozen=True)
class OpenCharge:
    """A debit still owed, as the dialog lists it."""

    entry_id: int
    on: date
    description: str
    amount: Decimal
    owed: Decimal

    @property
    def label(self) -> str:
        return f"{us_date(self.on)}  {self.description} — {dollars(self.owed)} owed"


@dataclass(frozen=True)
class InvoiceChoice:
    id: int
    number: str
    state: InvoiceState
    balance_due: Decimal

    @property
    def label(self) -> str:
        return f"Invoice {self.number} ({self.state.label}, {dollars(self.balance_due)} due)"


@dataclass(frozen=True)
class PaymentSetup:
    """What the dialog shows before a payment: who, what they owe and on what."""

    patient_id: int
    mrn: str
    name: str
    balance: Decimal
    charges: tuple[OpenCharge, ...]
    invoices: tuple[InvoiceChoice, ...]
    # Where the payment is booked when no charge or home location says: asked only then.
    locations: tuple[tuple[int, str], ...] = ()
    # Above this, the dialog asks whether the amount is right before taking it.
    unusual_above: Decimal | None = None


def load_setup(
    session: Session, actor: Actor, patient_id: int, invoice_id: int | None = None
) -> PaymentSetup:
    """Read the patient, balance, open charges and payable invoices (plus ``invoice_id``)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"there is no patient with id {patient_id}")
    charges = tuple(
        OpenCharge(o.entry.id, o.entry.posted_on, o.entry.description, o.entry.amount, o.left)
        for o in ledger.open_debits(session, patient_id)
    )
    invoices = tuple(
        InvoiceChoice(row.id, row.number, row.state, row.balance_due)
        for row in list_invoices(session, actor, patient_id=patient_id).rows
        if row.state in PAYABLE_STATES or row.id == invoice_id
    )
    locations: tuple[tuple[int, str], ...] = ()
    if patient_location(session, patient) is None:
        locations = tuple(
            (loc.id, f"{loc.code} — {loc.name}") for loc in list_locations(session, actor)
        )
    return PaymentSetup(
        patient_id=patient.id,
        mrn=patient.mrn,
        name=patient.display_name,
        balance=ledger.balance(session, patient_id),
        charges=charges,
        invoices=invoices,
        locations=locations,
        unusual_above=unusual_threshold(session),
    )


def receipt_pdf(context: AppContext, entry_id: int) -> tuple[bytes, str]:
    """The receipt of payment ``entry_id`` as a PDF, and its file name."""
    from ketadesk.billing.account import payment_receipt
    from ketadesk.documents.letterhead import document_filename
    from ketadesk.documents.receipt import render_receipt

    with context.db.transaction() as session:  # the read is audited
        view = payment_receipt(session, context.actor, entry_id)
    return render_receipt(view), document_filename("receipt", view)


def outcome_text(result: PaymentResult, method: PaymentMethod, balance: Decimal) -> str:
    """What a saved payment did, in a few sentences."""
    parts = [f"Received {dollars(result.amount)} by {method.label}."]
    if result.applied > ZERO:
        count = len({debit for debit, _amount in result.allocations})
        noun = "charge" if count == 1 else "charges"
        parts.append(f"Applied {dollars(result.applied)} to {count} {noun}.")
    if result.credit > ZERO:
        parts.append(f"{dollars(result.credit)} kept as credit on the account.")
    parts.append(f"Balance now {balance_text(balance)}.")
    return " ".join(parts)


class TakePaymentDialog(QDialog):
    """Amount, method, reference and what to apply it to; the receipt once saved."""

    paid = Signal(int)  # the payment's ledger entry id

    def __init__(
        self,
        context: AppContext,
        patient_id: int,
        *,
        invoice_id: int | None = None,
        amount: Decimal | None = None,
        today: Clock | None = None,
        opener: Opener | None = None,
        confirm: Confirm = ask,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.patient_id = patient_id
        self.today = today or date.today
        self.confirm = confirm
        self.payment: PaymentResult | None = None
        self._auto_amount = amount is None  # the amount follows the choice until typed
        with context.db.reading() as session:
            self.setup = load_setup(session, context.actor, patient_id, invoice_id)
        self.setWindowTitle(f"Take payment — {self.setup.name}")
        self.setMinimumWidth(620)
        column = QVBoxLayout(self)
        column.addWidget(self._heading())
        self.form = FieldForm()
        self._build_form()
        column.addWidget(self.form)
        self.outcome = QLabel()
        self.outcome.setObjectName("paymentOutcome")
        self.outcome.setWordWrap(True)
        self.outcome.setStyleSheet(OUTCOME_STYLE)
        self.outcome.hide()
        column.addWidget(self.outcome)
        column.addWidget(self._buttons(opener))
        if invoice_id is not None:
            self._choose(f"{INVOICE_PREFIX}{invoice_id}")
        if amount is not None:
            self.amount.setText(format(amount, "f"))
        self._follow_choice()

    # --- building ----------------------------------------------------------------------

    def _heading(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(10, 4, 10, 0)
        name = QLabel(f"<b>{self.setup.name}</b> · MRN {self.setup.mrn}")
        name.setObjectName("dialogHeading")
        self.balance_label = QLabel(self._balance_words(self.setup.balance))
        self.balance_label.setObjectName("currentBalance")
        set_role(self.balance_label, "muted")
        column.addWidget(name)
        column.addWidget(self.balance_label)
        return box

    @staticmethod
    def _balance_words(balance: Decimal) -> str:
        if balance == ZERO:
            return "Nothing is owed on the account."
        return f"Balance: {balance_text(balance)}"

    def _build_form(self) -> None:
        form = self.form
        self.amount = form.add_text("amount", "Amount", placeholder="e.g. 450.00", required=True)
        self.amount.textEdited.connect(self._typed_amount)
        self.method = form.add_choice(
            "method", "Method", [(m.value, m.label) for m in PaymentMethod], required=True
        )
        self.method.setCurrentIndex(self.method.findData(PaymentMethod.CARD.value))
        form.add_text("reference", "Reference", placeholder="card slip, check number (optional)")
        self.apply_to = form.add_choice("apply_to", "Apply to", self._apply_choices())
        self.apply_to.currentIndexChanged.connect(self._apply_changed)
        self.charges = form.add_checklist("entry_ids", "Open charges", [])
        self._list_charges()
        self.charges.itemChanged.connect(self._ticks_changed)
        form.add_text("note", "Note", placeholder="optional")
        if self.setup.locations:
            form.add_choice(
                "location",
                "Taken at",
                [(str(key), text) for key, text in self.setup.locations],
                required=True,
            )

    def _list_charges(self, caption: str = "") -> None:
        """Offer the charges still owed (all unticked); say so when there are none."""
        self.charges.blockSignals(True)
        self.charges.set_choices([(str(c.entry_id), c.label) for c in self.setup.charges])
        if not self.setup.charges:
            QListWidgetItem("No charges are owed.", self.charges)
            self.charges.setEnabled(False)
        self.charges.blockSignals(False)
        row = self.charges.parentWidget()
        if caption and row is not None:
            label = self.form.layout_.labelForField(row)
            if isinstance(label, QLabel):
                label.setText(caption)

    def _apply_choices(self) -> list[tuple[str, str]]:
        if not self.setup.charges:
            return [(OLDEST, "Nothing is owed: keep it as credit")]
        choices = [(OLDEST, "Oldest charges first")]
        choices += [(f"{INVOICE_PREFIX}{i.id}", i.label) for i in self.setup.invoices]
        choices.append((TICKED, "Only the charges ticked below"))
        return choices

    def _buttons(self, opener: Opener | None) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox()
        self.save_button = QPushButton("Take payment")
        self.save_button.setObjectName("takePayment")
        set_role(self.save_button, "primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.submit)
        guard(self.save_button, self.context.actor, Permission.PAYMENT_TAKE)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.receipt_button = PdfButton(self._receipt, text="Receipt PDF", opener=opener)
        self.receipt_button.setObjectName("receiptPdf")
        self.buttons.addButton(self.receipt_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.receipt_button.hide()  # after addButton, which shows it: a receipt needs a payment
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button.clicked.connect(self._close)
        return self.buttons

    # --- following the choice ------------------------------------------------------------

    def _choose(self, value: str) -> None:
        index = self.apply_to.findData(value)
        if index >= 0:
            self.apply_to.setCurrentIndex(index)

    def _typed_amount(self, _text: str) -> None:
        self._auto_amount = False

    def _apply_changed(self, _index: int) -> None:
        if self.apply_to.currentData() != TICKED:
            self.charges.blockSignals(True)
            self.charges.set_checked([])
            self.charges.blockSignals(False)
        self._follow_choice()

    def _ticks_changed(self, _item: QListWidgetItem) -> None:
        if self.charges.checked() and self.apply_to.currentData() != TICKED:
            self.apply_to.blockSignals(True)
            self._choose(TICKED)
            self.apply_to.blockSignals(False)
        self._follow_choice()

    def suggested_amount(self) -> Decimal:
        """What the chosen target still owes (0 when nothing)."""
        choice = str(self.apply_to.currentData())
        if choice.startswith(INVOICE_PREFIX):
            wanted = int(choice.removeprefix(INVOICE_PREFIX))
            return next((i.balance_due for i in self.setup.invoices if i.id == wanted), ZERO)
        if choice == TICKED:
            ticked = set(self.charges.checked())
            return sum((c.owed for c in self.setup.charges if str(c.entry_id) in ticked), ZERO)
        return max(self.setup.balance, ZERO)

    def _follow_choice(self) -> None:
        if self._auto_amount:
            suggested = self.suggested_amount()
            self.amount.setText(format(suggested, "f") if suggested > ZERO else "")

    # --- saving --------------------------------------------------------------------------

    def submit(self) -> PaymentResult | None:
        """Take the payment in one transaction; show the outcome or the refusal."""
        if self.payment is not None:
            return self.payment
        result = attempt_in(self.form, self._take)
        if result is not None:
            self.payment = result
            self._show_outcome(result)
            self.paid.emit(result.entry_id)
        return result

    def _take(self) -> PaymentResult | None:
        values = self.form.values()
        problems: list[FieldProblem] = []
        amount = read_amount(str(values["amount"]), "amount", problems)
        choice = str(values["apply_to"])
        entry_ids: Sequence[int] | None = None
        invoice_id: int | None = None
        if choice == TICKED:
            entry_ids = [int(v) for v in self.charges.checked()]
            if not entry_ids:
                problems.append(FieldProblem("entry_ids", "tick the charges this payment is for"))
        elif choice.startswith(INVOICE_PREFIX):
            invoice_id = int(choice.removeprefix(INVOICE_PREFIX))
        if problems or amount is None:
            raise ValidationError(problems)
        if not self._amount_confirmed(amount):
            return None
        location = values.get("location")
        with self.context.db.transaction() as session:
            return take_payment(
                session,
                self.context.actor,
                patient_id=self.patient_id,
                amount=amount,
                method=PaymentMethod(str(values["method"])),
                on=self.today(),
                reference=str(values["reference"]).strip(),
                invoice_id=invoice_id,
                entry_ids=entry_ids,
                note=str(values["note"]).strip(),
                location_id=int(str(location)) if location is not None else None,
            )

    def _amount_confirmed(self, amount: Decimal) -> bool:
        """True unless ``amount`` is out of all proportion and the person says it is wrong;
        then the banner says nothing was taken."""
        threshold = self.setup.unusual_above
        question = unusual_amount(amount, threshold) if threshold is not None else None
        if question is None or self.confirm(self, "Check the amount", question):
            return True
        self.form.banner.setText(f"Nothing was taken: {dollars(amount)} was not confirmed.")
        self.form.banner.show()
        self.amount.setFocus()
        return False

    def _show_outcome(self, result: PaymentResult) -> None:
        with self.context.db.reading() as session:
            self.setup = load_setup(session, self.context.actor, self.patient_id)
        balance = self.setup.balance
        self.balance_label.setText(self._balance_words(balance))
        self._list_charges("Still owed")
        method = PaymentMethod(str(self.method.currentData()))
        self.outcome.setText(outcome_text(result, method, balance))
        self.outcome.show()
        for editor in self.form.editors.values():
            editor.setEnabled(False)
        self.save_button.hide()
        self.receipt_button.show()
        self.close_button.setText("Close")

    def _receipt(self) -> tuple[bytes, str]:
        if self.payment is None:
            raise NotFound("take the payment first; its receipt comes after")
        return receipt_pdf(self.context, self.payment.entry_id)

    def _close(self) -> None:
        if self.payment is not None:
            self.accept()
        else:
            self.reject()
