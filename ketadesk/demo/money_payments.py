"""The money stage's payments, adjustments and refunds, as the payment services make them.

:meth:`Payments.payment` is :func:`~ketadesk.billing.payments.take_payment` (to an
invoice's lines, else to everything owed, oldest first; the rest stays as credit),
:meth:`Payments.adjust` is :func:`~ketadesk.billing.payments.adjust`,
:meth:`Payments.refund` is :func:`~ketadesk.billing.payments.refund` out of ordinary credit,
and :meth:`Payments.returned_check` is :func:`~ketadesk.billing.payments.reverse_entry` of
a bounced check, after which the patient pays by card. :meth:`Payments.method` and
:meth:`Payments.reference` draw how a patient pays and what the desk writes down.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from ketadesk.billing.models import AdjustmentReason, EntryKind, PaymentMethod
from ketadesk.demo.dice import Dice, table
from ketadesk.demo.money_books import (
    BILLING_USER,
    FRONT_DESK_USER,
    Books,
    open_credits,
    open_debits,
)
from ketadesk.demo.money_calendar import PAY, Calendar
from ketadesk.demo.money_world import Entry, OpenInvoice, PatientBooks, owed_on

METHODS = (
    (PaymentMethod.CARD, 58.0),
    (PaymentMethod.HSA_FSA, 18.0),
    (PaymentMethod.CHECK, 12.0),
    (PaymentMethod.CASH, 8.0),
    (PaymentMethod.OTHER, 4.0),
)
OTHER_METHOD_RATE = 0.2  # a payment not made the patient's usual way
CARD_BRANDS = ("Visa", "Visa", "Mastercard", "Mastercard", "Amex", "Discover")
RETURNED_CHECK = "Check returned unpaid (insufficient funds)"
METHODS_TABLE = table(METHODS)


class Payments:
    """Takes payments, adjusts, refunds and reverses, on the books and the calendar."""

    def __init__(self, dice: Dice, books: Books, cal: Calendar) -> None:
        self.dice = dice
        self.books = books
        self.cal = cal

    def payment(
        self,
        patient: PatientBooks,
        cents: int,
        method: PaymentMethod,
        location_id: int,
        invoice: OpenInvoice | None,
        *,
        by: str,
    ) -> Entry:
        """:func:`payments.take_payment`: to the invoice's lines, else to everything owed,
        oldest first; the rest stays as credit."""
        on_invoice = f", invoice {invoice.number}" if invoice is not None else ""
        entry = self.books.post_entry(
            patient,
            EntryKind.PAYMENT,
            -cents,
            self.cal.day,
            location_id,
            f"Payment, {method.label}{on_invoice}",
            by=by,
            method=method,
            reference=self.reference(patient, method),
        )
        owed = open_debits(patient, invoice.lines if invoice is not None else None)
        self.books.apply(patient, [(entry, cents)], owed, by)
        return entry

    def adjust(
        self,
        patient: PatientBooks,
        invoice: OpenInvoice,
        cents: int | None,
        reason: AdjustmentReason,
        note: str,
    ) -> None:
        """:func:`payments.adjust` on the invoice, never more than is owed on it."""
        owed = open_debits(patient, invoice.lines)
        left = sum(e.left for e in owed)
        size = left if cents is None else min(cents, left)
        if size <= 0:
            return
        entry = self.books.post_entry(
            patient,
            EntryKind.ADJUSTMENT,
            -size,
            self.cal.day,
            owed[0].location_id,
            f"Adjustment, {reason.label.lower()}",
            reason=reason,
            note=note,
        )
        self.books.apply(patient, [(entry, size)], owed)

    def returned_check(self, patient: PatientBooks, invoice: OpenInvoice, payment: Entry) -> None:
        """:func:`payments.reverse_entry` of a bounced check (what it paid is owed again),
        then the patient pays by card."""
        if payment.reversed:
            return
        net: dict[int, tuple[Entry, int]] = {}
        for debit, cents in payment.paid:
            held = net.get(debit.id)
            net[debit.id] = (debit, cents + (held[1] if held is not None else 0))
        for debit, cents in sorted(net.values(), key=lambda pair: pair[0].id):
            if cents:  # a release is an allocation of the opposite amount
                self.books.allocation(patient, payment, debit, -cents, BILLING_USER)
                if debit not in patient.debits:
                    patient.debits.append(debit)
        undo = self.books.post_entry(
            patient,
            EntryKind.REVERSAL,
            -payment.amount,
            self.cal.day,
            payment.location_id,
            f"Reversal of {payment.description}",
            note=RETURNED_CHECK,
            reverses=payment,
        )
        payment.reversed = True
        self.books.allocate(patient, payment, undo, -payment.amount, BILLING_USER)
        later = self.cal.day + timedelta(days=self.dice.between(3, 15))
        self.cal.at(later, PAY, partial(self.pay_by_card, patient, invoice))

    def pay_by_card(self, patient: PatientBooks, invoice: OpenInvoice) -> None:
        owed = owed_on(invoice)
        if owed:
            self.payment(
                patient,
                owed,
                PaymentMethod.CARD,
                invoice.lines[0].location_id,
                invoice,
                by=FRONT_DESK_USER,
            )

    def refund(self, patient: PatientBooks, cents: int, note: str) -> None:
        """:func:`payments.refund` out of ordinary credit, oldest first."""
        credits = open_credits(patient)
        size = min(cents, sum(left for _e, left in credits))
        if size <= 0:
            return
        method = self.method(patient)
        entry = self.books.post_entry(
            patient,
            EntryKind.REFUND,
            size,
            self.cal.day,
            credits[0][0].location_id,
            f"Refund, {method.label}",
            method=method,
            reference=self.reference(patient, method),
            note=note,
        )
        self.books.apply(patient, credits, [entry])

    def method(self, patient: PatientBooks) -> PaymentMethod:
        if self.dice.chance(OTHER_METHOD_RATE):
            return self.dice.pick(METHODS_TABLE)
        return patient.method

    def reference(self, patient: PatientBooks, method: PaymentMethod) -> str:
        dice = self.dice
        if method is PaymentMethod.CARD:
            return f"{patient.card}, auth {dice.digits(6)}"
        if method is PaymentMethod.HSA_FSA:
            return patient.hsa
        if method is PaymentMethod.CHECK:
            patient.checks += 1
            return f"Check {patient.checks}"
        if method is PaymentMethod.OTHER:
            return f"CareCredit {dice.digits(8)}"
        return ""
