"""Collections: how much of what the clinic charges it collects, how often payers deny, why,
how long they take to pay, and which payer pays best for a code.

The figures come from five sources, each aggregated in SQL, then met by group:

1. **Money** — the revenue report's own sums (:func:`ketadesk.reports.revenue.sums`, folded
   by :func:`~ketadesk.reports.revenue.folded`), so the collection rates are computed from
   exactly the charges, payments and contractual adjustments the revenue report shows.
2. **Answers** — the claims' status history (``claim_event``): each move to paid, partly
   paid or denied is one answer from the payer; the denial rate is denied ÷ answered.
3. **Denials** — the 835/EOB adjustments (``remit_adjustment``) whose CARC means a denial
   (:func:`ketadesk.billing.claims.remit_codes.carc`), neither the patient's share (PR) nor
   a correction (CR): split by reason, they are the top denial reasons.
4. **Days to payment** — each claim's submission day to the day the payer's first payment
   for it was posted to the ledger.
5. **Paid per unit** — the remit lines' paid amounts and units per service code and payer.

A source that cannot be split the way the report is asked (the money by denial reason, say)
leaves its figures empty in the rows, and still gives its total. Rates over nothing are None.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, String, cast, false, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.claims import remit_codes
from ketadesk.billing.claims.models import (
    Claim,
    ClaimEvent,
    ClaimStatus,
    Remit,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
)
from ketadesk.billing.ledger import decimal_of
from ketadesk.billing.models import LedgerEntry
from ketadesk.clinic.models import Patient
from ketadesk.reports import periods, revenue
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
    percent,
    require_by,
)
from ketadesk.reports.model import Series as ChartSeries
from ketadesk.reports.names import Names, read_names

GRAIN_KEYS = frozenset(g.value for g in periods.GRAINS)
DIMENSIONS = (
    *periods.DIMENSIONS,
    Dimension("location", "Location"),
    Dimension("payer", "Payer"),
    Dimension("code", "Service code"),
    Dimension("reason", "Denial reason"),
)

MEASURES = (
    Measure(
        "charges",
        "Charges",
        Kind.MONEY,
        "Charges as the revenue report counts them (by date of service, less reversals).",
    ),
    Measure(
        "payments",
        "Payments",
        Kind.MONEY,
        "Patient and insurer payments less refunds: the revenue report's net revenue.",
    ),
    Measure(
        "contractual",
        "Contractual",
        Kind.MONEY,
        "Contractual adjustments, as the revenue report counts them.",
    ),
    Measure(
        "gross_collection_rate",
        "Gross collection rate",
        Kind.PERCENT,
        "Payments ÷ charges × 100.",
    ),
    Measure(
        "net_collection_rate",
        "Net collection rate",
        Kind.PERCENT,
        "Payments ÷ (charges − contractual adjustments) × 100 (the MGMA definition).",
    ),
    Measure(
        "claims_answered",
        "Claims answered",
        Kind.COUNT,
        "Answers payers gave on claims (paid, partly paid or denied), on the day recorded "
        "(UTC); a claim answered again after an appeal counts again.",
    ),
    Measure("claims_denied", "Claims denied", Kind.COUNT, "Answers that denied the claim."),
    Measure(
        "denial_rate",
        "Denial rate",
        Kind.PERCENT,
        "Claims denied ÷ claims answered × 100.",
    ),
    Measure(
        "denials",
        "Claims with a denial",
        Kind.COUNT,
        "Claims whose remittance (835 or EOB, by its payment date) carries a denial "
        "adjustment (a denial reason code, not the patient's share or a correction).",
    ),
    Measure(
        "denied_amount",
        "Denied amount",
        Kind.MONEY,
        "The amounts of those denial adjustments.",
    ),
    Measure(
        "days_to_payment",
        "Days to payment",
        Kind.DAYS,
        "Average days from a claim's submission to the posting of the payer's first "
        "payment for it, over claims first paid in the period.",
    ),
    Measure(
        "units_paid",
        "Units on remits",
        Kind.NUMBER,
        "Service units on payers' remittance lines (by payment date).",
    ),
    Measure(
        "line_paid",
        "Paid on remit lines",
        Kind.MONEY,
        "What payers paid on those remittance lines.",
    ),
    Measure(
        "paid_per_unit",
        "Paid per unit",
        Kind.MONEY,
        "Paid on remit lines ÷ units: what the payer pays for one unit of the code.",
    ),
)
_KEYS = tuple(m.key for m in MEASURES)

Groups = dict[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class _Source:
    """One source of figures: the dimensions it can be split by and how it sums."""

    name: str
    dimensions: frozenset[str]
    measures: tuple[str, ...]  # the raw sums it gives
    shows: tuple[str, ...]  # the report's measures made from them
    read: Callable[[Session, ReportFilter, Sequence[str]], Groups]
    additive: bool = True  # the groups' sums add up to the total


def collections(
    session: Session, actor: Actor, flt: ReportFilter, by: Sequence[str] = ("payer",)
) -> ReportTable:
    """The collections report for ``flt``, one row per group of ``by``."""
    actor.require(Permission.REPORT_VIEW)
    dims = require_by(by, DIMENSIONS, "collections")
    keys = [d.key for d in dims]
    rows: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(dict)
    total: dict[str, Any] = {}
    for source in _SOURCES:
        found = source.read(session, flt, keys) if set(keys) <= source.dimensions else {}
        for group, figures in found.items():
            rows[group].update(figures)
        if found and source.additive:
            total.update(_summed(found.values(), source.measures))
        else:  # a claim counts once in the total, however many groups it is in
            total.update(_summed(source.read(session, flt, []).values(), source.measures))
    names = read_names(session)
    ordered = sorted(rows, key=lambda g: _order(g, keys, rows[g]))
    return ReportTable(
        name="collections",
        title="Collections",
        filter=flt,
        dimensions=tuple(dims),
        measures=MEASURES,
        rows=tuple(_row(g, keys, names, rows[g]) for g in ordered),
        total=Row(labels=("Total",) * max(len(dims), 1), values=_values(total)),
        notes=(
            "Figures a split cannot give (money by denial reason, answers by code) are left "
            "empty in the rows; the total still shows them.",
        ),
    )


def _order(group: tuple[Any, ...], keys: Sequence[str], figures: dict[str, Any]) -> Any:
    """Groups in key order; denial reasons most frequent first within their group."""
    plain = [(v is None, str(v)) for k, v in zip(keys, group, strict=True) if k != "reason"]
    return (plain, -figures.get("denials", 0)) if "reason" in keys else plain


def _summed(groups: Any, measures: Sequence[str]) -> dict[str, Any]:
    total: dict[str, Any] = dict.fromkeys(measures, 0)
    for figures in groups:
        for key in measures:
            total[key] += figures.get(key, 0)
    return total


def _row(group: tuple[Any, ...], keys: Sequence[str], names: Names, figures: dict[str, Any]) -> Row:
    return Row(
        labels=tuple(label(k, v, names) for k, v in zip(keys, group, strict=True)),
        values=_values(figures),
        keys=group,
    )


def _values(figures: dict[str, Any]) -> tuple[Value, ...]:
    """The measures of one row from its raw sums (cents, counts, day totals)."""
    out: dict[str, Value] = {}
    if "charges" in figures:
        charges, paid, contractual = (
            figures["charges"],
            figures["payments"],
            figures["contractual"],
        )
        out["charges"], out["payments"] = decimal_of(charges), decimal_of(paid)
        out["contractual"] = decimal_of(contractual)
        out["gross_collection_rate"] = percent(paid, charges)
        out["net_collection_rate"] = percent(paid, charges - contractual)
    if "claims_answered" in figures:
        out["claims_answered"] = int(figures["claims_answered"])
        out["claims_denied"] = int(figures["claims_denied"])
        out["denial_rate"] = percent(figures["claims_denied"], figures["claims_answered"])
    if "denials" in figures:
        out["denials"] = int(figures["denials"])
        out["denied_amount"] = decimal_of(figures["denied_amount"])
    if "_paid_claims" in figures:
        out["days_to_payment"] = _average(figures["_days"], figures["_paid_claims"])
    if "_unit_thousandths" in figures:
        units = Decimal(int(figures["_unit_thousandths"])).scaleb(-3)
        out["units_paid"] = units
        out["line_paid"] = decimal_of(figures["line_paid"])
        out["paid_per_unit"] = (
            None
            if units == 0
            else (decimal_of(figures["line_paid"]) / units).quantize(Decimal("0.01"), ROUND_HALF_UP)
        )
    return tuple(out.get(key) for key in _KEYS)




def _average(total: int, count: int) -> Decimal | None:
    if count == 0:
        return None
    return (Decimal(int(total)) / Decimal(int(count))).quantize(Decimal("0.1"), ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------
# The sources
# ---------------------------------------------------------------------------------------


def _money(session: Session, flt: ReportFilter, keys: Sequence[str]) -> Groups:
    """Charges, payments and contractual per group: the revenue report's own sums."""
    found: Groups = {}
    for group, cents in revenue.folded(revenue.sums(session, flt, keys)).items():
        found[group] = {
            "charges": cents["charges"],
            "payments": cents["net_revenue"],
            "contractual": cents["contractual"],
        }
    return found


def _claim_columns(dialect: str, day: Any, keys: Sequence[str]) -> list[ColumnElement[Any]]:
    """The group columns of a claim source, in the order of ``keys``."""
    claim = Claim.__table__
    columns: list[ColumnElement[Any]] = []
    for index, key in enumerate(keys):
        if key in GRAIN_KEYS:
            column = periods.sql_key(day, periods.Grain(key), dialect)
        elif key == "location":
            column = claim.c.location_id
        elif key == "payer":
            column = claim.c.payer_id
        elif key == "code":
            column = RemitLine.__table__.c.code
        else:
            column = RemitAdjustment.__table__.c.reason
        columns.append(column.label(f"k{index}"))
    return columns


def _claim_filter(flt: ReportFilter) -> list[ColumnElement[bool]]:
    claim = Claim.__table__
    clauses: list[ColumnElement[bool]] = []
    if flt.location_ids:
        clauses.append(claim.c.location_id.in_(flt.location_ids))
    if flt.provider_ids:
        clauses.append(claim.c.provider_id.in_(flt.provider_ids))
    if flt.payer_ids:
        insurers = [p for p in flt.payer_ids if p is not None]
        clauses.append(claim.c.payer_id.in_(insurers) if insurers else false())
    return clauses


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


_ANSWERS = (ClaimStatus.PAID, ClaimStatus.PARTLY_PAID, ClaimStatus.DENIED)


def _answers_query(session: Session, flt: ReportFilter, keys: Sequence[str]) -> Select[Any]:
    dialect = session.get_bind().dialect.name
    event, claim = ClaimEvent.__table__, Claim.__table__
    day = _event_day(event.c.at, dialect)
    columns = _claim_columns(dialect, day, keys)
    denied = func.sum(func.coalesce(cast(event.c.to_status == ClaimStatus.DENIED, Integer), 0))
    return (
        select(*columns, func.count(), denied)
        .select_from(event.join(claim, claim.c.id == event.c.claim_id))
        .where(*_answers_where(flt))
        .group_by(*columns)
    )


def _answers_where(flt: ReportFilter) -> list[ColumnElement[bool]]:
    return [
        ClaimEvent.at >= _moment(flt.date_from),
        ClaimEvent.at < _moment(flt.date_to + timedelta(days=1)),
        ClaimEvent.to_status.in_(_ANSWERS),
        *_claim_filter(flt),
    ]


def _event_day(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC day of an instant, as a DATE-like value the period keys read."""
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.substr(column, 1, 10)


def _answers(session: Session, flt: ReportFilter, keys: Sequence[str]) -> Groups:
    width = len(keys)
    return {
        tuple(row[:width]): {
            "claims_answered": int(row[width] or 0),
            "claims_denied": int(row[width + 1] or 0),
        }
        for row in session.execute(_answers_query(session, flt, keys))
    }


def _denials(session: Session, flt: ReportFilter, keys: Sequence[str]) -> Groups:
    """Denial adjustments per group: SQL sums per reason (PR and CR left out), Python keeps
    the reasons whose CARC means a denial and merges reasons spelt two ways ("045", "45")."""
    dialect = session.get_bind().dialect.name
    remit, rc = Remit.__table__, RemitClaim.__table__
    adj, line, claim = RemitAdjustment.__table__, RemitLine.__table__, Claim.__table__
    columns = _claim_columns(dialect, remit.c.paid_on, keys)
    reason = adj.c.reason.label("carc")
    query = (
        select(
            *columns,
            reason,
            rc.c.id,
            func.sum(type_coerce(adj.c.amount, BigInteger)),
        )
        .select_from(
            adj.join(rc, rc.c.id == adj.c.remit_claim_id)
            .join(remit, remit.c.id == rc.c.remit_id)
            .join(claim, claim.c.id == rc.c.claim_id)
            .outerjoin(line, line.c.id == adj.c.remit_line_id)
        )
        .where(*_denials_where(flt))
        .group_by(*columns, reason, rc.c.id)
    )
    found: Groups = {}
    denied: dict[tuple[object, ...], set[int]] = {}
    width = len(keys)
    for row in session.execute(query):
        if not _is_denial(str(row[width])):
            continue
        code = remit_codes.carc(str(row[width]))
        group = tuple(
            code.code if key == "reason" else value
            for key, value in zip(keys, row[:width], strict=True)
        )
        figures = found.setdefault(group, {"denials": 0, "denied_amount": 0})
        figures["denied_amount"] += int(row[width + 2])
        # A claim denied for two reasons (or one reason spelt two ways) counts once.
        denied.setdefault(group, set()).add(int(row[width + 1]))
    for group, claims in denied.items():
        found[group]["denials"] = len(claims)
    return found


def _denials_where(flt: ReportFilter) -> list[ColumnElement[bool]]:
    adj, remit = RemitAdjustment.__table__, Remit.__table__
    return [
        remit.c.paid_on.between(flt.date_from, flt.date_to),
        adj.c.group.not_in((remit_codes.PATIENT_GROUP, remit_codes.CORRECTION_GROUP)),
        *_claim_filter(flt),
    ]


def _first_paid() -> Any:
    """Each claim's first payment from its payer: the day it was posted."""
    entry, claim = LedgerEntry.__table__, Claim.__table__
    return (
        select(
            claim.c.id.label("claim_id"),
            func.min(entry.c.posted_on).label("paid_on"),
        )
        .select_from(
            claim.join(
                entry,
                (entry.c.claim_id == claim.c.id)
                & (entry.c.payer_id == claim.c.payer_id)
                & (type_coerce(entry.c.kind, String) == "payment"),
            )
        )
        .where(claim.c.submitted_on.is_not(None))
        .group_by(claim.c.id)
        .subquery("first_paid")
    )


def _days_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[int]:
    if dialect == "postgresql":
        return later - earlier  # type: ignore[no-any-return]
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _payment_days(session: Session, flt: ReportFilter, keys: Sequence[str]) -> Groups:
    dialect = session.get_bind().dialect.name
    claim, first = Claim.__table__, _first_paid()
    columns = _claim_columns(dialect, first.c.paid_on, keys)
    query = (
        select(
            *columns,
            func.count(),
            func.sum(_days_between(first.c.paid_on, claim.c.submitted_on, dialect)),
        )
        .select_from(first.join(claim, claim.c.id == first.c.claim_id))
        .where(first.c.paid_on.between(flt.date_from, flt.date_to), *_claim_filter(flt))
        .group_by(*columns)
    )
    width = len(keys)
    return {
        tuple(row[:width]): {"_paid_claims": row[width], "_days": int(row[width + 1] or 0)}
        for row in session.execute(query)
    }


def _paid_per_unit(session: Session, flt: ReportFilter, keys: Sequence[str]) -> Groups:
    dialect = session.get_bind().dialect.name
    remit, rc, line, claim = (
        Remit.__table__,
        RemitClaim.__table__,
        RemitLine.__table__,
        Claim.__table__,
    )
    columns = _claim_columns(dialect, remit.c.paid_on, keys)
    query = (
        select(
            *columns,
            func.sum(type_coerce(line.c.units, BigInteger)),
            func.sum(type_coerce(line.c.paid, BigInteger)),
        )
        .select_from(
            line.join(rc, rc.c.id == line.c.remit_claim_id)
            .join(remit, remit.c.id == rc.c.remit_id)
            .join(claim, claim.c.id == rc.c.claim_id)
        )
        .where(remit.c.paid_on.between(flt.date_from, flt.date_to), *_claim_filter(flt))
        .group_by(*columns)
    )
    width = len(keys)
    return {
        tuple(row[:width]): {
            "_unit_thousandths": int(row[width] or 0),
            "line_paid": int(row[width + 1] or 0),
        }
        for row in session.execute(query)
    }


_PERIODS_AND = GRAIN_KEYS | {"location", "payer"}
_SOURCES = (
    _Source(
        "money",
        _PERIODS_AND | {"code"},
        ("charges", "payments", "contractual"),
        (
            "charges",
            "payments",
            "contractual",
            "gross_collection_rate",
            "net_collection_rate",
        ),
        _money,
    ),
    _Source(
        "answers",
        _PERIODS_AND,
        ("claims_answered", "claims_denied"),
        ("claims_answered", "claims_denied", "denial_rate"),
        _answers,
    ),
    _Source(
        "denials",
        _PERIODS_AND | {"code", "reason"},
        ("denials", "denied_amount"),
        ("denials", "denied_amount"),
        _denials,
        additive=False,
    ),
    _Source("days", _PERIODS_AND, ("_paid_claims", "_days"), ("days_to_payment",), _payment_days),
    _Source(
        "units",
        _PERIODS_AND | {"code"},
        ("_unit_thousandths", "line_paid"),
        ("units_paid", "line_paid", "paid_per_unit"),
        _paid_per_unit,
    ),
)


# ---------------------------------------------------------------------------------------
# Labels, chart, detail
# ---------------------------------------------------------------------------------------


def label(key: str, value: Any, names: Names) -> str:
    """A group key as people read it; a denial reason with its words."""
    if key == "reason":
        found = remit_codes.carc(str(value))
        return f"{found.code}: {found.text}"
    return revenue.label(key, value, names)


def chart(table: ReportTable) -> Chart | None:
    """Collection and denial rates per group of the first dimension (payers, usually)."""
    if not table.rows or not table.dimensions:
        return None
    at = next((i for i, d in enumerate(table.dimensions) if d.key == "payer"), 0)
    shown = ("gross_collection_rate", "net_collection_rate", "denial_rate")
    categories: list[str] = []
    values: dict[str, list[Decimal]] = {key: [] for key in shown}
    for row in table.rows:
        categories.append(row.labels[at])
        for key in shown:
            figure = row.value(table, key)
            values[key].append(figure if isinstance(figure, Decimal) else Decimal(0))
    series = tuple(
        ChartSeries(next(m.label for m in MEASURES if m.key == key), tuple(values[key]))
        for key in shown
    )
    return Chart("Collection and denial rates", "bar", tuple(categories), series, Kind.PERCENT)


DETAIL_LIMIT = 2000
_PAYMENTS = ("patient_payments", "insurer_payments", "refunds")
_MONEY_DETAIL = {
    "charges": ("charges",),
    "contractual": ("contractual",),
    "payments": _PAYMENTS,
    "gross_collection_rate": _PAYMENTS,
    "net_collection_rate": _PAYMENTS,
}


def detail(session: Session, actor: Actor, table: ReportTable, row: Row, measure: str) -> Detail:
    """The ledger entries or claims behind one figure of a collections row."""
    actor.require(Permission.REPORT_VIEW)
    if measure in _MONEY_DETAIL:
        parts = [revenue.detail(session, actor, table, row, m) for m in _MONEY_DETAIL[measure]]
        lines = sorted(
            (line for part in parts for line in part.rows),
            key=lambda line: (line.on, line.entry_id or 0),
        )
        return Detail(
            f"{_label_of(measure)}: {' · '.join(row.labels)}",
            tuple(lines[:DETAIL_LIMIT]),
            any(part.truncated for part in parts) or len(lines) > DETAIL_LIMIT,
        )
    source = next(s for s in _SOURCES if measure in s.shows)
    if not {d.key for d in table.dimensions} <= source.dimensions:
        return Detail(f"{_label_of(measure)}: {' · '.join(row.labels)}", ())
    dialect = session.get_bind().dialect.name
    if measure in ("claims_answered", "claims_denied", "denial_rate"):
        query = _answer_detail(table, row, dialect, denied_only=measure == "claims_denied")
        amount_label = "Billed"
    elif measure in ("denials", "denied_amount"):
        query = _denial_detail(table, row, dialect)
        amount_label = "Denied"
    elif measure == "days_to_payment":
        query = _days_detail(table, row, dialect)
        amount_label = "Days"
    else:
        query = _unit_detail(table, row, dialect)
        amount_label = "Paid"
    rows: list[DetailRow] = []
    for line in session.execute(query):
        if measure in ("denials", "denied_amount") and not _is_denial(line.reason):
            continue
        rows.append(_detail_row(line, measure))
        if len(rows) > DETAIL_LIMIT:
            break
    return Detail(
        title=f"{_label_of(measure)}: {' · '.join(row.labels)}",
        rows=tuple(rows[:DETAIL_LIMIT]),
        truncated=len(rows) > DETAIL_LIMIT,
        amount_label=amount_label,
    )


def _label_of(measure: str) -> str:
    return next((m.label for m in MEASURES if m.key == measure), measure)


def _matching(
    table: ReportTable, row: Row, dialect: str, day: Any, flt: ReportFilter
) -> list[ColumnElement[bool]]:
    """The row's group as SQL conditions on a claim source whose date is ``day``."""
    keys = [d.key for d in table.dimensions]
    columns = _claim_columns(dialect, day, keys)
    clauses: list[ColumnElement[bool]] = []
    for key, column, value in zip(keys, columns, row.keys, strict=False):
        inner = column.element
        if key == "reason":
            clauses.append(inner.in_(_spellings(str(value))))
        elif value is None:
            clauses.append(inner.is_(None))
        else:
            clauses.append(inner == value)
    return clauses


def _spellings(code: str) -> list[str]:
    """A CARC as payers may send it: ``45`` also as ``045``."""
    return [code, code.zfill(2), code.zfill(3)] if code.isdigit() else [code]


def _patient_columns() -> list[Any]:
    patient, claim = Patient.__table__, Claim.__table__
    return [
        claim.c.id.label("claim_id"),
        claim.c.number,
        claim.c.patient_id,
        patient.c.mrn,
        patient.c.family_name,
        patient.c.given_name,
    ]


def _answer_detail(table: ReportTable, row: Row, dialect: str, *, denied_only: bool) -> Any:
    event, claim, patient = ClaimEvent.__table__, Claim.__table__, Patient.__table__
    flt = table.filter
    clauses = [
        *_answers_where(flt),
        *_matching(table, row, dialect, _event_day(event.c.at, dialect), flt),
    ]
    if denied_only:
        clauses.append(event.c.to_status == ClaimStatus.DENIED)
    return (
        select(
            *_patient_columns(),
            _event_day(event.c.at, dialect).label("on"),
            type_coerce(event.c.to_status, String).label("what"),
            type_coerce(claim.c.billed, BigInteger).label("cents"),
        )
        .select_from(
            event.join(claim, claim.c.id == event.c.claim_id).join(
                patient, patient.c.id == claim.c.patient_id
            )
        )
        .where(*clauses)
        .order_by(event.c.at, event.c.id)
    )


def _denial_detail(table: ReportTable, row: Row, dialect: str) -> Any:
    remit, rc = Remit.__table__, RemitClaim.__table__
    adj, line, claim, patient = (
        RemitAdjustment.__table__,
        RemitLine.__table__,
        Claim.__table__,
        Patient.__table__,
    )
    flt = table.filter
    return (
        select(
            *_patient_columns(),
            remit.c.paid_on.label("on"),
            (adj.c.group + "-" + adj.c.reason).label("what"),
            adj.c.reason.label("reason"),
            type_coerce(adj.c.amount, BigInteger).label("cents"),
        )
        .select_from(
            adj.join(rc, rc.c.id == adj.c.remit_claim_id)
            .join(remit, remit.c.id == rc.c.remit_id)
            .join(claim, claim.c.id == rc.c.claim_id)
            .join(patient, patient.c.id == claim.c.patient_id)
            .outerjoin(line, line.c.id == adj.c.remit_line_id)
        )
        .where(*_denials_where(flt), *_matching(table, row, dialect, remit.c.paid_on, flt))
        .order_by(remit.c.paid_on, adj.c.id)
    )


def _days_detail(table: ReportTable, row: Row, dialect: str) -> Any:
    claim, patient, first = Claim.__table__, Patient.__table__, _first_paid()
    flt = table.filter
    return (
        select(
            *_patient_columns(),
            first.c.paid_on.label("on"),
            claim.c.submitted_on.label("what"),
            _days_between(first.c.paid_on, claim.c.submitted_on, dialect).label("days"),
        )
        .select_from(
            first.join(claim, claim.c.id == first.c.claim_id).join(
                patient, patient.c.id == claim.c.patient_id
            )
        )
        .where(
            first.c.paid_on.between(flt.date_from, flt.date_to),
            *_claim_filter(flt),
            *_matching(table, row, dialect, first.c.paid_on, flt),
        )
        .order_by(first.c.paid_on, claim.c.id)
    )


def _unit_detail(table: ReportTable, row: Row, dialect: str) -> Any:
    remit, rc, line, claim, patient = (
        Remit.__table__,
        RemitClaim.__table__,
        RemitLine.__table__,
        Claim.__table__,
        Patient.__table__,
    )
    flt = table.filter
    return (
        select(
            *_patient_columns(),
            remit.c.paid_on.label("on"),
            line.c.code.label("what"),
            type_coerce(line.c.paid, BigInteger).label("cents"),
        )
        .select_from(
            line.join(rc, rc.c.id == line.c.remit_claim_id)
            .join(remit, remit.c.id == rc.c.remit_id)
            .join(claim, claim.c.id == rc.c.claim_id)
            .join(patient, patient.c.id == claim.c.patient_id)
        )
        .where(
            remit.c.paid_on.between(flt.date_from, flt.date_to),
            *_claim_filter(flt),
            *_matching(table, row, dialect, remit.c.paid_on, flt),
        )
        .order_by(remit.c.paid_on, line.c.id)
    )


def _is_denial(reason: str) -> bool:
    return remit_codes.carc(reason).kind is remit_codes.RemitKind.DENIAL


def _detail_row(line: Any, measure: str) -> DetailRow:
    on = line.on if isinstance(line.on, date) else date.fromisoformat(str(line.on)[:10])
    if measure == "days_to_payment":
        words = f"Claim {line.number}: sent {line.what}, first paid {on:%Y-%m-%d}"
        amount: Value = int(line.days)
    else:
        words = f"Claim {line.number}: {str(line.what).replace('_', ' ')}"
        amount = decimal_of(line.cents)
    return DetailRow(
        on=on,
        patient_id=line.patient_id,
        mrn=line.mrn,
        patient=f"{line.family_name}, {line.given_name}",
        description=words,
        amount=amount,
        claim_id=line.claim_id,
    )


SPEC = ReportSpec(
    name="collections",
    title="Collections",
    summary="Collection rates, denials and their reasons, days to payment, and which payer "
    "pays best for a code.",
    dimensions=DIMENSIONS,
    default_by=("payer",),
    run=collections,
    detail=detail,
    chart=chart,
)
