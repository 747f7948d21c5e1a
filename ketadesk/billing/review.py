"""The charge review queue: billing's last look before a charge becomes money owed.

Captured charges (:mod:`ketadesk.billing.capture`) and charges added by hand wait here as
``pending`` rows. From the queue billing can:

* :func:`edit_charge` — change the code, modifiers, units, unit price, description or
  diagnosis pointers. The amount is always unit price × units; a new code (or a line still
  at $0.00) takes its price from the fee schedule unless a price is given. An edit made
  from an out-of-date copy raises :class:`StaleEdit`; the edit also clears the capture's
  review note, since a person has now looked (the audit row keeps the old note);
* :func:`dismiss_charge` — take it out of the queue with a reason (nothing is billed);
* :func:`add_manual_charge` — bill something capture does not count (prolonged
  services, an add-on);
* :func:`post_charges` — make charges final. Each becomes a ``charge`` entry in the
  patient's ledger dated on its service date, and the row is frozen: a posted charge is
  corrected by reversing its entry, never by editing. A session's package then covers it
  when one applies (:func:`ketadesk.billing.packages.cover_session`), and the patient's
  unapplied credit pays what is owed, oldest first.

Every change checks :data:`Permission.CHARGE_REVIEW` and is audited in the caller's
transaction. :func:`review_queue` returns frozen :class:`QueueRow` records for the window and
the command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.capture import MAX_POINTERS, default_pointers
from ketadesk.billing.claims.routing import BillTo, Router
from ketadesk.billing.fees import fee_for, modifiers, price, units
from ketadesk.billing.models import (
    Charge,
    ChargeSource,
    ChargeStatus,
    EntryKind,
    FeeItem,
    LedgerEntry,
)
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import procedure_code
from ketadesk.clinic.models import Location, Patient, Provider
from ketadesk.errors import Conflict, InvalidValue, NotFound, StaleEdit, ValidationError
from ketadesk.money import ZERO, round_cents
from ketadesk.scheduling.models import TreatmentSession

__all__ = [
    "EDITABLE_FIELDS",
    "QueueRow",
    "add_manual_charge",
    "dismiss_charge",
    "edit_charge",
    "entry_description",
    "post_charges",
    "review_queue",
]

EDITABLE_FIELDS = (
    "code",
    "modifiers",
    "units",
    "unit_price",
    "description",
    "diagnosis_pointers",
)


@dataclass(frozen=True)
class QueueRow:
    """One pending charge as the review queue shows it."""

    charge_id: int
    version: int
    patient_id: int
    mrn: str
    patient_name: str  # "Family, Given"
    service_date: date
    location_code: str
    provider_name: str  # "" for a charge without a provider
    session_ref: str  # "S-1234", or "" for a charge added without a session
    source: ChargeSource
    code: str  # "" for a clinic fee (late cancellation, no-show)
    modifiers: str
    description: str
    units: int
    unit_price: Decimal
    amount: Decimal
    diagnosis_pointers: str
    review_note: str
    bill_to: str = "Patient"  # "Aetna (primary)": where posting will send it


def review_queue(
    session: Session,
    actor: Actor,
    *,
    location_id: int | None = None,
    patient_id: int | None = None,
    limit: int | None = None,
) -> list[QueueRow]:
    """Pending charges, oldest service date first (then by patient): every one of them,
    or the first ``limit``. Needs ``BILLING_VIEW``."""
    actor.require(Permission.BILLING_VIEW)
    provider = aliased(Provider)
    query = (
        select(
            Charge,
            Patient.mrn,
            Patient.family_name,
            Patient.given_name,
            Location.code,
            provider.given_name,
            provider.family_name,
        )
        .join(Patient, Patient.id == Charge.patient_id)
        .join(Location, Location.id == Charge.location_id)
        .outerjoin(provider, provider.id == Charge.provider_id)
        .where(Charge.status == ChargeStatus.PENDING)
        .order_by(Charge.service_date, Charge.patient_id, Charge.id)
    )
    if limit is not None:
        query = query.limit(limit)
    if location_id is not None:
        query = query.where(Charge.location_id == location_id)
    if patient_id is not None:
        query = query.where(Charge.patient_id == patient_id)
    found = session.execute(query).all()
    router = Router(session).prime(row[0].patient_id for row in found)
    rows = []
    for charge, mrn, family, given, code, p_given, p_family in found:
        rows.append(
            QueueRow(
                charge_id=charge.id,
                version=charge.version,
                patient_id=charge.patient_id,
                mrn=mrn,
                patient_name=f"{family}, {given}",
                service_date=charge.service_date,
                location_code=code,
                provider_name=f"{p_given} {p_family}" if p_family else "",
                session_ref=f"S-{charge.session_id}" if charge.session_id else "",
                source=charge.source,
                code=charge.code,
                modifiers=charge.modifiers,
                description=charge.description,
                units=charge.units,
                unit_price=charge.unit_price,
                amount=charge.amount,
                diagnosis_pointers=charge.diagnosis_pointers,
                review_note=charge.review_note,
                bill_to=router.bill_to(charge.patient_id, charge.service_date, charge.code).words,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------
# Editing, dismissing and adding
# ---------------------------------------------------------------------------------------


def edit_charge(
    session: Session,
    actor: Actor,
    charge_id: int,
    values: Mapping[str, object],
    *,
    version: int | None = None,
) -> Charge:
    """Change a pending charge; only the keys given in ``values`` change.

    Raises :class:`~ketadesk.errors.ValidationError` naming every bad field,
    :class:`Conflict` for a posted or dismissed charge, and :class:`StaleEdit` when the
    charge changed after ``version`` (the version the reviewer saw).
    """
    actor.require(Permission.CHARGE_REVIEW)
    charge = _load(session, charge_id)
    _require_pending(charge, "edited")
    if version is not None and charge.version != version:
        raise _stale(charge)
    clean = _clean_edit(session, charge, values)
    before, stale = audit.snapshot(charge), _stale(charge)
    with session.no_autoflush:  # one UPDATE (one version step) for the whole edit
        for name, value in clean.items():
            setattr(charge, name, value)
        _reprice(
            session,
            charge,
            price_given="unit_price" in clean,
            code_moved=_code_moved(before, clean),
            described="description" in clean,
        )
        if audit.changed(before, audit.snapshot(charge))[1]:
            charge.review_note = ""
    _flush(session, stale)
    audit.record_update(session, actor, "charge", charge.id, before, audit.snapshot(charge))
    return charge


def _code_moved(before: Mapping[str, Any], clean: Mapping[str, Any]) -> bool:
    return any(name in clean and clean[name] != before[name] for name in ("code", "modifiers"))


def _clean_edit(session: Session, charge: Charge, values: Mapping[str, object]) -> dict[str, Any]:
    checker = v.Checker()
    for key in values:
        if key not in EDITABLE_FIELDS:
            checker.add(key, "cannot be changed in the review queue")
    is_fee = charge.source in (ChargeSource.LATE_CANCEL_FEE, ChargeSource.NO_SHOW_FEE)
    validators = {
        "code": procedure_code,
        "modifiers": modifiers,
        "units": units,
        "unit_price": price,
        "description": v.plain_text(200),
        "diagnosis_pointers": _pointer_check(_diagnosis_count(session, charge.patient_id)),
    }
    # A clinic fee has no code; a service must keep one. Text fields may be blanked.
    required = {"code": not is_fee, "units": True, "unit_price": True, "description": True}
    clean: dict[str, Any] = {}
    for name, validator in validators.items():
        if name not in values:
            continue
        value = checker.check(name, validator, values[name], required=required.get(name, False))
        if value is not None:
            clean[name] = value
        elif not required.get(name, False) and not _has_problem(checker, name):
            clean[name] = ""
    if is_fee and clean.get("code"):
        checker.add("code", f"a {charge.source.label.lower()} is a clinic fee and has no code")
    checker.raise_if_problems()
    return clean


def _pointer_check(diagnoses: int) -> Any:
    def check(value: object) -> str:
        items = v.split_list(value)
        numbers: list[int] = []
        for item in items:
            letter = item.upper()
            if len(letter) == 1 and "A" <= letter <= "L":
                number = ord(letter) - ord("A") + 1  # superbills point with letters
            elif item.isdigit():
                number = int(item)
            else:
                raise InvalidValue(f"{item!r} is not a diagnosis pointer; write them like 1,2")
            if not 1 <= number <= diagnoses:
                raise InvalidValue(
                    f"{item} points past the patient's {diagnoses} "
                    f"diagnos{'i' if diagnoses == 1 else 'e'}s"
                )
            numbers.append(number)
        unique = list(dict.fromkeys(numbers))
        if len(unique) > MAX_POINTERS:
            raise InvalidValue(f"lists {len(unique)} diagnoses; a service line points at 4 at most")
        return ",".join(str(n) for n in unique)

    return check


def _diagnosis_count(session: Session, patient_id: int) -> int:
    patient = session.get(Patient, patient_id)
    return len(patient.diagnoses) if patient is not None else 0


def _reprice(
    session: Session, charge: Charge, *, price_given: bool, code_moved: bool, described: bool
) -> None:
    """Amount = unit price × units; the fee schedule prices a new code or a $0.00 line."""
    fee = (
        fee_for(session, charge.code, charge.service_date, charge.modifiers)
        if charge.code
        else None
    )
    if fee is not None and not price_given and (code_moved or charge.unit_price == ZERO):
        charge.unit_price = fee.self_pay_price
    if fee is not None and code_moved and not described:
        charge.description = fee.description
    charge.amount = round_cents(charge.unit_price * charge.units)
    charge.billed_charge = _billed(fee, charge.units, charge.amount)


def _billed(fee: FeeItem | None, count: int, amount: Decimal) -> Decimal:
    """The full charge shown on a superbill: the schedule's, or the amount when unlisted."""
    if fee is None or amount == ZERO:
        return amount
    return max(round_cents(fee.billed_charge * count), amount)


def dismiss_charge(session: Session, actor: Actor, charge_id: int, reason: str) -> Charge:
    """Take a pending charge out of the queue unbilled; ``reason`` says why."""
    actor.require(Permission.CHARGE_REVIEW)
    charge = _load(session, charge_id)
    _require_pending(charge, "dismissed")
    why = " ".join(str(reason).split())
    if not why:
        raise ValidationError.single("reason", "is required: say why the charge is not billed")
    if len(why) > 200:
        raise ValidationError.single("reason", f"is {len(why)} characters long; at most 200 fit")
    before, stale = audit.snapshot(charge), _stale(charge)
    charge.status = ChargeStatus.DISMISSED
    charge.dismissed_reason = why
    _flush(session, stale)
    audit.record_update(session, actor, "charge", charge.id, before, audit.snapshot(charge))
    return charge


def add_manual_charge(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    location_id: int,
    service_date: date,
    code: str,
    units: int = 1,
    unit_price: Decimal | str | None = None,
    modifiers: str = "",
    provider_id: int | None = None,
    session_id: int | None = None,
) -> Charge:
    """Add a pending charge by hand, priced from the fee schedule unless ``unit_price``.

    Raises :class:`~ketadesk.errors.ValidationError` for a bad code, modifiers, units or
    price (or a code with no fee in force and no price given), :class:`NotFound` for an
    unknown patient, location, provider or session.
    """
    actor.require(Permission.CHARGE_REVIEW)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    if session.get(Location, location_id) is None:
        raise NotFound(f"There is no location with id {location_id}.")
    if provider_id is not None and session.get(Provider, provider_id) is None:
        raise NotFound(f"There is no provider with id {provider_id}.")
    if session_id is not None:
        _check_session(session, session_id, patient)
    clean = _clean_manual(session, code, units, unit_price, modifiers, service_date)
    charge = Charge(
        patient_id=patient_id,
        location_id=location_id,
        provider_id=provider_id,
        session_id=session_id,
        source=ChargeSource.MANUAL,
        service_date=service_date,
        diagnosis_pointers=default_pointers(patient),
        status=ChargeStatus.PENDING,
        created_by=actor.username,
        **clean,
    )
    session.add(charge)
    session.flush()
    audit.record(session, actor, "create", "charge", charge.id, after=audit.snapshot(charge))
    return charge


def _check_session(session: Session, session_id: int, patient: Patient) -> None:
    ts = session.get(TreatmentSession, session_id)
    if ts is None:
        raise NotFound(f"There is no session S-{session_id}.")
    if ts.patient_id != patient.id:
        raise ValidationError.single(
            "session_id", f"S-{session_id} is another patient's session, not {patient.mrn}'s"
        )


def _clean_manual(
    session: Session,
    code: str,
    count: object,
    unit_price: object,
    mods: str,
    service_date: date,
) -> dict[str, Any]:
    checker = v.Checker()
    clean_code = checker.check("code", procedure_code, code)
    clean_mods = checker.check("modifiers", modifiers, mods, required=False) or ""
    clean_units = checker.check("units", units, count)
    given = checker.check("unit_price", price, unit_price, required=False)
    fee = fee_for(session, clean_code, service_date, clean_mods) if clean_code else None
    if clean_code and given is None and fee is None and not _has_problem(checker, "unit_price"):
        checker.add(
            "unit_price",
            f"is required: {clean_code} has no fee on the schedule in force on {service_date}",
        )
    checker.raise_if_problems()
    count_ok = clean_units or 1  # both were required: present once no problem was raised
    unit = given if given is not None else fee.self_pay_price if fee is not None else ZERO
    amount = round_cents(unit * count_ok)
    return {
        "code": clean_code,
        "modifiers": clean_mods,
        "description": fee.description if fee is not None else f"{clean_code} (added by hand)",
        "units": count_ok,
        "unit_price": unit,
        "amount": amount,
        "billed_charge": _billed(fee, count_ok, amount),
    }


# ---------------------------------------------------------------------------------------
# Posting
# ---------------------------------------------------------------------------------------


def entry_description(charge: Charge) -> str:
    """How a posted charge reads in the ledger: ``"96365 IV infusion, first hour"``."""
    code = f"{charge.code}-{charge.modifiers}" if charge.modifiers else charge.code
    words = f"{code} {charge.description}" if code else charge.description
    if charge.units > 1:
        words += f" × {charge.units}"
    return words


def post_charges(
    session: Session, actor: Actor, charge_ids: Iterable[int], *, on: date
) -> list[LedgerEntry]:
    """Post pending charges to their patients' ledgers; return the entries in posting order.

    All or nothing: an unknown, already posted or dismissed charge, one still at $0.00, or
    one dated after ``on`` (a service that has not happened) refuses the whole posting with
    every reason. Each charge goes where :mod:`ketadesk.billing.claims.routing` says: a
    covered service on a day a policy is in force is posted on that insurer's side at the
    billed charge, to be claimed; anything else on the patient's side at the self-pay
    price. After posting, each treatment session's patient-side charges may be covered by
    a package, and each patient's unapplied credit (not package prepayments) pays what they
    owe, oldest first.
    """
    actor.require(Permission.CHARGE_REVIEW)
    charges = _load_for_posting(session, list(dict.fromkeys(charge_ids)), on)
    router = Router(session).prime(c.patient_id for c in charges)
    stamp = datetime.now(UTC)
    entries: list[LedgerEntry] = []
    for charge in charges:
        before, stale = audit.snapshot(charge), _stale(charge)
        to = router.bill_to(charge.patient_id, charge.service_date, charge.code)
        entry = ledger.post(
            session,
            actor,
            patient_id=charge.patient_id,
            location_id=charge.location_id,
            kind=EntryKind.CHARGE,
            amount=_posted_amount(charge, to),
            posted_on=charge.service_date,
            description=entry_description(charge),
            payer_id=to.payer_id,
        )
        charge.status = ChargeStatus.POSTED
        charge.entry_id = entry.id
        charge.posted_at = stamp
        charge.posted_by = actor.username
        _flush(session, stale)
        audit.record_update(session, actor, "charge", charge.id, before, audit.snapshot(charge))
        entries.append(entry)
    _cover_sessions(session, actor, charges, entries)
    for patient_id in dict.fromkeys(c.patient_id for c in charges):
        _apply_credit(session, actor, patient_id)
    return entries


def _posted_amount(charge: Charge, to: BillTo) -> Decimal:
    """An insurer is billed the clinic's billed charge; the patient the self-pay price."""
    if to.insurer and charge.billed_charge > ZERO:
        return charge.billed_charge
    return charge.amount


def _load_for_posting(session: Session, ids: Sequence[int], on: date) -> list[Charge]:
    if not ids:
        raise InvalidValue("choose at least one charge to post")
    found = {c.id: c for c in session.scalars(select(Charge).where(Charge.id.in_(ids)))}
    problems: list[str] = []
    for charge_id in ids:
        charge = found.get(charge_id)
        if charge is None:
            problems.append(f"there is no charge {charge_id}")
        elif charge.status is not ChargeStatus.PENDING:
            problems.append(f"{_named(charge)} is already {charge.status.label.lower()}")
        elif charge.amount <= ZERO:
            problems.append(f"{_named(charge)} is still at $0.00: enter a price or dismiss it")
        elif charge.service_date > on:
            problems.append(
                f"{_named(charge)} is for {charge.service_date}, after {on}: a charge is posted "
                "once the service has happened"
            )
    if problems:
        raise Conflict("Nothing was posted: " + "; ".join(problems) + ".")
    return sorted(found.values(), key=lambda c: (c.patient_id, c.service_date, c.id))


def _cover_sessions(
    session: Session, actor: Actor, charges: Sequence[Charge], entries: Sequence[LedgerEntry]
) -> None:
    """Offer each treatment session's newly posted service charges to the patient's packages."""
    from ketadesk.billing import packages  # written beside this module; imported when used

    by_session: dict[int, list[LedgerEntry]] = {}
    for charge, entry in zip(charges, entries, strict=True):
        fee = charge.source in (ChargeSource.LATE_CANCEL_FEE, ChargeSource.NO_SHOW_FEE)
        if charge.session_id is not None and not fee and entry.payer_id is None:
            by_session.setdefault(charge.session_id, []).append(entry)
    for session_id, session_entries in by_session.items():
        packages.cover_session(session, actor, session_id, session_entries)


def _apply_credit(session: Session, actor: Actor, patient_id: int) -> None:
    credits = ledger.unapplied_credits(session, patient_id)
    if credits:
        ledger.apply_oldest_first(session, actor, credits, ledger.open_debits(session, patient_id))


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _has_problem(checker: v.Checker, field: str) -> bool:
    return any(p.field == field for p in checker.problems)


def _load(session: Session, charge_id: int) -> Charge:
    charge = session.get(Charge, charge_id)
    if charge is None:
        raise NotFound(f"There is no charge with id {charge_id}.")
    return charge


def _named(charge: Charge) -> str:
    what = charge.code or charge.source.label.lower()
    return f"charge {charge.id} ({what} on {charge.service_date})"


def _require_pending(charge: Charge, doing: str) -> None:
    if charge.status is ChargeStatus.POSTED:
        raise Conflict(
            f"{_named(charge).capitalize()} is posted and final, so it cannot be {doing}; "
            "reverse its ledger entry instead and add a corrected charge."
        )
    if charge.status is ChargeStatus.DISMISSED:
        raise Conflict(
            f"{_named(charge).capitalize()} was dismissed ({charge.dismissed_reason}); "
            f"it cannot be {doing}. Add a new charge by hand if it should be billed."
        )


def _stale(charge: Charge) -> StaleEdit:
    return StaleEdit(
        f"{_named(charge).capitalize()} was changed by someone else after you opened it; "
        "reload the queue and make your change again."
    )


def _flush(session: Session, stale: StaleEdit) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise stale from None
