"""Compliance: deadlines the law or a payer sets, and whether the clinic kept them.

Three kinds of deadline, each counted in the period its deadline falls in:

* **Good Faith Estimates** (No Surprises Act). Billing stores each estimate's deadline when it
  drafts it (``Estimate.give_by``, from :func:`ketadesk.billing.estimates.give_deadline`:
  1 business day when the service is 3+ business days away, 3 when 10+; none when closer).
  An estimate with a deadline was given on time (by the deadline), late (after it, by the
  end of the report), or is missing (not given, and its deadline passed before the report's
  last day). A superseded draft that was never given is not counted: the estimate that
  replaced it carries the duty. Patients billed $400 or more above an estimate (current
  estimates, counted in the period of their first service) reuse billing's own comparison
  (:data:`ketadesk.billing.estimates.DISPUTE_THRESHOLD` over what it bills an estimate).
* **REMS monitoring forms** (esketamine): each session's ``rems_form_due_on`` (7 days after
  the session, :func:`ketadesk.scheduling.rems.rems_form_due_on`); filed on time, filed
  late, or overdue (not filed by the report's last day, and due before it).
* **Timely filing**: a claim's ``filing_deadline`` (set when it is built from the payer's
  timely-filing days); a claim still unsent (draft, ready or rejected, as the follow-up
  worklist reads it) whose deadline falls in the period is near (or past) its deadline.

Each kind is one GROUP BY with conditional counts; split by period of the deadline,
location and provider.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, case, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import estimates
from ketadesk.billing.claims.followup import _UNSENT as UNSENT
from ketadesk.billing.claims.models import Claim
from ketadesk.billing.models import Charge, ChargeStatus, Estimate, EstimateStatus, LedgerEntry
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
    Series,
    require_by,
)
from ketadesk.reports.names import Names, read_names
from ketadesk.scheduling.models import TreatmentSession

PERIODS = periods.DIMENSIONS
DIMENSIONS = (*PERIODS, Dimension("location", "Location"), Dimension("provider", "Provider"))

MEASURES = (
    Measure(
        "gfe_on_time",
        "Estimates on time",
        Kind.COUNT,
        "Good Faith Estimates given by their deadline (1 business day after drafting when "
        "the service is 3 or more business days away, 3 when 10 or more).",
    ),
    Measure(
        "gfe_late",
        "Estimates late",
        Kind.COUNT,
        "Good Faith Estimates given after their deadline.",
    ),
    Measure(
        "gfe_missing",
        "Estimates missing",
        Kind.COUNT,
        "Good Faith Estimates not given, whose deadline passed before the report's last day.",
    ),
    Measure(
        "billed_over_gfe",
        "Billed $400+ over estimate",
        Kind.COUNT,
        "Current estimates whose series was billed $400.00 or more above the estimate "
        "(the patient–provider dispute threshold), by the period of the first service.",
    ),
    Measure(
        "rems_on_time",
        "REMS forms on time",
        Kind.COUNT,
        "Esketamine REMS monitoring forms filed by their due day (7 days after the session).",
    ),
    Measure(
        "rems_late",
        "REMS forms late",
        Kind.COUNT,
        "REMS monitoring forms filed after their due day.",
    ),
    Measure(
        "rems_overdue",
        "REMS forms overdue",
        Kind.COUNT,
        "REMS monitoring forms not filed by the report's last day and due before it.",
    ),
    Measure(
        "claims_near_filing",
        "Claims near filing limit",
        Kind.COUNT,
        "Claims still unsent (draft, ready or rejected) whose payer's timely-filing "
        "deadline falls in the period.",
    ),
)
_KEYS = tuple(m.key for m in MEASURES)
DETAIL_LIMIT = 2000


@dataclass(frozen=True)
class _Source:
    """One kind of deadline: its table, the columns the dimensions read, and its deadline."""

    table: Any
    deadline: ColumnElement[date]
    location: ColumnElement[int]
    provider: ColumnElement[int | None]


def _estimate_counts(flt: ReportFilter) -> list[tuple[str, ColumnElement[bool]]]:
    e = Estimate.__table__
    given = e.c.given_on.is_not(None) & (e.c.given_on <= flt.date_to)
    return [
        ("gfe_on_time", given & (e.c.given_on <= e.c.give_by)),
        ("gfe_late", given & (e.c.given_on > e.c.give_by)),
        ("gfe_missing", ~given & (e.c.give_by < flt.date_to)),
    ]


def _estimates(flt: ReportFilter) -> tuple[_Source, list[ColumnElement[bool]]]:
    e = Estimate.__table__
    source = _Source(e, e.c.give_by, e.c.location_id, e.c.provider_id)
    never_given_superseded = (e.c.status == EstimateStatus.SUPERSEDED.value) & e.c.given_on.is_(
        None
    )
    return source, [e.c.give_by.is_not(None), ~never_given_superseded]


def _rems_counts(flt: ReportFilter) -> list[tuple[str, ColumnElement[bool]]]:
    t = TreatmentSession.__table__
    filed = t.c.rems_form_filed_on.is_not(None) & (t.c.rems_form_filed_on <= flt.date_to)
    return [
        ("rems_on_time", filed & (t.c.rems_form_filed_on <= t.c.rems_form_due_on)),
        ("rems_late", filed & (t.c.rems_form_filed_on > t.c.rems_form_due_on)),
        ("rems_overdue", ~filed & (t.c.rems_form_due_on < flt.date_to)),
    ]


def _rems(flt: ReportFilter) -> tuple[_Source, list[ColumnElement[bool]]]:
    t = TreatmentSession.__table__
    return _Source(t, t.c.rems_form_due_on, t.c.location_id, t.c.provider_id), [
        t.c.rems_form_due_on.is_not(None)
    ]


def _claim_counts(flt: ReportFilter) -> list[tuple[str, ColumnElement[bool]]]:
    c = Claim.__table__
    return [("claims_near_filing", c.c.status.in_([s.value for s in UNSENT]))]


def _claims(flt: ReportFilter) -> tuple[_Source, list[ColumnElement[bool]]]:
    c = Claim.__table__
    return _Source(c, c.c.filing_deadline, c.c.location_id, c.c.provider_id), []


_KINDS = (
    (_estimates, _estimate_counts),
    (_rems, _rems_counts),
    (_claims, _claim_counts),
)


def compliance(
    session: Session, actor: Actor, flt: ReportFilter, by: Sequence[str] = ("month",)
) -> ReportTable:
    """Deadlines kept and missed in ``flt``'s period, one row per group of ``by``."""
    actor.require(Permission.REPORT_VIEW)
    dims = require_by(by, DIMENSIONS, "compliance")
    keys = [d.key for d in dims]
    dialect = session.get_bind().dialect.name
    groups: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(_KEYS, 0))
    for make_source, make_counts in _KINDS:
        source, where = make_source(flt)
        counts = make_counts(flt)
        columns = [_dimension(k, source, dialect).label(f"k{i}") for i, k in enumerate(keys)]
        query = select(
            *columns,
            *[func.sum(case((test, 1), else_=0)) for _, test in counts],
        ).where(*where, *_scope(source, flt))
        if columns:
            query = query.group_by(*columns)
        for row in session.execute(query):
            cents = groups[tuple(row[: len(keys)])]
            for i, (key, _) in enumerate(counts):
                cents[key] += int(row[len(keys) + i] or 0)
    for group, count in _over_estimates(session, flt, keys, dialect).items():
        groups[group]["billed_over_gfe"] += count
    names = read_names(session)
    ordered = _all_groups(groups, flt, keys)
    rows = [_row(g, keys, groups.get(g, dict.fromkeys(_KEYS, 0)), names) for g in ordered]
    total = dict.fromkeys(_KEYS, 0)
    for counts_of in groups.values():
        for key, value in counts_of.items():
            total[key] += value
    return ReportTable(
        name="compliance",
        title="Compliance",
        filter=flt,
        dimensions=tuple(dims),
        measures=MEASURES,
        rows=tuple(rows),
        total=Row(labels=("Total",) * max(len(dims), 1), values=tuple(total[k] for k in _KEYS)),
        notes=(
            "Each estimate, form and claim counts in the period of its deadline; given, "
            f"filed and sent are read as of {flt.date_to:%Y-%m-%d} (a claim's status as it is "
            "now).",
        ),
    )


def _scope(source: _Source, flt: ReportFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [source.deadline.between(flt.date_from, flt.date_to)]
    if flt.location_ids:
        clauses.append(source.location.in_(flt.location_ids))
    if flt.provider_ids:
        clauses.append(source.provider.in_(flt.provider_ids))
    return clauses


def _dimension(key: str, source: _Source, dialect: str) -> ColumnElement[Any]:
    if key in periods.Grain.__members__.values():
        return periods.sql_key(source.deadline, periods.Grain(key), dialect)
    return source.location if key == "location" else source.provider


def _overruns(
    session: Session, flt: ReportFilter, clauses: Sequence[ColumnElement[bool]] = ()
) -> list[tuple[Any, ...]]:
    """Current estimates (first service in the period) billed at least the dispute threshold
    above what they estimated, through billing's own sum of what an estimate billed:
    (id, number, patient, first service day, estimated, billed)."""
    e = Estimate.__table__
    rows = session.execute(
        select(e.c.id, e.c.number, e.c.patient_id, e.c.first_service_on, e.c.total).where(
            e.c.status != EstimateStatus.SUPERSEDED.value,
            e.c.id.in_(_could_be_overrun(flt, clauses)),
        )
    ).all()
    billed = estimates._billed(session, [row.id for row in rows])
    found = []
    for row in rows:
        charged = billed.get(row.id, ZERO)
        if charged - row.total >= estimates.DISPUTE_THRESHOLD:
            found.append((*row, charged))
    return found


def _could_be_overrun(flt: ReportFilter, clauses: Sequence[ColumnElement[bool]]) -> Any:
    """SQL: the estimates whose patient was charged at least the threshold above the
    estimate in its dates, reversals aside. Billing's own sum counts only the series'
    sessions, net of reversals, so it is never more: only these few need it (it is slow
    over thousands of estimates)."""
    e = Estimate.__table__
    charge = Charge.__table__
    entry = LedgerEntry.__table__
    threshold = int(estimates.DISPUTE_THRESHOLD * 100)
    charged = func.sum(type_coerce(entry.c.amount, BigInteger))
    return (
        select(e.c.id)
        .select_from(
            e.join(
                charge,
                (charge.c.patient_id == e.c.patient_id)
                & charge.c.service_date.between(e.c.first_service_on, e.c.last_service_on),
            ).join(entry, entry.c.id == charge.c.entry_id)
        )
        .where(
            e.c.status != EstimateStatus.SUPERSEDED.value,
            charge.c.status == ChargeStatus.POSTED.value,
            *_scope(_first_service(), flt),
            *clauses,
        )
        .group_by(e.c.id, e.c.total)
        .having(charged - type_coerce(e.c.total, BigInteger) >= threshold)
    )


def _first_service() -> _Source:
    e = Estimate.__table__
    return _Source(e, e.c.first_service_on, e.c.location_id, e.c.provider_id)


def _over_estimates(
    session: Session, flt: ReportFilter, keys: Sequence[str], dialect: str
) -> dict[tuple[Any, ...], int]:
    """How many estimates were overrun, per group (by the period of the first service)."""
    source = _first_service()
    columns = [_dimension(k, source, dialect) for k in keys]
    overrun = {row[0] for row in _overruns(session, flt)}
    if not overrun:
        return {}
    found: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in session.execute(
        select(source.table.c.id, *columns).where(source.table.c.id.in_(sorted(overrun)))
    ):
        found[tuple(row[1:])] += 1
    return dict(found)


def _all_groups(
    groups: dict[tuple[Any, ...], dict[str, int]], flt: ReportFilter, keys: Sequence[str]
) -> list[tuple[Any, ...]]:
    found = set(groups)
    if len(keys) == 1 and keys[0] in periods.Grain.__members__.values():
        grain = periods.Grain(keys[0])
        found.update((k,) for k in periods.keys_between(flt.date_from, flt.date_to, grain))
    return sorted(found, key=lambda g: tuple((v is None, str(v)) for v in g))


def _row(group: tuple[Any, ...], keys: Sequence[str], counts: dict[str, int], names: Names) -> Row:
    return Row(
        labels=tuple(_label(k, v, names) for k, v in zip(keys, group, strict=True)),
        values=tuple(counts[k] for k in _KEYS),
        keys=group,
    )


def _label(key: str, value: Any, names: Names) -> str:
    common = names.group(key, value)
    return str(value) if common is None else common


def chart(table: ReportTable) -> Chart | None:
    """Missed deadlines per period: estimates late or missing, REMS forms late or overdue,
    claims near their filing limit."""
    keys = [d.key for d in table.dimensions]
    at = next((i for i, k in enumerate(keys) if k in periods.Grain.__members__.values()), None)
    if at is None:
        return None
    categories: list[str] = []
    sums: dict[str, dict[str, int]] = {
        "Estimates late or missing": {},
        "REMS forms late or overdue": {},
        "Claims near filing limit": {},
    }
    parts = {
        "Estimates late or missing": ("gfe_late", "gfe_missing"),
        "REMS forms late or overdue": ("rems_late", "rems_overdue"),
        "Claims near filing limit": ("claims_near_filing",),
    }
    for row in table.rows:
        period = row.labels[at]
        if period not in categories:
            categories.append(period)
        for name, measures in parts.items():
            value = sum(int(row.value(table, m) or 0) for m in measures)
            sums[name][period] = sums[name].get(period, 0) + value
    series = tuple(
        Series(name, tuple(Decimal(by.get(c, 0)) for c in categories)) for name, by in sums.items()
    )
    return Chart("Missed and near deadlines", "bar", tuple(categories), series, kind=Kind.COUNT)


def detail(session: Session, actor: Actor, table: ReportTable, row: Row, measure: str) -> Detail:
    """The estimates, sessions or claims behind one count of one row."""
    actor.require(Permission.REPORT_VIEW)
    flt = table.filter
    dialect = session.get_bind().dialect.name
    for make_source, make_counts in _KINDS:
        tests = dict(make_counts(flt))
        if measure in tests or (measure == "billed_over_gfe" and make_source is _estimates):
            source, where = make_source(flt)
            break
    else:
        raise KeyError(measure)
    if measure == "billed_over_gfe":
        found = _over_detail(session, table, row, dialect)
    else:
        clauses = [*where, *_scope(source, flt), tests[measure]]
        clauses += _row_clauses(table, row, source, dialect)
        found = _detail_rows(session, source, clauses)
    label = next((m.label for m in MEASURES if m.key == measure), measure)
    return Detail(
        title=f"{label}: {' · '.join(row.labels)}",
        rows=tuple(found[:DETAIL_LIMIT]),
        truncated=len(found) > DETAIL_LIMIT,
        amount_label="Amount",
    )


def _row_clauses(
    table: ReportTable, row: Row, source: _Source, dialect: str
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for dimension, key in zip(table.dimensions, row.keys, strict=False):
        column = _dimension(dimension.key, source, dialect)
        clauses.append(column.is_(None) if key is None else column == key)
    return clauses


def _detail_rows(session: Session, source: _Source, clauses: list[Any]) -> list[DetailRow]:
    table = source.table
    patient = Patient.__table__
    is_claim = table is Claim.__table__
    is_session = table is TreatmentSession.__table__
    query = (
        select(
            table.c.id,
            source.deadline.label("deadline"),
            table.c.patient_id,
            patient.c.mrn,
            patient.c.family_name,
            patient.c.given_name,
            table.c.number,
        )
        .join(patient, patient.c.id == table.c.patient_id)
        .where(*clauses)
        .order_by(source.deadline, table.c.id)
        .limit(DETAIL_LIMIT + 1)
    )
    out = []
    for line in session.execute(query):
        if is_claim:
            words, claim_id, session_id = f"Claim {line.number}", line.id, None
        elif is_session:
            words, claim_id, session_id = f"Session {line.number}", None, line.id
        else:
            words, claim_id, session_id = f"Estimate {line.number}", None, None
        out.append(
            DetailRow(
                on=line.deadline,
                patient_id=line.patient_id,
                mrn=line.mrn,
                patient=f"{line.family_name}, {line.given_name}",
                description=f"{words}, due {line.deadline:%Y-%m-%d}",
                claim_id=claim_id,
                session_id=session_id,
            )
        )
    return out


def _over_detail(session: Session, table: ReportTable, row: Row, dialect: str) -> list[DetailRow]:
    source = _first_service()
    clauses = _row_clauses(table, row, source, dialect)
    names = {
        p.id: p
        for p in session.execute(
            select(Patient.id, Patient.mrn, Patient.family_name, Patient.given_name)
        )
    }
    out = []
    for _id, number, patient_id, first, estimated, billed in _overruns(
        session, table.filter, clauses
    ):
        who = names[patient_id]
        out.append(
            DetailRow(
                on=first,
                patient_id=patient_id,
                mrn=who.mrn,
                patient=f"{who.family_name}, {who.given_name}",
                description=f"Estimate {number}: estimated {estimated}, billed {billed}",
                amount=billed - estimated,
            )
        )
    return out


SPEC = ReportSpec(
    name="compliance",
    title="Compliance",
    summary="Good Faith Estimates on time, late or missing and overrun by $400; REMS forms "
    "on time or overdue; unsent claims reaching their timely-filing deadline.",
    dimensions=DIMENSIONS,
    default_by=("month",),
    run=compliance,
    detail=detail,
    chart=chart,
)
