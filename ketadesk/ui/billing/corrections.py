"""Money corrections: refund credit, adjust charges, reverse an entry — each with a reason.

Every dialog here is a :class:`CorrectionDialog`: a heading naming the patient (or the
entry), a :class:`~ketadesk.ui.forms.FieldForm`, and an OK button that runs one billing
service inside one ``db.transaction()``. What was typed is read first (an amount through
:func:`~ketadesk.ui.billing.read_amount`, a reason that must not be blank); every problem is
shown beside its field at once and nothing is written. A refusal from the service is shown
in the dialog, in words, and the transaction rolls back. On success the dialog keeps the
service's answer in :attr:`CorrectionDialog.outcome`, emits :attr:`~CorrectionDialog.saved`
and closes.

* :class:`RefundDialog` — pays back unapplied credit (:func:`ketadesk.billing.payments.refund`);
* :class:`AdjustmentDialog` — a discount, sliding scale, courtesy or write-off against the
  charges ticked (:func:`ketadesk.billing.payments.adjust`);
* :class:`ReversalDialog` — undoes one ledger entry
  (:func:`~ketadesk.billing.payments.reverse_entry`);
* :class:`ReasonDialog` — any action that needs only a reason (dismissing a charge, voiding
  an invoice); the caller hands it the action.

They all need ``MONEY_CORRECT`` (dismissing a charge needs ``CHARGE_REVIEW``): for anyone
else the OK button is disabled with a tooltip saying why, and the services refuse anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

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
from ketadesk.billing.invoices import invoice_view
from ketadesk.billing.models import AdjustmentReason, PaymentMethod
from ketadesk.billing.payments import adjust, refund, reverse_entry
from ketadesk.clinic.models import Patient
from ketadesk.errors import FieldProblem, NotFound, ValidationError
from ketadesk.money import ZERO
from ketadesk.ui.billing import (
    Clock,
    attempt_in,
    guard,
    read_amount,
)
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import dollars, us_date
from ketadesk.ui.forms import FieldForm, require_hooks
from ketadesk.ui.style import set_role

# A package's adjustment is written by the package service when a session uses it; people
# choose among the others.
ADJUSTMENT_REASONS = tuple(r for r in AdjustmentReason if r is not AdjustmentReason.PACKAGE)


def reason_of(
    values: Mapping[str, object], problems: list[FieldProblem], field: str = "reason"
) -> str:
    """The typed reason, or a problem saying one is needed."""
    text = str(values.get(field) or "").strip()
    if not text:
        problems.append(FieldProblem(field, "say why; the reason is kept with the entry"))
    return text


def patient_heading(session: Session, patient_id: int) -> str:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"there is no patient with id {patient_id}")
    return f"<b>{patient.display_name}</b> · MRN {patient.mrn}"


class CorrectionDialog(QDialog):
    """A heading, a form and OK/Cancel; OK runs :meth:`act` in one write transaction."""

    ok_text = "Save"
    permission: Permission = Permission.MONEY_CORRECT
    saved = Signal(object)  # the service's answer

    def __init__(
        self,
        context: AppContext,
        title: str,
        heading: str,
        *,
        today: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today = today or date.today
        self.outcome: object = None
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.column = QVBoxLayout(self)
        self.heading = QLabel(heading)
        self.heading.setObjectName("dialogHeading")
        self.heading.setWordWrap(True)
        self.column.addWidget(self.heading)
        self.form = FieldForm()
        self.build(self.form)
        self.column.addWidget(self.form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button.setText(self.ok_text)
        set_role(self.ok_button, "primary")
        guard(self.ok_button, context.actor, self.permission)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.column.addWidget(self.buttons)

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        require_hooks(cls, ("build", "act"))

    if TYPE_CHECKING:

        def build(self, form: FieldForm) -> None:
            """Add this dialog's fields to ``form``."""

        def act(
            self, session: Session, values: Mapping[str, object], problems: list[FieldProblem]
        ) -> object:
            """Read ``values`` (adding to ``problems``), then call the service."""

    def submit(self) -> object:
        """Run the service; close on success, show the refusal in the dialog otherwise."""
        outcome = attempt_in(self.form, self._run)
        if outcome is not None:
            self.outcome = outcome
            self.saved.emit(outcome)
            self.accept()
        return outcome

    def _run(self) -> object:
        values = self.form.values()
        problems: list[FieldProblem] = []
        with self.context.db.transaction() as session:
            outcome = self.act(session, values, problems)
            if problems:  # whatever the service did rolls back with the refusal
                raise ValidationError(problems)
            return outcome

    def fail_early(self, problems: list[FieldProblem]) -> None:
        """Stop before calling the service when what was typed cannot be read."""
        if problems:
            raise ValidationError(problems)


class ReasonDialog(CorrectionDialog):
    """Asks for a reason and hands it to ``action(session, reason)``."""

    ok_text = "OK"

    def __init__(
        self,
        context: AppContext,
        title: str,
        heading: str,
        action: Callable[[Session, str], object],
        *,
        ok_text: str = "OK",
        permission: Permission = Permission.MONEY_CORRECT,
        placeholder: str = "",
        parent: QWidget | None = None,
    ) -> None:
        self.action = action
        self.permission = permission
        self.placeholder = placeholder
        super().__init__(context, title, heading, parent=parent)
        self.ok_button.setText(ok_text)

    def build(self, form: FieldForm) -> None:
        form.add_text("reason", "Reason", placeholder=self.placeholder, required=True)

    def act(
        self, session: Session, values: Mapping[str, object], problems: list[FieldProblem]
    ) -> object:
        reason = reason_of(values, problems)
        self.fail_early(problems)
        return self.action(session, reason)


# --- refund ----------------------------------------------------------------------------


def available_credit(session: Session, patient_id: int) -> Decimal:
    """Credit that may be paid back: unapplied payments, not package prepayments."""
    return sum((o.left for o in ledger.unapplied_credits(session, patient_id)), ZERO)


class RefundDialog(CorrectionDialog):
    """Pay back some or all of a patient's unapplied credit."""

    ok_text = "Refund"

    def __init__(
        self,
        context: AppContext,
        patient_id: int,
        *,
        today: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self.patient_id = patient_id
        with context.db.transaction() as session:  # reading the invoice is audited
            heading = patient_heading(session, patient_id)
            self.credit = available_credit(session, patient_id)
        heading += f"<br>Credit that can be refunded: {dollars(self.credit)}"
        super().__init__(context, "Refund credit", heading, today=today, parent=parent)

    def build(self, form: FieldForm) -> None:
        amount = form.add_text("amount", "Amount", placeholder="e.g. 50.00", required=True)
        if self.credit > ZERO:
            amount.setText(format(self.credit, "f"))
        method = form.add_choice(
            "method", "Paid back by", [(m.value, m.label) for m in PaymentMethod], required=True
        )
        method.setCurrentIndex(method.findData(PaymentMethod.CARD.value))
        form.add_text("reference", "Reference", placeholder="card slip, check number (optional)")
        form.add_text("note", "Reason", placeholder="e.g. overpaid at check-out", required=True)

    def act(
        self, session: Session, values: Mapping[str, object], problems: list[FieldProblem]
    ) -> object:
        amount = read_amount(str(values["amount"]), "amount", problems)
        note = reason_of(values, problems, "note")
        if problems or amount is None:
            raise ValidationError(problems)
        return refund(
            session,
            self.context.actor,
            patient_id=self.patient_id,
            amount=amount,
            method=PaymentMethod(str(values["method"])),
            note=note,
            on=self.today(),
            reference=str(values["reference"]).strip(),
        )


# --- adjustment ------------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    entry_id: int
    on: date
    description: str
    owed: Decimal

    @property
    def label(self) -> str:
        return f"{us_date(self.on)}  {self.description} — {dollars(self.owed)} owed"


def owed_charges(
    session: Session, actor: Actor, patient_id: int, invoice_id: int | None
) -> list[Owed]:
    """The charges an adjustment may reduce: the patient's open debits, or the invoice's."""
    if invoice_id is not None:
        view = invoice_view(session, actor, invoice_id)
        return [
            Owed(
                line.entry_id,
                line.service_date,
                " ".join(p for p in (line.code, line.description) if p),
                line.balance,
            )
            for line in view.lines
            if line.balance > ZERO
        ]
    return [
        Owed(o.entry.id, o.entry.posted_on, o.entry.description, o.left)
        for o in ledger.open_debits(session, patient_id)
    ]


class AdjustmentDialog(CorrectionDialog):
    """A discount, sliding scale, courtesy or write-off against the charges ticked."""

    ok_text = "Adjust"

    def __init__(
        self,
        context: AppContext,
        patient_id: int,
        *,
        invoice_id: int | None = None,
        entry_ids: Sequence[int] | None = None,
        today: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self.patient_id = patient_id
        self.invoice_id = invoice_id
        self._auto_amount = True
        with context.db.transaction() as session:  # reading the invoice is audited
            heading = patient_heading(session, patient_id)
            self.owed = owed_charges(session, context.actor, patient_id, invoice_id)
        ticked = (
            {str(i) for i in entry_ids}
            if entry_ids is not None
            else {str(o.entry_id) for o in self.owed}
            if invoice_id is not None
            else set()
        )
        super().__init__(context, "Adjust charges", heading, today=today, parent=parent)
        self.setMinimumWidth(700)  # the charges' lines are long
        self.charges.set_checked(ticked)
        self._follow_ticks()

    def build(self, form: FieldForm) -> None:
        form.add_choice(
            "reason", "Kind", [(r.value, r.label) for r in ADJUSTMENT_REASONS], required=True
        )
        self.charges = form.add_checklist(
            "entry_ids",
            "Against",
            [(str(o.entry_id), o.label) for o in self.owed],
            required=True,
        )
        if not self.owed:
            QListWidgetItem("No charges are owed.", self.charges)
            self.charges.setEnabled(False)
        self.charges.itemChanged.connect(lambda _item: self._follow_ticks())
        self.amount = form.add_text("amount", "Amount", placeholder="e.g. 100.00", required=True)
        self.amount.textEdited.connect(self._typed)
        form.add_text(
            "note", "Reason", placeholder="e.g. sliding scale per income form", required=True
        )

    def _typed(self, _text: str) -> None:
        self._auto_amount = False

    def _follow_ticks(self) -> None:
        """Until an amount is typed, offer the whole of what the ticked charges owe."""
        if not self._auto_amount:
            return
        ticked = set(self.charges.checked())
        total = sum((o.owed for o in self.owed if str(o.entry_id) in ticked), ZERO)
        self.amount.setText(format(total, "f") if total > ZERO else "")

    def act(
        self, session: Session, values: Mapping[str, object], problems: list[FieldProblem]
    ) -> object:
        amount = read_amount(str(values["amount"]), "amount", problems)
        note = reason_of(values, problems, "note")
        entry_ids = [int(v) for v in self.charges.checked()]
        if not entry_ids:
            problems.append(FieldProblem("entry_ids", "tick the charges to adjust"))
        if problems or amount is None:
            raise ValidationError(problems)
        return adjust(
            session,
            self.context.actor,
            patient_id=self.patient_id,
            amount=amount,
            reason=AdjustmentReason(str(values["reason"])),
            note=note,
            on=self.today(),
            entry_ids=entry_ids,
            invoice_id=self.invoice_id,
        )


# --- reversal --------------------------------------------------------------------------


def entry_heading(session: Session, entry_id: int) -> str:
    entry = ledger.get_entry(session, entry_id)
    patient = patient_heading(session, entry.patient_id)
    return (
        f"{patient}<br>{entry.kind.label} on {us_date(entry.posted_on)}: "
        f"{entry.description} — {dollars(abs(entry.amount))}"
        "<br>A reversal enters the opposite amount; the original stays on the ledger."
    )


class ReversalDialog(CorrectionDialog):
    """Undo one ledger entry with a reversal, for a reason."""

    ok_text = "Reverse"

    def __init__(
        self,
        context: AppContext,
        entry_id: int,
        *,
        today: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self.entry_id = entry_id
        with context.db.transaction() as session:  # reading the invoice is audited
            heading = entry_heading(session, entry_id)
        super().__init__(context, "Reverse an entry", heading, today=today, parent=parent)

    def build(self, form: FieldForm) -> None:
        form.add_text(
            "reason", "Reason", placeholder="e.g. card payment declined by the bank", required=True
        )

    def act(
        self, session: Session, values: Mapping[str, object], problems: list[FieldProblem]
    ) -> object:
        reason = reason_of(values, problems)
        self.fail_early(problems)
        return reverse_entry(session, self.context.actor, self.entry_id, reason, on=self.today())
