"""Money in and out of a patient's account: payments, adjustments, refunds and reversals.

Each service here is one thing a person does at the desk or in the billing office, and each
writes through :mod:`ketadesk.billing.ledger`:

* :func:`take_payment` posts a ``payment`` entry and allocates it to the charges it pays —
  the invoice's lines, the lines the user picked, or else every open charge, oldest first.
  Whatever is left over is the patient's credit.
* :func:`adjust` takes a discount, sliding-scale reduction, courtesy or write-off off what
  is owed on the targets (never more than is owed), with a note saying why.
* :func:`refund` pays credit back out; it draws only on ordinary credit, never on a
  package's prepayment (``packages.refund_unused`` does that).
* :func:`reverse_entry` undoes a mistaken entry with a reversal (a package's own entries
  are refused: the package service keeps those straight).
* :func:`apply_credit` spends the patient's ordinary credit on their open charges.
* :func:`unusual_amount` says when an amount typed is far above anything the clinic charges
  (a slip of the keyboard: ``45000`` for ``450.00``), so the window asks before posting it.

A refused action raises before anything is written, so the books are never half-changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.invoices import (
    get_invoice,
    get_patient,
    patient_location,
    patient_name,
)
from ketadesk.billing.models import (
    AdjustmentReason,
    Allocation,
    EntryKind,
    FeeItem,
    Invoice,
    InvoiceStatus,
    LedgerEntry,
    PackageTemplate,
    PaymentMethod,
)
from ketadesk.clinic.models import Location, Patient
from ketadesk.errors import Conflict, FieldProblem, InvalidValue, NotFound, ValidationError
from ketadesk.money import ZERO, money

__all__ = [
    "PaymentResult",
    "adjust",
    "apply_credit",
    "refund",
    "reverse_entry",
    "take_payment",
    "unusual_amount",
    "unusual_threshold",
]

# An amount more than this many times the dearest thing the clinic sells (a fee or a
# package) is far outside what the desk takes; with nothing priced yet, UNUSUAL_FLOOR is.
UNUSUAL_FACTOR = 10
UNUSUAL_FLOOR = Decimal("10000.00")


@dataclass(frozen=True)
class PaymentResult:
    """What a payment did: ``applied`` went to charges (``allocations`` as (debit entry id,
    amount) pairs), ``credit`` stays on the account."""

    entry_id: int
    amount: Decimal
    applied: Decimal
    credit: Decimal
    allocations: tuple[tuple[int, Decimal], ...]


# ---------------------------------------------------------------------------------------
# Checking what the user typed: every problem at once, as field problems
# ---------------------------------------------------------------------------------------


def _amount(value: str | int | Decimal, what: str, problems: list[FieldProblem]) -> Decimal:
    """A positive amount of money; a float is a programming error and raises TypeError."""
    try:
        amount = money(value)
    except InvalidValue as error:
        problems.append(FieldProblem("amount", str(error)))
        return ZERO
    if amount <= ZERO:
        problems.append(FieldProblem("amount", f"{what} must be more than $0.00"))
    return amount


def _method(value: PaymentMethod | str, problems: list[FieldProblem]) -> PaymentMethod:
    try:
        return PaymentMethod(value)
    except ValueError:
        choices = ", ".join(m.value for m in PaymentMethod)
        problems.append(FieldProblem("method", f"{value!r} is not a method; use one of {choices}"))
        return PaymentMethod.OTHER


def _reason(value: AdjustmentReason | str, problems: list[FieldProblem]) -> AdjustmentReason:
    try:
        return AdjustmentReason(value)
    except ValueError:
        choices = ", ".join(r.value for r in AdjustmentReason)
        problems.append(FieldProblem("reason", f"{value!r} is not a reason; use one of {choices}"))
        return AdjustmentReason.COURTESY


def _note(value: str, why: str, problems: list[FieldProblem]) -> str:
    note = value.strip()
    if not note:
        problems.append(FieldProblem("note", why))
    return note


def _check(problems: Sequence[FieldProblem]) -> None:
    if problems:
        raise ValidationError(problems)


# ---------------------------------------------------------------------------------------
# What a payment or adjustment is for
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Targets:
    """The debits an amount goes to (oldest first, with what is owed on each), and the
    words for them in a message."""

    owed: list[ledger.Open]
    invoice: Invoice | None
    words: str


def _targets(
    session: Session,
    patient: Patient,
    invoice_id: int | None,
    entry_ids: Iterable[int] | None,
) -> _Targets:
    invoice = None
    chosen: list[int] | None = None
    words = f"{patient_name(patient)}'s account"
    if invoice_id is not None:
        invoice = get_invoice(session, invoice_id)
        if invoice.patient_id != patient.id:
            raise ValidationError.single(
                "invoice", f"invoice {invoice.number} is not {patient_name(patient)}'s"
            )
        if invoice.status is InvoiceStatus.VOID:
            raise Conflict(f"invoice {invoice.number} is void; use the account instead")
        chosen = [line.entry_id for line in invoice.lines]
        words = f"invoice {invoice.number}"
    if entry_ids is not None:
        picked = list(dict.fromkeys(entry_ids))
        if not picked:
            raise ValidationError.single("entry_ids", "choose at least one charge")
        _check_debits(session, patient, picked, invoice)
        chosen = picked
        words = "the charges chosen"
    return _Targets(ledger.open_debits(session, patient.id, chosen), invoice, words)


def _check_debits(
    session: Session, patient: Patient, entry_ids: list[int], invoice: Invoice | None
) -> None:
    found = {
        e.id: e for e in session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(entry_ids)))
    }
    problems = []
    for entry_id in entry_ids:
        entry = found.get(entry_id)
        if entry is None or entry.patient_id != patient.id:
            problems.append(f"entry {entry_id} is not one of {patient_name(patient)}'s")
        elif entry.amount <= ZERO:
            problems.append(f"entry {entry_id} ({entry.description}) is not something owed")
        elif invoice is not None and entry_id not in {n.entry_id for n in invoice.lines}:
            problems.append(f"entry {entry_id} is not on invoice {invoice.number}")
    if problems:
        raise ValidationError(FieldProblem("entry_ids", p) for p in problems)


def _location_id(
    session: Session,
    patient: Patient,
    location_id: int | None,
    fallback: Sequence[LedgerEntry],
) -> int:
    """The location an entry is booked at: the one given, else that of what it settles,
    else where the patient's account is kept."""
    if location_id is not None:
        if session.get(Location, location_id) is None:
            raise NotFound(f"there is no location with id {location_id}")
        return location_id
    if fallback:
        return fallback[0].location_id
    location = patient_location(session, patient)
    if location is None:
        raise ValidationError.single("location", "choose the location taking this")
    return location.id


def _settle(
    session: Session, actor: Actor, credit: LedgerEntry, size: Decimal, owed: list[ledger.Open]
) -> list[Allocation]:
    return ledger.apply_oldest_first(session, actor, [ledger.Open(credit, size)], owed)


# ---------------------------------------------------------------------------------------
# Amounts far above what the clinic charges
# ---------------------------------------------------------------------------------------


def unusual_threshold(session: Session) -> Decimal:
    """The amount above which a typed payment is out of all proportion: ten times the
    dearest active fee (self-pay price or billed charge) or package, and at least
    :data:`UNUSUAL_FLOOR` (a clinic with no prices yet)."""
    highest = [
        session.scalar(select(func.max(FeeItem.self_pay_price)).where(FeeItem.active)),
        session.scalar(select(func.max(FeeItem.billed_charge)).where(FeeItem.active)),
        session.scalar(select(func.max(PackageTemplate.price)).where(PackageTemplate.active)),
    ]
    dearest = max((money(h) for h in highest if h is not None), default=ZERO)
    return max(dearest * UNUSUAL_FACTOR, UNUSUAL_FLOOR)


def unusual_amount(amount: Decimal, threshold: Decimal) -> str | None:
    """The question to ask before posting ``amount`` when it is above ``threshold`` (from
    :func:`unusual_threshold`), else ``None``."""
    if abs(amount) <= threshold:
        return None
    return (
        f"${amount:,.2f} is more than {UNUSUAL_FACTOR} times the dearest fee or package "
        f"the clinic charges (over ${threshold:,.2f}). Is this amount right?"
    )


# ---------------------------------------------------------------------------------------
# The services
# ---------------------------------------------------------------------------------------


def take_payment(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    amount: str | int | Decimal,
    method: PaymentMethod | str,
    on: date,
    location_id: int | None = None,
    reference: str = "",
    invoice_id: int | None = None,
    entry_ids: Iterable[int] | None = None,
    note: str = "",
) -> PaymentResult:
    """Take a payment and apply it: to the invoice's lines or the charges picked, else to
    every open charge, oldest first; what is left over stays as credit."""
    actor.require(Permission.PAYMENT_TAKE)
    problems: list[FieldProblem] = []
    size = _amount(amount, "a payment", problems)
    how = _method(method, problems)
    _check(problems)
    patient = get_patient(session, patient_id)
    targets = _targets(session, patient, invoice_id, entry_ids)
    if location_id is None and targets.invoice is not None:
        where = targets.invoice.location_id
    else:
        where = _location_id(session, patient, location_id, [o.entry for o in targets.owed])
    on_invoice = f", invoice {targets.invoice.number}" if targets.invoice else ""
    entry = ledger.post(
        session,
        actor,
        patient_id=patient.id,
        location_id=where,
        kind=EntryKind.PAYMENT,
        amount=-size,
        posted_on=on,
        description=f"Payment, {how.label}{on_invoice}",
        method=how,
        reference=reference.strip()[:80],
        note=note.strip(),
    )
    made = _settle(session, actor, entry, size, targets.owed)
    applied = sum((a.amount for a in made), ZERO)
    return PaymentResult(
        entry_id=entry.id,
        amount=size,
        applied=applied,
        credit=size - applied,
        allocations=tuple((a.debit_id, a.amount) for a in made),
    )


def adjust(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    amount: str | int | Decimal,
    reason: AdjustmentReason | str,
    note: str,
    on: date,
    entry_ids: Iterable[int] | None = None,
    invoice_id: int | None = None,
    location_id: int | None = None,
) -> LedgerEntry:
    """Take ``amount`` off what is owed on the targets (the invoice, the charges picked, or
    every open charge, oldest first), for ``reason``; refuse more than is owed."""
    actor.require(Permission.MONEY_CORRECT)
    problems: list[FieldProblem] = []
    size = _amount(amount, "an adjustment", problems)
    why = _reason(reason, problems)
    text = _note(note, "say why the adjustment is made", problems)
    _check(problems)
    patient = get_patient(session, patient_id)
    targets = _targets(session, patient, invoice_id, entry_ids)
    owed = sum((o.left for o in targets.owed), ZERO)
    if owed == ZERO:
        raise Conflict(f"nothing is owed on {targets.words}, so there is nothing to adjust")
    if size > owed:
        raise Conflict(
            f"an adjustment of ${size:,.2f} is more than the ${owed:,.2f} still owed "
            f"on {targets.words}; nothing was changed"
        )
    where = _location_id(session, patient, location_id, [o.entry for o in targets.owed])
    entry = ledger.post(
        session,
        actor,
        patient_id=patient.id,
        location_id=where,
        kind=EntryKind.ADJUSTMENT,
        amount=-size,
        posted_on=on,
        description=f"Adjustment, {why.label.lower()}",
        reason=why,
        note=text,
    )
    _settle(session, actor, entry, size, targets.owed)
    return entry


def refund(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    amount: str | int | Decimal,
    method: PaymentMethod | str,
    note: str,
    on: date,
    reference: str = "",
    location_id: int | None = None,
) -> LedgerEntry:
    """Pay ``amount`` of the patient's credit back to them, out of their oldest credit
    first. A package's prepayment is not credit here: refund its unused sessions instead."""
    actor.require(Permission.MONEY_CORRECT)
    problems: list[FieldProblem] = []
    size = _amount(amount, "a refund", problems)
    how = _method(method, problems)
    text = _note(note, "say why the money is paid back", problems)
    _check(problems)
    patient = get_patient(session, patient_id)
    credits = ledger.unapplied_credits(session, patient.id)
    available = sum((c.left for c in credits), ZERO)
    if size > available:
        reserved = ledger.unapplied_credits(session, patient.id, include_packages=True)
        held = sum((c.left for c in reserved), ZERO) - available
        hint = (
            f"; the ${held:,.2f} prepaid for packages is refunded by refunding the "
            "package's unused sessions"
            if held > ZERO
            else ""
        )
        raise Conflict(
            f"{patient_name(patient)} has ${available:,.2f} of credit, so "
            f"${size:,.2f} cannot be refunded{hint}"
        )
    where = _location_id(session, patient, location_id, [c.entry for c in credits])
    entry = ledger.post(
        session,
        actor,
        patient_id=patient.id,
        location_id=where,
        kind=EntryKind.REFUND,
        amount=size,
        posted_on=on,
        description=f"Refund, {how.label}",
        method=how,
        reference=reference.strip()[:80],
        note=text,
    )
    ledger.apply_oldest_first(session, actor, credits, [ledger.Open(entry, size)])
    return entry


def reverse_entry(
    session: Session, actor: Actor, entry_id: int, reason: str, *, on: date
) -> LedgerEntry:
    """Undo entry ``entry_id`` with a reversal; what it paid (or was paid by) opens again.

    Refused for a reversal, an entry already reversed, and a package's own entries (its
    prepayment is returned by refunding the unused sessions).
    """
    actor.require(Permission.MONEY_CORRECT)
    if not reason.strip():
        raise ValidationError.single("reason", "say why the entry is reversed")
    entry = ledger.get_entry(session, entry_id)
    if entry.package_purchase_id is not None:
        if entry.kind is EntryKind.PAYMENT:
            raise Conflict(
                f"entry {entry.id} is a package prepayment and cannot be reversed; "
                "refund the package's unused sessions instead"
            )
        raise Conflict(
            f"entry {entry.id} ({entry.description}) belongs to a package's use and cannot "
            "be reversed on its own; refund the package's unused sessions instead"
        )
    return ledger.reverse(session, actor, entry, reason, on)


def apply_credit(session: Session, actor: Actor, patient_id: int) -> list[Allocation]:
    """Spend the patient's ordinary credit on their open charges, oldest first."""
    actor.require(Permission.PAYMENT_TAKE)
    get_patient(session, patient_id)
    credits = ledger.unapplied_credits(session, patient_id)
    if not credits:
        return []
    return ledger.apply_oldest_first(
        session, actor, credits, ledger.open_debits(session, patient_id)
    )
