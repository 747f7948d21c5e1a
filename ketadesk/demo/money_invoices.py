"""The money stage's invoices, and what each patient does with one.

Posted charges a patient pays for wait for their month's invoice at the location
(:meth:`Invoices.bill`). On the first weekday from the 3rd of the next month
(:func:`invoice_day`) the month's round creates and issues them as
:func:`~ketadesk.billing.invoices.create_invoice` and
:func:`~ketadesk.billing.invoices.issue_invoice` do (issuing spends ordinary credit on the
lines; a share of the latest month's stay drafts). For each issued invoice with something
owed an outcome is drawn (:data:`OUTCOMES`) and its payments, reductions, write-offs,
returned checks and refunds are put on the calendar (:mod:`ketadesk.demo.money_payments`
makes them).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from ketadesk.billing.models import (
    AdjustmentReason,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PaymentMethod,
)
from ketadesk.demo.bulk import Sink
from ketadesk.demo.dice import Dice, table
from ketadesk.demo.money_books import BILLING_USER, FRONT_DESK_USER, Books
from ketadesk.demo.money_calendar import ADJUST, INVOICE, PAY, REFUND, REVERSE, Calendar
from ketadesk.demo.money_payments import Payments
from ketadesk.demo.money_world import (
    Entry,
    OpenInvoice,
    PatientBooks,
    Place,
    Visit,
    World,
    oldest_first,
    owed_on,
)

INVOICE_RUN_DAY = 3  # the month's invoices go out on the first weekday from the 3rd
DRAFT_RATE = 0.15  # of the latest month's invoices, still drafts (not yet sent)
# What happens to an issued invoice with something owed, and how often.
OUTCOMES = (
    ("paid", 79.0),  # in full, within the month
    ("partly", 8.0),  # part now; half of them pay the rest later
    ("reduced", 5.0),  # a sliding-scale or courtesy reduction, then the rest
    ("unpaid", 6.0),  # overdue; half are written off after five months
    ("twice", 2.0),  # paid twice by mistake; the second payment refunded
)
PAY_WITHIN = (2, 28)  # days after issue
WRITE_OFF_AFTER = (150, 200)  # days after issue
RETURNED_CHECK_RATE = 0.05
REDUCTIONS = (
    (AdjustmentReason.SLIDING_SCALE, "Sliding scale: household income below 200% of poverty line"),
    (AdjustmentReason.SLIDING_SCALE, "Sliding scale approved by the practice manager"),
    (AdjustmentReason.COURTESY, "Courtesy: long wait on the day of the infusion"),
    (AdjustmentReason.COURTESY, "Courtesy for a long-standing patient"),
    (AdjustmentReason.DISCOUNT, "Prompt-pay discount"),
)
WRITE_OFF_NOTE = "Uncollectible: no reply to three statements"
PAID_TWICE = "Paid twice for invoice {number}; the second payment refunded"
_OUTCOMES = table(OUTCOMES)


class Invoices:
    """The monthly invoice rounds of every location, and how each invoice is settled."""

    def __init__(
        self, dice: Dice, world: World, sink: Sink, books: Books, payments: Payments,
        cal: Calendar,
    ) -> None:
        self.dice = dice
        self.world = world
        self.sink = sink
        self.books = books
        self.payments = payments
        self.cal = cal
        self._rounds: dict[tuple[int, int, int], dict[int, PatientBooks]] = {}

    def bill(self, patient: PatientBooks, visit: Visit, entries: list[Entry]) -> None:
        """Put a visit's posted charges on the patient's invoice for the month, and the
        month's round on the calendar (once per location and month)."""
        self.bill_on(patient, visit.place, visit.day, entries)

    def bill_on(self, patient: PatientBooks, place: Place, day: date, entries: list[Entry]) -> None:
        """Put entries dated ``day`` (a visit's charges, a share of a claim moved to the
        patient) on the month's invoice at ``place``."""
        key = (place.id, day.year, day.month)
        patient.to_invoice.setdefault(key, []).extend(entries)
        waiting = self._rounds.get(key)
        if waiting is None:
            waiting = self._rounds[key] = {}
            self.cal.at(invoice_day(day), INVOICE, partial(self._invoice_round, key))
        waiting[patient.id] = patient

    def _invoice_round(self, key: tuple[int, int, int]) -> None:
        """The month's invoices at one location: :func:`invoices.create_invoice` and
        :func:`invoices.issue_invoice` for every patient with charges to invoice."""
        location_id, year, month = key
        place = self.world.places[location_id]
        start = date(year, month, 1)
        end = month_end(start)
        for _patient_id, patient in sorted(self._rounds.pop(key).items()):
            lines = sorted(
                (e for e in patient.to_invoice.pop(key, []) if not e.reversed),
                key=oldest_first,
            )
            if lines:
                self._invoice(patient, place, start, end, lines)

    def _invoice(
        self, patient: PatientBooks, place: Place, start: date, end: date, lines: list[Entry]
    ) -> None:
        counter = f"invoice:{place.code}:{self.cal.day.year}"
        number = self.cal.next_number(counter)
        invoice = OpenInvoice(
            self.sink.next_id(Invoice), f"{place.code}-{self.cal.day.year}-{number:05d}", lines
        )
        latest = invoice_day(end + timedelta(days=1)) > self.cal.today
        draft = latest and self.dice.chance(DRAFT_RATE)
        self.sink.add(
            Invoice,
            {
                "id": invoice.id,
                "number": invoice.number,
                "patient_id": patient.id,
                "location_id": place.id,
                "status": InvoiceStatus.DRAFT if draft else InvoiceStatus.ISSUED,
                "period_from": start,
                "period_to": end,
                "issued_on": None if draft else self.cal.day,
                "due_on": None if draft else self.cal.day + timedelta(days=place.due_days),
                "voided_at": None,
                "void_reason": "",
                "created_at": self.cal.stamp,
                "created_by": BILLING_USER,
                "version": 1 if draft else 2,
            },
        )
        for entry in lines:
            self.sink.add(
                InvoiceLine,
                {
                    "id": self.sink.next_id(InvoiceLine),
                    "invoice_id": invoice.id,
                    "entry_id": entry.id,
                },
            )
        if draft:
            return
        self.books.apply_credit(patient, lines)  # issuing spends ordinary credit on the lines
        self._plan_invoice(patient, invoice)

    def _plan_invoice(self, patient: PatientBooks, invoice: OpenInvoice) -> None:
        """Draw how the patient settles an issued invoice and put it on the calendar."""
        owed = owed_on(invoice)
        if owed == 0:
            return
        dice, issued = self.dice, self.cal.day

        def later(low: int, high: int) -> date:
            return issued + timedelta(days=dice.between(low, high))

        outcome = dice.pick(_OUTCOMES)
        pay = partial(self._pay_invoice, patient, invoice)
        if outcome == "paid":
            self.cal.at(later(*PAY_WITHIN), PAY, partial(pay, None))
        elif outcome == "partly":
            part = max(1000, owed * dice.between(3, 7) // 10 // 1000 * 1000)  # whole $10s
            if part < owed:
                self.cal.at(later(3, 25), PAY, partial(pay, part))
                if dice.chance(0.5):
                    self.cal.at(later(35, 70), PAY, partial(pay, None))
            else:
                self.cal.at(later(*PAY_WITHIN), PAY, partial(pay, None))
        elif outcome == "reduced":
            reason, note = dice.one(REDUCTIONS)
            off = owed * dice.between(15, 40) // 100 // 100 * 100  # whole dollars
            if off > 0:
                self.cal.at(
                    later(0, 6),
                    ADJUST,
                    partial(self.payments.adjust, patient, invoice, off, reason, note),
                )
            self.cal.at(later(7, 28), PAY, partial(pay, None))
        elif outcome == "unpaid":
            if dice.chance(0.5):
                self.cal.at(
                    later(*WRITE_OFF_AFTER),
                    ADJUST,
                    partial(
                        self.payments.adjust,
                        patient,
                        invoice,
                        None,
                        AdjustmentReason.WRITE_OFF,
                        WRITE_OFF_NOTE,
                    ),
                )
        else:  # paid twice
            first = later(*PAY_WITHIN)
            self.cal.at(first, PAY, partial(pay, None))
            again = first + timedelta(days=dice.between(0, 2))
            self.cal.at(again, PAY, partial(self._pay_again, patient, invoice, owed))
            self.cal.at(
                again + timedelta(days=dice.between(3, 12)),
                REFUND,
                partial(
                    self.payments.refund, patient, owed, PAID_TWICE.format(number=invoice.number)
                ),
            )

    def _pay_invoice(self, patient: PatientBooks, invoice: OpenInvoice, cents: int | None) -> None:
        """:func:`payments.take_payment` on the invoice: what is still owed on it (or
        ``cents`` of it)."""
        owed = owed_on(invoice)
        if owed == 0:
            return
        method = self.payments.method(patient)
        size = owed if cents is None else min(cents, owed)
        by = self.dice.one((BILLING_USER, FRONT_DESK_USER))  # by mail or online, or at the desk
        location_id = invoice.lines[0].location_id
        entry = self.payments.payment(patient, size, method, location_id, invoice, by=by)
        if method is PaymentMethod.CHECK and self.dice.chance(RETURNED_CHECK_RATE):
            self.cal.at(
                self.cal.day + timedelta(days=self.dice.between(7, 14)),
                REVERSE,
                partial(self.payments.returned_check, patient, invoice, entry),
            )

    def _pay_again(self, patient: PatientBooks, invoice: OpenInvoice, cents: int) -> None:
        """The same bill paid a second time (online after mailing a check): all credit."""
        method = self.payments.method(patient)
        self.payments.payment(
            patient, cents, method, invoice.lines[0].location_id, invoice, by=BILLING_USER
        )


def month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def invoice_day(service_day: date) -> date:
    """The day the month's invoices go out: the first weekday from the 3rd of the next
    month (every charge of the month is posted by then)."""
    day = month_end(service_day.replace(day=1)) + timedelta(days=INVOICE_RUN_DAY)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
