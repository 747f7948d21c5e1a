"""The fee schedule and each location's fee policy: what the clinic charges, and for what.

A :class:`~ketadesk.billing.models.FeeItem` is one priced CPT/HCPCS code (with modifiers and
the dates it is in force). How the data moves:

* :func:`ensure_default_fee_schedule` writes the rows shipped in
  ``ketadesk/resources/fee_schedule.toml`` that the database lacks (matched by code, modifiers and
  start date); a row the clinic already has is never touched, so its own prices survive
  upgrades. ``ketadesk init``, the window's first start and the demo generator call it.
* Billing and managers edit rows with :func:`save_fee_item` (raw form values, every
  problem reported at once) and retire them with :func:`set_fee_item_active`; rows are
  never deleted, because posted charges and estimates were priced from them.
* Charge capture and estimates read prices through :func:`fee_for` (one lookup) or a
  :class:`FeeBook`, an in-memory copy loaded once and then pure, so pricing thousands of
  sessions needs one query.
* :func:`billing_policy` / :func:`save_billing_policy` hold a location's late-cancellation
  and no-show fees and its invoice terms.

Writes check :data:`Permission.FEE_SCHEDULE_EDIT` and add audit rows in the caller's
transaction; nothing here commits.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.models import BillingPolicy, FeeItem, UnitBasis
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import modifier, ndc, ndc_text, procedure_code
from ketadesk.clinic.models import Location
from ketadesk.config import RESOURCES
from ketadesk.errors import InvalidValue, NotFound, StaleEdit
from ketadesk.money import ZERO, money

__all__ = [
    "DEFAULTS_FILE",
    "FEE_FIELDS",
    "POLICY_FIELDS",
    "Fee",
    "FeeBook",
    "billing_policy",
    "default_fee_rows",
    "ensure_default_fee_schedule",
    "fee_for",
    "fee_item_values",
    "list_fee_items",
    "modifiers",
    "price",
    "save_billing_policy",
    "save_fee_item",
    "set_fee_item_active",
    "unit_basis",
]

DEFAULTS_FILE = RESOURCES / "fee_schedule.toml"
MAX_MODIFIERS = 4  # a CMS-1500 service line carries at most four
MAX_UNITS = 999
_Row = TypeVar("_Row", "FeeItem", "Fee")


# ---------------------------------------------------------------------------------------
# Validators of single values (the form, the TOML seed and the review queue share them)
# ---------------------------------------------------------------------------------------


def modifiers(value: object) -> str:
    """Up to four modifiers: ``"gt, 59"`` -> ``"GT,59"`` (duplicates dropped)."""
    found: list[str] = []
    bad: list[str] = []
    for item in v.split_list(value):
        try:
            found.append(modifier(item))
        except InvalidValue as error:
            bad.append(str(error))
    if bad:
        raise InvalidValue("; ".join(bad))
    unique = list(dict.fromkeys(found))
    if len(unique) > MAX_MODIFIERS:
        raise InvalidValue(f"lists {len(unique)} modifiers; a service line takes at most 4")
    return ",".join(unique)


def price(value: object) -> Decimal:
    """An amount in dollars, zero or more: ``"$1,050.00"`` -> ``Decimal("1050.00")``."""
    if isinstance(value, float):
        raise TypeError("prices are never floats; pass text or a Decimal")
    if not isinstance(value, str | int | Decimal) or isinstance(value, bool):
        raise TypeError(f"a price is text, int or Decimal, not {type(value).__name__}")
    amount = money(value)
    if amount < ZERO:
        raise InvalidValue(f"{amount} is below zero; a price is 0.00 or more")
    return amount


def unit_basis(value: object) -> UnitBasis:
    """A :class:`UnitBasis` by its value (``"per_mg"``) or its label (``"Per mg given"``)."""
    if isinstance(value, UnitBasis):
        return value
    text = " ".join(str(value).split()).casefold()
    for basis in UnitBasis:
        if text in (basis.value, basis.label.casefold()):
            return basis
    choices = ", ".join(b.value for b in UnitBasis)
    raise InvalidValue(f"{str(value).strip()!r} is not a way of counting units; one of {choices}")


def units(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"units are int or str, not {type(value).__name__}")
    return v.positive_int(value, maximum=MAX_UNITS)


def day(value: object) -> date:
    """A date as given (``date``) or typed (ISO or US style)."""
    if isinstance(value, date):
        return value
    return v.parse_date(str(value))


def _whole_days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"days are int or str, not {type(value).__name__}")
    text = str(value).strip()
    if not text.isdigit() or int(text) > 365:
        raise InvalidValue(f"{text!r} is not a number of days from 0 to 365")
    return int(text)


FEE_FIELDS: Mapping[str, v.FieldSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            v.FieldSpec("code", "Code (CPT/HCPCS)", True, procedure_code),
            v.FieldSpec("modifiers", "Modifiers", False, modifiers),
            v.FieldSpec("description", "Description", True, v.plain_text(200)),
            v.FieldSpec("self_pay_price", "Self-pay price", True, price),
            v.FieldSpec("billed_charge", "Billed charge", True, price),
            v.FieldSpec("units", "Units", False, units),
            v.FieldSpec("basis", "Units counted", False, unit_basis),
            v.FieldSpec("effective_from", "In force from", False, day),
            v.FieldSpec("effective_to", "In force until", False, day),
            v.FieldSpec("active", "Active", False, v.parse_flag),
            v.FieldSpec("ndc", "NDC of the drug given", False, ndc),
            v.FieldSpec("drug_name", "Drug name", False, v.plain_text(80)),
        )
    }
)
"""Every field of a fee item, keyed by the raw key (which is also the column's name)."""

_FEE_BLANKS: dict[str, Any] = {
    "modifiers": "",
    "units": 1,
    "basis": UnitBasis.VISIT,
    "active": True,
    "ndc": "",
    "drug_name": "",
}

POLICY_FIELDS: Mapping[str, v.FieldSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            v.FieldSpec("late_cancel_fee", "Late-cancellation fee", False, price),
            v.FieldSpec("no_show_fee", "No-show fee", False, price),
            v.FieldSpec("invoice_due_days", "Invoices due after (days)", False, _whole_days),
        )
    }
)


# ---------------------------------------------------------------------------------------
# The shipped rows
# ---------------------------------------------------------------------------------------


@cache
def default_fee_rows() -> tuple[Mapping[str, Any], ...]:
    """The shipped fee items as clean column values (validated like a form)."""
    with DEFAULTS_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    rows = []
    for number, values in enumerate(raw.get("fee", []), start=1):
        checker = v.Checker()
        clean = v.collect_fields(checker, values, tuple(FEE_FIELDS.values()), _FEE_BLANKS, "fee")
        if checker.problems:  # a broken resource file is a bug, not a user's mistake
            raise ValueError(f"{DEFAULTS_FILE.name} row {number}: {checker.problems}")
        rows.append(MappingProxyType(clean))
    return tuple(rows)


def ensure_default_fee_schedule(session: Session, actor: Actor) -> list[FeeItem]:
    """Add the shipped fee items the database lacks; return the ones added.

    A row is matched by code, modifiers and start date, so an edited price or description
    (or a retired row) stays as the clinic left it.
    """
    actor.require(Permission.FEE_SCHEDULE_EDIT)
    keys = select(FeeItem.code, FeeItem.modifiers, FeeItem.effective_from)
    existing = {(code, mods, start) for code, mods, start in session.execute(keys)}
    added = []
    for columns in default_fee_rows():
        key = (columns["code"], columns["modifiers"], columns["effective_from"])
        if key in existing:
            continue
        item = FeeItem(**columns)
        session.add(item)
        added.append(item)
    session.flush()
    for item in added:
        audit.record(session, actor, "create", "fee_item", item.id, after=audit.snapshot(item))
    return added


# ---------------------------------------------------------------------------------------
# Reading the schedule
# ---------------------------------------------------------------------------------------


def list_fee_items(session: Session, *, include_inactive: bool = False) -> list[FeeItem]:
    """The fee schedule ordered by code, then modifiers and start date."""
    query = select(FeeItem).order_by(FeeItem.code, FeeItem.modifiers, FeeItem.id)
    if not include_inactive:
        query = query.where(FeeItem.active.is_(True))
    items = list(session.scalars(query))
    return sorted(items, key=lambda i: (i.code, i.modifiers, i.effective_from or date.min))


def fee_for(session: Session, code: str, on: date, modifiers: str = "") -> FeeItem | None:
    """The active row for ``code`` with exactly ``modifiers`` in force on day ``on``."""
    rows = session.scalars(
        select(FeeItem).where(
            FeeItem.code == code.strip().upper(),
            FeeItem.modifiers == modifiers,
            FeeItem.active.is_(True),
        )
    )
    return _latest(row for row in rows if row.in_force(on))


def _latest(rows: Iterable[_Row]) -> _Row | None:
    """Of rows in force on one day, the one that started last (overlaps should not exist)."""
    return max(rows, key=lambda r: (r.effective_from or date.min, r.id), default=None)


@dataclass(frozen=True)
class Fee:
    """A detached copy of one fee item, as charge capture and estimates read it."""

    id: int
    code: str
    modifiers: str
    description: str
    self_pay_price: Decimal
    billed_charge: Decimal
    units: int
    basis: UnitBasis
    effective_from: date | None
    effective_to: date | None
    ndc: str = ""  # a drug code's usual product, 11 digits
    drug_name: str = ""

    def in_force(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )

    @classmethod
    def of(cls, item: FeeItem) -> Fee:
        return cls(
            id=item.id,
            code=item.code,
            modifiers=item.modifiers,
            description=item.description,
            self_pay_price=item.self_pay_price,
            billed_charge=item.billed_charge,
            units=item.units,
            basis=item.basis,
            effective_from=item.effective_from,
            effective_to=item.effective_to,
            ndc=item.ndc,
            drug_name=item.drug_name,
        )


class FeeBook:
    """The active fee schedule held in memory: load once, then look up without a database.

    ``FeeBook(fees)`` builds one from any fees (tests, the demo generator);
    :meth:`load` reads the database's active rows.
    """

    def __init__(self, fees: Iterable[Fee]) -> None:
        self._by_code: dict[str, list[Fee]] = {}
        for fee in fees:
            self._by_code.setdefault(fee.code, []).append(fee)

    @classmethod
    def load(cls, session: Session) -> FeeBook:
        return cls(Fee.of(item) for item in list_fee_items(session))

    def item(self, code: str, on: date, modifiers: str | None = None) -> Fee | None:
        """The row for ``code`` in force on ``on``.

        With ``modifiers`` given, only rows with exactly those; without, the row with no
        modifiers is preferred (a protocol names plain codes), else any row of the code.
        """
        rows = [f for f in self._by_code.get(code, ()) if f.in_force(on)]
        if modifiers is not None:
            return _latest(f for f in rows if f.modifiers == modifiers)
        return _latest(f for f in rows if not f.modifiers) or _latest(rows)

    def by_basis(self, basis: UnitBasis, on: date) -> list[Fee]:
        """Every row counted by ``basis`` in force on ``on``, by code."""
        rows = [f for fees in self._by_code.values() for f in fees if f.basis is basis]
        return sorted((f for f in rows if f.in_force(on)), key=lambda f: (f.code, f.modifiers))

    def __len__(self) -> int:
        return sum(len(fees) for fees in self._by_code.values())


# ---------------------------------------------------------------------------------------
# Editing the schedule
# ---------------------------------------------------------------------------------------


def save_fee_item(
    session: Session,
    actor: Actor,
    values: Mapping[str, object],
    fee_id: int | None = None,
    *,
    expected_version: int | None = None,
) -> FeeItem:
    """Add a fee item (``fee_id`` None) or save an edit of the whole form.

    ``values`` are raw form values keyed by :data:`FEE_FIELDS` (start an edit from
    :func:`fee_item_values`). Raises :class:`~ketadesk.errors.ValidationError` naming every
    bad field (also a code, modifiers and start date another row has, or dates in force
    that overlap another active row of the same code and modifiers), and
    :class:`StaleEdit` when someone else saved the row after ``expected_version``.
    A new price applies to charges captured from now on; posted charges keep theirs.
    """
    actor.require(Permission.FEE_SCHEDULE_EDIT)
    item = _load(session, fee_id) if fee_id is not None else None
    if item is not None and expected_version is not None and item.version != expected_version:
        raise _stale(item)
    clean = _clean_with_database(session, values, item)
    if item is None:
        item = FeeItem(**clean)
        session.add(item)
        session.flush()
        audit.record(session, actor, "create", "fee_item", item.id, after=audit.snapshot(item))
        return item
    before, stale = audit.snapshot(item), _stale(item)
    for name, value in clean.items():
        setattr(item, name, value)
    _flush(session, stale)
    audit.record_update(session, actor, "fee_item", item.id, before, audit.snapshot(item))
    return item


def set_fee_item_active(session: Session, actor: Actor, fee_id: int, active: bool) -> FeeItem:
    """Retire a fee item (charge capture stops using it) or bring it back."""
    actor.require(Permission.FEE_SCHEDULE_EDIT)
    item = _load(session, fee_id)
    if active and not item.active:
        checker = v.Checker()
        _check_overlap(session, checker, _columns_of(item) | {"active": True}, item.id)
        checker.raise_if_problems()
    before, stale = audit.snapshot(item), _stale(item)
    item.active = active
    _flush(session, stale)
    audit.record_update(session, actor, "fee_item", item.id, before, audit.snapshot(item))
    return item


def fee_item_values(item: FeeItem) -> dict[str, Any]:
    """The editable fields of ``item`` in the raw form :func:`save_fee_item` accepts (the
    NDC as people read it, 5-4-2 with dashes)."""
    values = _columns_of(item)
    if item.ndc:
        values["ndc"] = ndc_text(item.ndc)
    return values


def _columns_of(item: FeeItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in FEE_FIELDS}


def _clean_with_database(
    session: Session, values: Mapping[str, object], item: FeeItem | None
) -> dict[str, Any]:
    checker = v.Checker()
    clean = v.collect_fields(checker, values, tuple(FEE_FIELDS.values()), _FEE_BLANKS, "fee item")
    bad = {p.field for p in checker.problems}
    start, end = clean["effective_from"], clean["effective_to"]
    if start and end and end < start:
        checker.add("effective_to", f"{end} is before the first day in force, {start}")
    elif not bad & {"code", "modifiers", "effective_from", "effective_to"}:
        own = item.id if item is not None else 0
        _check_same_key(session, checker, clean, own)
        if clean["active"]:
            _check_overlap(session, checker, clean, own)
    checker.raise_if_problems()
    return clean


def _check_same_key(
    session: Session, checker: v.Checker, clean: Mapping[str, Any], own_id: int
) -> None:
    """Code, modifiers and start date name one row (the seed matches rows by them)."""
    start = clean["effective_from"]
    same = select(FeeItem).where(
        FeeItem.code == clean["code"],
        FeeItem.modifiers == clean["modifiers"],
        FeeItem.id != own_id,
        FeeItem.effective_from.is_(None) if start is None else FeeItem.effective_from == start,
    )
    other = session.scalars(same).first()
    if other is not None:
        since = f"from {start}" if start else "with no start date"
        checker.add(
            "code",
            f"{_named(clean)} {since} is already on the fee schedule"
            f"{'' if other.active else ' (retired)'}; edit that row instead",
        )


def _check_overlap(
    session: Session, checker: v.Checker, clean: Mapping[str, Any], own_id: int
) -> None:
    """Two active rows of one code and modifiers may not be in force on the same day."""
    rows = session.scalars(
        select(FeeItem).where(
            FeeItem.code == clean["code"],
            FeeItem.modifiers == clean["modifiers"],
            FeeItem.active.is_(True),
            FeeItem.id != own_id,
        )
    )
    start, end = clean["effective_from"] or date.min, clean["effective_to"] or date.max
    for other in rows:
        if (other.effective_from or date.min) <= end and start <= (other.effective_to or date.max):
            checker.add(
                "effective_from",
                f"the dates overlap another active row of {_named(clean)} "
                f"({_span(other.effective_from, other.effective_to)}); end that row first, "
                "or retire it",
            )
            return


def _named(clean: Mapping[str, Any]) -> str:
    return f"{clean['code']}-{clean['modifiers']}" if clean["modifiers"] else str(clean["code"])


def _span(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "always in force"
    if end is None:
        return f"in force from {start}"
    if start is None:
        return f"in force until {end}"
    return f"in force {start} to {end}"


def _load(session: Session, fee_id: int) -> FeeItem:
    item = session.get(FeeItem, fee_id)
    if item is None:
        raise NotFound(f"There is no fee item with id {fee_id}.")
    return item


def _stale(item: FeeItem) -> StaleEdit:
    return StaleEdit(
        f"The fee for {item.code} was changed by someone else after you opened it; "
        "reopen it and make your change again."
    )


def _flush(session: Session, stale: StaleEdit) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise stale from None


# ---------------------------------------------------------------------------------------
# A location's fee policy
# ---------------------------------------------------------------------------------------


def billing_policy(session: Session, location_id: int) -> BillingPolicy:
    """The location's policy; a location without one gets the default (no fees, 30 days)."""
    policy = session.get(BillingPolicy, location_id)
    if policy is not None:
        return policy
    if session.get(Location, location_id) is None:
        raise NotFound(f"There is no location with id {location_id}.")
    policy = BillingPolicy(
        location_id=location_id,
        late_cancel_fee=ZERO,
        no_show_fee=ZERO,
        invoice_due_days=30,
    )
    session.add(policy)
    session.flush()
    return policy


def save_billing_policy(
    session: Session,
    actor: Actor,
    location_id: int,
    values: Mapping[str, object],
    *,
    expected_version: int | None = None,
) -> BillingPolicy:
    """Change a location's late-cancellation and no-show fees or invoice terms.

    Fields left out of ``values`` keep their value; a fee of 0.00 means none is charged.
    Raises :class:`~ketadesk.errors.ValidationError` naming every bad field.
    """
    actor.require(Permission.FEE_SCHEDULE_EDIT)
    policy = billing_policy(session, location_id)
    if expected_version is not None and policy.version != expected_version:
        raise _policy_stale(policy)
    checker = v.Checker()
    current = {name: getattr(policy, name) for name in POLICY_FIELDS}
    merged = {**current, **values}
    clean = v.collect_fields(checker, merged, tuple(POLICY_FIELDS.values()), current, "policy")
    checker.raise_if_problems()
    before, stale = audit.snapshot(policy), _policy_stale(policy)
    for name, value in clean.items():
        setattr(policy, name, value)
    _flush(session, stale)
    audit.record_update(
        session, actor, "billing_policy", location_id, before, audit.snapshot(policy)
    )
    return policy


def _policy_stale(policy: BillingPolicy) -> StaleEdit:
    return StaleEdit(
        "The location's fee policy was changed by someone else after you opened it; "
        "reopen it and make your change again."
    )
