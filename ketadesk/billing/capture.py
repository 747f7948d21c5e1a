"""Charge capture: turning what happened on the floor into charges for billing to review.

The flow, for one session or a whole backlog:

1. :func:`session_facts` reads what billing needs from a treatment session into a
   :class:`SessionFacts` (the protocol's services, the local service date, the infusion's
   length from its recorded start and stop, the dose).
2. :func:`charge_drafts` — pure, so the demo generator and estimates can reuse it — prices
   those facts from a :class:`~ketadesk.billing.fees.FeeBook`:

   * a "visit" item bills its units once;
   * 96365 bills the first infusion hour when the infusion ran more than 15 minutes, and
     96366 one unit for each further full hour or part of more than 30 minutes
     (:func:`infusion_hours`);
   * an esketamine session bills G2082 for a dose of 56 mg or less and G2083 above, whatever
     the protocol lists; the drug per mg is S0013 before 2026-01-01 and J0013 from then on;
   * a line the rules cannot settle (no infusion times, an infusion of 15 minutes or less,
     no dose, a code missing from the fee schedule) is kept at $0.00 with a
     ``review_note`` saying what to decide, so it cannot be posted until someone looks.

   Those are the self-pay rules. A patient covered by insurance on the day is coded the
   way the policy's payer asks instead (:mod:`ketadesk.billing.claims.coding`, which builds
   on the line builders here: :func:`listed_lines`, :func:`priced_line`,
   :func:`unpriced_line`, :func:`esketamine_drug_line`).

3. :func:`capture_session` stores the drafts as ``pending`` :class:`Charge` rows in the
   review queue (with the provider and the patient's first diagnoses as pointers); a
   late-cancelled or no-show session instead gets the location's fee when its
   :class:`~ketadesk.billing.models.BillingPolicy` sets one. :func:`capture_pending` does
   this for every session not yet captured, found with one anti-join query.

Capture is idempotent: a session with captured charges (pending, posted or dismissed) is
never captured again. Charges billing adds by hand do not count, so adding one before
capture does not hide the session's own charges. Nothing here posts to the ledger; that is
the review queue's job (:mod:`ketadesk.billing.review`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.fees import Fee, FeeBook
from ketadesk.billing.models import BillingPolicy, Charge, ChargeSource, ChargeStatus, UnitBasis
from ketadesk.clinic.models import Modality, Patient
from ketadesk.errors import Conflict, NotFound
from ketadesk.money import ZERO, round_cents
from ketadesk.scheduling.models import Route, Series, SessionStatus, TreatmentSession

__all__ = [
    "CAPTURED_STATUSES",
    "ESKETAMINE_DOSE_LIMIT_MG",
    "J0013_FROM",
    "MAX_POINTERS",
    "VISIT_CODES",
    "CaptureResult",
    "ChargeDraft",
    "SessionFacts",
    "capture_pending",
    "capture_session",
    "charge_drafts",
    "default_pointers",
    "esketamine_drug_line",
    "established_patients",
    "infusion_hours",
    "listed_lines",
    "minutes_between",
    "per_mg_line",
    "priced_line",
    "session_facts",
    "unpriced_line",
]

MIN_INFUSION_MINUTES = 16  # 96365 needs an infusion of more than 15 minutes
ADDITIONAL_HOUR_PART = 30  # a further part hour counts when it is more than 30 minutes
ESKETAMINE_DOSE_LIMIT_MG = Decimal(56)  # G2082 up to and including; G2083 above
J0013_FROM = date(2026, 1, 1)  # esketamine per mg: S0013 before, J0013 from this day
ESKETAMINE_DRUG_CODES = frozenset({"S0013", "J0013"})
ESKETAMINE_SESSION_BASES = frozenset({UnitBasis.ESKETAMINE_UP_TO_56, UnitBasis.ESKETAMINE_OVER_56})
# Office visits (E/M) a protocol may list: new patients 99202-99205, established 99211-99215.
VISIT_CODES = frozenset({"99202", "99203", "99204", "99205"} | {f"9921{n}" for n in range(1, 6)})
MAX_POINTERS = 4  # diagnosis pointers on one service line
CAPTURED_STATUSES = frozenset(
    {SessionStatus.COMPLETED, SessionStatus.LATE_CANCELLED, SessionStatus.NO_SHOW}
)
_FEE_SOURCES = {
    SessionStatus.LATE_CANCELLED: ChargeSource.LATE_CANCEL_FEE,
    SessionStatus.NO_SHOW: ChargeSource.NO_SHOW_FEE,
}
_CHUNK = 500  # sessions loaded and captured per round trip in capture_pending


# ---------------------------------------------------------------------------------------
# The pure rules
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFacts:
    """What billing needs to know about one treatment session."""

    session_id: int
    modality: Modality
    service_codes: tuple[str, ...]  # the protocol's services, in order
    service_date: date  # the local day of the session
    status: SessionStatus
    infusion_minutes: int | None  # None: start or stop not recorded
    dose_mg: Decimal | None
    # What payer coding reads besides (billing.claims.coding); the self-pay rules ignore it.
    monitoring_minutes: int | None = None  # monitoring start to discharge; None: not recorded
    route: Route | None = None
    ndc: str = ""  # the product recorded at the dose, 11 digits; blank: the fee schedule's
    established: bool = True  # the patient had a completed session before this one

    @property
    def listed_visit(self) -> str | None:
        """The office visit (E/M) code the protocol lists, if any: ``"99213"``."""
        return next((code for code in self.service_codes if code in VISIT_CODES), None)


@dataclass(frozen=True)
class ChargeDraft:
    """One priced line the rules produced; ``review_note`` says what a person must decide.

    ``ndc`` and ``line_note`` are for a claim's drug line (the product, and the drug, dose and
    unit a payer prices an unlisted code by); the self-pay rules leave them blank.
    """

    code: str
    modifiers: str
    description: str
    units: int
    unit_price: Decimal
    amount: Decimal
    billed_charge: Decimal
    review_note: str = ""
    ndc: str = ""
    line_note: str = ""


def infusion_hours(minutes: int) -> tuple[int, int]:
    """``(first-hour units, additional-hour units)`` for an infusion of ``minutes``.

    The first hour (96365) needs more than 15 minutes; each further full hour, and a final
    part of more than 30 minutes, is one additional unit (96366): 90 → (1, 0), 91 → (1, 1),
    150 → (1, 1), 151 → (1, 2).
    """
    if minutes < 0:
        raise ValueError(f"an infusion cannot last {minutes} minutes")
    if minutes < MIN_INFUSION_MINUTES:
        return 0, 0
    beyond = max(minutes - 60, 0)
    full, part = divmod(beyond, 60)
    return 1, full + (1 if part > ADDITIONAL_HOUR_PART else 0)


def charge_drafts(facts: SessionFacts, book: FeeBook) -> list[ChargeDraft]:
    """The lines a completed session bills: each of its protocol's services, priced.

    Pure: the result depends only on ``facts`` and ``book``. Services are billed in the
    protocol's order, each code once (an esketamine session code listed twice, or both
    S0013 and J0013, still bills once).
    """
    drafts: list[ChargeDraft] = []
    seen: set[str] = set()
    for code in facts.service_codes:
        for draft in listed_lines(code, facts, book):
            if draft.code not in seen:
                seen.add(draft.code)
                drafts.append(draft)
    return drafts


def listed_lines(code: str, facts: SessionFacts, book: FeeBook) -> Iterator[ChargeDraft]:
    """The line(s) one listed ``code`` bills, counted by its fee's unit basis."""
    day = facts.service_date
    if code in ESKETAMINE_DRUG_CODES:
        yield esketamine_drug_line(facts, book)
        return
    fee = book.item(code, day)
    if fee is None:
        yield unpriced_line(code, code, f"{code} is not on the fee schedule in force on {day}")
        return
    if fee.basis in ESKETAMINE_SESSION_BASES:
        yield _esketamine_session(fee, facts, book)
    elif fee.basis is UnitBasis.INFUSION_FIRST_HOUR:
        yield _first_hour(fee, facts)
    elif fee.basis is UnitBasis.INFUSION_ADDITIONAL_HOUR:
        yield from _additional_hours(fee, facts)
    elif fee.basis is UnitBasis.PER_MG:
        yield per_mg_line(fee, facts)
    elif fee.basis is UnitBasis.MANUAL:
        yield replace(
            priced_line(fee, fee.units),
            review_note=f"{fee.code} is counted by hand: check its units against the record",
        )
    else:
        yield priced_line(fee, fee.units)


def priced_line(fee: Fee, units: int) -> ChargeDraft:
    """``units`` of ``fee`` at its self-pay price and billed charge."""
    return ChargeDraft(
        code=fee.code,
        modifiers=fee.modifiers,
        description=fee.description,
        units=units,
        unit_price=fee.self_pay_price,
        amount=round_cents(fee.self_pay_price * units),
        billed_charge=round_cents(fee.billed_charge * units),
    )


def unpriced_line(code: str, description: str, note: str, modifiers: str = "") -> ChargeDraft:
    """A line kept at $0.00 for a person to settle; posting refuses it until then."""
    return ChargeDraft(
        code=code,
        modifiers=modifiers,
        description=description,
        units=1,
        unit_price=ZERO,
        amount=ZERO,
        billed_charge=ZERO,
        review_note=note,
    )


def _first_hour(fee: Fee, facts: SessionFacts) -> ChargeDraft:
    minutes = facts.infusion_minutes
    if minutes is None:
        return unpriced_line(
            fee.code,
            fee.description,
            "the infusion's start or stop time is not recorded; check the record, then enter "
            "the units (and add 96366 for each further hour) or dismiss",
            fee.modifiers,
        )
    first, _more = infusion_hours(minutes)
    if not first:
        return unpriced_line(
            fee.code,
            fee.description,
            f"the infusion ran {minutes} minutes; the first hour needs more than 15, so it "
            "cannot be billed as recorded: correct the record or dismiss",
            fee.modifiers,
        )
    return priced_line(fee, 1)


def _additional_hours(fee: Fee, facts: SessionFacts) -> Iterator[ChargeDraft]:
    # Without times the first-hour line already asks for a look; nothing to add here.
    if facts.infusion_minutes is None:
        return
    _first, more = infusion_hours(facts.infusion_minutes)
    if more:
        yield priced_line(fee, more)


def _esketamine_session(listed: Fee, facts: SessionFacts, book: FeeBook) -> ChargeDraft:
    """G2082 for a dose of 56 mg or less, else G2083 (whichever the protocol lists)."""
    dose, day = facts.dose_mg, facts.service_date
    if dose is None:
        return unpriced_line(
            listed.code,
            listed.description,
            "no esketamine dose is recorded: choose G2082 (56 mg or less) or G2083 "
            "(over 56 mg) and its price, or dismiss",
        )
    basis = (
        UnitBasis.ESKETAMINE_UP_TO_56
        if dose <= ESKETAMINE_DOSE_LIMIT_MG
        else UnitBasis.ESKETAMINE_OVER_56
    )
    choices = book.by_basis(basis, day)
    fee = next((f for f in choices if not f.modifiers), None) or next(iter(choices), None)
    if fee is None:
        return unpriced_line(
            listed.code,
            listed.description,
            f"the dose was {dose} mg but no fee for '{basis.label}' is in force on {day}",
        )
    return priced_line(fee, fee.units)


def esketamine_drug_line(facts: SessionFacts, book: FeeBook) -> ChargeDraft:
    """The drug per mg: S0013 before 2026-01-01, J0013 from then on."""
    day = facts.service_date
    code = "J0013" if day >= J0013_FROM else "S0013"
    fee = book.item(code, day)
    if fee is None:
        return unpriced_line(code, code, f"{code} is not on the fee schedule in force on {day}")
    return per_mg_line(fee, facts)


def per_mg_line(fee: Fee, facts: SessionFacts) -> ChargeDraft:
    """One unit of ``fee`` per whole mg given (a part mg bills as a whole one, noted)."""
    dose = facts.dose_mg
    if dose is None or dose <= 0:
        return unpriced_line(
            fee.code,
            fee.description,
            f"no dose is recorded, so the mg of {fee.code} are unknown: enter the units or dismiss",
            fee.modifiers,
        )
    mg = math.ceil(dose)  # a part of a unit is billed as a whole one
    draft = priced_line(fee, mg)
    if mg != dose:
        return replace(draft, review_note=f"the dose was {dose} mg; billed as {mg} whole mg")
    return draft


# ---------------------------------------------------------------------------------------
# From the database
# ---------------------------------------------------------------------------------------


def session_facts(ts: TreatmentSession, *, established: bool = True) -> SessionFacts:
    """The facts of a loaded session (its series, protocol and location are read).

    ``established`` says whether the patient had a completed session before this one
    (:func:`established_patients` finds it for many sessions at once).
    """
    return SessionFacts(
        session_id=ts.id,
        modality=ts.modality,
        service_codes=tuple(ts.series.protocol.service_codes),
        service_date=_local_day(ts.starts_at, ts.location.time_zone),
        status=ts.status,
        infusion_minutes=minutes_between(ts.infusion_started_at, ts.infusion_stopped_at),
        dose_mg=ts.dose_mg,
        monitoring_minutes=minutes_between(ts.monitoring_from, ts.discharged_at),
        route=ts.route,
        ndc=ts.ndc,
        established=established,
    )


def minutes_between(start: datetime | None, stop: datetime | None) -> int | None:
    """Whole minutes from ``start`` to ``stop``; None when either is missing or they run
    backwards."""
    if start is None or stop is None:
        return None
    seconds = (stop - start).total_seconds()
    return int(seconds // 60) if seconds >= 0 else None


def established_patients(session: Session, rows: Sequence[TreatmentSession]) -> set[int]:
    """Ids of the sessions in ``rows`` whose patient completed a session before them.

    One query: each patient's first completed session; a session after it is an
    established patient's.
    """
    patient_ids = {row.patient_id for row in rows}
    if not patient_ids:
        return set()
    first_completed = (
        select(TreatmentSession.patient_id, func.min(TreatmentSession.starts_at))
        .where(
            TreatmentSession.patient_id.in_(patient_ids),
            TreatmentSession.status == SessionStatus.COMPLETED,
        )
        .group_by(TreatmentSession.patient_id)
    )
    first: dict[int, datetime] = dict(session.execute(first_completed).all())
    return {
        row.id for row in rows if row.patient_id in first and first[row.patient_id] < row.starts_at
    }


def _local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def default_pointers(patient: Patient) -> str:
    """Pointers to the patient's first (up to four) diagnoses: ``"1,2"``."""
    count = min(len(patient.diagnoses), MAX_POINTERS)
    return ",".join(str(n) for n in range(1, count + 1))


def capture_session(session: Session, actor: Actor, ts: TreatmentSession | int) -> list[Charge]:
    """Capture one session's charges into the review queue; return the new pending rows.

    A completed session bills its services; a late cancellation or no-show its location's
    fee when the policy sets one; a plain cancellation nothing. A session already captured
    gets nothing more. A session still ahead of or on the floor is refused with
    :class:`Conflict`.
    """
    actor.require(Permission.CHARGE_REVIEW)
    row = ts if isinstance(ts, TreatmentSession) else _load_session(session, ts)
    if row.status.is_open:
        raise Conflict(
            f"{row.reference} is {row.status.label.lower()}; its charges are captured once it "
            "is completed, late-cancelled or a no-show"
        )
    if row.status not in CAPTURED_STATUSES or _already_captured(session, row.id):
        return []
    book = FeeBook.load(session) if row.status is SessionStatus.COMPLETED else FeeBook(())
    policy = session.get(BillingPolicy, row.location_id)  # none yet: the location charges no fees
    charges = _charges_for(row, _coded_drafts(session, [row], book), policy, actor)
    return _store(session, actor, charges)


@dataclass(frozen=True)
class CaptureResult:
    sessions: int  # sessions that got at least one charge
    charges: int


def capture_pending(
    session: Session,
    actor: Actor,
    *,
    location_id: int | None = None,
    through: date | None = None,
) -> CaptureResult:
    """Capture every completed, late-cancelled or no-show session not captured yet.

    ``through`` limits it to sessions on or before that (local) day; ``location_id`` to one
    location. Late cancellations and no-shows are only looked at where the location's policy
    charges a fee, so sessions that can never bill are not re-read on every run.
    """
    actor.require(Permission.CHARGE_REVIEW)
    ids = _uncaptured_ids(session, location_id, through)
    if not ids:
        return CaptureResult(0, 0)
    book = FeeBook.load(session)
    policies = {p.location_id: p for p in session.scalars(select(BillingPolicy))}
    sessions_done = charges_done = 0
    for start in range(0, len(ids), _CHUNK):
        batch: list[Charge] = []
        rows = [
            row
            for row in _load_sessions(session, ids[start : start + _CHUNK])
            if through is None or _local_day(row.starts_at, row.location.time_zone) <= through
        ]
        drafts = _coded_drafts(session, rows, book)
        for row in rows:
            charges = _charges_for(row, drafts, policies.get(row.location_id), actor)
            sessions_done += bool(charges)
            batch.extend(charges)
        charges_done += len(_store(session, actor, batch))
    return CaptureResult(sessions_done, charges_done)


def _uncaptured_ids(session: Session, location_id: int | None, through: date | None) -> list[int]:
    """Ids of sessions to capture: the anti-join of billable sessions against charge rows."""
    charged = select(Charge.id).where(
        Charge.session_id == TreatmentSession.id, Charge.source != ChargeSource.MANUAL
    )
    late_fee = select(BillingPolicy.location_id).where(BillingPolicy.late_cancel_fee > ZERO)
    no_show_fee = select(BillingPolicy.location_id).where(BillingPolicy.no_show_fee > ZERO)
    query = (
        select(TreatmentSession.id)
        .where(
            or_(
                TreatmentSession.status == SessionStatus.COMPLETED,
                and_(
                    TreatmentSession.status == SessionStatus.LATE_CANCELLED,
                    TreatmentSession.location_id.in_(late_fee),
                ),
                and_(
                    TreatmentSession.status == SessionStatus.NO_SHOW,
                    TreatmentSession.location_id.in_(no_show_fee),
                ),
            ),
            ~charged.exists(),
        )
        .order_by(TreatmentSession.starts_at, TreatmentSession.id)
    )
    if location_id is not None:
        query = query.where(TreatmentSession.location_id == location_id)
    if through is not None:
        # A coarse bound in UTC (no zone is more than a day away); the exact local day is
        # checked per session after loading.
        query = query.where(
            TreatmentSession.starts_at < datetime.combine(through, time(), UTC) + timedelta(days=2)
        )
    return list(session.scalars(query))


def _already_captured(session: Session, session_id: int) -> bool:
    found = session.scalar(
        select(Charge.id)
        .where(Charge.session_id == session_id, Charge.source != ChargeSource.MANUAL)
        .limit(1)
    )
    return found is not None


def _load_session(session: Session, session_id: int) -> TreatmentSession:
    row = session.get(TreatmentSession, session_id)
    if row is None:
        raise NotFound(f"There is no session S-{session_id}.")
    return row


def _load_sessions(session: Session, ids: Sequence[int]) -> list[TreatmentSession]:
    return list(
        session.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.id.in_(ids))
            .options(
                selectinload(TreatmentSession.series).selectinload(Series.protocol),
                selectinload(TreatmentSession.patient).selectinload(Patient.diagnoses),
                selectinload(TreatmentSession.location),
            )
            .order_by(TreatmentSession.starts_at, TreatmentSession.id)
        )
    )


def _coded_drafts(
    session: Session, rows: Sequence[TreatmentSession], book: FeeBook
) -> dict[int, list[ChargeDraft]]:
    """Session id -> the lines each completed session of ``rows`` bills.

    A patient covered on the day gets the coding of the policy's payer; everyone else the
    self-pay drafts. The payer rules (:mod:`ketadesk.billing.claims.coding`) build on this
    module's pure rules, so they are imported here, when first needed, not at the top.
    """
    from ketadesk.billing.claims.coding import coded_drafts, payer_codings

    completed = [row for row in rows if row.status is SessionStatus.COMPLETED]
    if not completed:
        return {}
    established = established_patients(session, completed)
    facts = [session_facts(row, established=row.id in established) for row in completed]
    visits = [(row.patient_id, f.service_date) for row, f in zip(completed, facts, strict=True)]
    codings = payer_codings(session, visits)
    return {
        f.session_id: coded_drafts(f, book, codings.get(visit))
        for f, visit in zip(facts, visits, strict=True)
    }


def _charges_for(
    ts: TreatmentSession,
    drafts: Mapping[int, Sequence[ChargeDraft]],
    policy: BillingPolicy | None,
    actor: Actor,
) -> list[Charge]:
    """Unsaved pending charges for one session that ended (completed or not); a completed
    session's lines come from ``drafts``."""
    base = {
        "patient_id": ts.patient_id,
        "location_id": ts.location_id,
        "provider_id": ts.provider_id,
        "session_id": ts.id,
        "service_date": _local_day(ts.starts_at, ts.location.time_zone),
        "status": ChargeStatus.PENDING,
        "created_by": actor.username,
    }
    if ts.status is SessionStatus.COMPLETED:
        pointers = default_pointers(ts.patient)
        return [
            Charge(
                **base,
                source=ChargeSource.SESSION,
                code=d.code,
                modifiers=d.modifiers,
                description=d.description,
                units=d.units,
                unit_price=d.unit_price,
                amount=d.amount,
                billed_charge=d.billed_charge,
                diagnosis_pointers=pointers,
                review_note=d.review_note[:300],
            )
            for d in drafts.get(ts.id, ())
        ]
    source = _FEE_SOURCES.get(ts.status)
    fee = _policy_fee(policy, source)
    if source is None or fee <= ZERO:
        return []
    return [
        Charge(
            **base,
            source=source,
            code="",
            description=source.label,
            units=1,
            unit_price=fee,
            amount=fee,
            billed_charge=fee,
        )
    ]


def _policy_fee(policy: BillingPolicy | None, source: ChargeSource | None) -> Decimal:
    if policy is None:
        return ZERO
    if source is ChargeSource.LATE_CANCEL_FEE:
        return policy.late_cancel_fee
    if source is ChargeSource.NO_SHOW_FEE:
        return policy.no_show_fee
    return ZERO


def _store(session: Session, actor: Actor, charges: list[Charge]) -> list[Charge]:
    if not charges:
        return []
    session.add_all(charges)
    session.flush()
    for charge in charges:
        audit.record(session, actor, "capture", "charge", charge.id, after=audit.snapshot(charge))
    return charges
