"""The patient's account as people read it: the out-of-pocket summary, the statement, the
receipts, and the money the clinic holds for patients.

Everything here is read from the ledger, never stored:

* :func:`account_summary` — what was charged, paid, adjusted and refunded this year and in
  total, what is still owed, the credit held and the unapplied package prepayments. A
  reversal counts against the kind of entry it reverses, so a reversed charge is simply
  not charged; and the balance is always charged − paid − adjusted + refunded.
* :func:`statement_view` — opening balance, the period's entries with a running balance,
  closing balance, the open charges aged by how long they have been owed, the invoices
  already past due (with their due dates), and a due date no earlier than the statement's.
* :func:`payment_receipt` (one payment and what it paid) and :func:`year_receipt` (a
  year's payments and refunds, for HSA/FSA and tax use).
* :func:`liabilities` — every patient's credit and unapplied package prepayments: money the
  clinic would owe back if it is never used.

Each takes the acting user and checks ``BILLING_VIEW`` itself; a read of one patient's
account (summary, statement, receipts) also leaves a "view" audit row through
:func:`~ketadesk.billing.invoices.read_account`, so a face reads them in a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.fees import billing_policy
from ketadesk.billing.invoices import (
    charge_lines,
    list_invoices,
    not_reversed,
    patient_location,
    read_account,
)
from ketadesk.billing.models import (
    Allocation,
    EntryKind,
    LedgerEntry,
    PackagePurchase,
    PackageUse,
)
from ketadesk.billing.parties import patient_info, practice_info
from ketadesk.billing.views import (
    InvoiceState,
    PastDueInvoice,
    PaymentLine,
    ReceiptView,
    StatementLine,
    StatementView,
)
from ketadesk.clinic.models import Location, Patient
from ketadesk.errors import Conflict, NotFound, ValidationError
from ketadesk.money import ZERO

__all__ = [
    "AGING_BUCKETS",
    "AccountSummary",
    "Liability",
    "account_summary",
    "liabilities",
    "payment_receipt",
    "statement_view",
    "year_receipt",
]

STATEMENT_DAYS = 30  # a statement without a start date covers the 30 days up to its date

# (label, oldest age in days the bucket holds; None: no limit). Age = statement date − the
# day the debit was posted, so a charge from 30 days ago is still current.
AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("Current", 30),
    ("31–60 days", 60),
    ("61–90 days", 90),
    ("91–120 days", 120),
    ("Over 120 days", None),
)


# ---------------------------------------------------------------------------------------
# The out-of-pocket summary
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSummary:
    """A patient's out-of-pocket view. Amounts are positive; ``balance`` is what is owed
    (negative: credit the clinic holds) and equals ``owed − credit − unapplied_prepayments``
    and ``charged_total − paid_total − adjusted_total + refunded_total``."""

    patient_id: int
    year: int
    balance: Decimal
    owed: Decimal  # still to pay on charges
    credit: Decimal  # ordinary credit: refundable, or spent on the next charges
    unapplied_prepayments: Decimal  # package money not yet used
    charged_year: Decimal  # charges (and forfeited prepayments), net of reversals
    paid_year: Decimal  # payments, package prepayments included, net of reversals
    adjusted_year: Decimal  # discounts, sliding scale, courtesy, write-offs, package rates
    refunded_year: Decimal
    charged_total: Decimal
    paid_total: Decimal
    adjusted_total: Decimal
    refunded_total: Decimal
    insurers_owe: Decimal = ZERO  # on claims, not yet paid, adjusted or passed to the patient


# A forfeit is prepaid money the clinic kept for sessions not used: from the patient's
# pocket it was spent like a charge. A transfer onto the patient's side is the share of a
# claim an insurer assigned them: to the patient, also a charge.
_CHARGED = frozenset({EntryKind.CHARGE, EntryKind.FORFEIT, EntryKind.TRANSFER})


def _sums_by_kind(
    session: Session, patient_id: int, year: int
) -> dict[tuple[EntryKind, bool], Decimal]:
    """Signed sums per (kind, posted in ``year``), a reversal counted under what it reverses."""
    original = aliased(LedgerEntry)
    kind = func.coalesce(original.kind, LedgerEntry.kind, type_=LedgerEntry.kind.type)
    in_year = case(
        (
            and_(
                LedgerEntry.posted_on >= date(year, 1, 1),
                LedgerEntry.posted_on <= date(year, 12, 31),
            ),
            1,
        ),
        else_=0,
    )
    rows = session.execute(
        select(kind, in_year, ledger.cents_sum(LedgerEntry.amount))
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .where(LedgerEntry.patient_id == patient_id, ledger.on_side(None))
        .group_by(kind, in_year)
    )
    return {(EntryKind(k), bool(y)): ledger.decimal_of(cents) for k, y, cents in rows}


def account_summary(
    session: Session, actor: Actor, patient_id: int, *, year: int
) -> AccountSummary:
    """What the patient was charged, paid, credited and still owes, in ``year`` and in all."""
    read_account(session, actor, patient_id, "account")
    sums = _sums_by_kind(session, patient_id, year)

    def total(kinds: frozenset[EntryKind], this_year_only: bool) -> Decimal:
        years = (True,) if this_year_only else (True, False)
        return sum((sums.get((k, y), ZERO) for k in kinds for y in years), ZERO)

    def both(kinds: frozenset[EntryKind], sign: int) -> tuple[Decimal, Decimal]:
        return sign * total(kinds, True), sign * total(kinds, False)

    charged = both(_CHARGED, 1)
    paid = both(frozenset({EntryKind.PAYMENT}), -1)
    adjusted = both(frozenset({EntryKind.ADJUSTMENT}), -1)
    refunded = both(frozenset({EntryKind.REFUND}), 1)
    owed = sum((o.left for o in ledger.open_debits(session, patient_id)), ZERO)
    credits = ledger.unapplied_credits(session, patient_id, include_packages=True)
    prepaid = sum((c.left for c in credits if c.entry.package_purchase_id is not None), ZERO)
    credit = sum((c.left for c in credits if c.entry.package_purchase_id is None), ZERO)
    return AccountSummary(
        patient_id=patient_id,
        year=year,
        balance=ledger.balance(session, patient_id),
        owed=owed,
        credit=credit,
        unapplied_prepayments=prepaid,
        charged_year=charged[0],
        paid_year=paid[0],
        adjusted_year=adjusted[0],
        refunded_year=refunded[0],
        charged_total=charged[1],
        paid_total=paid[1],
        adjusted_total=adjusted[1],
        refunded_total=refunded[1],
        insurers_owe=ledger.insurer_balance(session, patient_id),
    )


# ---------------------------------------------------------------------------------------
# The statement
# ---------------------------------------------------------------------------------------


def _account_location(session: Session, patient: Patient) -> Location:
    """The practice a statement or receipt comes from."""
    location = (
        patient_location(session, patient)
        or session.scalars(select(Location).order_by(Location.id).limit(1)).first()
    )
    if location is None:
        raise NotFound("the clinic has no location to put on the document")
    return location


def aging(open_debits: Sequence[ledger.Open], on: date) -> tuple[tuple[str, Decimal], ...]:
    """What is owed, bucketed by how many days each debit has been on the books on ``on``."""
    buckets = dict.fromkeys((label for label, _ in AGING_BUCKETS), ZERO)
    for debit in open_debits:
        age = (on - debit.entry.posted_on).days
        label = next(lb for lb, oldest in AGING_BUCKETS if oldest is None or age <= oldest)
        buckets[label] += debit.left
    return tuple(buckets.items())


def _invoice_terms(
    session: Session, actor: Actor, patient: Patient, location: Location, on: date
) -> tuple[date, tuple[PastDueInvoice, ...]]:
    """When a statement dated ``on`` asks to be paid, and which invoices are already late.

    The due date is the location's invoice terms counted from the statement date, or an
    unpaid invoice's own due date when that comes sooner — but never before ``on``: a
    statement cannot ask for payment in its past. Invoices whose due date is before ``on``
    and that are still owed are listed as past due, oldest first, with what is left on each.
    """
    terms = on + timedelta(days=billing_policy(session, location.id).invoice_due_days)
    unpaid = [
        row
        for row in list_invoices(
            session,
            actor,
            patient_id=patient.id,
            states=(InvoiceState.ISSUED, InvoiceState.PARTLY_PAID),
        ).rows
        if row.due_on is not None and row.balance_due > ZERO
    ]
    upcoming = [row.due_on for row in unpaid if row.due_on is not None and row.due_on >= on]
    late = sorted(
        (
            PastDueInvoice(row.number, row.due_on, row.balance_due, (on - row.due_on).days)
            for row in unpaid
            if row.due_on is not None and row.due_on < on
        ),
        key=lambda p: (p.due_on, p.number),
    )
    return min([terms, *upcoming]), tuple(late)


def _message(closing: Decimal, credit: Decimal) -> str:
    if closing > ZERO:
        return "Please pay the balance due by the due date. Thank you."
    if credit > ZERO:
        return "You have a credit with us. We apply it to your next visit, or refund it if you ask."
    return "Thank you: nothing is due on your account."


def statement_view(
    session: Session, actor: Actor, patient_id: int, *, on: date, period_from: date | None = None
) -> StatementView:
    """The patient's statement on ``on`` for the period from ``period_from`` (default: the
    30 days up to ``on``): opening balance, each entry with the running balance, closing
    balance, the open charges aged, the invoices already past due, and when payment is due
    (never before ``on``)."""
    patient = read_account(session, actor, patient_id, "statement")
    start = period_from or on - timedelta(days=STATEMENT_DAYS - 1)
    if start > on:
        raise ValidationError.single("period_from", "the period starts after the statement date")
    location = _account_location(session, patient)
    opening = ledger.balance(session, patient_id, as_of=start - timedelta(days=1))
    entries = session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.patient_id == patient_id,
            LedgerEntry.posted_on >= start,
            LedgerEntry.posted_on <= on,
            ledger.on_side(None),
        )
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    ).all()
    running = opening
    lines = []
    for e in entries:
        running += e.amount
        lines.append(
            StatementLine(
                on=e.posted_on,
                description=e.description,
                charges=e.amount if e.amount > ZERO else ZERO,
                credits=-e.amount if e.amount < ZERO else ZERO,
                balance=running,
            )
        )
    owed = [d for d in ledger.open_debits(session, patient_id) if d.entry.posted_on <= on]
    credits = ledger.unapplied_credits(session, patient_id, include_packages=True)
    prepaid = sum((c.left for c in credits if c.entry.package_purchase_id is not None), ZERO)
    credit = sum((c.left for c in credits if c.entry.package_purchase_id is None), ZERO)
    due_on, past_due = _invoice_terms(session, actor, patient, location, on)
    return StatementView(
        practice=practice_info(location),
        patient=patient_info(patient, on),
        statement_date=on,
        period_from=start,
        period_to=on,
        opening_balance=opening,
        lines=tuple(lines),
        closing_balance=running,
        aging=aging(owed, on),
        due_on=due_on if running > ZERO else None,
        unapplied_prepayments=prepaid,
        message=_message(running, credit),
        past_due=past_due if running > ZERO else (),
        insurance_pending=ledger.insurer_balance(session, patient_id, as_of=on),
    )


# ---------------------------------------------------------------------------------------
# Receipts
# ---------------------------------------------------------------------------------------


def _payment_line(entry: LedgerEntry) -> PaymentLine:
    return PaymentLine(
        entry_id=entry.id,
        on=entry.posted_on,
        method=entry.method,
        reference=entry.reference,
        description=entry.description,
        amount=abs(entry.amount),
    )


def payment_receipt(session: Session, actor: Actor, entry_id: int) -> ReceiptView:
    """The receipt for one payment, with the charges it paid (a reversed payment paid none:
    its receipt says so)."""
    actor.require(Permission.BILLING_VIEW)
    entry = ledger.get_entry(session, entry_id)
    if entry.kind is not EntryKind.PAYMENT:
        raise Conflict(f"entry {entry_id} is a {entry.kind.value}; receipts are for payments")
    patient = read_account(session, actor, entry.patient_id, "receipt")
    location = session.get(Location, entry.location_id)
    if location is None:  # a foreign key makes this impossible; say so rather than assert
        raise NotFound(f"the location of entry {entry_id} is missing")
    paid_ids = session.scalars(
        select(Allocation.debit_id)
        .where(Allocation.credit_id == entry.id)
        .group_by(Allocation.debit_id)
        .having(func.sum(type_coerce(Allocation.amount, BigInteger)) > 0)
    ).all()
    debits = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.id.in_(paid_ids), LedgerEntry.kind == EntryKind.CHARGE)
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    ).all()
    reversed_ = ledger.reversal_of(session, entry.id) is not None
    line = _payment_line(entry)
    return ReceiptView(
        number=f"R-{entry.id}",
        title="Payment receipt (reversed)" if reversed_ else "Payment receipt",
        practice=practice_info(location),
        patient=patient_info(patient, entry.posted_on),
        period_from=entry.posted_on,
        period_to=entry.posted_on,
        payments=(line,),
        refunds=(),
        total_paid=line.amount,
        total_refunded=ZERO,
        net_paid=ZERO if reversed_ else line.amount,
        services=tuple(charge_lines(session, debits)),
    )


def year_receipt(session: Session, actor: Actor, patient_id: int, year: int) -> ReceiptView:
    """Every payment and refund of ``year`` that stands (reversed ones are left out), with
    the year's services, for HSA/FSA claims and taxes."""
    patient = read_account(session, actor, patient_id, "year_receipt")
    first, last = date(year, 1, 1), date(year, 12, 31)

    def entries(*kinds: EntryKind) -> Sequence[LedgerEntry]:
        return session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.patient_id == patient_id,
                LedgerEntry.kind.in_(kinds),
                ledger.on_side(None),
                LedgerEntry.posted_on >= first,
                LedgerEntry.posted_on <= last,
                not_reversed(),
            )
            .order_by(LedgerEntry.posted_on, LedgerEntry.id)
        ).all()

    payments = [_payment_line(e) for e in entries(EntryKind.PAYMENT)]
    refunds = [_payment_line(e) for e in entries(EntryKind.REFUND)]
    paid = sum((p.amount for p in payments), ZERO)
    refunded = sum((r.amount for r in refunds), ZERO)
    return ReceiptView(
        number=f"Y{year}-{patient.mrn}",
        title=f"Payments received in {year}",
        practice=practice_info(_account_location(session, patient)),
        patient=patient_info(patient, last),
        period_from=first,
        period_to=last,
        payments=tuple(payments),
        refunds=tuple(refunds),
        total_paid=paid,
        total_refunded=refunded,
        net_paid=paid - refunded,
        services=tuple(charge_lines(session, entries(EntryKind.CHARGE))),
    )


# ---------------------------------------------------------------------------------------
# What the clinic holds for patients
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Liability:
    """Money the clinic holds for one patient: ordinary ``credit`` and ``prepaid`` package
    money not yet used; ``packages`` names those packages in words."""

    patient_id: int
    mrn: str
    patient_name: str  # "Family, Given", as lists read
    credit: Decimal
    prepaid: Decimal
    packages: str  # "IV induction — 6 infusions (4 of 6 left)"


def liabilities(
    session: Session, actor: Actor, *, location_id: int | None = None
) -> list[Liability]:
    """Every patient with credit or unapplied package prepayments, by name (all of them)."""
    actor.require(Permission.BILLING_VIEW)
    used = (
        select(Allocation.credit_id, ledger.cents_sum(Allocation.amount).label("used"))
        .group_by(Allocation.credit_id)
        .subquery()
    )
    left = -type_coerce(LedgerEntry.amount, BigInteger) - func.coalesce(used.c.used, 0)
    query = (
        select(LedgerEntry.patient_id, LedgerEntry.package_purchase_id, func.sum(left))
        .outerjoin(used, used.c.credit_id == LedgerEntry.id)
        .where(LedgerEntry.amount < 0, ledger.on_side(None))
        .group_by(LedgerEntry.patient_id, LedgerEntry.package_purchase_id)
        .having(func.sum(left) > 0)
    )
    if location_id is not None:
        query = query.where(LedgerEntry.location_id == location_id)
    credit: dict[int, Decimal] = {}
    prepaid: dict[int, Decimal] = {}
    held: dict[int, list[int]] = {}
    for patient_id, purchase_id, cents in session.execute(query):
        amount = ledger.decimal_of(cents)
        if purchase_id is None:
            credit[patient_id] = credit.get(patient_id, ZERO) + amount
        else:
            prepaid[patient_id] = prepaid.get(patient_id, ZERO) + amount
            held.setdefault(patient_id, []).append(purchase_id)
    ids = sorted(credit.keys() | prepaid.keys())
    if not ids:
        return []
    words = _package_words(session, [p for ps in held.values() for p in ps])
    patients = session.scalars(
        select(Patient)
        .where(Patient.id.in_(ids))
        .order_by(Patient.search_family, Patient.search_given, Patient.id)
    ).all()
    return [
        Liability(
            patient_id=p.id,
            mrn=p.mrn,
            patient_name=p.display_name,
            credit=credit.get(p.id, ZERO),
            prepaid=prepaid.get(p.id, ZERO),
            packages="; ".join(words[i] for i in sorted(held.get(p.id, []))),
        )
        for p in patients
    ]


def _package_words(session: Session, purchase_ids: Sequence[int]) -> dict[int, str]:
    if not purchase_ids:
        return {}
    uses = (
        select(PackageUse.purchase_id, func.count(PackageUse.id).label("used"))
        .group_by(PackageUse.purchase_id)
        .subquery()
    )
    rows = session.execute(
        select(PackagePurchase, func.coalesce(uses.c.used, 0))
        .outerjoin(uses, uses.c.purchase_id == PackagePurchase.id)
        .where(PackagePurchase.id.in_(purchase_ids))
    )
    return {
        p.id: f"{p.name} ({p.sessions_total - used} of {p.sessions_total} left)" for p, used in rows
    }
