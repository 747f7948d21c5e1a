"""Revenue: charges, payments, adjustments and refunds over a period, split any way.

How the figures are made:

1. One GROUP BY over ``ledger_entry`` sums the amount per group, per kind of entry (a
   reversal counts as the kind it reverses, with the opposite sign), per adjustment reason
   and per side (patient or insurer). No ORM object is built per entry.
2. :func:`fold` turns those sums into the measures below; every measure of every row is a
   sum of ledger amounts, so the rows add up to the total and the total's *balance change*
   equals ``SUM(amount)`` over the same entries.

Splitting by location or payer reads each entry's own columns. Splitting by provider,
service code or modality reads the charge line behind an entry: a charge carries its own;
a payment or adjustment is split over the charges it was applied to (its allocations), and
what was not applied to a service (a prepayment, unapplied credit, a refund) is its own group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, String, func, literal, or_, select, type_coerce, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.ledger import decimal_of
from ketadesk.billing.models import Allocation, Charge, LedgerEntry
from ketadesk.clinic.models import Patient
from ketadesk.money import ZERO
from ketadesk.reports import periods
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
    Value,
    require_by,
)
from ketadesk.reports.model import Series as ChartSeries
from ketadesk.reports.names import Names, read_names
from ketadesk.scheduling.models import TreatmentSession

PERIODS = periods.DIMENSIONS
DIMENSIONS = (
    *PERIODS,
    Dimension("location", "Location"),
    Dimension("provider", "Provider"),
    Dimension("payer", "Payer"),
    Dimension("code", "Service code"),
    Dimension("modality", "Modality"),
)
_THROUGH_CHARGES = frozenset({"provider", "code", "modality"})

MEASURES = (
    Measure(
        "charges",
        "Charges",
        Kind.MONEY,
        "Services and fees posted for the period (by date of service), less charges "
        "reversed; insurer-billed services at the billed charge.",
    ),
    Measure(
        "patient_payments",
        "Patient payments",
        Kind.MONEY,
        "Money received from patients (cash, card, check, HSA/FSA, prepaid packages), "
        "less payments reversed.",
    ),
    Measure(
        "insurer_payments",
        "Insurer payments",
        Kind.MONEY,
        "Money received from insurers (835 remittances and paper EOBs), less reversals.",
    ),
    Measure(
        "contractual",
        "Contractual",
        Kind.MONEY,
        "Amounts a payer's contract says the clinic may not collect, and billed charges "
        "brought down to the self-pay price.",
    ),
    Measure(
        "discounts",
        "Discounts",
        Kind.MONEY,
        "Discounts, sliding-scale and courtesy reductions, and package pricing.",
    ),
    Measure("write_offs", "Write-offs", Kind.MONEY, "Balances the clinic gave up collecting."),
    Measure("refunds", "Refunds", Kind.MONEY, "Money paid back to patients or insurers."),
    Measure(
        "other",
        "Other",
        Kind.MONEY,
        "Forfeited package prepayments the clinic kept, and amounts moved between an "
        "insurer's side of an account and the patient's (these cancel out in the total).",
    ),
    Measure(
        "net_revenue",
        "Net revenue",
        Kind.MONEY,
        "Patient payments + insurer payments − refunds: the money the clinic kept.",
    ),
    Measure(
        "balance_change",
        "Balance change",
        Kind.MONEY,
        "Charges − payments − adjustments + refunds + other: how much more the accounts "
        "owe at the end of the period than at its start; equals the ledger's own sum.",
    ),
    Measure(
        "net_revenue_year_before",
        "Net revenue a year before",
        Kind.MONEY,
        "Net revenue of the same period one year earlier (52 weeks for days and weeks).",
    ),
    Measure(
        "net_revenue_change",
        "Change on a year before",
        Kind.PERCENT,
        "(Net revenue − net revenue a year before) ÷ net revenue a year before × 100.",
    ),
)
_MONEY = tuple(m.key for m in MEASURES[:10])

_ADJUSTMENT_MEASURE = {
    "contractual": "contractual",
    "self_pay_rate": "contractual",
    "discount": "discounts",
    "sliding_scale": "discounts",
    "courtesy": "discounts",
    "package": "discounts",
    "write_off": "write_offs",
}


@dataclass(frozen=True)
class Sum:
    """One line of the GROUP BY: a group's keys, the kind of entry (a reversal as the kind
    it reverses), the adjustment reason, whether on an insurer's side, and the cents."""

    keys: tuple[Any, ...]
    kind: str
    reason: str | None
    insurer: bool
    cents: int


def revenue(
    session: Session, actor: Actor, flt: ReportFilter, by: Sequence[str] = ("month",)
) -> ReportTable:
    """The revenue report for ``flt``, one row per group of ``by`` (period and dimensions)."""
    actor.require(Permission.REPORT_VIEW)
    dims = require_by(by, DIMENSIONS, "revenue")
    keys = [d.key for d in dims]
    grain = _grain(keys)
    now, before = _this_year_and_last(session, flt, keys, grain)
    names = read_names(session)
    groups = _all_groups(now, flt, keys)
    rows = []
    for group in groups:
        earlier = before.get(_year_before(group, keys, grain), {})
        rows.append(_row(group, keys, names, now.get(group, {}), earlier))
    total = _row((), [], names, _added(now.values()), _added(before.values()))
    return ReportTable(
        name="revenue",
        title="Revenue",
        filter=flt,
        dimensions=tuple(dims),
        measures=MEASURES,
        rows=tuple(rows),
        total=Row(labels=("Total",) * max(len(dims), 1), values=total.values),
        notes=(
            "Entries count on their posted day: a charge on its date of service, a payment "
            "or adjustment on the day it was recorded.",
        ),
    )


def _this_year_and_last(
    session: Session, flt: ReportFilter, keys: Sequence[str], grain: periods.Grain | None
) -> tuple[dict[tuple[Any, ...], dict[str, int]], dict[tuple[Any, ...], dict[str, int]]]:
    """The groups of the period and of the same period a year before.

    When the period is made of whole periods of the grain (whole months for a monthly
    report), one query over both years gives both: each group is a whole period, so a
    year-before period is the group whose key says so. Otherwise, two queries.
    """
    earlier = _year_earlier(flt, grain)
    if grain is None or not _whole(flt, grain):
        return folded(sums(session, flt, keys)), folded(sums(session, earlier, keys))
    both = folded(sums(session, replace(flt, date_from=earlier.date_from), keys))
    at = keys.index(grain.value)
    this = set(periods.keys_between(flt.date_from, flt.date_to, grain))
    last = set(periods.keys_between(earlier.date_from, earlier.date_to, grain))
    return (
        {group: cents for group, cents in both.items() if group[at] in this},
        {group: cents for group, cents in both.items() if group[at] in last},
    )


def _year_earlier(flt: ReportFilter, grain: periods.Grain | None) -> ReportFilter:
    if grain in (periods.Grain.DAY, periods.Grain.WEEK):
        return flt.shifted(days=-364)
    return flt.shifted(years=-1)


def _whole(flt: ReportFilter, grain: periods.Grain) -> bool:
    first = periods.start_of(periods.key_of(flt.date_from, grain), grain)
    last = periods.end_of(periods.key_of(flt.date_to, grain), grain)
    return first == flt.date_from and last == flt.date_to


def sums(session: Session, flt: ReportFilter, keys: Sequence[str]) -> list[Sum]:
    """The ledger summed per group of ``keys``, kind, reason and side, in SQL."""
    dialect = session.get_bind().dialect.name
    if not _THROUGH_CHARGES.intersection(keys) and not flt.provider_ids:
        return _lines(session, _direct(flt, keys, dialect), len(keys))
    spread = _lines(session, [_attributed(flt, keys, dialect)], len(keys))
    if flt.provider_ids:
        return spread  # what no charge line carries has no provider either
    return spread + _credits_unattributed(session, flt, keys, dialect)


def _lines(session: Session, queries: Sequence[Select[Any]], width: int) -> list[Sum]:
    """The rows of ``queries`` as :class:`Sum` lines. With two queries (:func:`_direct`),
    the first's reversal lines are left out: the second counts them as what they reverse."""
    result = []
    for number, query in enumerate(queries):
        for row in session.execute(query):
            if number == 0 and len(queries) > 1 and row[width] == "reversal":
                continue
            result.append(
                Sum(
                    keys=tuple(row[:width]),
                    kind=row[width],
                    reason=row[width + 1],
                    insurer=bool(row[width + 2]),
                    cents=int(row[width + 3]),
                )
            )
    return result


def _credits_unattributed(
    session: Session, flt: ReportFilter, keys: Sequence[str], dialect: str
) -> list[Sum]:
    """Every credit's whole amount under "no service" (see :func:`_attributed`), summed the
    fast way (:func:`_direct`) by the ledger's own dimensions; the service keys empty."""
    own = [k for k in keys if k not in _THROUGH_CHARGES]
    found = []
    for line in _lines(session, _direct(flt, own, dialect), len(own)):
        if line.kind == "charge":
            continue  # counted on their charge lines by :func:`_attributed`
        values = iter(line.keys)
        group = tuple(None if k in _THROUGH_CHARGES else next(values) for k in keys)
        found.append(replace(line, keys=group))
    return found


def _entries() -> tuple[Any, Any, ColumnElement[str], ColumnElement[str]]:
    entry = LedgerEntry.__table__
    original = entry.alias("original")
    kind = func.coalesce(type_coerce(original.c.kind, String), type_coerce(entry.c.kind, String))
    reason = func.coalesce(
        type_coerce(original.c.reason, String), type_coerce(entry.c.reason, String)
    )
    return entry, original, kind, reason


def _where(entry: Any, flt: ReportFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [entry.c.posted_on.between(flt.date_from, flt.date_to)]
    if flt.location_ids:
        clauses.append(entry.c.location_id.in_(flt.location_ids))
    if flt.payer_ids:
        insurers = [p for p in flt.payer_ids if p is not None]
        either = [entry.c.payer_id.in_(insurers)] if insurers else []
        if None in flt.payer_ids:
            either.append(entry.c.payer_id.is_(None))
        clauses.append(or_(*either))
    return clauses


def _dimension(key: str, entry: Any, dialect: str) -> ColumnElement[Any]:
    if key in periods.Grain.__members__.values():
        return periods.sql_key(entry.c.posted_on, periods.Grain(key), dialect)
    column: ColumnElement[Any] = entry.c.location_id if key == "location" else entry.c.payer_id
    return column


def _direct(flt: ReportFilter, keys: Sequence[str], dialect: str) -> list[Select[Any]]:
    """Two GROUP BYs: every entry by its own kind, and the few reversals by the kind they
    reverse (:func:`_lines` drops the first's reversal lines and counts the second's).

    The first groups by day first, in the order of ``ix_ledger_report``, so the database
    aggregates as it reads the index and only regroups the daily sums into periods.
    """
    entry = LedgerEntry.__table__
    day_columns = [
        entry.c.posted_on,
        entry.c.payer_id,
        type_coerce(entry.c.kind, String).label("kind"),
        type_coerce(entry.c.reason, String).label("reason"),
    ]
    if "location" in keys:
        day_columns.append(entry.c.location_id)
    daily = (
        select(*day_columns, func.sum(_cents(entry.c.amount)).label("cents"))
        .where(*_where(entry, flt))
        .group_by(*day_columns)
        .subquery("daily")
    )
    columns = [_dimension(k, daily, dialect).label(f"k{i}") for i, k in enumerate(keys)]
    insurer = daily.c.payer_id.is_not(None)
    grouped = select(
        *columns, daily.c.kind, daily.c.reason, insurer, func.sum(daily.c.cents)
    ).group_by(*columns, daily.c.kind, daily.c.reason, insurer)
    _, original, kind, reason = _entries()
    columns = [_dimension(k, entry, dialect).label(f"k{i}") for i, k in enumerate(keys)]
    insurer = entry.c.payer_id.is_not(None)
    reversals = (
        select(*columns, kind, reason, insurer, func.sum(_cents(entry.c.amount)))
        .select_from(entry.join(original, original.c.id == entry.c.reverses_id))
        .where(*_where(entry, flt), entry.c.reverses_id.is_not(None))
        .group_by(*columns, kind, reason, insurer)
    )
    return [grouped, reversals]


def _attributed(flt: ReportFilter, keys: Sequence[str], dialect: str) -> Select[Any]:
    """Charges and applied credits spread over the charge lines behind them (see the
    module's docstring), then grouped.

    Charges count on their own charge line. A credit's allocations to charge lines are
    summed once (``applied``) and read twice: against the charge line's service, and back
    out of "no service", where :func:`_credits_unattributed` puts every credit's whole
    amount. What a credit left unapplied thus stays under "no service", as a per-credit
    remainder would leave it, without a correlated subquery per credit; and each part is
    summed per group before they meet.
    """
    entry, original, kind, reason = _entries()
    charge = Charge.__table__
    visit = TreatmentSession.__table__
    alloc = Allocation.__table__
    base = entry.outerjoin(original, original.c.id == entry.c.reverses_id)
    ledger_keys = [
        _dimension(k, entry, dialect).label(f"k{i}")
        for i, k in enumerate(keys)
        if k not in _THROUGH_CHARGES
    ]
    common = [
        *ledger_keys,
        kind.label("kind"),
        reason.label("reason"),
        entry.c.payer_id.is_not(None).label("insurer"),
    ]
    wanted = set(keys) | ({"provider"} if flt.provider_ids else set())
    service = _service(charge, visit, wanted)
    is_charge = kind == "charge"
    lines = base.outerjoin(
        charge, charge.c.entry_id == func.coalesce(entry.c.reverses_id, entry.c.id)
    )
    # A charge's measure depends on neither its reason nor its side: fewer, narrower groups.
    own = (
        select(
            *ledger_keys,
            literal("charge").label("kind"),
            literal(None).label("reason"),
            literal(False).label("insurer"),
            *service,
            func.sum(_cents(entry.c.amount)).label("cents"),
        )
        .select_from(_with_visit(lines, charge, visit, wanted))
        .where(*_where(entry, flt), is_charge)
        .group_by(*ledger_keys, *_grouped(service))
    )
    joined = _with_visit(
        base.join(alloc, alloc.c.credit_id == entry.c.id).join(
            charge, charge.c.entry_id == alloc.c.debit_id
        ),
        charge,
        visit,
        wanted,
    )
    applied = (
        select(*common, *service, func.sum(_cents(alloc.c.amount)).label("cents"))
        .select_from(joined)
        .where(*_where(entry, flt), ~is_charge)
        .group_by(*common, *_grouped(service))
        .cte("applied")
    )
    named = [applied.c[column.name] for column in common]
    spread = union_all(
        own,
        select(*named, *[applied.c[c.name] for c in service], -applied.c.cents),
        select(*named, *_service(charge, visit, set()), applied.c.cents),
    ).subquery("spread")
    group = _ordered_keys(spread, keys)
    query = select(
        *group, spread.c.kind, spread.c.reason, spread.c.insurer, func.sum(spread.c.cents)
    ).group_by(*group, spread.c.kind, spread.c.reason, spread.c.insurer)
    if flt.provider_ids:
        query = query.where(spread.c.provider.in_(flt.provider_ids))
    return query


def _grouped(service: list[Any]) -> list[Any]:
    """The service columns worth grouping by (not the empty ones)."""
    return [column for column in service if column.element is not None and not _empty(column)]


def _empty(column: Any) -> bool:
    return getattr(column.element, "value", 0) is None


def _with_visit(joined: Any, charge: Any, visit: Any, wanted: set[str]) -> Any:
    """``joined`` with the charge line's session, when the report splits by modality."""
    if "modality" not in wanted:
        return joined
    return joined.outerjoin(visit, visit.c.id == charge.c.session_id)


def _service(charge: Any, visit: Any, wanted: set[str]) -> list[ColumnElement[Any]]:
    """The charge line's provider, code and modality where the report splits by them;
    NULL (one group) where it does not."""
    columns: dict[str, ColumnElement[Any]] = {
        "provider": charge.c.provider_id,
        "code": charge.c.code,
        "modality": type_coerce(visit.c.modality, String),
    }
    return [
        (column if key in wanted else literal(None)).label(key) for key, column in columns.items()
    ]


def _ordered_keys(spread: Any, keys: Sequence[str]) -> list[ColumnElement[Any]]:
    """The spread's group columns in the order the keys were asked for (the ledger's own
    dimensions were labelled by their position among all keys)."""
    return [
        spread.c[key] if key in _THROUGH_CHARGES else spread.c[f"k{index}"]
        for index, key in enumerate(keys)
    ]


def _cents(column: Any) -> ColumnElement[int]:
    """A money column as its stored integer cents (its own type would make dollars)."""
    return type_coerce(column, BigInteger)


def folded(lines: Iterable[Sum]) -> dict[tuple[Any, ...], dict[str, int]]:
    """Cents per measure (the report's money keys) per group: the lines of :func:`sums`
    folded by :func:`fold`."""
    groups: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(_MONEY, 0))
    for line in lines:
        fold(groups[line.keys], line)
    return dict(groups)


def fold(cents: dict[str, int], line: Sum) -> None:
    """Add one GROUP BY line to a group's measures (cents, signed as the report reads)."""
    measure = _measure_of(line)
    sign = 1 if measure in ("charges", "refunds", "other") else -1
    cents[measure] += sign * line.cents
    cents["balance_change"] += line.cents
    if measure in ("patient_payments", "insurer_payments") or measure == "refunds":
        cents["net_revenue"] -= line.cents


def _measure_of(line: Sum) -> str:
    if line.kind == "charge":
        return "charges"
    if line.kind == "payment":
        return "insurer_payments" if line.insurer else "patient_payments"
    if line.kind == "adjustment":
        return _ADJUSTMENT_MEASURE.get(line.reason or "", "write_offs")
    if line.kind == "refund":
        return "refunds"
    return "other"  # forfeit, transfer


def _added(groups: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(_MONEY, 0)
    for cents in groups:
        for key, value in cents.items():
            total[key] += value
    return total


def _grain(keys: Sequence[str]) -> periods.Grain | None:
    for key in keys:
        if key in periods.Grain.__members__.values():
            return periods.Grain(key)
    return None


def _year_before(group: tuple[Any, ...], keys: Sequence[str], grain: periods.Grain | None) -> Any:
    if grain is None:
        return group
    return tuple(
        periods.year_before(value, grain) if key == grain.value and value else value
        for key, value in zip(keys, group, strict=True)
    )


def _all_groups(
    now: dict[tuple[Any, ...], dict[str, int]], flt: ReportFilter, keys: Sequence[str]
) -> list[tuple[Any, ...]]:
    """The groups with entries, plus every period of the range when the report is split by
    period alone (so a month without entries shows as zeros), in order."""
    groups = set(now)
    if len(keys) == 1 and (grain := _grain(keys)) is not None:
        groups.update((k,) for k in periods.keys_between(flt.date_from, flt.date_to, grain))
    return sorted(groups, key=lambda g: tuple((v is None, str(v)) for v in g))


def _row(
    group: tuple[Any, ...],
    keys: Sequence[str],
    names: Names,
    cents: dict[str, int],
    earlier: dict[str, int],
) -> Row:
    values: list[Value] = [decimal_of(cents.get(k, 0)) for k in _MONEY]
    before = decimal_of(earlier.get("net_revenue", 0))
    values.append(before)
    values.append(_change(values[_MONEY.index("net_revenue")], before))
    return Row(
        labels=tuple(label(key, value, names) for key, value in zip(keys, group, strict=True)),
        values=tuple(values),
        keys=group,
    )


def _change(now: Value, before: Decimal) -> Value:
    if before == ZERO or not isinstance(now, Decimal):
        return None
    return ((now - before) / abs(before) * 100).quantize(Decimal("0.1"))


def label(key: str, value: Any, names: Names) -> str:
    """A group key as people read it."""
    common = names.group(key, value)
    if common is not None:
        return common
    if key == "code":
        return str(value) if value else "No service code"
    return str(value)


def chart(table: ReportTable) -> Chart | None:
    """Net revenue per period, one series per second dimension (payer, location…)."""
    keys = [d.key for d in table.dimensions]
    if not keys or _grain(keys) is None:
        return None
    at = keys.index(str(_grain(keys)))
    other = next((i for i in range(len(keys)) if i != at), None)
    categories: list[str] = []
    values: dict[str, dict[str, Decimal]] = defaultdict(dict)
    measure = table.measure_index("net_revenue")
    for row in table.rows:
        period = row.labels[at]
        if period not in categories:
            categories.append(period)
        name = row.labels[other] if other is not None else "Net revenue"
        amount = row.values[measure]
        values[name][period] = values[name].get(period, ZERO) + (
            amount if isinstance(amount, Decimal) else ZERO
        )
    series = tuple(
        ChartSeries(name, tuple(by_period.get(c, ZERO) for c in categories))
        for name, by_period in values.items()
    )
    return Chart("Net revenue", "bar", tuple(categories), series)


def detail(session: Session, actor: Actor, table: ReportTable, row: Row, measure: str) -> Detail:
    """The ledger entries behind one figure of a revenue row (at most ``DETAIL_LIMIT``)."""
    actor.require(Permission.REPORT_VIEW)
    entry, original, kind, reason = _entries()
    patient = Patient.__table__
    flt = table.filter
    clauses = _where(entry, flt)
    for dimension, key in zip(table.dimensions, row.keys, strict=False):
        if dimension.key in periods.Grain.__members__.values():
            grain = periods.Grain(dimension.key)
            first = max(periods.start_of(str(key), grain), flt.date_from)
            last = min(periods.end_of(str(key), grain), flt.date_to)
            clauses.append(entry.c.posted_on.between(first, last))
        elif dimension.key == "location":
            clauses.append(entry.c.location_id == key)
        elif dimension.key == "payer":
            clauses.append(entry.c.payer_id.is_(None) if key is None else entry.c.payer_id == key)
    query = (
        select(
            entry.c.id,
            entry.c.posted_on,
            entry.c.patient_id,
            patient.c.mrn,
            patient.c.family_name,
            patient.c.given_name,
            entry.c.description,
            entry.c.amount,
            entry.c.claim_id,
            kind,
            reason,
            entry.c.payer_id.is_not(None),
        )
        .select_from(entry.outerjoin(original, original.c.id == entry.c.reverses_id))
        .join(patient, patient.c.id == entry.c.patient_id)
        .where(*clauses)
        .order_by(entry.c.posted_on, entry.c.id)
    )
    service = {
        d.key: key
        for d, key in zip(table.dimensions, row.keys, strict=False)
        if d.key in _THROUGH_CHARGES
    }
    share = _Shares(session, clauses, service) if service else None
    found: list[DetailRow] = []
    for line in session.execute(query):
        if not _shows(measure, Sum((), line[9], line[10], bool(line[11]), 0)):
            continue
        amount = line.amount if share is None else share.of(line.id, line[9], line.amount)
        if amount == ZERO:
            continue
        found.append(
            DetailRow(
                on=line.posted_on,
                patient_id=line.patient_id,
                mrn=line.mrn,
                patient=f"{line.family_name}, {line.given_name}",
                description=line.description,
                amount=amount,
                claim_id=line.claim_id,
                entry_id=line.id,
            )
        )
        if len(found) > DETAIL_LIMIT:
            break
    label = next((m.label for m in MEASURES if m.key == measure), measure)
    return Detail(
        title=f"{label}: {' · '.join(row.labels)}",
        rows=tuple(found[:DETAIL_LIMIT]),
        truncated=len(found) > DETAIL_LIMIT,
    )


def _shows(measure: str, probe: Sum) -> bool:
    """Whether an entry of this kind, reason and side counts in ``measure``."""
    if measure == "balance_change" or measure not in _MONEY:
        return True
    if measure == "net_revenue":
        return _measure_of(probe) in ("patient_payments", "insurer_payments", "refunds")
    return _measure_of(probe) == measure


class _Shares:
    """The part of each entry a provider / code / modality row holds, as :func:`_attributed`
    spreads it: a charge all of itself when its charge line is the row's; a credit what it
    applied to the row's charge lines, plus, in the row with no service, what it left
    unapplied to any charge line."""

    def __init__(self, session: Session, clauses: list[Any], service: dict[str, Any]) -> None:
        entry, original, kind, _ = _entries()
        charge, visit, alloc = Charge.__table__, TreatmentSession.__table__, Allocation.__table__
        columns = _service(charge, visit, set(service))
        self.service = service
        self.lines: dict[int, tuple[Any, ...]] = {}
        lined = entry.outerjoin(original, original.c.id == entry.c.reverses_id).join(
            charge, charge.c.entry_id == func.coalesce(entry.c.reverses_id, entry.c.id)
        )
        for found in session.execute(
            select(entry.c.id, *columns)
            .select_from(_with_visit(lined, charge, visit, set(service)))
            .where(*clauses, kind == "charge")
        ):
            self.lines[found[0]] = tuple(found[1:])
        self.applied: dict[int, list[tuple[tuple[Any, ...], Decimal]]] = defaultdict(list)
        paid = entry.outerjoin(original, original.c.id == entry.c.reverses_id).join(
            alloc, alloc.c.credit_id == entry.c.id
        )
        paid = paid.join(charge, charge.c.entry_id == alloc.c.debit_id)
        for found in session.execute(
            select(entry.c.id, *columns, func.sum(_cents(alloc.c.amount)))
            .select_from(_with_visit(paid, charge, visit, set(service)))
            .where(*clauses, kind != "charge")
            .group_by(entry.c.id, *_grouped(columns))
        ):
            self.applied[found[0]].append((tuple(found[1:-1]), decimal_of(found[-1])))

    def _matches(self, values: tuple[Any, ...]) -> bool:
        named = dict(zip(("provider", "code", "modality"), values, strict=True))
        return all(named[key] == wanted for key, wanted in self.service.items())

    def of(self, entry_id: int, kind: str, amount: Decimal) -> Decimal:
        nothing = (None, None, None)
        if kind == "charge":
            return amount if self._matches(self.lines.get(entry_id, nothing)) else ZERO
        applied = self.applied.get(entry_id, [])
        mine = sum((-cents for values, cents in applied if self._matches(values)), ZERO)
        if self._matches(nothing):
            mine += amount + sum((cents for _, cents in applied), ZERO)
        return mine


DETAIL_LIMIT = 2000

SPEC = ReportSpec(
    name="revenue",
    title="Revenue",
    summary="Charges, payments, adjustments and refunds, against the same period a year before.",
    dimensions=DIMENSIONS,
    default_by=("month",),
    run=revenue,
    detail=detail,
    chart=chart,
)
