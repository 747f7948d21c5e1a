"""Good Faith Estimates (No Surprises Act) for self-pay and uninsured patients' series.

The flow:

1. When the desk books a series for a patient with no insurance policy in force on the first
   session's day (:func:`is_self_pay`), :func:`draft_for_series` prices every expected item:
   each session still holding its chair, priced as charge capture would price it
   (:func:`ketadesk.billing.capture.charge_drafts` over the fee schedule in force on that
   day), with the protocol's treatment minutes as the infusion's length. An esketamine
   dose is not known ahead, so a session is estimated at the over-56 mg rate (G2083) and
   the drug at the highest dose, with a note that G2082 applies at 56 mg or less. An
   open-ended (maintenance) series counts its sessions in the 12 months from the first.
   Equal items are grouped into one line per code and price.
2. The estimate must be given by a deadline counted in business days (Monday to Friday,
   US federal holidays excepted) from the day it was drafted: within 1 business day when
   the next session is 3 or more business days away, within 3 when it is 10 or more
   (:func:`give_deadline`). Closer than that it is not required (``give_by`` None) but
   can still be printed and given. :func:`record_given` notes when and how.
3. When the series changes — sessions added or cancelled, dates, provider, the protocol's
   services or the fee schedule's prices — :func:`draft_for_series` (or
   :func:`refresh_estimates` over many series) supersedes the current estimate with a new
   draft naming the change in words; it must be given again. Nothing changed, nothing is
   drafted.
4. :func:`variance` compares what was billed for the series' sessions in the estimate's
   dates (posted charges net of reversals) with the estimate, and flags a patient billed
   $400.00 or more above it — the threshold for the patient–provider dispute process.

Numbers are ``GFE-{year}-{n:05d}``, drawn from the ``estimate:{year}`` counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.capture import ChargeDraft, SessionFacts, charge_drafts
from ketadesk.billing.fees import FeeBook
from ketadesk.billing.models import (
    Charge,
    ChargeSource,
    ChargeStatus,
    Estimate,
    EstimateLine,
    EstimateStatus,
    LedgerEntry,
    UnitBasis,
)
from ketadesk.billing.parties import (
    diagnoses_info,
    patient_info,
    practice_info,
    printed_name,
    provider_info,
)
from ketadesk.billing.views import EstimateLineView, EstimateView
from ketadesk.clinic.models import Modality, Patient
from ketadesk.clinic.policies import coverage_on
from ketadesk.db import reserve
from ketadesk.errors import Conflict, InvalidValue, NotFound
from ketadesk.money import ZERO
from ketadesk.scheduling.models import (
    Protocol,
    Series,
    SeriesStatus,
    SessionStatus,
    TreatmentSession,
)

__all__ = [
    "DISPUTE_THRESHOLD",
    "HIGHEST_ESKETAMINE_MG",
    "EstimateRow",
    "Variance",
    "add_business_days",
    "business_days_between",
    "current_estimate",
    "draft_for_series",
    "estimate_view",
    "expected_session_drafts",
    "give_deadline",
    "is_business_day",
    "is_self_pay",
    "line_note",
    "list_estimates",
    "record_given",
    "refresh_estimates",
    "twelve_months_after",
    "variance",
    "variances",
]

DISPUTE_THRESHOLD = Decimal("400.00")  # billed this much above the estimate: flagged
HIGHEST_ESKETAMINE_MG = Decimal(84)  # Spravato's largest dose: the estimate's drug units
RECURRING_MONTHS = 12  # an open-ended series is estimated this far from its first session
_ESKETAMINE_SESSION = frozenset({UnitBasis.ESKETAMINE_UP_TO_56, UnitBasis.ESKETAMINE_OVER_56})


# ---------------------------------------------------------------------------------------
# Business days and the deadline
# ---------------------------------------------------------------------------------------


@cache
def _federal_holidays(year: int) -> frozenset[date]:
    """US federal holidays of ``year``, observed days included (July 3 when the 4th is a
    Saturday)."""
    return frozenset(holidays.country_holidays("US", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def add_business_days(day: date, n: int) -> date:
    """The business day ``n`` business days after ``day`` (before it, for negative ``n``)."""
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        day += timedelta(days=step)
        if is_business_day(day):
            left -= 1
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when ``end`` is not
    later): a session on Thursday booked on Monday is 3 business days away."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_business_day(day)
    return count


def give_deadline(drafted_on: date, first_service_on: date) -> date | None:
    """The day by which an estimate drafted on ``drafted_on`` must be given.

    Within 3 business days when the service is 10 or more business days away, within 1
    when it is 3 or more; closer than that no deadline applies (None).
    """
    away = business_days_between(drafted_on, first_service_on)
    if away >= 10:
        return add_business_days(drafted_on, 3)
    if away >= 3:
        return add_business_days(drafted_on, 1)
    return None


# ---------------------------------------------------------------------------------------
# Who needs one
# ---------------------------------------------------------------------------------------


def is_self_pay(session: Session, patient_id: int, on: date) -> bool:
    """True when the patient has no insurance policy in force on ``on``
    (:func:`~ketadesk.clinic.policies.coverage_on`)."""
    return coverage_on(session, patient_id, on).self_pay


# ---------------------------------------------------------------------------------------
# What a series is expected to cost
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    code: str
    modifiers: str
    description: str
    sessions: int
    units: int
    unit_price: Decimal
    amount: Decimal
    note: str

    @property
    def key(self) -> tuple[object, ...]:
        return (self.code, self.modifiers, self.sessions, self.units, self.unit_price)


@dataclass(frozen=True)
class _Expected:
    """What an estimate of a series says, before it is stored."""

    days: tuple[date, ...]  # the counted sessions' local days, in order
    provider_id: int | None
    location_id: int
    lines: tuple[_Line, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def key(self) -> tuple[object, ...]:
        return (
            len(self.days),
            self.days[0],
            self.days[-1],
            self.provider_id,
            self.location_id,
            tuple(line.key for line in self.lines),
        )


def twelve_months_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _expected(series: Series, book: FeeBook) -> _Expected | None:
    """Price the series' sessions still holding a chair; None when none are left."""
    protocol = series.protocol
    zone = ZoneInfo(series.location.time_zone)
    sessions = sorted(
        (ts for ts in series.sessions if ts.status.holds_chair), key=lambda ts: ts.starts_at
    )
    dated = [(ts, ts.starts_at.astimezone(zone).date()) for ts in sessions]
    if dated and protocol.session_count is None:
        horizon = twelve_months_after(dated[0][1])
        dated = [(ts, day) for ts, day in dated if day < horizon]
    if not dated:
        return None
    groups: dict[tuple[object, ...], list[ChargeDraft]] = {}
    notes: dict[tuple[object, ...], str] = {}
    for ts, day in dated:
        for draft in expected_session_drafts(protocol, ts.modality, day, book):
            key = (draft.code, draft.modifiers, draft.description, draft.unit_price)
            groups.setdefault(key, []).append(draft)
            notes.setdefault(key, line_note(draft, protocol, day, book))
    lines = tuple(
        _Line(
            code=drafts[0].code,
            modifiers=drafts[0].modifiers,
            description=drafts[0].description,
            sessions=len(drafts),
            units=sum(d.units for d in drafts),
            unit_price=drafts[0].unit_price,
            amount=sum((d.amount for d in drafts), ZERO),
            note=notes[key],
        )
        for key, drafts in groups.items()
    )
    return _Expected(
        days=tuple(day for _ts, day in dated),
        provider_id=dated[0][0].provider_id,
        location_id=series.location_id,
        lines=lines,
    )


def expected_session_drafts(
    protocol: Protocol, modality: Modality, day: date, book: FeeBook
) -> list[ChargeDraft]:
    """Capture's lines for one expected session of ``protocol`` on ``day``."""
    esketamine = modality is Modality.ESKETAMINE
    facts = SessionFacts(
        session_id=0,
        modality=modality,
        service_codes=tuple(protocol.service_codes),
        service_date=day,
        status=SessionStatus.COMPLETED,
        infusion_minutes=protocol.treatment_minutes,
        # Unknown ahead: the highest esketamine dose prices the session and the drug at
        # their most, so the estimate is not exceeded by the dose chosen on the day.
        dose_mg=HIGHEST_ESKETAMINE_MG if esketamine else None,
    )
    return charge_drafts(facts, book)


def line_note(draft: ChargeDraft, protocol: Protocol, day: date, book: FeeBook) -> str:
    """Why a line reads as it does, in the patient's terms."""
    fee = book.item(draft.code, day, draft.modifiers)
    basis = fee.basis if fee is not None else None
    if basis in _ESKETAMINE_SESSION:
        lower = next(iter(book.by_basis(UnitBasis.ESKETAMINE_UP_TO_56, day)), None)
        price = f" (${lower.self_pay_price:,} a session)" if lower is not None else ""
        code = lower.code if lower is not None else "G2082"
        return (
            f"The dose is set on the day; estimated at the rate for over 56 mg. {code} applies "
            f"instead at 56 mg or less{price}."
        )
    if basis is UnitBasis.PER_MG and draft.amount > ZERO:
        return f"Per mg given; estimated at {HIGHEST_ESKETAMINE_MG} mg, the highest dose."
    if basis is UnitBasis.INFUSION_FIRST_HOUR:
        return f"For an infusion of about {protocol.treatment_minutes} minutes."
    if draft.review_note and draft.amount == ZERO:
        return "Priced on the day of service; not included in the total."
    if basis is UnitBasis.MANUAL:
        return "Counted on the day of service; estimated as shown."
    return ""


# ---------------------------------------------------------------------------------------
# Drafting and re-drafting
# ---------------------------------------------------------------------------------------


def _require_any(actor: Actor, *permissions: Permission) -> None:
    if not any(actor.can(p) for p in permissions):
        actor.require(permissions[0])  # raises, naming the first


def current_estimate(session: Session, series_id: int) -> Estimate | None:
    """The series' newest estimate not superseded, if any."""
    return session.scalars(
        select(Estimate)
        .where(Estimate.series_id == series_id, Estimate.status != EstimateStatus.SUPERSEDED)
        .order_by(Estimate.id.desc())
        .limit(1)
    ).first()


def draft_for_series(
    session: Session, actor: Actor, series_id: int, *, today: date, reason: str = ""
) -> Estimate | None:
    """Draft the series' estimate, or re-draft it when the series changed; return the
    current estimate (None when the patient is insured or nothing is left to estimate).

    A re-draft supersedes the current estimate (given or not) with a new draft whose
    ``redraft_reason`` is ``reason`` or, without one, the change in words. A series with no
    session left, or one discontinued, supersedes a draft not yet given without a new one.
    """
    _require_any(actor, Permission.CHARGE_REVIEW, Permission.SCHEDULE_BOOK)
    series = session.get(Series, series_id)
    if series is None:
        raise NotFound(f"there is no series {series_id}")
    return _draft(session, actor, series, FeeBook.load(session), today, reason)


def _draft(
    session: Session, actor: Actor, series: Series, book: FeeBook, today: date, reason: str
) -> Estimate | None:
    current = current_estimate(session, series.id)
    expected = None if series.status is SeriesStatus.DISCONTINUED else _expected(series, book)
    if expected is None:
        if current is not None and current.status is EstimateStatus.DRAFT:
            _supersede(session, actor, current)
        return None
    if not is_self_pay(session, series.patient_id, expected.days[0]):
        return None
    if current is not None and _stored_key(current) == expected.key:
        return current
    words = reason.strip() or (_change(current, expected) if current is not None else "")
    if current is not None:
        _supersede(session, actor, current)
    return _store(session, actor, series, expected, today, current, words)


def _stored_key(estimate: Estimate) -> tuple[object, ...]:
    return (
        estimate.session_count,
        estimate.first_service_on,
        estimate.last_service_on,
        estimate.provider_id,
        estimate.location_id,
        tuple(
            (line.code, line.modifiers, line.sessions, line.units, line.unit_price)
            for line in estimate.lines
        ),
    )


def _change(old: Estimate, new: _Expected) -> str:
    """What changed between ``old`` and ``new``, as a sentence for the re-draft."""
    parts: list[str] = []
    count = len(new.days)
    if count > old.session_count:
        added = count - old.session_count
        parts.append(f"{_sessions(added)} added ({old.session_count} → {count})")
    elif count < old.session_count:
        removed = old.session_count - count
        parts.append(f"{_sessions(removed)} removed ({old.session_count} → {count})")
    elif (old.first_service_on, old.last_service_on) != (new.days[0], new.days[-1]):
        parts.append(f"dates changed (now {new.days[0].isoformat()} to {new.days[-1].isoformat()})")
    if old.provider_id != new.provider_id:
        parts.append("provider changed")
    old_prices = {(line.code, line.modifiers): line.unit_price for line in old.lines}
    new_prices = {(line.code, line.modifiers): line.unit_price for line in new.lines}
    added_codes = sorted(c for c, _m in new_prices.keys() - old_prices.keys())
    removed_codes = sorted(c for c, _m in old_prices.keys() - new_prices.keys())
    if added_codes:
        parts.append("services added: " + ", ".join(added_codes))
    if removed_codes:
        parts.append("services removed: " + ", ".join(removed_codes))
    for key in sorted(old_prices.keys() & new_prices.keys()):
        if old_prices[key] != new_prices[key]:
            parts.append(f"{key[0]} price {old_prices[key]} → {new_prices[key]}")
    if not parts:
        parts.append("units changed")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def _sessions(n: int) -> str:
    return f"{n} session" + ("" if n == 1 else "s")


def _supersede(session: Session, actor: Actor, estimate: Estimate) -> None:
    before = audit.snapshot(estimate)
    estimate.status = EstimateStatus.SUPERSEDED
    session.flush()
    audit.record_update(session, actor, "estimate", estimate.id, before, audit.snapshot(estimate))


def _store(
    session: Session,
    actor: Actor,
    series: Series,
    expected: _Expected,
    today: date,
    previous: Estimate | None,
    reason: str,
) -> Estimate:
    number = reserve(session, f"estimate:{today.year}")
    upcoming = [day for day in expected.days if day >= today]
    estimate = Estimate(
        number=f"GFE-{today.year}-{number:05d}",
        patient_id=series.patient_id,
        series_id=series.id,
        location_id=expected.location_id,
        provider_id=expected.provider_id,
        status=EstimateStatus.DRAFT,
        first_service_on=expected.days[0],
        last_service_on=expected.days[-1],
        session_count=len(expected.days),
        total=expected.total,
        drafted_on=today,
        give_by=give_deadline(today, upcoming[0]) if upcoming else None,
        redraft_reason=reason[:200],
        supersedes_id=previous.id if previous is not None else None,
        created_by=actor.username,
        lines=[
            EstimateLine(
                position=position,
                code=line.code,
                modifiers=line.modifiers,
                description=line.description,
                sessions=line.sessions,
                units=line.units,
                unit_price=line.unit_price,
                amount=line.amount,
                note=line.note,
            )
            for position, line in enumerate(expected.lines, start=1)
        ],
    )
    session.add(estimate)
    session.flush()
    audit.record(session, actor, "create", "estimate", estimate.id, after=audit.snapshot(estimate))
    return estimate


def refresh_estimates(
    session: Session,
    actor: Actor,
    *,
    today: date,
    patient_id: int | None = None,
    series_id: int | None = None,
    location_id: int | None = None,
) -> list[Estimate]:
    """Draft or re-draft the estimates of every series that needs it; return the new drafts.

    Looks at planned and active series, and at any series whose estimate is still a draft
    (so a discontinued series' draft is withdrawn), narrowed by the filters.
    """
    _require_any(actor, Permission.CHARGE_REVIEW, Permission.SCHEDULE_BOOK)
    drafted = select(Estimate.series_id).where(Estimate.status == EstimateStatus.DRAFT)
    query = (
        select(Series)
        .where(
            or_(
                Series.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE]),
                Series.id.in_(drafted),
            )
        )
        .options(selectinload(Series.sessions), selectinload(Series.protocol))
        .order_by(Series.id)
    )
    if patient_id is not None:
        query = query.where(Series.patient_id == patient_id)
    if series_id is not None:
        query = query.where(Series.id == series_id)
    if location_id is not None:
        query = query.where(Series.location_id == location_id)
    book = FeeBook.load(session)
    made: list[Estimate] = []
    for series in session.scalars(query).all():
        before = current_estimate(session, series.id)
        after = _draft(session, actor, series, book, today, "")
        if after is not None and after is not before:
            made.append(after)
    return made


def record_given(
    session: Session, actor: Actor, estimate_id: int, *, on: date, how: str
) -> Estimate:
    """Note that the estimate was given to the patient on ``on`` and how (in person,
    email, mail, portal)."""
    _require_any(actor, Permission.CHARGE_REVIEW, Permission.PAYMENT_TAKE)
    estimate = _load(session, estimate_id)
    how = " ".join(how.split())
    if not how:
        raise InvalidValue("say how the estimate was given: in person, email, mail or portal")
    if len(how) > 40:
        raise InvalidValue(f"is {len(how)} characters long; at most 40 fit")
    if estimate.status is EstimateStatus.SUPERSEDED:
        newer = session.scalars(
            select(Estimate.number).where(Estimate.supersedes_id == estimate.id)
        ).first()
        instead = f"; give {newer} instead" if newer else ""
        raise Conflict(f"{estimate.number} was replaced after the series changed{instead}")
    if estimate.status is EstimateStatus.GIVEN:
        raise Conflict(
            f"{estimate.number} was already given on {estimate.given_on} ({estimate.given_how})"
        )
    if on < estimate.drafted_on:
        raise InvalidValue(
            f"{on.isoformat()} is before {estimate.number} was drafted "
            f"({estimate.drafted_on.isoformat()})"
        )
    before = audit.snapshot(estimate)
    estimate.status = EstimateStatus.GIVEN
    estimate.given_on = on
    estimate.given_by = actor.username
    estimate.given_how = how
    session.flush()
    audit.record_update(session, actor, "estimate", estimate.id, before, audit.snapshot(estimate))
    return estimate


def _load(session: Session, estimate_id: int) -> Estimate:
    estimate = session.get(Estimate, estimate_id)
    if estimate is None:
        raise NotFound(f"there is no estimate {estimate_id}")
    return estimate


# ---------------------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateRow:
    id: int
    number: str
    patient_id: int
    mrn: str
    patient_name: str
    series_id: int | None
    series_name: str
    status: EstimateStatus
    total: Decimal
    drafted_on: date
    give_by: date | None
    given_on: date | None
    overdue: bool  # a draft past its deadline


def list_estimates(
    session: Session,
    actor: Actor,
    *,
    today: date,
    patient_id: int | None = None,
    location_id: int | None = None,
    status: EstimateStatus | None = None,
) -> list[EstimateRow]:
    """Estimates newest first, with whether a draft is past its deadline on ``today``
    (every one the filters leave). Needs ``BILLING_VIEW``."""
    actor.require(Permission.BILLING_VIEW)
    query = (
        select(Estimate, Patient, Protocol.name)
        .join(Patient, Patient.id == Estimate.patient_id)
        .outerjoin(Series, Series.id == Estimate.series_id)
        .outerjoin(Protocol, Protocol.id == Series.protocol_id)
        .order_by(Estimate.id.desc())
    )
    if patient_id is not None:
        query = query.where(Estimate.patient_id == patient_id)
    if location_id is not None:
        query = query.where(Estimate.location_id == location_id)
    if status is not None:
        query = query.where(Estimate.status == status)
    return [
        EstimateRow(
            id=e.id,
            number=e.number,
            patient_id=e.patient_id,
            mrn=p.mrn,
            patient_name=printed_name(p.given_name, p.middle_name, p.family_name),
            series_id=e.series_id,
            series_name=name or "",
            status=e.status,
            total=e.total,
            drafted_on=e.drafted_on,
            give_by=e.give_by,
            given_on=e.given_on,
            overdue=(
                e.status is EstimateStatus.DRAFT and e.give_by is not None and e.give_by < today
            ),
        )
        for e, p, name in session.execute(query)
    ]


# ---------------------------------------------------------------------------------------
# Billed against estimated
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variance:
    estimate_id: int
    number: str
    patient_id: int
    mrn: str
    patient_name: str
    estimated: Decimal
    billed: Decimal
    difference: Decimal  # billed less estimated
    flagged: bool  # billed at least DISPUTE_THRESHOLD above the estimate


def _billed(session: Session, estimate_ids: Sequence[int]) -> dict[int, Decimal]:
    """Billed per estimate: posted service charges of its series' sessions in its dates,
    net of reversals. Clinic fees (late cancellation, no-show) are not services an
    estimate covers, so they are left out."""
    if not estimate_ids:
        return {}
    undo = aliased(LedgerEntry)
    base = (
        select(
            Estimate.id,
            ledger.cents_sum(LedgerEntry.amount),
            ledger.cents_sum(undo.amount),
        )
        .join(TreatmentSession, TreatmentSession.series_id == Estimate.series_id)
        .join(
            Charge,
            and_(
                Charge.session_id == TreatmentSession.id,
                Charge.status == ChargeStatus.POSTED,
                Charge.source.in_([ChargeSource.SESSION, ChargeSource.MANUAL]),
                Charge.service_date >= Estimate.first_service_on,
                Charge.service_date <= Estimate.last_service_on,
            ),
        )
        .join(LedgerEntry, LedgerEntry.id == Charge.entry_id)
        .outerjoin(undo, undo.reverses_id == LedgerEntry.id)
        .where(Estimate.id.in_(list(estimate_ids)))
        .group_by(Estimate.id)
    )
    return {
        estimate_id: ledger.decimal_of(charged) + ledger.decimal_of(reversed_)
        for estimate_id, charged, reversed_ in session.execute(base)
    }


def _variance(estimate: Estimate, patient: Patient, billed: Decimal) -> Variance:
    difference = billed - estimate.total
    return Variance(
        estimate_id=estimate.id,
        number=estimate.number,
        patient_id=estimate.patient_id,
        mrn=patient.mrn,
        patient_name=printed_name(patient.given_name, patient.middle_name, patient.family_name),
        estimated=estimate.total,
        billed=billed,
        difference=difference,
        flagged=difference >= DISPUTE_THRESHOLD,
    )


def variance(session: Session, actor: Actor, estimate_id: int) -> Variance:
    """What was billed for the estimate's series against what it estimated."""
    actor.require(Permission.BILLING_VIEW)
    estimate = _load(session, estimate_id)
    billed = _billed(session, [estimate.id]).get(estimate.id, ZERO)
    return _variance(estimate, estimate.patient, billed)


def variances(
    session: Session,
    actor: Actor,
    *,
    location_id: int | None = None,
    flagged_only: bool = False,
) -> list[Variance]:
    """Billed against estimated for every current estimate (draft or given), the largest
    overrun first. Needs ``BILLING_VIEW``."""
    actor.require(Permission.BILLING_VIEW)
    query = (
        select(Estimate, Patient)
        .join(Patient, Patient.id == Estimate.patient_id)
        .where(Estimate.status != EstimateStatus.SUPERSEDED)
    )
    if location_id is not None:
        query = query.where(Estimate.location_id == location_id)
    rows = session.execute(query).all()
    billed = _billed(session, [e.id for e, _p in rows])
    found = [_variance(e, p, billed.get(e.id, ZERO)) for e, p in rows]
    if flagged_only:
        found = [row for row in found if row.flagged]
    return sorted(found, key=lambda row: (-row.difference, row.estimate_id))


# ---------------------------------------------------------------------------------------
# For the document
# ---------------------------------------------------------------------------------------


def estimate_view(session: Session, actor: Actor, estimate_id: int) -> EstimateView:
    """Everything the printed Good Faith Estimate shows: a read of the patient's account
    (``BILLING_VIEW``, and a "view" audit row in the caller's transaction)."""
    actor.require(Permission.BILLING_VIEW)
    estimate = _load(session, estimate_id)
    audit.record(
        session, actor, "view", "estimate", estimate.id, after={"mrn": estimate.patient.mrn}
    )
    supersedes = ""
    if estimate.supersedes_id is not None:
        older = session.get(Estimate, estimate.supersedes_id)
        supersedes = older.number if older is not None else ""
    series = estimate.series
    return EstimateView(
        number=estimate.number,
        status=estimate.status,
        practice=practice_info(estimate.location),
        patient=patient_info(estimate.patient, estimate.first_service_on),
        provider=provider_info(estimate.provider) if estimate.provider is not None else None,
        series_name=series.protocol.name if series is not None else "",
        first_service_on=estimate.first_service_on,
        last_service_on=estimate.last_service_on,
        session_count=estimate.session_count,
        diagnoses=diagnoses_info(estimate.patient),
        lines=tuple(
            EstimateLineView(
                code=line.code,
                modifiers=line.modifiers,
                description=line.description,
                sessions=line.sessions,
                units=line.units,
                unit_price=line.unit_price,
                amount=line.amount,
                note=line.note,
            )
            for line in estimate.lines
        ),
        total=estimate.total,
        drafted_on=estimate.drafted_on,
        give_by=estimate.give_by,
        given_on=estimate.given_on,
        supersedes=supersedes,
    )
