"""Accounts receivable aging: what is owed to the clinic on one day, by how old it is.

The report stands on one day, the filter's ``date_to`` (the *as-of* day). The ledger is read
as it stood at the end of that day:

* an entry counts when it was posted by then (``posted_on``: a charge's date of service,
  otherwise the day it was recorded);
* an allocation counts when its credit and its debit were both posted by then and it was
  made (``created_at``) by the end of that day in the clinic's time zones, so a payment
  taken or applied the next morning leaves the charge open in the report; a release (the
  negative allocation a reversal writes) counts once the reversal was posted.

How the figures are made, all in SQL over integer cents (no ORM object per entry):

1. one GROUP BY over the entries sums the debits (entries above zero) into five buckets by
   age (as-of day − posted day) and the credits (entries below zero), per group; a second,
   small one sums package prepayments;
2. one GROUP BY over the allocations that count sums what was applied, into the bucket of
   its debit and against the group of its credit.

Then, per group, each bucket's open amount is its debits less what was applied to them, and
``credits`` is what credits hold that nothing was applied to. Because every allocation is
taken off both a debit and a credit, ``ar − credits`` equals ``SUM(amount)`` of the entries
in the group: the ledger's own balance on the as-of day.

Groups read each entry's own columns: the side of the account (a patient's own side has no
``payer_id``; an insurer's side names the payer), the payer, the patient, the location.
The provider filter does not apply: an amount owed is the account's, not a provider's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.ledger import decimal_of
from ketadesk.billing.models import Allocation, EntryKind, LedgerEntry, PackagePurchase
from ketadesk.clinic.models import Location, Patient
from ketadesk.money import ZERO
from ketadesk.reports.catalog import ReportSpec
from ketadesk.reports.model import (
    Chart,
    Detail,
    DetailRow,
    Dimension,
    Kind,
    Measure,
    ReportFilter,
    ReportTable,
    Row,
    Series,
    Value,
    require_by,
)
from ketadesk.reports.names import Names, read_names

DIMENSIONS = (
    Dimension("side", "Patient or insurer"),
    Dimension("payer", "Payer"),
    Dimension("patient", "Patient"),
    Dimension("location", "Location"),
)

# (key, label, first day of age, last day of age or None for "and older")
BUCKETS = (
    ("current", "0–30 days", 0, 30),
    ("d31_60", "31–60 days", 31, 60),
    ("d61_90", "61–90 days", 61, 90),
    ("d91_120", "91–120 days", 91, 120),
    ("over_120", "Over 120 days", 121, None),
)
BUCKET_KEYS = tuple(key for key, *_ in BUCKETS)

_AGE = (
    " old on the as-of day: days from the date of service (or the day a fee, refund or "
    "transfer was posted) to the as-of day, less what payments and adjustments made by then "
    "had paid of it."
)
MEASURES = (
    *(
        Measure(key, label, Kind.MONEY, f"Amounts still owed that were {label}{_AGE}")
        for key, label, *_ in BUCKETS
    ),
    Measure(
        "ar",
        "Accounts receivable",
        Kind.MONEY,
        "Everything still owed on the as-of day: the sum of the five age buckets.",
    ),
    Measure(
        "over_90",
        "Over 90 days",
        Kind.MONEY,
        "Amounts still owed more than 90 days after the date of service (91–120 and over "
        "120 together).",
    ),
    Measure(
        "credits",
        "Credits",
        Kind.MONEY,
        "What the clinic owes back on the as-of day, shown as a positive amount: payments, "
        "adjustments and package prepayments not yet applied to any charge.",
    ),
    Measure(
        "package_credits",
        "Package liability",
        Kind.MONEY,
        "The part of the credits that is prepaid packages: sessions the clinic still owes, "
        "or money it owes back if they are not used.",
    ),
    Measure(
        "balance",
        "Balance",
        Kind.MONEY,
        "Accounts receivable − credits: equals the sum of every ledger entry posted by the "
        "as-of day.",
    ),
)
_FIELDS = (*BUCKET_KEYS, "credits", "package_credits")

DAYS_IN_AR = (
    "Days in AR: accounts receivable on the as-of day ÷ average daily charges over the 90 "
    "days ending on the as-of day (charges posted in those days, less charges reversed, ÷ 90)."
)
DAYS_IN_AR_WINDOW = 90
DETAIL_LIMIT = 2000


@dataclass(frozen=True)
class Scope:
    """What the filter keeps and where the as-of day ends."""

    as_of: date
    cutoff: datetime  # allocations made before this instant count
    location_ids: tuple[int, ...]
    payer_ids: tuple[int | None, ...]


def aging(
    session: Session, actor: Actor, flt: ReportFilter, by: Sequence[str] = ("side",)
) -> ReportTable:
    """The aging report as of ``flt.date_to``, one row per group of ``by``."""
    actor.require(Permission.REPORT_VIEW)
    dims = require_by(by, DIMENSIONS, "aging")
    keys = [d.key for d in dims]
    scope = scope_of(session, flt)
    groups = _groups(session, scope, keys)
    names = read_names(session)
    patients = _patient_names(session, groups) if "patient" in keys else {}
    rows = [
        _row(group, keys, cents, names, patients)
        for group, cents in sorted(groups.items(), key=lambda item: _order(item[0]))
        if any(cents.values())
    ]
    total_cents = _added(groups.values())
    total = _row((), [], total_cents, names, patients)
    days = _days(_ar_cents(total_cents), _daily_charge_cents(session, scope))
    return ReportTable(
        name="aging",
        title="Accounts receivable aging",
        filter=flt,
        dimensions=tuple(dims),
        measures=MEASURES,
        rows=tuple(rows),
        total=Row(labels=("Total",) * max(len(dims), 1), values=total.values),
        notes=(
            f"As of {flt.date_to:%Y-%m-%d}: entries posted by that day, payments applied by "
            "the end of it.",
            DAYS_IN_AR + f" On this day: {'—' if days is None else days} days.",
        ),
    )


def days_in_ar(session: Session, actor: Actor, flt: ReportFilter) -> Decimal | None:
    """Days in AR as of ``flt.date_to`` (see :data:`DAYS_IN_AR`); None without charges in
    the 90 days."""
    actor.require(Permission.REPORT_VIEW)
    scope = scope_of(session, flt)
    groups = _groups(session, scope, [])
    return _days(_ar_cents(_added(groups.values())), _daily_charge_cents(session, scope))


def scope_of(session: Session, flt: ReportFilter) -> Scope:
    """The filter as the queries read it. The as-of day ends at midnight in the latest of
    the clinic's time zones (of the chosen locations), so nothing applied that evening
    anywhere is missed."""
    query = select(Location.time_zone).distinct()
    if flt.location_ids:
        query = query.where(Location.id.in_(flt.location_ids))
    zones = session.scalars(query).all() or ["UTC"]
    following = flt.date_to + timedelta(days=1)
    cutoff = max(datetime.combine(following, time(), ZoneInfo(z)).astimezone(UTC) for z in zones)
    return Scope(flt.date_to, cutoff, flt.location_ids, flt.payer_ids)


def _cents(column: Any) -> ColumnElement[int]:
    """A money column as its stored integer cents."""
    return type_coerce(column, BigInteger)


def _in_scope(entry: Any, scope: Scope) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [entry.c.posted_on <= scope.as_of]
    if scope.location_ids:
        clauses.append(entry.c.location_id.in_(scope.location_ids))
    if scope.payer_ids:
        insurers = [p for p in scope.payer_ids if p is not None]
        either = [entry.c.payer_id.in_(insurers)] if insurers else []
        if None in scope.payer_ids:
            either.append(entry.c.payer_id.is_(None))
        clauses.append(or_(*either))
    return clauses


_RAW = {"side": "payer_id", "payer": "payer_id", "patient": "patient_id", "location": "location_id"}


def _key_column(entry: Any, key: str) -> ColumnElement[Any]:
    column: ColumnElement[Any] = entry.c[_RAW[key]]
    return column.is_not(None) if key == "side" else column


def _key_columns(entry: Any, keys: Sequence[str]) -> list[ColumnElement[Any]]:
    return [_key_column(entry, key).label(f"k{i}") for i, key in enumerate(keys)]


def _bucket_sums(posted_on: Any, amount: ColumnElement[int], as_of: date) -> list[Any]:
    """One conditional SUM per bucket: cheaper than grouping by a bucket expression, and
    the days compare as dates on both back ends."""
    sums = []
    for key, _, first, last in BUCKETS:
        newest = as_of - timedelta(days=first)
        test = posted_on <= newest
        if last is not None:
            test = test & (posted_on >= as_of - timedelta(days=last))
        sums.append(func.coalesce(func.sum(case((test, amount), else_=0)), 0).label(key))
    return sums


def _groups(
    session: Session, scope: Scope, keys: Sequence[str]
) -> dict[tuple[Any, ...], dict[str, int]]:
    """Cents per field (buckets, credits, package credits) per group."""
    groups: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(_FIELDS, 0))
    width = len(keys)
    filtered = bool(scope.location_ids or scope.payer_ids)
    for row in session.execute(_entries(scope, keys)):
        cents = groups[tuple(row[:width])]
        for i, key in enumerate(BUCKET_KEYS):
            cents[key] += _int(row[width + i])
        cents["credits"] += _int(row[width + 5])
    for row in session.execute(_packages(scope, keys)):
        groups[tuple(row[:width])]["package_credits"] += _int(row[width])
    for row in session.execute(_applied(scope, keys)):
        debit_keys, credit_keys = tuple(row[:width]), tuple(row[width : 2 * width])
        at = 2 * width
        debit_in = credit_in = True
        if filtered:
            debit_in, credit_in = bool(row[at]), bool(row[at + 1])
            at += 2
        if debit_in:
            for i, key in enumerate(BUCKET_KEYS):
                groups[debit_keys][key] -= _int(row[at + i])
        if credit_in:
            groups[credit_keys]["credits"] -= _int(row[at + 5])
            groups[credit_keys]["package_credits"] -= _int(row[at + 6])
    return dict(groups)


def _int(value: object) -> int:
    """A SUM's cents (None when an ungrouped SUM saw no rows; Decimal on PostgreSQL)."""
    return 0 if value is None else int(value)  # type: ignore[call-overload]


def _entries(scope: Scope, keys: Sequence[str]) -> Any:
    """Debits into their buckets and credits, per group.

    The inner query sums each day (it streams along ``ix_ledger_report``, which starts with
    the posted day and covers payer, location and amount); the outer one puts each day's
    debits into its bucket: five comparisons per day rather than per entry.
    """
    entry = LedgerEntry.__table__
    amount = _cents(entry.c.amount)
    # The inner query groups by the stored columns (the side is read from the payer
    # afterwards), so grouping by day and payer follows the index's own order.
    raw = {_RAW[key]: entry.c[_RAW[key]] for key in keys}
    daily = (
        select(
            entry.c.posted_on.label("day"),
            *raw.values(),
            func.sum(case((amount > 0, amount), else_=0)).label("debits"),
            func.sum(case((amount < 0, amount), else_=0)).label("credits"),
        )
        .where(*_in_scope(entry, scope))
        .group_by(entry.c.posted_on, *raw.values())
        .subquery("daily")
    )
    outer = _key_columns(daily, keys)
    query = select(
        *outer,
        *_bucket_sums(daily.c.day, daily.c.debits, scope.as_of),
        -func.coalesce(func.sum(daily.c.credits), 0),
    )
    return query.group_by(*outer) if outer else query


def _packages(scope: Scope, keys: Sequence[str]) -> Any:
    """Package prepayments per group, reached from the (few) package purchases: the
    entry's own conditions sit in the sum, so no database walks the whole ledger for them."""
    entry = LedgerEntry.__table__
    purchase = PackagePurchase.__table__
    columns = _key_columns(entry, keys)
    amount = _cents(entry.c.amount)
    counts = _all([*_in_scope(entry, scope), amount < 0])
    query = (
        select(*columns, -func.coalesce(func.sum(case((counts, amount), else_=0)), 0))
        .select_from(purchase.join(entry, entry.c.package_purchase_id == purchase.c.id))
        .where(purchase.c.purchased_on <= scope.as_of)
    )
    return query.group_by(*columns) if columns else query


def _applied(scope: Scope, keys: Sequence[str]) -> Any:
    """What was applied by the as-of day, per group of the debit (into its bucket) and per
    group of the credit, and, under a filter, whether each of the two is in its scope.
    Summed per day of the debit first, as :func:`_entries` does."""
    entry = LedgerEntry.__table__
    alloc = Allocation.__table__
    debit = entry.alias("debit")
    credit = entry.alias("credit")
    filtered = bool(scope.location_ids or scope.payer_ids)
    amount = _cents(alloc.c.amount)
    group = [
        *_key_columns(debit, keys),
        *[c.label(f"c{i}") for i, c in enumerate(_key_columns(credit, keys))],
    ]
    if filtered:
        group.append(_all(_in_scope(debit, scope)[1:]).label("debit_in"))
        group.append(_all(_in_scope(credit, scope)[1:]).label("credit_in"))
    daily = (
        select(
            debit.c.posted_on.label("day"),
            *group,
            func.sum(amount).label("applied"),
            func.sum(case((credit.c.package_purchase_id.is_not(None), amount), else_=0)).label(
                "package"
            ),
        )
        .select_from(
            alloc.join(debit, debit.c.id == alloc.c.debit_id).join(
                credit, credit.c.id == alloc.c.credit_id
            )
        )
        .where(
            alloc.c.created_at < scope.cutoff,
            debit.c.posted_on <= scope.as_of,
            credit.c.posted_on <= scope.as_of,
            _release_counts(alloc, scope),
        )
        .group_by(debit.c.posted_on, *group)
    )
    if filtered:
        daily = daily.where(
            or_(_all(_in_scope(debit, scope)[1:]), _all(_in_scope(credit, scope)[1:]))
        )
    days = daily.subquery("daily")
    outer = [days.c[position + 1] for position in range(len(group))]  # after the day
    query = select(
        *outer,
        *_bucket_sums(days.c.day, days.c.applied, scope.as_of),
        func.sum(days.c.applied),
        func.sum(days.c.package),
    )
    return query.group_by(*outer) if outer else query


def _release_counts(alloc: Any, scope: Scope) -> ColumnElement[bool]:
    """A release (a negative allocation, written when one of the two entries was reversed)
    counts only once that reversal was posted: the day it undid the payment, not the
    moment someone keyed it in."""
    reversal = LedgerEntry.__table__.alias("reversal")
    posted = (
        select(reversal.c.id)
        .where(
            reversal.c.reverses_id.in_([alloc.c.credit_id, alloc.c.debit_id]),
            reversal.c.posted_on <= scope.as_of,
        )
        .exists()
    )
    return or_(_cents(alloc.c.amount) > 0, posted)


def _all(clauses: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(true(), *clauses)


def _added(groups: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(_FIELDS, 0)
    for cents in groups:
        for key, value in cents.items():
            total[key] += value
    return total


def _ar_cents(cents: dict[str, int]) -> int:
    return sum(cents[key] for key in BUCKET_KEYS)


def _daily_charge_cents(session: Session, scope: Scope) -> int:
    """Charges posted in the 90 days ending on the as-of day, less reversals of charges
    posted in them, in cents."""
    entry = LedgerEntry.__table__
    original = entry.alias("original")
    kind = func.coalesce(type_coerce(original.c.kind, String), type_coerce(entry.c.kind, String))
    query = (
        select(func.coalesce(func.sum(_cents(entry.c.amount)), 0))
        .select_from(entry.outerjoin(original, original.c.id == entry.c.reverses_id))
        .where(
            *_in_scope(entry, scope),
            entry.c.posted_on > scope.as_of - timedelta(days=DAYS_IN_AR_WINDOW),
            kind == literal(EntryKind.CHARGE.value),
        )
    )
    return int(session.execute(query).scalar_one())


def _days(ar_cents: int, charge_cents: int) -> Decimal | None:
    if charge_cents <= 0:
        return None
    daily = Decimal(charge_cents) / DAYS_IN_AR_WINDOW
    return (Decimal(ar_cents) / daily).quantize(Decimal("0.1"))


def _order(group: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is not None, str(v) if not isinstance(v, int) else f"{v:012d}") for v in group)


@dataclass(frozen=True)
class _PatientName:
    mrn: str
    name: str


def _patient_names(
    session: Session, groups: dict[tuple[Any, ...], dict[str, int]]
) -> dict[int, _PatientName]:
    """MRN and name of every patient in the groups (all patients are read: one query is
    cheaper than thousands of ids in IN lists)."""
    rows = session.execute(
        select(Patient.id, Patient.mrn, Patient.family_name, Patient.given_name)
    ).all()
    return {r.id: _PatientName(r.mrn, f"{r.family_name}, {r.given_name}") for r in rows}


def _row(
    group: tuple[Any, ...],
    keys: Sequence[str],
    cents: dict[str, int],
    names: Names,
    patients: dict[int, _PatientName],
) -> Row:
    buckets = [cents[key] for key in BUCKET_KEYS]
    ar = sum(buckets)
    values: list[Value] = [decimal_of(c) for c in buckets]
    values += [
        decimal_of(ar),
        decimal_of(cents["d91_120"] + cents["over_120"]),
        decimal_of(cents["credits"]),
        decimal_of(cents["package_credits"]),
        decimal_of(ar - cents["credits"]),
    ]
    return Row(
        labels=tuple(label(k, v, names, patients) for k, v in zip(keys, group, strict=True)),
        values=tuple(values),
        keys=group,
    )


def label(key: str, value: Any, names: Names, patients: dict[int, _PatientName]) -> str:
    """A group key as people read it."""
    if key == "side":
        return "Insurer" if value else "Patient"
    common = names.group(key, value)
    if common is not None:
        return common
    found = patients.get(value)
    return f"{found.mrn} {found.name}" if found else f"Patient {value}"


def chart(table: ReportTable) -> Chart | None:
    """Bars of the five buckets, patient and insurer apart when the report is split by side
    (the total alone otherwise)."""
    categories = tuple(label for _, label, *_ in BUCKETS)
    indexes = [table.measure_index(key) for key in BUCKET_KEYS]
    keys = [d.key for d in table.dimensions]
    if "side" not in keys:
        values = tuple(_money(table.total.values[i]) for i in indexes)
        return Chart("Accounts receivable by age", "bar", categories, (Series("AR", values),))
    at = keys.index("side")
    sums: dict[str, list[Decimal]] = {"Patient": [ZERO] * 5, "Insurer": [ZERO] * 5}
    for row in table.rows:
        side = "Insurer" if row.keys[at] else "Patient"
        for n, i in enumerate(indexes):
            sums[side][n] += _money(row.values[i])
    series = tuple(Series(name, tuple(values)) for name, values in sums.items())
    return Chart("Accounts receivable by age", "bar", categories, series)


def _money(value: Value) -> Decimal:
    return value if isinstance(value, Decimal) else ZERO


def detail(session: Session, actor: Actor, table: ReportTable, row: Row, measure: str) -> Detail:
    """The open debits (for a bucket, ``ar`` or ``over_90``), the unapplied credits (for
    ``credits`` or ``package_credits``), or both (``balance``) behind one figure of a row,
    each with what is left of it on the as-of day (at most ``DETAIL_LIMIT``)."""
    actor.require(Permission.REPORT_VIEW)
    scope = scope_of(session, table.filter)
    entry = LedgerEntry.__table__
    keys = [d.key for d in table.dimensions]
    clauses = _in_scope(entry, scope)
    for key, value in zip(keys, row.keys, strict=False):
        if key == "side":
            clauses.append(entry.c.payer_id.is_not(None) if value else entry.c.payer_id.is_(None))
        elif value is None:
            clauses.append(_key_column(entry, key).is_(None))
        else:
            clauses.append(_key_column(entry, key) == value)
    found: list[DetailRow] = []
    if measure not in ("credits", "package_credits"):
        found += _open_debits(session, scope, clauses, _bucket_test(entry, measure, scope.as_of))
    if measure in ("credits", "package_credits", "balance"):
        only_packages = measure == "package_credits"
        found += _open_credits(session, scope, clauses, only_packages)
    label_of = next((m.label for m in MEASURES if m.key == measure), measure)
    return Detail(
        title=f"{label_of} as of {scope.as_of:%Y-%m-%d}: {' · '.join(row.labels)}",
        rows=tuple(found[:DETAIL_LIMIT]),
        truncated=len(found) > DETAIL_LIMIT,
        amount_label="Still open",
    )


def _bucket_test(entry: Any, measure: str, as_of: date) -> list[ColumnElement[bool]]:
    chosen = {
        "over_90": ("d91_120", "over_120"),
    }.get(measure, (measure,) if measure in BUCKET_KEYS else BUCKET_KEYS)
    days = [(first, last) for key, _, first, last in BUCKETS if key in chosen]
    newest = as_of - timedelta(days=min(first for first, _ in days))
    clauses = [entry.c.posted_on <= newest]
    if all(last is not None for _, last in days):
        oldest = max(last for _, last in days if last is not None)
        clauses.append(entry.c.posted_on >= as_of - timedelta(days=oldest))
    return clauses


def _applied_by(scope: Scope, column: str, entry: Any) -> Any:
    """SQL: what was applied to (or from) ``entry`` by the as-of day, in cents."""
    alloc = Allocation.__table__
    other = LedgerEntry.__table__.alias("other")
    other_side = "credit_id" if column == "debit_id" else "debit_id"
    return (
        select(func.coalesce(func.sum(_cents(alloc.c.amount)), 0))
        .select_from(alloc.join(other, other.c.id == alloc.c[other_side]))
        .where(
            alloc.c[column] == entry.c.id,
            alloc.c.created_at < scope.cutoff,
            other.c.posted_on <= scope.as_of,
            _release_counts(alloc, scope),
        )
        .scalar_subquery()
    )


def _open_debits(
    session: Session, scope: Scope, clauses: list[ColumnElement[bool]], bucket: list[Any]
) -> list[DetailRow]:
    entry = LedgerEntry.__table__
    left = _cents(entry.c.amount) - _applied_by(scope, "debit_id", entry)
    return _detail_rows(session, clauses + bucket + [_cents(entry.c.amount) > 0], left)


def _open_credits(
    session: Session, scope: Scope, clauses: list[ColumnElement[bool]], only_packages: bool
) -> list[DetailRow]:
    entry = LedgerEntry.__table__
    left = -_cents(entry.c.amount) - _applied_by(scope, "credit_id", entry)
    more = [_cents(entry.c.amount) < 0]
    if only_packages:
        more.append(entry.c.package_purchase_id.is_not(None))
    # Shown negative: money the clinic owes.
    return _detail_rows(session, clauses + more, left, sign=-1)


def _detail_rows(
    session: Session, clauses: list[ColumnElement[bool]], left: Any, sign: int = 1
) -> list[DetailRow]:
    entry = LedgerEntry.__table__
    patient = Patient.__table__
    opened = (
        select(
            entry.c.id,
            entry.c.posted_on,
            entry.c.patient_id,
            entry.c.description,
            entry.c.claim_id,
            left.label("left"),
        )
        .where(*clauses)
        .subquery("opened")
    )
    query = (
        select(opened, patient.c.mrn, patient.c.family_name, patient.c.given_name)
        .join(patient, patient.c.id == opened.c.patient_id)
        .where(opened.c.left > 0)
        .order_by(opened.c.posted_on, opened.c.id)
        .limit(DETAIL_LIMIT + 1)
    )
    return [
        DetailRow(
            on=line.posted_on,
            patient_id=line.patient_id,
            mrn=line.mrn,
            patient=f"{line.family_name}, {line.given_name}",
            description=line.description,
            amount=decimal_of(sign * int(line.left)),
            claim_id=line.claim_id,
            entry_id=line.id,
        )
        for line in session.execute(query)
    ]


SPEC = ReportSpec(
    name="aging",
    title="Accounts receivable aging",
    summary="What patients and insurers owe on a day, by age, and the credits the clinic "
    "owes back.",
    dimensions=DIMENSIONS,
    default_by=("side",),
    run=aging,
    detail=detail,
    chart=chart,
    as_of=True,
)
