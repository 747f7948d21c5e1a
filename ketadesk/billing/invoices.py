"""Invoices: a patient's posted charges under one number, issued with a due date, paid
through the ledger, or voided by reversal.

How an invoice moves:

* :func:`create_invoice` gathers the patient's posted charge entries that are not reversed
  and not already on an invoice that still counts (a draft or an issued one) — optionally
  only those in a date range, at one location, or exactly the entries the user picked — and
  numbers the draft ``NYC-2026-00042`` from a counter per location and year.
* :func:`issue_invoice` dates it, sets the due date from the location's billing policy, and
  applies the patient's ordinary credit (never a package prepayment) to its lines, oldest
  first.
* Payments and adjustments reach the lines as ledger allocations (``payments.py``); whether
  an issued invoice is *partly paid* or *paid* is read from those sums by
  :func:`invoice_state`, never stored.
* :func:`void_invoice` voids a draft outright; an issued invoice's charges are reversed in
  the ledger, so whatever had paid them becomes the patient's credit again.

:func:`invoice_view`, :func:`list_invoices` and :func:`search_invoices` hand the frozen
records of :mod:`ketadesk.billing.views` to the documents, the window and the command line;
each checks ``BILLING_VIEW``, and opening one invoice leaves a "view" audit row. Lists come
a page at a time with the true count, searched in SQL, so none stops at a cap.
:func:`charge_lines` (what was paid and adjusted on each charge) is shared with the
account's statements and receipts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from ketadesk import db
from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.fees import billing_policy
from ketadesk.billing.models import (
    Allocation,
    Charge,
    ChargeStatus,
    EntryKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
)
from ketadesk.billing.parties import patient_info, practice_info, printed_name
from ketadesk.billing.views import ChargeLine, InvoiceState, InvoiceView, PaymentLine
from ketadesk.clinic.models import Location, Patient
from ketadesk.clinic.patients import patient_matches
from ketadesk.errors import Conflict, NotFound, StaleEdit, ValidationError
from ketadesk.money import ZERO

__all__ = [
    "InvoicePage",
    "InvoiceRow",
    "charge_lines",
    "create_invoice",
    "find_invoice",
    "get_invoice",
    "get_patient",
    "invoice_state",
    "invoice_view",
    "issue_invoice",
    "line_entries",
    "list_invoices",
    "not_reversed",
    "patient_location",
    "patient_name",
    "payments_to",
    "read_account",
    "search_invoices",
    "void_invoice",
]


# ---------------------------------------------------------------------------------------
# Small shared helpers (payments.py and account.py use them too)
# ---------------------------------------------------------------------------------------


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"there is no patient with id {patient_id}")
    return patient


def read_account(session: Session, actor: Actor, patient_id: int, what: str) -> Patient:
    """The one rule of every read of a patient's account: ``actor`` needs ``BILLING_VIEW``,
    and the read leaves a "view" audit row naming ``what`` was read ("statement",
    "superbill", …) and whose (the MRN), in the caller's transaction. Returns the patient."""
    actor.require(Permission.BILLING_VIEW)
    patient = get_patient(session, patient_id)
    audit.record(session, actor, "view", what, patient.mrn)
    return patient


def patient_name(patient: Patient) -> str:
    """The patient as a sentence names them: "Zoë Łukasiewicz"."""
    return printed_name(patient.given_name, "", patient.family_name)


def patient_location(session: Session, patient: Patient) -> Location | None:
    """Where the patient's account is kept when nothing else says: their home location, else
    where their latest ledger entry was made, else the clinic's only location (None if the
    clinic has several and nothing points at one)."""
    if patient.home_location_id is not None:
        return session.get(Location, patient.home_location_id)
    latest = session.scalar(
        select(LedgerEntry.location_id)
        .where(LedgerEntry.patient_id == patient.id)
        .order_by(LedgerEntry.posted_on.desc(), LedgerEntry.id.desc())
        .limit(1)
    )
    if latest is not None:
        return session.get(Location, latest)
    locations = session.scalars(select(Location).order_by(Location.id).limit(2)).all()
    return locations[0] if len(locations) == 1 else None


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


# ---------------------------------------------------------------------------------------
# Creating: which charges go on an invoice
# ---------------------------------------------------------------------------------------


def not_reversed() -> ColumnElement[bool]:
    """SQL: no reversal points at this ``LedgerEntry``."""
    reversal = aliased(LedgerEntry)
    return ~select(reversal.id).where(reversal.reverses_id == LedgerEntry.id).exists()


def _not_invoiced() -> ColumnElement[bool]:
    """The entry is on no invoice that still counts (a void invoice frees its lines)."""
    return (
        ~select(InvoiceLine.id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.entry_id == LedgerEntry.id, Invoice.status != InvoiceStatus.VOID)
        .exists()
    )


def _to_invoice(
    patient_id: int, location_id: int | None, date_from: date | None, date_to: date | None
) -> Select[LedgerEntry]:
    query = (
        select(LedgerEntry)
        .where(
            LedgerEntry.patient_id == patient_id,
            # what the patient owes: their own charges, and the shares insurers assigned them
            LedgerEntry.kind.in_((EntryKind.CHARGE, EntryKind.TRANSFER)),
            LedgerEntry.amount > 0,
            ledger.on_side(None),
            not_reversed(),
            _not_invoiced(),
        )
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    )
    if location_id is not None:
        query = query.where(LedgerEntry.location_id == location_id)
    if date_from is not None:
        query = query.where(LedgerEntry.posted_on >= date_from)
    if date_to is not None:
        query = query.where(LedgerEntry.posted_on <= date_to)
    return query


def _why_not(session: Session, entry_id: int, patient: Patient) -> str:
    """Why entry ``entry_id`` cannot go on a new invoice for ``patient``, in words."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.patient_id != patient.id:
        return f"entry {entry_id} is not one of {patient_name(patient)}'s charges"
    if entry.kind is not EntryKind.CHARGE:
        return f"entry {entry_id} is a {entry.kind.value}, not a charge"
    if ledger.reversal_of(session, entry_id) is not None:
        return f"entry {entry_id} ({entry.description}) was reversed"
    number = session.scalar(
        select(Invoice.number)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(InvoiceLine.entry_id == entry_id, Invoice.status != InvoiceStatus.VOID)
    )
    if number is not None:
        return f"entry {entry_id} ({entry.description}) is already on invoice {number}"
    return f"entry {entry_id} ({entry.description}) is outside the dates or location asked for"


def _in_review(
    session: Session,
    patient_id: int,
    location_id: int | None,
    date_from: date | None,
    date_to: date | None,
) -> int:
    """How many of the patient's charges are still pending in the review queue."""
    query = select(func.count(Charge.id)).where(
        Charge.patient_id == patient_id, Charge.status == ChargeStatus.PENDING
    )
    if location_id is not None:
        query = query.where(Charge.location_id == location_id)
    if date_from is not None:
        query = query.where(Charge.service_date >= date_from)
    if date_to is not None:
        query = query.where(Charge.service_date <= date_to)
    return session.execute(query).scalar_one()


def _nothing_to_invoice(
    session: Session,
    patient: Patient,
    location_id: int | None,
    date_from: date | None,
    date_to: date | None,
) -> Conflict:
    span = ""
    if date_from is not None and date_to is not None:
        span = f" from {date_from.isoformat()} to {date_to.isoformat()}"
    elif date_from is not None:
        span = f" from {date_from.isoformat()} on"
    elif date_to is not None:
        span = f" up to {date_to.isoformat()}"
    pending = _in_review(session, patient.id, location_id, date_from, date_to)
    if pending:
        review = f"{_plural(pending, 'charge is', 'charges are')} still in review; post them first"
    else:
        review = "no charges are waiting in review either"
    return Conflict(
        f"there are no posted charges to invoice for {patient_name(patient)}{span}; {review}"
    )


def _location(session: Session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(f"there is no location with id {location_id}")
    return location


def _one_location(session: Session, patient: Patient, entries: Sequence[LedgerEntry]) -> int:
    """The location all ``entries`` were charged at; refuse a mix (numbers are per location)."""
    ids = sorted({e.location_id for e in entries})
    if len(ids) == 1:
        return ids[0]
    codes = session.scalars(select(Location.code).where(Location.id.in_(ids))).all()
    raise Conflict(
        f"{patient_name(patient)}'s charges to invoice are at {len(ids)} locations "
        f"({', '.join(sorted(codes))}); choose one location for the invoice"
    )


def _pick(
    session: Session,
    patient: Patient,
    candidates: Sequence[LedgerEntry],
    entry_ids: Iterable[int],
) -> list[LedgerEntry]:
    wanted = list(dict.fromkeys(entry_ids))
    if not wanted:
        raise ValidationError.single("entry_ids", "choose at least one charge to invoice")
    by_id = {e.id: e for e in candidates}
    refused = [_why_not(session, i, patient) for i in wanted if i not in by_id]
    if refused:
        raise Conflict("; ".join(refused))
    return [e for e in candidates if e.id in set(wanted)]


def create_invoice(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    today: date,
    location_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    entry_ids: Iterable[int] | None = None,
) -> Invoice:
    """A draft invoice of the patient's posted charges not yet on an invoice.

    Raises :class:`Conflict` when there is nothing to invoice (saying how many charges are
    still in review), when a picked entry cannot be invoiced (saying why), or when the
    charges were made at several locations and no ``location_id`` was given.
    """
    actor.require(Permission.CHARGE_REVIEW)
    patient = get_patient(session, patient_id)
    ledger.lock_account(session, patient_id)  # two desks must not invoice one charge twice
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ValidationError.single("date_to", "the end date is before the start date")
    if location_id is not None:
        _location(session, location_id)
    candidates = session.scalars(_to_invoice(patient_id, location_id, date_from, date_to)).all()
    chosen = (
        list(candidates) if entry_ids is None else _pick(session, patient, candidates, entry_ids)
    )
    if not chosen:
        raise _nothing_to_invoice(session, patient, location_id, date_from, date_to)
    location = _location(session, location_id or _one_location(session, patient, chosen))
    number = db.reserve(session, f"invoice:{location.code}:{today.year}")
    invoice = Invoice(
        number=f"{location.code}-{today.year}-{number:05d}",
        patient_id=patient_id,
        location_id=location.id,
        status=InvoiceStatus.DRAFT,
        period_from=date_from or chosen[0].posted_on,
        period_to=date_to or max(e.posted_on for e in chosen),
        created_by=actor.username,
        lines=[InvoiceLine(entry_id=e.id) for e in chosen],
    )
    session.add(invoice)
    session.flush()
    after = audit.snapshot(invoice) | {"entries": [e.id for e in chosen]}
    audit.record(session, actor, "create", "invoice", invoice.id, after=after)
    return invoice


# ---------------------------------------------------------------------------------------
# Issuing and voiding
# ---------------------------------------------------------------------------------------


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"there is no invoice with id {invoice_id}")
    return invoice


def find_invoice(session: Session, number: str) -> Invoice:
    """The invoice numbered ``number`` ("nyc-2026-00042" is found too)."""
    wanted = number.strip().upper()
    invoice = session.scalars(select(Invoice).where(Invoice.number == wanted)).first()
    if invoice is None:
        raise NotFound(f"there is no invoice numbered {number.strip()!r}")
    return invoice


def _save(session: Session, invoice: Invoice) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise StaleEdit(
            f"invoice {invoice.number} was changed by someone else; open it again"
        ) from None


def issue_invoice(session: Session, actor: Actor, invoice_id: int, *, on: date) -> Invoice:
    """Issue a draft: date it, set its due date, and apply the patient's credit to it."""
    actor.require(Permission.CHARGE_REVIEW)
    invoice = get_invoice(session, invoice_id)
    if invoice.status is InvoiceStatus.VOID:
        raise Conflict(f"invoice {invoice.number} is void and cannot be issued")
    if invoice.status is InvoiceStatus.ISSUED:
        raise Conflict(f"invoice {invoice.number} was already issued on {invoice.issued_on}")
    before = audit.snapshot(invoice)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_on = on
    invoice.due_on = on + timedelta(
        days=billing_policy(session, invoice.location_id).invoice_due_days
    )
    _save(session, invoice)
    credits = ledger.unapplied_credits(session, invoice.patient_id)
    if credits:
        lines = ledger.open_debits(session, invoice.patient_id, [n.entry_id for n in invoice.lines])
        ledger.apply_oldest_first(session, actor, credits, lines)
    audit.record_update(session, actor, "invoice", invoice.id, before, audit.snapshot(invoice))
    return invoice


def void_invoice(
    session: Session, actor: Actor, invoice_id: int, reason: str, *, on: date
) -> Invoice:
    """Void an invoice. A draft simply becomes void; an issued invoice's charges are
    reversed (what paid them turns back into credit), since money is never deleted."""
    actor.require(Permission.MONEY_CORRECT)
    reason = reason.strip()
    if not reason:
        raise ValidationError.single("reason", "say why the invoice is voided")
    invoice = get_invoice(session, invoice_id)
    if invoice.status is InvoiceStatus.VOID:
        raise Conflict(f"invoice {invoice.number} is already void")
    before = audit.snapshot(invoice)
    if invoice.status is InvoiceStatus.ISSUED:
        why = f"invoice {invoice.number} voided: {reason}"
        for entry in line_entries(session, invoice.id):
            if ledger.reversal_of(session, entry.id) is None:
                ledger.reverse(session, actor, entry, why, on)
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = db.utcnow()
    invoice.void_reason = reason[:200]
    _save(session, invoice)
    audit.record_update(session, actor, "invoice", invoice.id, before, audit.snapshot(invoice))
    return invoice


# ---------------------------------------------------------------------------------------
# Reading: state, lines, the view, the list
# ---------------------------------------------------------------------------------------


def _line_total() -> ColumnElement[int]:
    """The invoice's lines summed, in cents (correlated with the outer ``Invoice``)."""
    return (
        select(ledger.cents_sum(LedgerEntry.amount))
        .join(InvoiceLine, InvoiceLine.entry_id == LedgerEntry.id)
        .where(InvoiceLine.invoice_id == Invoice.id)
        .scalar_subquery()
    )


def _line_settled() -> ColumnElement[int]:
    """What credits have paid or adjusted on the invoice's lines, in cents."""
    return (
        select(ledger.cents_sum(Allocation.amount))
        .join(InvoiceLine, InvoiceLine.entry_id == Allocation.debit_id)
        .where(InvoiceLine.invoice_id == Invoice.id)
        .scalar_subquery()
    )


def _state(total: ColumnElement[int], settled: ColumnElement[int]) -> ColumnElement[str]:
    """The one definition of an invoice's state: stored draft / void, else read from sums."""
    return case(
        (Invoice.status == InvoiceStatus.DRAFT, InvoiceState.DRAFT.value),
        (Invoice.status == InvoiceStatus.VOID, InvoiceState.VOID.value),
        (settled >= total, InvoiceState.PAID.value),
        (settled > 0, InvoiceState.PARTLY_PAID.value),
        else_=InvoiceState.ISSUED.value,
    )


def invoice_state(session: Session, invoice: Invoice) -> InvoiceState:
    """Draft, issued, partly paid, paid or void: paid when nothing is left owed on the lines
    (paid, adjusted or reversed), partly paid when some of it is settled."""
    value = session.execute(
        select(_state(_line_total(), _line_settled())).where(Invoice.id == invoice.id)
    ).scalar_one()
    return InvoiceState(value)


def charge_lines(session: Session, entries: Sequence[LedgerEntry]) -> list[ChargeLine]:
    """Each debit entry as a :class:`ChargeLine`: its code and units from the charge row it
    posted (none for a fee posted by hand), what payments paid on it (a package prepayment
    is a payment), and what adjustments and reversals took off it."""
    ids = [e.id for e in entries]
    if not ids:
        return []
    charges = {
        c.entry_id: c for c in session.scalars(select(Charge).where(Charge.entry_id.in_(ids)))
    }
    credit = aliased(LedgerEntry)
    paid: dict[int, Decimal] = {}
    adjusted: dict[int, Decimal] = {}
    sums = session.execute(
        select(Allocation.debit_id, credit.kind, ledger.cents_sum(Allocation.amount))
        .join(credit, credit.id == Allocation.credit_id)
        .where(Allocation.debit_id.in_(ids))
        .group_by(Allocation.debit_id, credit.kind)
    )
    for debit_id, kind, cents in sums:
        into = paid if kind is EntryKind.PAYMENT else adjusted
        into[debit_id] = into.get(debit_id, ZERO) + ledger.decimal_of(cents)
    out = []
    for e in entries:
        charge = charges.get(e.id)
        p, a = paid.get(e.id, ZERO), adjusted.get(e.id, ZERO)
        out.append(
            ChargeLine(
                entry_id=e.id,
                service_date=e.posted_on,
                code=charge.code if charge else "",
                modifiers=charge.modifiers if charge else "",
                description=charge.description if charge else e.description,
                units=charge.units if charge else 1,
                amount=e.amount,
                paid=p,
                adjusted=a,
                balance=e.amount - p - a,
            )
        )
    return out


def payments_to(session: Session, debit_ids: Collection[int]) -> list[PaymentLine]:
    """The payments applied to ``debit_ids``, each with the amount it applied to them."""
    if not debit_ids:
        return []
    applied = ledger.cents_sum(Allocation.amount)
    rows = session.execute(
        select(LedgerEntry, applied)
        .join(Allocation, Allocation.credit_id == LedgerEntry.id)
        .where(Allocation.debit_id.in_(list(debit_ids)), LedgerEntry.kind == EntryKind.PAYMENT)
        .group_by(LedgerEntry.id)
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    ).all()
    return [
        PaymentLine(
            entry_id=entry.id,
            on=entry.posted_on,
            method=entry.method,
            reference=entry.reference,
            description=entry.description,
            amount=ledger.decimal_of(cents),
        )
        for entry, cents in rows
        if ledger.decimal_of(cents) != ZERO  # released in full by a reversal
    ]


def line_entries(session: Session, invoice_id: int) -> list[LedgerEntry]:
    """The ledger entries on an invoice, in line order, read in one query."""
    return list(
        session.scalars(
            select(LedgerEntry)
            .join(InvoiceLine, InvoiceLine.entry_id == LedgerEntry.id)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.id)
        )
    )


def invoice_view(session: Session, actor: Actor, invoice_id: int) -> InvoiceView:
    """Everything an invoice shows, as a frozen record for the PDF, window and CLI.

    A read of a patient's account: needs ``BILLING_VIEW`` and leaves a "view" audit row in
    the caller's transaction (so a face reads it inside ``db.transaction()``).
    """
    actor.require(Permission.BILLING_VIEW)
    invoice = get_invoice(session, invoice_id)
    audit.record(session, actor, "view", "invoice", invoice.id, after={"mrn": invoice.patient.mrn})
    entries = line_entries(session, invoice.id)
    lines = charge_lines(session, entries)
    on = invoice.issued_on or invoice.created_at.date()
    state = invoice_state(session, invoice)
    owed = sum((line.balance for line in lines), ZERO)
    return InvoiceView(
        number=invoice.number,
        state=state,
        practice=practice_info(invoice.location),
        patient=patient_info(invoice.patient, on),
        lines=tuple(lines),
        payments=tuple(payments_to(session, [e.id for e in entries])),
        total=sum((line.amount for line in lines), ZERO),
        paid=sum((line.paid for line in lines), ZERO),
        adjusted=sum((line.adjusted for line in lines), ZERO),
        balance_due=ZERO if state is InvoiceState.VOID else owed,  # a void invoice asks nothing
        account_balance=ledger.balance(session, invoice.patient_id),
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        period_from=invoice.period_from,
        period_to=invoice.period_to,
        void_reason=invoice.void_reason,
    )


@dataclass(frozen=True)
class InvoiceRow:
    """One invoice in a list."""

    id: int
    number: str
    patient_id: int
    mrn: str
    patient_name: str  # "Family, Given", as lists read
    location_code: str
    issued_on: date | None
    due_on: date | None
    state: InvoiceState
    total: Decimal
    balance_due: Decimal


@dataclass(frozen=True)
class InvoicePage:
    """One page of an invoice list and how many invoices match in all (an SQL count), so a
    face can say "200 of 2,493" and fetch the rest instead of silently stopping."""

    rows: tuple[InvoiceRow, ...]
    total: int
    offset: int = 0

    @property
    def more(self) -> bool:
        """Whether invoices beyond this page match."""
        return self.offset + len(self.rows) < self.total


def search_invoices(
    session: Session,
    actor: Actor,
    text: str = "",
    *,
    patient_id: int | None = None,
    location_id: int | None = None,
    states: Iterable[InvoiceState] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> InvoicePage:
    """Invoices matching ``text``, newest first: a page of rows and the true count.

    ``text`` matches an invoice number or any part of it ("00042", "nyc-2026"), or the
    patient as the patient search reads words (name words, MRN, date of birth, phone), all
    in SQL, over every invoice. Empty text lists all. Needs ``BILLING_VIEW``.
    """
    actor.require(Permission.BILLING_VIEW)
    if (limit is not None and limit < 0) or offset < 0:
        raise ValidationError.single("limit", "a page starts at 0 and holds 0 rows or more")
    total, settled = _line_total(), _line_settled()
    state = _state(total, settled)
    conditions: list[ColumnElement[bool]] = []
    wanted = text.strip()
    if wanted:
        conditions.append(
            or_(
                Invoice.number.contains(wanted.upper(), autoescape=True),
                patient_matches(wanted),
            )
        )
    if patient_id is not None:
        conditions.append(Invoice.patient_id == patient_id)
    if location_id is not None:
        conditions.append(Invoice.location_id == location_id)
    if states is not None:
        conditions.append(state.in_([InvoiceState(s).value for s in states]))
    count = session.execute(
        select(func.count(Invoice.id))
        .join(Patient, Patient.id == Invoice.patient_id)
        .where(*conditions)
    ).scalar_one()
    query = (
        select(Invoice, Patient, Location.code, state, total, settled)
        .join(Patient, Patient.id == Invoice.patient_id)
        .join(Location, Location.id == Invoice.location_id)
        .where(*conditions)
        .order_by(Invoice.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for invoice, patient, code, value, total_cents, settled_cents in session.execute(query):
        owed = ledger.decimal_of(total_cents)
        left = owed - ledger.decimal_of(settled_cents)
        rows.append(
            InvoiceRow(
                id=invoice.id,
                number=invoice.number,
                patient_id=patient.id,
                mrn=patient.mrn,
                patient_name=patient.display_name,
                location_code=code,
                issued_on=invoice.issued_on,
                due_on=invoice.due_on,
                state=InvoiceState(value),
                total=owed,
                balance_due=ZERO if value == InvoiceState.VOID.value else left,
            )
        )
    return InvoicePage(rows=tuple(rows), total=count, offset=offset)


list_invoices = search_invoices  # with no text: every invoice the filters leave, a page at a time
