"""Packages: prepaid bundles of sessions, from the sale to the last use, expiry or refund.

How the money moves:

* A :class:`PackageTemplate` is what the clinic sells ("IV induction — 6 infusions" for a
  package price, valid for so many days, with a policy for unused sessions). The defaults
  ship in ``ketadesk/resources/packages.toml``; billing and managers edit their own.
* :func:`sell_package` copies the template into a :class:`PackagePurchase` and posts the
  patient's money as one ``payment`` entry carrying the purchase's id. That prepayment is
  *reserved*: the ledger's ordinary credit (``ledger.unapplied_credits``) leaves it out, so
  it only ever pays the sessions the package covers.
* When a session's charges are posted (``review.post_charges``), :func:`cover_session` looks
  for the patient's active package of a service the session billed, soonest expiry first,
  and uses one session of it. A use is worth ``price / sessions`` (the last use takes the
  remainder, so the uses add up to the price to the cent). The prepayment pays the
  session's charges up to that value and an ``adjustment`` (reason *package*) closes the
  gap when the clinic's list prices come to more. Should the list prices come to less, the
  difference is a ``forfeit`` of the prepayment, since the package price is what was agreed
  and the rest of the prepayment must stay exactly the value of the sessions left.
* At expiry (:func:`expire_packages`) a package with sessions left follows its policy:
  *refund prorated* keeps the value left as a refundable prepayment, which
  :func:`refund_unused` pays out with a ``refund`` entry; *forfeit* posts a ``forfeit``
  entry for the value left, paid from the prepayment, and the clinic keeps it.

Every step is an entry or an allocation in the ledger, so a patient's ledger shows the
prepayment and each use, and the value a package still holds is read from the ledger (what
is left unapplied of its prepayment), never from a stored figure.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.invoices import read_account
from ketadesk.billing.models import (
    AdjustmentReason,
    Charge,
    EntryKind,
    LedgerEntry,
    PackagePurchase,
    PackageStatus,
    PackageTemplate,
    PackageUse,
    PaymentMethod,
    UnusedPolicy,
)
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import procedure_code
from ketadesk.clinic.models import Location, Patient
from ketadesk.config import RESOURCES
from ketadesk.errors import Conflict, InvalidValue, NotFound, StaleEdit
from ketadesk.money import ZERO, from_cents, money, to_cents

__all__ = [
    "DEFAULTS_FILE",
    "TEMPLATE_FIELDS",
    "PackageBalance",
    "cover_session",
    "ensure_default_templates",
    "expire_packages",
    "get_template",
    "list_templates",
    "package_balance",
    "patient_packages",
    "prepayment_of",
    "refund_unused",
    "save_template",
    "sell_package",
    "set_template_active",
    "use_value",
]

DEFAULTS_FILE = RESOURCES / "packages.toml"


# ---------------------------------------------------------------------------------------
# Using a package: one session at a time
# ---------------------------------------------------------------------------------------


def package_share(price_cents: int, sessions: int, number: int) -> int:
    """The cents use ``number`` (1-based) of a package of ``sessions`` for ``price_cents`` is
    worth: the pure rule behind :func:`use_value`, shared with the demo's in-memory books.

    Every use but the last is the price divided by the sessions, rounded down to the cent;
    the last takes the remainder, so the uses add up to the price exactly (100000 / 3 is
    33333, 33333 and 33334). Rounding down keeps the last use the largest, never below zero.
    """
    if not 1 <= number <= sessions:
        raise InvalidValue(f"use {number} is outside a package of {sessions} sessions")
    if price_cents < 0:
        raise InvalidValue("a package price cannot be below zero")
    share = price_cents // sessions
    if number < sessions:
        return share
    return price_cents - share * (sessions - 1)


def use_value(price: Decimal, sessions: int, number: int) -> Decimal:
    """What use ``number`` (1-based) of a package of ``sessions`` for ``price`` is worth.

    :func:`package_share` in dollars: $1,000.00 / 3 is 333.33, 333.33 and 333.34.
    """
    return from_cents(package_share(to_cents(price), sessions, number))


@dataclass(frozen=True)
class UseSettlement:
    """How one package use closes a session's charges beyond what the prepayment paid.

    ``adjustment_cents``: a package adjustment for the list fees above the use's value;
    ``forfeit_cents``: the part of the use's value the fees did not take, which the clinic
    keeps. At most one of them is above zero.
    """

    adjustment_cents: int
    forfeit_cents: int


def settle_use(owed_cents: int, value_cents: int, paid_cents: int) -> UseSettlement:
    """The pure decision of a package use, shared by :func:`cover_session` and the demo.

    ``owed_cents`` is what the session's charges still owed before the use, ``value_cents``
    the use's value (:func:`package_share`) and ``paid_cents`` what the prepayment paid of
    the charges. Fees above the value are closed by an adjustment of the gap; otherwise
    whatever of the value the fees did not take is forfeited, so the prepayment keeps
    exactly the value of the sessions still unused.
    """
    if owed_cents > value_cents:
        return UseSettlement(owed_cents - value_cents, 0)
    if paid_cents < value_cents:
        return UseSettlement(0, value_cents - paid_cents)
    return UseSettlement(0, 0)


def cover_session(
    session: Session, actor: Actor, session_id: int, entries: Sequence[LedgerEntry]
) -> PackageUse | None:
    """Let a package pay for treatment session ``session_id`` whose charges were just posted.

    ``entries`` are the session's charge entries from this posting. A package covers the
    session when one of them bills the package's service code and the package is active,
    has sessions left, has not expired on the service date and its prepayment still holds
    the use's value; of several, the one expiring soonest is used. (A package sold after
    the session but before its charges were posted covers it: the desk often sells one at
    the first visit's check-out.) Returns the :class:`PackageUse`, or None when no package
    applies or one already covered the session. A session uses a package once: charges
    added to it later are not covered, except that charges posted again after the covered
    ones were reversed (an invoice voided and re-billed) take back what the reversal
    released of that use.
    """
    actor.require(Permission.CHARGE_REVIEW)
    charges = [e for e in entries if e.kind is EntryKind.CHARGE and e.amount > ZERO]
    if not charges:
        return None
    already = session.scalar(select(PackageUse).where(PackageUse.session_id == session_id))
    if already is not None:
        _cover_again(session, actor, already, charges)
        return None
    codes = set(
        session.scalars(select(Charge.code).where(Charge.entry_id.in_([e.id for e in charges])))
    )
    service_date = min(e.posted_on for e in charges)
    patient_id = charges[0].patient_id
    for purchase in _candidates(session, patient_id, codes, service_date):
        prepayment = prepayment_of(session, purchase)
        number = _used(session, purchase) + 1
        value = use_value(purchase.price, purchase.sessions_total, number)
        if prepayment is None or ledger.unapplied(session, prepayment) < value:
            continue  # the sale was reversed or refunded: nothing left to pay with
        return _use(session, actor, purchase, prepayment, session_id, number, value, charges)
    return None


def _candidates(
    session: Session, patient_id: int, codes: set[str], service_date: date
) -> list[PackagePurchase]:
    """Active packages of the patient for one of ``codes``, in force on the day, soonest
    expiry first, with sessions left."""
    if not codes:
        return []
    purchases = session.scalars(
        select(PackagePurchase)
        .where(
            PackagePurchase.patient_id == patient_id,
            PackagePurchase.status == PackageStatus.ACTIVE,
            PackagePurchase.service_code.in_(sorted(codes)),
            PackagePurchase.expires_on >= service_date,
        )
        .order_by(PackagePurchase.expires_on, PackagePurchase.id)
    )
    return [p for p in purchases if _used(session, p) < p.sessions_total]


def _used(session: Session, purchase: PackagePurchase) -> int:
    """How many sessions the package has covered (counted in SQL, never a stale list)."""
    count = session.scalar(
        select(func.count()).select_from(PackageUse).where(PackageUse.purchase_id == purchase.id)
    )
    return int(count or 0)


def _use(
    session: Session,
    actor: Actor,
    purchase: PackagePurchase,
    prepayment: LedgerEntry,
    session_id: int,
    number: int,
    value: Decimal,
    charges: Sequence[LedgerEntry],
) -> PackageUse:
    """Pay the session's charges from the prepayment (and an adjustment) and record the use."""
    label = f"{purchase.name}: session {number} of {purchase.sessions_total}"
    owed = ledger.open_debits(session, purchase.patient_id, [e.id for e in charges])
    total = sum((o.left for o in owed), ZERO)
    paid = ledger.apply_oldest_first(session, actor, [ledger.Open(prepayment, value)], owed)
    used = sum((a.amount for a in paid), ZERO)
    day = min(e.posted_on for e in charges)
    settled = settle_use(to_cents(total), to_cents(value), to_cents(used))
    adjustment: LedgerEntry | None = None
    if settled.adjustment_cents:
        adjustment = ledger.post(
            session,
            actor,
            patient_id=purchase.patient_id,
            location_id=charges[0].location_id,
            kind=EntryKind.ADJUSTMENT,
            amount=-from_cents(settled.adjustment_cents),
            posted_on=day,
            description=label,
            reason=AdjustmentReason.PACKAGE,
            note="package rate below the listed fees",
            package_purchase_id=purchase.id,
        )
        still_owed = ledger.open_debits(session, purchase.patient_id, [e.id for e in charges])
        ledger.apply_oldest_first(
            session, actor, [ledger.Open(adjustment, -adjustment.amount)], still_owed
        )
    elif settled.forfeit_cents:
        # The listed fees came to less than the package rate: the clinic keeps the rest of
        # this session's share, so what stays reserved is exactly the sessions still unused.
        _forfeit(
            session,
            actor,
            purchase,
            prepayment,
            from_cents(settled.forfeit_cents),
            day,
            f"{label} (rate above fees)",
        )
    use = PackageUse(
        purchase=purchase,
        session_id=session_id,
        number=number,
        value=value,
        adjustment_entry_id=adjustment.id if adjustment is not None else None,
        used_on=day,
    )
    session.add(use)
    if number == purchase.sessions_total:
        purchase.status = PackageStatus.USED_UP
    session.flush()
    audit.record(session, actor, "create", "package_use", use.id, after=audit.snapshot(use))
    return use


def _cover_again(
    session: Session, actor: Actor, use: PackageUse, charges: Sequence[LedgerEntry]
) -> None:
    """Re-apply what reversing a covered session's charges released of its package use.

    A reversal releases the allocations of the charge it undoes, so the use's package
    adjustment and its share of the prepayment are free again. They still belong to that
    session's use, so charges posted again for the session take them back first.
    """
    purchase = use.purchase
    prepayment = prepayment_of(session, purchase)
    if prepayment is None:
        return
    credits: list[ledger.Open] = []
    if use.adjustment_entry_id is not None:
        adjustment = ledger.get_entry(session, use.adjustment_entry_id)
        left = ledger.unapplied(session, adjustment)
        if left > ZERO:
            credits.append(ledger.Open(adjustment, left))
    # The prepayment holds the value of the sessions not yet used; anything above that
    # was released by a reversal.
    values = session.scalars(select(PackageUse.value).where(PackageUse.purchase_id == purchase.id))
    reserved = purchase.price - sum(values, ZERO)
    if purchase.status in (PackageStatus.ACTIVE, PackageStatus.USED_UP):
        surplus = ledger.unapplied(session, prepayment) - reserved
        if surplus > ZERO:
            credits.append(ledger.Open(prepayment, surplus))
    owed = ledger.open_debits(session, purchase.patient_id, [e.id for e in charges])
    if credits and owed:
        ledger.apply_oldest_first(session, actor, credits, owed)


def _forfeit(
    session: Session,
    actor: Actor,
    purchase: PackagePurchase,
    prepayment: LedgerEntry,
    amount: Decimal,
    on: date,
    description: str,
) -> LedgerEntry:
    """Post a forfeit of ``amount`` of the package's prepayment and pay it from the prepayment."""
    entry = ledger.post(
        session,
        actor,
        patient_id=purchase.patient_id,
        location_id=purchase.location_id,
        kind=EntryKind.FORFEIT,
        amount=amount,
        posted_on=on,
        description=description,
        package_purchase_id=purchase.id,
    )
    ledger.allocate(session, actor, prepayment, entry, amount)
    return entry


def prepayment_of(session: Session, purchase: PackagePurchase) -> LedgerEntry | None:
    """The payment entry that paid for ``purchase`` (None only for a damaged record)."""
    return session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.package_purchase_id == purchase.id,
            LedgerEntry.kind == EntryKind.PAYMENT,
        )
        .order_by(LedgerEntry.id)
    ).first()


# ---------------------------------------------------------------------------------------
# Templates: what the clinic sells
# ---------------------------------------------------------------------------------------


def _unused_policy(value: Any) -> UnusedPolicy:
    """``"refund_prorated"`` / ``"forfeit"``, or the policy's label, in any case."""
    if isinstance(value, UnusedPolicy):
        return value
    text = " ".join(str(value).split()).casefold()
    for policy in UnusedPolicy:
        if text in (policy.value, policy.value.replace("_", " "), policy.label.casefold()):
            return policy
    choices = ", ".join(p.value for p in UnusedPolicy)
    raise InvalidValue(f"{str(value).strip()!r} is not a policy; expected one of {choices}")


def _price(value: Any) -> Decimal:
    if isinstance(value, float):
        raise TypeError("a package price is str, int or Decimal, never float")
    amount = money(value)
    if amount <= ZERO:
        raise InvalidValue(f"{amount} is not a price; a package is sold for more than 0.00")
    return amount


def _whole(low: int, high: int, unit: str) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"a whole number is int or str, not {type(value).__name__}")
        text = str(value).strip()
        if not text.isdigit() or not text.isascii():
            raise InvalidValue(f"{text!r} is not a whole number; expected digits, e.g. 6")
        number = int(text)
        if not low <= number <= high:
            raise InvalidValue(f"{number} {unit} is outside {low} to {high} {unit}")
        return number

    return check


TEMPLATE_FIELDS: Mapping[str, v.FieldSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            v.FieldSpec("name", "Name", True, v.plain_text(120)),
            v.FieldSpec("service_code", "Service covered", True, procedure_code),
            v.FieldSpec("sessions", "Sessions", True, _whole(1, 100, "sessions")),
            v.FieldSpec("price", "Package price", True, _price),
            v.FieldSpec("valid_days", "Valid for (days)", True, _whole(1, 1095, "days")),
            v.FieldSpec("unused_policy", "Unused sessions", False, _unused_policy),
            v.FieldSpec("active", "Active", False, v.parse_flag),
        )
    }
)
"""Every field of a package template, keyed by the column's name."""

_BLANKS: dict[str, Any] = {"unused_policy": UnusedPolicy.REFUND_PRORATED, "active": True}


@cache
def default_templates() -> Mapping[str, Mapping[str, Any]]:
    """The shipped templates by name, as raw values for :data:`TEMPLATE_FIELDS`."""
    with DEFAULTS_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    return MappingProxyType(
        {str(values["name"]): MappingProxyType(dict(values)) for values in raw.get("package", [])}
    )


def ensure_default_templates(session: Session, actor: Actor) -> list[PackageTemplate]:
    """Add the shipped templates whose names are missing; never touch an existing one."""
    existing = set(session.scalars(select(PackageTemplate.name)))
    added = []
    for name, raw in default_templates().items():
        if name in existing:
            continue
        template = PackageTemplate(**_clean(raw))
        session.add(template)
        added.append(template)
    session.flush()
    for template in added:
        audit.record(
            session,
            actor,
            "create",
            "package_template",
            template.id,
            after=audit.snapshot(template),
        )
    return added


def list_templates(session: Session, *, include_inactive: bool = False) -> list[PackageTemplate]:
    """The package templates by name (only those on sale unless ``include_inactive``)."""
    query = select(PackageTemplate).order_by(PackageTemplate.name)
    if not include_inactive:
        query = query.where(PackageTemplate.active.is_(True))
    return list(session.scalars(query))


def get_template(session: Session, template_id: int) -> PackageTemplate:
    template = session.get(PackageTemplate, template_id)
    if template is None:
        raise NotFound(f"there is no package template {template_id}")
    return template


def _clean(raw: Mapping[str, object]) -> dict[str, Any]:
    checker = v.Checker()
    clean = v.collect_fields(checker, raw, tuple(TEMPLATE_FIELDS.values()), _BLANKS, "package")
    checker.raise_if_problems()
    return clean


def save_template(
    session: Session,
    actor: Actor,
    values: Mapping[str, object],
    template_id: int | None = None,
) -> PackageTemplate:
    """Create a template, or change template ``template_id``; every bad field at once.

    A change applies to packages sold from then on: a sold package keeps the name, price,
    sessions and policy it was sold with. ``values`` may carry ``version`` (as read when the
    form opened) to refuse an edit someone else saved first.
    """
    actor.require(Permission.FEE_SCHEDULE_EDIT)
    raw = dict(values)
    version = raw.pop("version", None)
    clean = _clean(raw)
    clash = session.scalar(
        select(PackageTemplate.id).where(
            func.lower(PackageTemplate.name) == clean["name"].casefold(),
            PackageTemplate.id != (template_id or 0),
        )
    )
    if clash is not None:
        raise InvalidValue(f"a package named {clean['name']!r} exists already; choose another name")
    if template_id is None:
        template = PackageTemplate(**clean)
        session.add(template)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            "package_template",
            template.id,
            after=audit.snapshot(template),
        )
        return template
    template = get_template(session, template_id)
    if version is not None and int(str(version)) != template.version:
        raise StaleEdit(
            f"someone else changed the package {template.name!r}; reload and edit again"
        )
    before = audit.snapshot(template)
    for key, value in clean.items():
        setattr(template, key, value)
    try:
        session.flush()
    except StaleDataError:
        raise StaleEdit(
            f"someone else changed the package {template.name!r}; reload and edit again"
        ) from None
    audit.record_update(
        session, actor, "package_template", template.id, before, audit.snapshot(template)
    )
    return template


def set_template_active(
    session: Session, actor: Actor, template_id: int, active: bool
) -> PackageTemplate:
    """Put a template on sale or take it off; packages already sold are not affected."""
    actor.require(Permission.FEE_SCHEDULE_EDIT)
    template = get_template(session, template_id)
    before = audit.snapshot(template)
    template.active = active
    session.flush()
    audit.record_update(
        session, actor, "package_template", template.id, before, audit.snapshot(template)
    )
    return template


# ---------------------------------------------------------------------------------------
# Selling
# ---------------------------------------------------------------------------------------


def sell_package(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    template_id: int,
    method: PaymentMethod,
    on: date,
    location_id: int,
    reference: str = "",
) -> PackagePurchase:
    """Sell a package: the purchase (a copy of the template's terms) and its prepayment.

    The package is valid from ``on`` through ``on + valid_days``. The prepayment is a
    ``payment`` entry for the price, reserved for the sessions the package covers.
    """
    actor.require(Permission.PAYMENT_TAKE)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"there is no patient {patient_id}")
    template = session.get(PackageTemplate, template_id)
    if template is None:
        raise NotFound(f"there is no package template {template_id}")
    if not template.active:
        raise Conflict(f"the package {template.name!r} is no longer sold; choose another")
    if template.price <= ZERO:
        raise Conflict(f"the package {template.name!r} has no price; set one before selling it")
    if session.get(Location, location_id) is None:
        raise NotFound(f"there is no location {location_id}")
    purchase = PackagePurchase(
        template_id=template.id,
        patient_id=patient_id,
        location_id=location_id,
        name=template.name,
        service_code=template.service_code,
        sessions_total=template.sessions,
        price=template.price,
        unused_policy=template.unused_policy,
        purchased_on=on,
        expires_on=on + timedelta(days=template.valid_days),
        status=PackageStatus.ACTIVE,
        created_by=actor.username,
    )
    session.add(purchase)
    session.flush()
    audit.record(
        session, actor, "create", "package_purchase", purchase.id, after=audit.snapshot(purchase)
    )
    ledger.post(
        session,
        actor,
        patient_id=patient_id,
        location_id=location_id,
        kind=EntryKind.PAYMENT,
        amount=-template.price,
        posted_on=on,
        description=f"Package prepayment: {template.name}",
        method=method,
        reference=reference.strip()[:80],
        package_purchase_id=purchase.id,
    )
    return purchase


# ---------------------------------------------------------------------------------------
# What is left
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageBalance:
    """A package as the patient and the desk see it. ``value_left`` is the prepayment not
    yet used: what the clinic would owe back (or will keep, under a forfeit policy)."""

    purchase_id: int
    patient_id: int
    name: str
    service_code: str
    sessions_total: int
    used: int
    remaining: int
    price: Decimal
    value_left: Decimal
    purchased_on: date
    expires_on: date
    status: PackageStatus


def _balance(session: Session, purchase: PackagePurchase) -> PackageBalance:
    used = _used(session, purchase)
    prepayment = prepayment_of(session, purchase)
    left = ledger.unapplied(session, prepayment) if prepayment is not None else ZERO
    still_open = purchase.status in (PackageStatus.ACTIVE, PackageStatus.EXPIRED)
    return PackageBalance(
        purchase_id=purchase.id,
        patient_id=purchase.patient_id,
        name=purchase.name,
        service_code=purchase.service_code,
        sessions_total=purchase.sessions_total,
        used=used,
        remaining=purchase.sessions_total - used if purchase.status is PackageStatus.ACTIVE else 0,
        price=purchase.price,
        value_left=left if still_open else ZERO,
        purchased_on=purchase.purchased_on,
        expires_on=purchase.expires_on,
        status=purchase.status,
    )


def patient_packages(session: Session, actor: Actor, patient_id: int) -> list[PackageBalance]:
    """Every package the patient bought, newest first: a read of their account (needs
    ``BILLING_VIEW``; leaves a "view" audit row)."""
    read_account(session, actor, patient_id, "packages")
    purchases = session.scalars(
        select(PackagePurchase)
        .where(PackagePurchase.patient_id == patient_id)
        .order_by(PackagePurchase.purchased_on.desc(), PackagePurchase.id.desc())
    )
    return [_balance(session, p) for p in purchases]


def package_balance(session: Session, actor: Actor, purchase_id: int) -> PackageBalance:
    """One package's sessions and money left (needs ``BILLING_VIEW``)."""
    actor.require(Permission.BILLING_VIEW)
    return _balance(session, _purchase(session, purchase_id))


def _purchase(session: Session, purchase_id: int) -> PackagePurchase:
    purchase = session.get(PackagePurchase, purchase_id)
    if purchase is None:
        raise NotFound(f"there is no package {purchase_id}")
    return purchase


# ---------------------------------------------------------------------------------------
# Expiry and refunds
# ---------------------------------------------------------------------------------------


def expire_packages(session: Session, actor: Actor, *, on: date) -> list[PackagePurchase]:
    """Close every active package whose last day is before ``on``; return them.

    Under a *forfeit* policy the value left is posted as a forfeit paid from the
    prepayment; under *refund prorated* it stays as a prepayment the patient may have back
    (:func:`refund_unused`) and is listed among what the clinic owes.
    """
    actor.require(Permission.CHARGE_REVIEW)
    due = list(
        session.scalars(
            select(PackagePurchase)
            .where(
                PackagePurchase.status == PackageStatus.ACTIVE,
                PackagePurchase.expires_on < on,
            )
            .order_by(PackagePurchase.expires_on, PackagePurchase.id)
        )
    )
    for purchase in due:
        before = audit.snapshot(purchase)
        purchase.status = PackageStatus.EXPIRED
        session.flush()
        audit.record_update(
            session, actor, "package_purchase", purchase.id, before, audit.snapshot(purchase)
        )
        if purchase.unused_policy is UnusedPolicy.FORFEIT:
            prepayment = prepayment_of(session, purchase)
            left = ledger.unapplied(session, prepayment) if prepayment is not None else ZERO
            if prepayment is not None and left > ZERO:
                unused = purchase.sessions_total - _used(session, purchase)
                _forfeit(
                    session,
                    actor,
                    purchase,
                    prepayment,
                    left,
                    on,
                    f"{purchase.name}: {unused} of {purchase.sessions_total} sessions "
                    f"unused, expired {purchase.expires_on.isoformat()}",
                )
    return due


def refund_unused(
    session: Session,
    actor: Actor,
    purchase_id: int,
    *,
    method: PaymentMethod,
    on: date,
    reason: str,
    reference: str = "",
) -> LedgerEntry:
    """Pay back the value of a package's unused sessions and close the package.

    Allowed for a package whose policy refunds unused sessions, while it is active or after
    it expired; the refund is paid out of the package's prepayment.
    """
    actor.require(Permission.MONEY_CORRECT)
    purchase = _purchase(session, purchase_id)
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidValue("say why the package is refunded")
    if purchase.unused_policy is UnusedPolicy.FORFEIT:
        raise Conflict(
            f"the package {purchase.name!r} was sold on the terms that unused sessions lapse "
            "at expiry; it has nothing to refund"
        )
    if purchase.status not in (PackageStatus.ACTIVE, PackageStatus.EXPIRED):
        raise Conflict(
            f"the package {purchase.name!r} is {purchase.status.label.lower()}; "
            "it has nothing left to refund"
        )
    prepayment = prepayment_of(session, purchase)
    left = ledger.unapplied(session, prepayment) if prepayment is not None else ZERO
    if prepayment is None or left <= ZERO:
        raise Conflict(f"nothing is left of the prepayment for {purchase.name!r} to refund")
    unused = purchase.sessions_total - _used(session, purchase)
    entry = ledger.post(
        session,
        actor,
        patient_id=purchase.patient_id,
        location_id=purchase.location_id,
        kind=EntryKind.REFUND,
        amount=left,
        posted_on=on,
        description=(
            f"Refund of unused package sessions: {purchase.name} "
            f"({unused} of {purchase.sessions_total} unused)"
        ),
        method=method,
        reference=reference.strip()[:80],
        note=reason,
        package_purchase_id=purchase.id,
    )
    ledger.allocate(session, actor, prepayment, entry, left)
    before = audit.snapshot(purchase)
    purchase.status = PackageStatus.REFUNDED
    session.flush()
    audit.record_update(
        session, actor, "package_purchase", purchase.id, before, audit.snapshot(purchase)
    )
    return entry
