"""The patient ledger: append-only entries, allocations between them, and the sums over both.

Every other billing service writes money through here:

* :func:`post` adds one :class:`LedgerEntry`, checking that its sign fits its kind (debits
  positive, credits negative), and writes the audit row in the same transaction;
* :func:`allocate` applies part of a credit (payment, adjustment, reversal of a debit) to a
  debit (charge, refund, forfeit, reversal of a credit), refusing more than either has left;
  each allocation leaves an "allocate" audit row (one bulk write for :func:`allocate_many`);
* :func:`apply_oldest_first` pays a list of debits from a list of credits in date order,
  as the pure :func:`allocation_plan` decides (the demo's in-memory books use it too);
* :func:`reverse` undoes an entry with a new one: it releases the entry's allocations (new
  negative allocation rows), posts the opposite amount and settles the two against each
  other, so the original is closed and whatever it had paid or been paid by is open again.

Every write and every "what is still open" read first locks the patient's account
(:func:`lock_account`), so two workstations taking money from one patient take turns.
Nothing here updates or deletes a financial row. Balances, open amounts and unapplied credit
are sums computed in SQL over integer cents, so they are exact. The services that call
these functions check permissions; these helpers only keep the books straight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, Table, func, insert, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor
from ketadesk.billing.models import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    AdjustmentReason,
    Allocation,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
)
from ketadesk.clinic.models import Patient
from ketadesk.errors import Conflict, InvalidValue, NotFound
from ketadesk.money import ZERO, from_cents, money, to_cents

# Kinds whose amount must be above zero / below zero; reversals carry the opposite sign of
# whatever they reverse.
_IN_CHUNK = 900  # ids per IN (...) when reading inserted entries back
_KEY = (
    "patient_id",
    "location_id",
    "kind",
    "amount",
    "posted_on",
    "description",
    "payer_id",
    "claim_id",
    "reason",
    "method",
    "reference",
    "note",
    "reverses_id",
)
_POSITIVE = DEBIT_KINDS
_NEGATIVE = CREDIT_KINDS


def cents_sum(
    column: ColumnElement[Decimal] | InstrumentedAttribute[Decimal],
) -> ColumnElement[int]:
    """``SUM`` over a cents column in raw integer cents (0 when there are no rows).

    The column's own type would turn the sum back into dollars; summing the stored integers
    keeps SQL exact and leaves one conversion, :func:`decimal_of`, to the caller.
    """
    return func.coalesce(func.sum(type_coerce(column, BigInteger)), 0)


def decimal_of(cents: object) -> Decimal:
    """The dollars in a :func:`cents_sum` result (an int, or a Decimal on PostgreSQL)."""
    if not isinstance(cents, int | Decimal):
        raise TypeError(f"expected a sum of cents, got {type(cents).__name__}")
    return from_cents(int(cents))


def on_side(payer_id: int | None) -> ColumnElement[bool]:
    """SQL: a ledger entry is on the patient's own side (``payer_id`` ``None``) or on the
    side of the insurer ``payer_id``. Every balance the patient is asked to pay is a sum
    over the patient's side; what insurers owe is the rest (see :func:`insurer_balance`)."""
    if payer_id is None:
        return LedgerEntry.payer_id.is_(None)
    return LedgerEntry.payer_id == payer_id


def lock_account(session: Session, patient_id: int) -> None:
    """Serialise money writes for one patient across workstations.

    On PostgreSQL two transactions could both read the same unapplied credit and both apply
    it; locking the patient's row first makes the second wait and then read the first's
    allocations. SQLite needs nothing: a write transaction already holds the database's
    write lock (``BEGIN IMMEDIATE``). Taking the lock again in one transaction is free.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())


def post(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    location_id: int,
    kind: EntryKind,
    amount: Decimal,
    posted_on: date,
    description: str,
    method: PaymentMethod | None = None,
    reference: str = "",
    reason: AdjustmentReason | None = None,
    note: str = "",
    reverses: LedgerEntry | None = None,
    package_purchase_id: int | None = None,
    payer_id: int | None = None,
    claim_id: int | None = None,
) -> LedgerEntry:
    """Append one entry to the patient's ledger and audit it; return it (flushed).

    ``payer_id`` puts the entry on that insurer's side of the account (a charge sent on a
    claim, the insurer's payment and adjustments); ``claim_id`` names the claim. A
    ``transfer`` may carry either sign: it moves what is owed between sides.
    """
    draft = EntryDraft(
        patient_id=patient_id,
        location_id=location_id,
        kind=kind,
        amount=amount,
        posted_on=posted_on,
        description=description,
        method=method,
        reference=reference,
        reason=reason,
        note=note,
        reverses_id=reverses.id if reverses is not None else None,
        package_purchase_id=package_purchase_id,
        payer_id=payer_id,
        claim_id=claim_id,
    )
    if kind is EntryKind.REVERSAL:
        if reverses is None:
            raise InvalidValue("a reversal must name the entry it reverses")
        if money(amount) != -reverses.amount:
            raise InvalidValue("a reversal carries exactly the opposite amount")
    (entry,) = post_many(session, actor, [draft])
    return entry


@dataclass(frozen=True)
class EntryDraft:
    """One entry to append, as :func:`post_many` takes them (see :func:`post`)."""

    patient_id: int
    location_id: int
    kind: EntryKind
    amount: Decimal
    posted_on: date
    description: str
    method: PaymentMethod | None = None
    reference: str = ""
    reason: AdjustmentReason | None = None
    note: str = ""
    reverses_id: int | None = None
    package_purchase_id: int | None = None
    payer_id: int | None = None
    claim_id: int | None = None


def _checked_amount(kind: EntryKind, value: Decimal) -> Decimal:
    """The entry's amount, refusing zero and the wrong sign for its kind."""
    amount = money(value)
    if amount == ZERO:
        raise InvalidValue("an entry of $0.00 changes nothing; enter an amount")
    if kind in _POSITIVE and amount < ZERO:
        raise InvalidValue(f"a {kind.value} is an amount owed and must be above zero")
    if kind in _NEGATIVE and amount > ZERO:
        raise InvalidValue(f"a {kind.value} reduces what is owed and must be below zero")
    return amount


def _insert_entries(session: Session, rows: list[dict[str, Any]]) -> list[LedgerEntry]:
    """Insert ``rows`` and return their entries in the same order, in a handful of round
    trips: one multi-row ``INSERT ... RETURNING`` per batch, then the new rows read back.

    The database may return the new ids in any order, so each returned row is matched to
    the row it came from by its values; two rows with equal values are interchangeable.
    (Asking SQLAlchemy for the rows' order makes it insert one row per statement on SQLite,
    twenty times slower for an 835's 10,000 entries.)
    """
    table = cast(Table, LedgerEntry.__table__)
    returned = session.execute(
        insert(table).returning(table.c.id, *(table.c[k] for k in _KEY)), rows
    ).all()
    waiting: dict[tuple[object, ...], list[int]] = {}
    for row in returned:
        waiting.setdefault(tuple(row[1:]), []).append(row[0])
    ids = [waiting[tuple(r[k] for k in _KEY)].pop() for r in rows]
    found: dict[int, LedgerEntry] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        found.update(
            (e.id, e) for e in session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(chunk)))
        )
    return [found[i] for i in ids]


def post_many(session: Session, actor: Actor, drafts: Sequence[EntryDraft]) -> list[LedgerEntry]:
    """Append ``drafts`` with one flush, each audited: :func:`post` for many entries at once
    (an 835 posts thousands). Every amount is checked first, so a bad one posts nothing."""
    if not drafts:
        return []
    amounts = [_checked_amount(d.kind, d.amount) for d in drafts]
    for patient_id in dict.fromkeys(d.patient_id for d in drafts):
        lock_account(session, patient_id)
    rows = [
        {
            "patient_id": d.patient_id,
            "location_id": d.location_id,
            "kind": d.kind,
            "amount": amount,
            "posted_on": d.posted_on,
            "description": d.description[:300],
            "method": d.method,
            "reference": d.reference,
            "reason": d.reason,
            "note": d.note[:300],
            "reverses_id": d.reverses_id,
            "package_purchase_id": d.package_purchase_id,
            "payer_id": d.payer_id,
            "claim_id": d.claim_id,
            "created_by": actor.username,
        }
        for d, amount in zip(drafts, amounts, strict=True)
    ]
    session.flush()  # what the caller added first is written before these
    entries = _insert_entries(session, rows)
    audit.record_many(
        session, actor, "post", "ledger_entry", ((e.id, audit.snapshot(e)) for e in entries)
    )
    return entries


def allocated_to(session: Session, debit_id: int) -> Decimal:
    """How much of debit ``debit_id`` credits have paid (net of releases)."""
    total = session.execute(
        select(cents_sum(Allocation.amount)).where(Allocation.debit_id == debit_id)
    ).scalar_one()
    return decimal_of(total)


def allocated_from(session: Session, credit_id: int) -> Decimal:
    """How much of credit ``credit_id`` has been applied to debits (net of releases)."""
    total = session.execute(
        select(cents_sum(Allocation.amount)).where(Allocation.credit_id == credit_id)
    ).scalar_one()
    return decimal_of(total)


def open_amount(session: Session, debit: LedgerEntry) -> Decimal:
    """What is still owed on a debit entry."""
    if debit.amount <= ZERO:
        raise InvalidValue(f"entry {debit.id} is a credit, not something owed")
    return debit.amount - allocated_to(session, debit.id)


def unapplied(session: Session, credit: LedgerEntry) -> Decimal:
    """What is left of a credit entry to apply (a positive amount)."""
    if credit.amount >= ZERO:
        raise InvalidValue(f"entry {credit.id} is owed, not a credit")
    return -credit.amount - allocated_from(session, credit.id)


def allocate(
    session: Session, actor: Actor, credit: LedgerEntry, debit: LedgerEntry, amount: Decimal
) -> Allocation:
    """Apply ``amount`` of ``credit`` to ``debit``; refuse more than either has left."""
    amount = money(amount)
    if amount <= ZERO:
        raise InvalidValue("an allocation must be above zero")
    if credit.patient_id != debit.patient_id:
        raise InvalidValue("a payment can only pay the same patient's charges")
    lock_account(session, credit.patient_id)
    left = unapplied(session, credit)
    if amount > left:
        raise Conflict(f"only {left} of entry {credit.id} is left to apply, not {amount}")
    owed = open_amount(session, debit)
    if amount > owed:
        raise Conflict(f"entry {debit.id} has only {owed} still owed, not {amount}")
    return _allocation(session, actor, credit.id, debit.id, credit.patient_id, amount)


@dataclass(frozen=True)
class Application:
    """``amount`` of ``credit`` to pay ``debit``, as :func:`allocate_many` takes them."""

    credit: LedgerEntry
    debit: LedgerEntry
    amount: Decimal


def allocate_many(session: Session, actor: Actor, applications: Sequence[Application]) -> int:
    """:func:`allocate` for many at once: what each credit has left and each debit still
    owes is read in two queries, every application checked against them in order (so two
    applications cannot spend the same cents), then all are written with one flush."""
    credits = {a.credit.id: a.credit for a in applications}
    debits = {a.debit.id: a.debit for a in applications}
    used = _allocated(session, Allocation.credit_id, list(credits))
    paid = _allocated(session, Allocation.debit_id, list(debits))
    left = {i: -c.amount - used.get(i, ZERO) for i, c in credits.items()}
    owed = {i: d.amount - paid.get(i, ZERO) for i, d in debits.items()}
    for a in applications:
        amount = money(a.amount)
        if amount <= ZERO:
            raise InvalidValue("an allocation must be above zero")
        if a.credit.patient_id != a.debit.patient_id:
            raise InvalidValue("a payment can only pay the same patient's charges")
        if amount > left[a.credit.id]:
            raise Conflict(f"only {left[a.credit.id]} of entry {a.credit.id} is left to apply")
        if amount > owed[a.debit.id]:
            raise Conflict(f"entry {a.debit.id} has only {owed[a.debit.id]} still owed")
        left[a.credit.id] -= amount
        owed[a.debit.id] -= amount
    rows = [
        {
            "patient_id": a.credit.patient_id,
            "credit_id": a.credit.id,
            "debit_id": a.debit.id,
            "amount": money(a.amount),
            "created_by": actor.username,
        }
        for a in applications
    ]
    if rows:
        session.execute(insert(Allocation), rows)
        audit.record_many(
            session,
            actor,
            "allocate",
            "allocation",
            ((_pair(r), _allocation_audit(r)) for r in rows),
        )
    return len(rows)


def _pair(row: dict[str, Any]) -> str:
    """An allocation's name in the audit log: the credit and the debit it pays."""
    return f"{row['credit_id']}>{row['debit_id']}"


def _allocation_audit(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient_id": row["patient_id"],
        "credit_id": row["credit_id"],
        "debit_id": row["debit_id"],
        "amount": str(row["amount"]),
    }


def _allocated(
    session: Session, column: InstrumentedAttribute[int], ids: list[int]
) -> dict[int, Decimal]:
    found: dict[int, Decimal] = {}
    for chunk in range(0, len(ids), 900):
        rows = session.execute(
            select(column, cents_sum(Allocation.amount))
            .where(column.in_(ids[chunk : chunk + 900]))
            .group_by(column)
        )
        found.update({key: decimal_of(cents) for key, cents in rows})
    return found


def _allocation(
    session: Session, actor: Actor, credit_id: int, debit_id: int, patient_id: int, amount: Decimal
) -> Allocation:
    row = Allocation(
        patient_id=patient_id,
        credit_id=credit_id,
        debit_id=debit_id,
        amount=amount,
        created_by=actor.username,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "allocate", "allocation", row.id, after=audit.snapshot(row))
    return row


@dataclass(frozen=True)
class Open:
    """An entry with what is left of it: owed on a debit, unapplied on a credit."""

    entry: LedgerEntry
    left: Decimal


def open_debits(
    session: Session,
    patient_id: int,
    entry_ids: Iterable[int] | None = None,
    *,
    payer_id: int | None = None,
) -> list[Open]:
    """The patient's debits with something still owed, oldest first (by date, then id):
    those on the patient's own side, or on insurer ``payer_id``'s side."""
    lock_account(session, patient_id)
    paid = (
        select(Allocation.debit_id, cents_sum(Allocation.amount).label("paid"))
        .where(Allocation.patient_id == patient_id)
        .group_by(Allocation.debit_id)
        .subquery()
    )
    query = (
        select(LedgerEntry, func.coalesce(paid.c.paid, 0))
        .outerjoin(paid, paid.c.debit_id == LedgerEntry.id)
        .where(LedgerEntry.patient_id == patient_id, LedgerEntry.amount > 0, on_side(payer_id))
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    )
    if entry_ids is not None:
        query = query.where(LedgerEntry.id.in_(list(entry_ids)))
    rows = []
    for entry, paid_cents in session.execute(query):
        left = entry.amount - decimal_of(paid_cents)
        if left > ZERO:
            rows.append(Open(entry, left))
    return rows


def unapplied_credits(
    session: Session,
    patient_id: int,
    *,
    include_packages: bool = False,
    entry_ids: Iterable[int] | None = None,
    payer_id: int | None = None,
) -> list[Open]:
    """The patient's credits with something left to apply, oldest first (on the patient's
    side, or on insurer ``payer_id``'s).

    A package's prepayment is reserved for the sessions it covers, so it is left out unless
    ``include_packages`` (the package service itself, or a refund of the package).
    """
    lock_account(session, patient_id)
    used = (
        select(Allocation.credit_id, cents_sum(Allocation.amount).label("used"))
        .where(Allocation.patient_id == patient_id)
        .group_by(Allocation.credit_id)
        .subquery()
    )
    query = (
        select(LedgerEntry, func.coalesce(used.c.used, 0))
        .outerjoin(used, used.c.credit_id == LedgerEntry.id)
        .where(LedgerEntry.patient_id == patient_id, LedgerEntry.amount < 0, on_side(payer_id))
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    )
    if not include_packages:
        query = query.where(LedgerEntry.package_purchase_id.is_(None))
    if entry_ids is not None:
        query = query.where(LedgerEntry.id.in_(list(entry_ids)))
    rows = []
    for entry, used_cents in session.execute(query):
        left = -entry.amount - decimal_of(used_cents)
        if left > ZERO:
            rows.append(Open(entry, left))
    return rows


@dataclass(frozen=True)
class Step:
    """One allocation of a plan: ``cents`` of credit number ``credit`` pay debit ``debit``
    (positions in the lists given to :func:`allocation_plan`)."""

    credit: int
    debit: int
    cents: int


def allocation_plan(credits: Sequence[int], debits: Sequence[int]) -> list[Step]:
    """Which credit pays which debit, and how much: the rule of :func:`apply_oldest_first`.

    A pure decision over plain values, so the ledger and the demo's in-memory books share
    it. ``credits`` are the cents each credit may give and ``debits`` the cents each debit
    still owes, both already in the order to use them (oldest first). The first credit pays
    the first debit as far as either reaches; whichever is used up is left behind for the
    next one, until one list runs out. Nothing is planned from or to an amount of zero or
    less, so every step moves more than zero cents and no credit gives, nor debit takes,
    more than it has.
    """
    steps: list[Step] = []
    credit_left = list(credits)
    debit_left = list(debits)
    ci = di = 0
    while ci < len(credit_left) and di < len(debit_left):
        cents = min(credit_left[ci], debit_left[di])
        if cents > 0:
            steps.append(Step(ci, di, cents))
            credit_left[ci] -= cents
            debit_left[di] -= cents
        if credit_left[ci] <= 0:
            ci += 1
        if debit_left[di] <= 0:
            di += 1
    return steps


def apply_oldest_first(
    session: Session, actor: Actor, credits: Sequence[Open], debits: Sequence[Open]
) -> list[Allocation]:
    """Pay ``debits`` in order from ``credits`` in order until one list runs out.

    :func:`allocation_plan` decides the amounts over integer cents; each step is written as
    one allocation row.
    """
    plan = allocation_plan([to_cents(c.left) for c in credits], [to_cents(d.left) for d in debits])
    made: list[Allocation] = []
    for step in plan:
        credit, debit = credits[step.credit].entry, debits[step.debit].entry
        made.append(
            _allocation(
                session, actor, credit.id, debit.id, credit.patient_id, from_cents(step.cents)
            )
        )
    return made


def reversal_of(session: Session, entry_id: int) -> LedgerEntry | None:
    """The entry that reverses ``entry_id``, if any."""
    return session.scalars(select(LedgerEntry).where(LedgerEntry.reverses_id == entry_id)).first()


def get_entry(session: Session, entry_id: int) -> LedgerEntry:
    entry = session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound(f"there is no ledger entry {entry_id}")
    return entry


def _release(session: Session, actor: Actor, entry: LedgerEntry) -> None:
    """Undo every allocation touching ``entry`` with negative rows (net per pair)."""
    column = Allocation.debit_id if entry.amount > ZERO else Allocation.credit_id
    pairs = session.execute(
        select(Allocation.credit_id, Allocation.debit_id, cents_sum(Allocation.amount))
        .where(column == entry.id)
        .group_by(Allocation.credit_id, Allocation.debit_id)
    ).all()
    for credit_id, debit_id, net in pairs:
        amount = decimal_of(net)
        if amount != ZERO:
            _allocation(session, actor, credit_id, debit_id, entry.patient_id, -amount)


def reverse(
    session: Session, actor: Actor, entry: LedgerEntry, reason: str, on: date
) -> LedgerEntry:
    """Undo ``entry`` with a reversal entry and return the reversal.

    What the entry had paid (or been paid by) is released first, so a reversed payment
    leaves its charges owed again and a reversed charge leaves its payment as credit.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidValue("say why the entry is reversed")
    if entry.kind is EntryKind.REVERSAL:
        raise Conflict(f"entry {entry.id} is itself a reversal; post the original again instead")
    # Lock before looking: two desks reversing one entry must not both find it unreversed.
    lock_account(session, entry.patient_id)
    if reversal_of(session, entry.id) is not None:
        raise Conflict(f"entry {entry.id} ({entry.description}) is already reversed")
    _release(session, actor, entry)
    undo = post(
        session,
        actor,
        patient_id=entry.patient_id,
        location_id=entry.location_id,
        kind=EntryKind.REVERSAL,
        amount=-entry.amount,
        posted_on=on,
        description=f"Reversal of {entry.description}",
        note=reason,
        payer_id=entry.payer_id,
        claim_id=entry.claim_id,
        reverses=entry,
        package_purchase_id=entry.package_purchase_id,
    )
    credit, debit = (undo, entry) if entry.amount > ZERO else (entry, undo)
    _allocation(session, actor, credit.id, debit.id, entry.patient_id, abs(entry.amount))
    return undo


def balance(session: Session, patient_id: int, as_of: date | None = None) -> Decimal:
    """What the patient owes themselves (negative: credit the clinic holds), exact to the
    cent. What insurers owe for the patient's care is apart: :func:`insurer_balance`."""
    query = select(cents_sum(LedgerEntry.amount)).where(
        LedgerEntry.patient_id == patient_id, on_side(None)
    )
    if as_of is not None:
        query = query.where(LedgerEntry.posted_on <= as_of)
    return decimal_of(session.execute(query).scalar_one())


def insurer_balance(session: Session, patient_id: int, as_of: date | None = None) -> Decimal:
    """What insurers still owe (or are expected to settle) for the patient's care."""
    query = select(cents_sum(LedgerEntry.amount)).where(
        LedgerEntry.patient_id == patient_id, LedgerEntry.payer_id.is_not(None)
    )
    if as_of is not None:
        query = query.where(LedgerEntry.posted_on <= as_of)
    return decimal_of(session.execute(query).scalar_one())


@dataclass(frozen=True)
class LedgerLine:
    """One row of the ledger as people read it, with the running balance after it."""

    entry_id: int
    posted_on: date
    kind: EntryKind
    description: str
    amount: Decimal
    balance: Decimal
    method: PaymentMethod | None
    reference: str
    reason: AdjustmentReason | None
    note: str
    reverses_id: int | None
    reversed_by_id: int | None
    created_by: str
    payer_id: int | None = None  # the insurer's side; None: the patient's own
    insurer_balance: Decimal = ZERO  # what insurers owe after this entry


def lines(session: Session, patient_id: int) -> list[LedgerLine]:
    """The patient's whole ledger in date order, with the running balance of each side: the
    patient's own (``balance``) and the insurers' (``insurer_balance``)."""
    entries = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.patient_id == patient_id)
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    ).all()
    reversed_by = {e.reverses_id: e.id for e in entries if e.reverses_id is not None}
    running = insurers = ZERO
    out = []
    for e in entries:
        if e.payer_id is None:
            running += e.amount
        else:
            insurers += e.amount
        out.append(
            LedgerLine(
                entry_id=e.id,
                posted_on=e.posted_on,
                kind=e.kind,
                description=e.description,
                amount=e.amount,
                balance=running,
                method=e.method,
                reference=e.reference,
                reason=e.reason,
                note=e.note,
                reverses_id=e.reverses_id,
                reversed_by_id=reversed_by.get(e.id),
                created_by=e.created_by,
                payer_id=e.payer_id,
                insurer_balance=insurers,
            )
        )
    return out
