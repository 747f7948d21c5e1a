"""The treatment floor: one session's day, step by step, from confirmation to discharge.

A session walks scheduled → confirmed → checked-in → dosing → monitoring → completed.
Each step is one service here, done in the caller's transaction:

* :func:`confirm` and :func:`check_in` (the front desk may do these);
* :func:`run_checklist` — ride home, fasting as the protocol asks, vital signs in range,
  the intake (:mod:`.candidacy`: an absolute finding without an override refuses the dose);
  it records the pre-dose vital sign and returns every item, passed or failed, so the
  window can offer to reschedule instead of dosing;
* :func:`start_dosing` — dose, route and lot, with mg/kg from the patient's weight for
  IV and IM, and the product's NDC when it is not the one the fee schedule names for the
  drug code; an IV infusion starts its clock here;
* :func:`stop_infusion` (IV) or :func:`start_monitoring` (everything else);
* :func:`discharge` — refused while a rule still holds the patient in the chair
  (esketamine: two hours since the dose, blood pressure at the three checkpoints, a ride
  home); it sets the REMS form's due date and lets the series update its status.

Every step stamps its ``*_at`` column on the session and appends a :class:`SessionStep`
(what, when, who); the changed fields go to the audit log. Steps out of order are refused
with a sentence that says what to do first. The session row carries a version: an edit
made from a copy someone else saved in between raises :class:`StaleEdit`.

Alongside the steps, :func:`record_vitals`, :func:`record_observation`,
:func:`record_score` and :func:`record_weight` (kg or lb, stored in kg) add measurements;
:func:`mg_per_kg` is the one rounding of a dose per kilogram; and :func:`next_due`,
:func:`minutes_since_dose` and :func:`monitoring_remaining` are pure helpers the chair board
reads its timers from.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import codes, validation
from ketadesk.clinic.models import Modality
from ketadesk.errors import (
    Conflict,
    FieldProblem,
    InvalidValue,
    NotFound,
    StaleEdit,
    ValidationError,
)
from ketadesk.scheduling import candidacy
from ketadesk.scheduling.consent_check import require_consent
from ketadesk.scheduling.models import (
    RELEASED,
    Checkpoint,
    Observation,
    ObservationKind,
    Protocol,
    Route,
    ScoreKind,
    SessionStatus,
    SessionStep,
    Severity,
    TreatmentSession,
    VitalSign,
)
from ketadesk.scheduling.outcomes import scores
from ketadesk.scheduling.rems import rems_form_due_on
from ketadesk.scheduling.series import refresh_series_status
from ketadesk.scheduling.side_effects import recording as side_effects
from ketadesk.scheduling.side_effects import review
from ketadesk.scheduling.vital_limits import above_limit_words

# --- Pre-dose vital signs "in range" -----------------------------------------------------
# The blood-pressure limit lives in vital_limits (the side effects read it too).
HEART_RATE_RANGE = (50, 110)  # beats per minute, both ends allowed (checked when given)
MIN_SPO2 = 94  # percent (checked when given)

# --- Plausible readings: anything outside is a typing slip, refused as a field error ------
PLAUSIBLE_VITALS = {
    "systolic": (60, 260),
    "diastolic": (30, 160),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
}

# --- Doses ---------------------------------------------------------------------------------
ESKETAMINE_DOSES_MG = frozenset({Decimal(56), Decimal(84)})  # two or three 28 mg devices
MAX_DOSE_MG = Decimal(500)  # above any ketamine dose in these protocols; catches slips
MAX_MG_PER_KG = Decimal(2)  # IV and IM: well above the usual 0.5–1 mg/kg
DOSE_QUANTUM = Decimal("0.1")  # the dose is stored to a tenth of a milligram
MG_PER_KG_QUANTUM = Decimal("0.001")
LOT_NUMBER_LENGTH = 40
NOTE_LENGTH = 200
ROUTES: dict[Modality, tuple[Route, ...]] = {
    Modality.IV: (Route.IV,),
    Modality.IM: (Route.IM,),
    Modality.ESKETAMINE: (Route.INTRANASAL,),
    Modality.ORAL: (Route.ORAL, Route.SUBLINGUAL),
    Modality.KAP: (Route.SUBLINGUAL, Route.ORAL, Route.IM),
}
WEIGHED_ROUTES = frozenset({Route.IV, Route.IM})

# --- The floor's clock ---------------------------------------------------------------------
ESKETAMINE_MIN_MONITORING_MINUTES = 120  # Spravato REMS: at least two hours after the dose
FORTY_MINUTE_BP_AT = timedelta(minutes=40)
FORTY_MINUTE_BP_EARLIEST = timedelta(minutes=35)  # a reading before this does not count
FORTY_MINUTE_BP_GRACE = timedelta(minutes=10)
CHECK_IN_GRACE = timedelta(minutes=15)
INFUSION_STOP_GRACE = timedelta(minutes=5)
DISCHARGE_GRACE = timedelta(minutes=15)

ON_THE_FLOOR = frozenset({SessionStatus.CHECKED_IN, SessionStatus.DOSING, SessionStatus.MONITORING})
DOSED = frozenset({SessionStatus.DOSING, SessionStatus.MONITORING})
_ORDER = {
    SessionStatus.SCHEDULED: 0,
    SessionStatus.CONFIRMED: 1,
    SessionStatus.CHECKED_IN: 2,
    SessionStatus.DOSING: 3,
    SessionStatus.MONITORING: 4,
    SessionStatus.COMPLETED: 5,
}
_STATE_WORDS = {
    SessionStatus.SCHEDULED: "scheduled",
    SessionStatus.CONFIRMED: "confirmed",
    SessionStatus.CHECKED_IN: "checked in",
    SessionStatus.DOSING: "being dosed",
    SessionStatus.MONITORING: "in monitoring",
    SessionStatus.COMPLETED: "completed",
    SessionStatus.CANCELLED: "cancelled",
    SessionStatus.LATE_CANCELLED: "late-cancelled",
    SessionStatus.NO_SHOW: "a no-show",
}


# --- Results crossing into the window ------------------------------------------------------


@dataclass(frozen=True)
class VitalsInput:
    """One set of readings as the nurse types them."""

    systolic: int
    diastolic: int
    heart_rate: int | None = None
    spo2: int | None = None


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the pre-dose checklist: ``key`` is stable, ``detail`` says why."""

    key: str
    label: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ChecklistResult:
    passed: bool
    items: tuple[ChecklistItem, ...]

    @property
    def failures(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.items if not item.passed)


@dataclass(frozen=True)
class DueItem:
    """Something due for a session on the floor, at ``due_at`` (UTC)."""

    key: str
    label: str
    due_at: datetime
    overdue: bool


# --- The steps -----------------------------------------------------------------------------


def confirm(
    session: Session, actor: Actor, session_id: int, *, now: datetime | None = None
) -> TreatmentSession:
    """Record that the patient confirmed the visit: scheduled → confirmed."""
    actor.require(Permission.SESSION_ARRIVAL)
    moment = _now(now)
    ts = _load(session, session_id)
    _require_status(ts, {SessionStatus.SCHEDULED}, "confirming")
    return _advance(session, actor, ts, SessionStatus.CONFIRMED, moment, confirmed_at=moment)


def check_in(
    session: Session, actor: Actor, session_id: int, *, now: datetime | None = None
) -> TreatmentSession:
    """The patient has arrived: scheduled or confirmed → checked in, on the session's day only.

    The day is the location's local day; the series' status is refreshed afterwards.
    Without a valid consent for the session's treatment on that day, check-in is refused
    with :class:`~ketadesk.errors.ConsentRequired` (:mod:`.consent_check`).
    """
    actor.require(Permission.SESSION_ARRIVAL)
    moment = _now(now)
    ts = _load(session, session_id)
    _require_status(ts, {SessionStatus.SCHEDULED, SessionStatus.CONFIRMED}, "checking in")
    day = session_day(ts)
    if moment.astimezone(_zone(ts)).date() != day:
        raise Conflict(
            f"{ts.reference} is booked for {_day_words(day)}; "
            "the patient can be checked in only on that day"
        )
    require_consent(session, ts)
    _advance(session, actor, ts, SessionStatus.CHECKED_IN, moment, checked_in_at=moment)
    refresh_series_status(session, ts.series)
    return ts


def run_checklist(
    session: Session,
    actor: Actor,
    session_id: int,
    *,
    ride_home: bool,
    food_fasted_hours: float,
    drink_fasted_minutes: int,
    vitals: VitalsInput,
    acknowledged: Collection[str] = (),
    now: datetime | None = None,
) -> ChecklistResult:
    """Run the pre-dose checklist for a checked-in session and store its outcome.

    ``acknowledged`` holds the keys of what :func:`to_acknowledge` listed that the nurse
    confirmed (relative intake findings); one left out fails the checklist, naming it, and
    those given are written in the session's step. The readings are recorded as the
    pre-dose vital sign whether or not they pass. A pass stamps ``checklist_passed_at``
    (which dosing requires); a failure clears it, and the returned :class:`ChecklistResult`
    lists what failed. Raises :class:`ValidationError` for impossible inputs (negative
    hours, implausible readings).
    """
    actor.require(Permission.FLOOR_CLINICAL)
    moment = _now(now)
    ts = _load(session, session_id)
    _require_status(ts, {SessionStatus.CHECKED_IN}, "the pre-dose checklist")
    _raise_problems(
        [*_fasting_input_problems(food_fasted_hours, drink_fasted_minutes), *_implausible(vitals)]
    )
    protocol = ts.series.protocol
    fasting = _fasting_item(protocol, food_fasted_hours, drink_fasted_minutes)
    items = (
        _ride_home_item(ride_home),
        fasting,
        _vitals_item(ts.modality, vitals),
        *_candidacy_items(session, ts, acknowledged),
        *(ChecklistItem(*line) for line in review.checklist_lines(session, ts.patient_id)),
    )
    result = ChecklistResult(passed=all(item.passed for item in items), items=items)
    note = (
        "checklist passed"
        if result.passed
        else "checklist failed: " + "; ".join(item.detail for item in result.failures)
    )
    if acknowledged:
        note += "; acknowledged: " + ", ".join(sorted(acknowledged))
    with _changing(session, actor, ts):
        vital = _add_vital(ts, actor, Checkpoint.PRE_DOSE, vitals, moment)
        ts.driver_confirmed = ride_home
        ts.fasting_confirmed = fasting.passed
        ts.checklist_passed_at = moment if result.passed else None
        _add_step(ts, actor, ts.status, moment, note)
    audit.record(session, actor, "create", "vital_sign", vital.id, after=audit.snapshot(vital))
    return result


def start_dosing(
    session: Session,
    actor: Actor,
    session_id: int,
    *,
    dose_mg: Decimal,
    route: Route,
    lot_number: str,
    ndc: str = "",
    now: datetime | None = None,
) -> TreatmentSession:
    """Record the dose of a checked-in session whose checklist passed: → dosing.

    ``dose_mg_per_kg`` is computed from the patient's weight for IV and IM. An IV
    infusion's start is stamped now. ``ndc`` is the National Drug Code of the product
    given, in any layout :func:`~ketadesk.clinic.codes.ndc` reads; blank, the drug line is
    billed with the NDC the fee schedule holds for its code. Raises
    :class:`ValidationError` naming every bad field (``dose_mg``, ``route``,
    ``lot_number``, ``ndc``) and :class:`Conflict` when the patient's weight is needed but
    unknown.
    """
    actor.require(Permission.FLOOR_CLINICAL)
    moment = _now(now)
    ts = _load(session, session_id)
    _require_status(ts, {SessionStatus.CHECKED_IN}, "dosing")
    if ts.checklist_passed_at is None:
        raise Conflict(
            f"{ts.reference} has not passed the pre-dose checklist; run it before dosing"
        )
    lot = lot_number.strip()
    product, ndc_problems = _product(ndc)
    _raise_problems([*_dose_problems(ts, dose_mg, route, lot), *ndc_problems])
    per_kg = _mg_per_kg(ts, dose_mg, route)
    note = f"{dose_mg} mg {route.label}" + (f" ({per_kg} mg/kg)" if per_kg else "")
    return _advance(
        session,
        actor,
        ts,
        SessionStatus.DOSING,
        moment,
        note=f"{note}, lot {lot}",
        dosed_at=moment,
        infusion_started_at=moment if route is Route.IV else None,
        dose_mg=dose_mg,
        dose_mg_per_kg=per_kg,
        route=route,
        lot_number=lot,
        ndc=product,
    )


def stop_infusion(
    session: Session, actor: Actor, session_id: int, *, now: datetime | None = None
) -> TreatmentSession:
    """Stop an IV infusion: dosing → monitoring; billing reads the infusion's start and stop."""
    actor.require(Permission.FLOOR_CLINICAL)
    moment = _now(now)
    ts = _load(session, session_id)
    if ts.modality is not Modality.IV:
        raise Conflict(
            f"{ts.reference} ({ts.modality.label}) is not an infusion; start monitoring instead"
        )
    _require_status(ts, {SessionStatus.DOSING}, "stopping the infusion")
    return _advance(
        session,
        actor,
        ts,
        SessionStatus.MONITORING,
        moment,
        note="infusion stopped",
        infusion_stopped_at=moment,
        monitoring_from=moment,
    )


def start_monitoring(
    session: Session, actor: Actor, session_id: int, *, now: datetime | None = None
) -> TreatmentSession:
    """Dosing → monitoring for everything but IV (which stops its infusion instead).

    For esketamine, monitoring counts from the dose (the REMS two hours start there), so
    ``monitoring_from`` is the dose time; otherwise it is now.
    """
    actor.require(Permission.FLOOR_CLINICAL)
    moment = _now(now)
    ts = _load(session, session_id)
    if ts.modality is Modality.IV:
        raise Conflict(f"{ts.reference} is an infusion; stop the infusion to start monitoring")
    _require_status(ts, {SessionStatus.DOSING}, "monitoring")
    since = ts.dosed_at if ts.modality is Modality.ESKETAMINE else moment
    return _advance(session, actor, ts, SessionStatus.MONITORING, moment, monitoring_from=since)


def discharge(
    session: Session, actor: Actor, session_id: int, *, now: datetime | None = None
) -> TreatmentSession:
    """Send the patient home: monitoring → completed.

    Refused, with every reason at once, while the infusion is not stopped (IV), before the
    monitoring time has passed and without blood pressure at the three checkpoints
    (esketamine), or without a ride home. Esketamine sessions get their REMS monitoring
    form's due date; the series' status is refreshed afterwards.
    """
    actor.require(Permission.FLOOR_CLINICAL)
    moment = _now(now)
    ts = _load(session, session_id)
    _require_status(ts, {SessionStatus.MONITORING}, "discharge")
    protocol = ts.series.protocol
    reasons = list(_discharge_problems(ts, protocol, moment))
    if reasons:
        raise Conflict(f"{ts.reference} cannot be discharged yet: " + "; ".join(reasons))
    due = rems_form_due_on(session_day(ts)) if ts.modality is Modality.ESKETAMINE else None
    _advance(
        session,
        actor,
        ts,
        SessionStatus.COMPLETED,
        moment,
        discharged_at=moment,
        rems_form_due_on=due,
    )
    refresh_series_status(session, ts.series)
    return ts


# --- Measurements --------------------------------------------------------------------------


def record_vitals(
    session: Session,
    actor: Actor,
    session_id: int,
    checkpoint: Checkpoint,
    vitals: VitalsInput,
    *,
    now: datetime | None = None,
) -> VitalSign:
    """Add a vital sign at ``checkpoint`` for a session on the floor.

    A pre-dose reading must come before the dose; the 40-minute and discharge readings
    after it (the 40-minute one from 35 minutes on). Raises :class:`ValidationError` for
    implausible readings, :class:`Conflict` for a reading at the wrong point.
    """
    actor.require(Permission.FLOOR_CLINICAL)
    moment = _now(now)
    ts = _load(session, session_id)
    _require_status(ts, ON_THE_FLOOR, "recording vital signs")
    _raise_problems(_implausible(vitals))
    _check_checkpoint(ts, checkpoint, moment)
    with _changing(session, actor, ts):
        vital = _add_vital(ts, actor, checkpoint, vitals, moment)
    audit.record(session, actor, "create", "vital_sign", vital.id, after=audit.snapshot(vital))
    side_effects.note_blood_pressure(session, actor, ts, vital)
    return vital


def record_observation(
    session: Session,
    actor: Actor,
    session_id: int,
    kind: ObservationKind,
    severity: Severity,
    note: str = "",
    *,
    now: datetime | None = None,
) -> Observation:
    """Add a sedation or dissociation observation during dosing or monitoring."""
    actor.require(Permission.FLOOR_CLINICAL)
    moment = _now(now)
    ts = _load(session, session_id)
    _require_status(ts, DOSED, "recording observations")
    text = note.strip()
    if len(text) > NOTE_LENGTH:
        raise ValidationError.single("note", f"keep the note under {NOTE_LENGTH} characters")
    observation = Observation(
        kind=kind, severity=severity, at=moment, note=text, actor=actor.username
    )
    with _changing(session, actor, ts):
        ts.observations.append(observation)
    audit.record(
        session,
        actor,
        "create",
        "observation",
        observation.id,
        after=audit.snapshot(observation),
    )
    return observation


def record_score(
    session: Session,
    actor: Actor,
    session_id: int,
    kind: ScoreKind,
    score: int | None,
    items: tuple[int, ...] | None = None,
) -> TreatmentSession:
    """Record the session's outcome score (PHQ-9 0–27, GAD-7 0–21), once checked in.

    The score is kept by :func:`ketadesk.scheduling.outcomes.scores.record_score` (which
    checks it, writes it on the session too and raises the PHQ-9 item-9 alert); ``score``
    may be left out when the item answers are given.
    """
    actor.require(Permission.FLOOR_CLINICAL)
    ts = _load(session, session_id)
    _require_status(ts, ON_THE_FLOOR | {SessionStatus.COMPLETED}, "recording a score")
    answers = scores.Answers(total=score, items=items)
    scores.record_score(session, actor, ts.patient_id, kind.value, answers, session_id=ts.id)
    return ts


# --- The board's clock (pure) --------------------------------------------------------------


def minutes_since_dose(ts: TreatmentSession, now: datetime) -> int | None:
    """Whole minutes from the dose to now (or to discharge, once discharged); ``None``
    before the dose."""
    if ts.dosed_at is None:
        return None
    end = ts.discharged_at or now
    return max(0, int((end - ts.dosed_at).total_seconds() // 60))


def monitoring_remaining(ts: TreatmentSession, protocol: Protocol, now: datetime) -> int | None:
    """Minutes (rounded up) until the monitoring time is over; 0 once it is; ``None`` when
    the session is not being monitored (not yet, or no longer)."""
    end = _monitoring_ends(ts, protocol)
    if end is None or ts.status not in DOSED:
        return None
    return max(0, math.ceil((end - now).total_seconds() / 60))


def next_due(ts: TreatmentSession, protocol: Protocol, now: datetime) -> tuple[DueItem, ...]:
    """What is due next for a session on the floor, earliest first.

    Check-in at the booked start (overdue 15 minutes later); for esketamine the 40-minute
    blood pressure (overdue 10 minutes after it is due); the IV infusion's stop at the end
    of the treatment time; discharge at the end of monitoring; and the REMS monitoring form
    of a completed esketamine session until it is filed.
    """
    items = [
        *_arrival_due(ts, now),
        *_forty_minute_due(ts, now),
        *_infusion_due(ts, protocol, now),
        *_discharge_due(ts, protocol, now),
        *_rems_due(ts, now),
    ]
    return tuple(sorted(items, key=lambda item: (item.due_at, item.key)))


def session_day(ts: TreatmentSession) -> date:
    """The session's day at its location (local date of the booked start)."""
    return ts.starts_at.astimezone(_zone(ts)).date()


def _arrival_due(ts: TreatmentSession, now: datetime) -> Iterator[DueItem]:
    if ts.status in (SessionStatus.SCHEDULED, SessionStatus.CONFIRMED):
        overdue = now > ts.starts_at + CHECK_IN_GRACE
        yield DueItem("check_in", "Check in", ts.starts_at, overdue)


def _forty_minute_due(ts: TreatmentSession, now: datetime) -> Iterator[DueItem]:
    if ts.modality is not Modality.ESKETAMINE or ts.dosed_at is None or ts.status not in DOSED:
        return
    if Checkpoint.FORTY_MINUTES in _missing_checkpoints(ts):
        due = ts.dosed_at + FORTY_MINUTE_BP_AT
        yield DueItem("bp_40", "40-minute blood pressure", due, now > due + FORTY_MINUTE_BP_GRACE)


def _infusion_due(ts: TreatmentSession, protocol: Protocol, now: datetime) -> Iterator[DueItem]:
    if ts.modality is Modality.IV and ts.status is SessionStatus.DOSING and ts.dosed_at:
        due = ts.dosed_at + timedelta(minutes=protocol.treatment_minutes)
        yield DueItem("stop_infusion", "Stop infusion", due, now > due + INFUSION_STOP_GRACE)


def _discharge_due(ts: TreatmentSession, protocol: Protocol, now: datetime) -> Iterator[DueItem]:
    if ts.status not in DOSED or ts.dosed_at is None:
        return
    due = _monitoring_ends(ts, protocol)
    if due is None:  # an infusion still running: monitoring follows the planned stop
        minutes = protocol.treatment_minutes + protocol.monitoring_minutes
        due = ts.dosed_at + timedelta(minutes=minutes)
    yield DueItem("discharge", "Discharge", due, now > due + DISCHARGE_GRACE)


def _rems_due(ts: TreatmentSession, now: datetime) -> Iterator[DueItem]:
    due_on = ts.rems_form_due_on
    if ts.status is not SessionStatus.COMPLETED or due_on is None or ts.rems_form_filed_on:
        return
    # Due by the end of its day at the location: overdue from the next local midnight.
    deadline = datetime.combine(due_on + timedelta(days=1), time(0), tzinfo=_zone(ts))
    due_at = deadline.astimezone(UTC)
    yield DueItem("rems_form", "REMS monitoring form", due_at, now >= due_at)


def _monitoring_ends(ts: TreatmentSession, protocol: Protocol) -> datetime | None:
    """When monitoring is over: esketamine counts from the dose, others from its start."""
    if ts.modality is Modality.ESKETAMINE:
        start = ts.dosed_at
        minutes = max(protocol.monitoring_minutes, ESKETAMINE_MIN_MONITORING_MINUTES)
    else:
        start = ts.monitoring_from
        minutes = protocol.monitoring_minutes
    return None if start is None else start + timedelta(minutes=minutes)


# --- Checklist items -----------------------------------------------------------------------


def to_acknowledge(
    session: Session, actor: Actor, session_id: int
) -> tuple[candidacy.ToAcknowledge, ...]:
    """What the nurse confirms one by one in the session's pre-dose checklist (the relative
    intake findings on the session's day), for :func:`run_checklist`'s ``acknowledged``."""
    actor.require(Permission.FLOOR_CLINICAL)
    ts = _load(session, session_id)
    return candidacy.to_acknowledge(session, ts.patient, session_day(ts))


def _candidacy_items(
    session: Session, ts: TreatmentSession, acknowledged: Collection[str]
) -> tuple[ChecklistItem, ...]:
    """The intake's lines (:mod:`.candidacy`): an absolute finding without an override, an
    intake the rules make a hard stop, or a relative finding not acknowledged fails it."""
    checks = candidacy.checklist_checks(session, ts.patient, session_day(ts), acknowledged)
    return tuple(ChecklistItem(c.key, c.label, c.passed, c.detail) for c in checks)


def _ride_home_item(ride_home: bool) -> ChecklistItem:
    detail = (
        "a driver will take the patient home"
        if ride_home
        else "no ride home is confirmed; the patient may not drive after the dose"
    )
    return ChecklistItem("ride_home", "Ride home confirmed", ride_home, detail)


def _fasting_item(protocol: Protocol, food_hours: float, drink_minutes: int) -> ChecklistItem:
    need_food, need_drink = protocol.fasting_food_hours, protocol.fasting_drink_minutes
    label = f"Fasting: no food for {need_food} h, no drink for {need_drink} min"
    problems = []
    if food_hours < need_food:
        problems.append(
            f"ate {food_hours:g} h ago; the protocol asks for no food for {need_food} h"
        )
    if drink_minutes < need_drink:
        problems.append(
            f"drank {drink_minutes} min ago; the protocol asks for no drink for {need_drink} min"
        )
    if problems:
        return ChecklistItem("fasting", label, False, "; ".join(problems))
    detail = f"no food for {food_hours:g} h, no drink for {drink_minutes} min"
    return ChecklistItem("fasting", label, True, detail)


def _vitals_item(modality: Modality, vitals: VitalsInput) -> ChecklistItem:
    above = above_limit_words(modality, vitals.systolic, vitals.diastolic)
    problems = [above] if above else []
    low, high = HEART_RATE_RANGE
    if vitals.heart_rate is not None and not low <= vitals.heart_rate <= high:
        problems.append(f"heart rate {vitals.heart_rate} is outside {low}–{high}")
    if vitals.spo2 is not None and vitals.spo2 < MIN_SPO2:
        problems.append(f"SpO2 {vitals.spo2}% is below {MIN_SPO2}%")
    label = "Vital signs in range"
    if problems:
        return ChecklistItem("vitals", label, False, "; ".join(problems))
    return ChecklistItem("vitals", label, True, _vitals_words(vitals))


def _vitals_words(vitals: VitalsInput) -> str:
    words = [f"BP {vitals.systolic}/{vitals.diastolic}"]
    if vitals.heart_rate is not None:
        words.append(f"HR {vitals.heart_rate}")
    if vitals.spo2 is not None:
        words.append(f"SpO2 {vitals.spo2}%")
    return ", ".join(words)


def _fasting_input_problems(food_hours: float, drink_minutes: int) -> Iterator[FieldProblem]:
    if not (math.isfinite(food_hours) and food_hours >= 0):
        yield FieldProblem("food_fasted_hours", "give the hours since food as 0 or more")
    if drink_minutes < 0:
        yield FieldProblem("drink_fasted_minutes", "give the minutes since a drink as 0 or more")


def _implausible(vitals: VitalsInput) -> Iterator[FieldProblem]:
    for name, (low, high) in PLAUSIBLE_VITALS.items():
        value = getattr(vitals, name)
        if value is not None and not low <= value <= high:
            yield FieldProblem(name, f"{value} is not a plausible reading ({low}–{high})")
    if vitals.diastolic >= vitals.systolic:
        yield FieldProblem("diastolic", "the diastolic pressure must be below the systolic")


# --- Dose ----------------------------------------------------------------------------------


def _dose_problems(
    ts: TreatmentSession, dose_mg: Decimal, route: Route, lot: str
) -> Iterator[FieldProblem]:
    value: object = dose_mg
    if not isinstance(value, Decimal):
        raise TypeError(f"dose_mg must be a Decimal, not {type(value).__name__}")
    yield from _dose_amount_problems(ts.modality, dose_mg)
    routes = ROUTES[ts.modality]
    if route not in routes:
        allowed = " or ".join(r.label for r in routes)
        yield FieldProblem(
            "route", f"the route for {ts.modality.label} is {allowed}, not {route.label}"
        )
    if not lot:
        yield FieldProblem("lot_number", "enter the lot number of the medicine given")
    elif len(lot) > LOT_NUMBER_LENGTH:
        yield FieldProblem("lot_number", f"a lot number has at most {LOT_NUMBER_LENGTH} characters")


def _product(ndc: str) -> tuple[str, list[FieldProblem]]:
    """The NDC as stored (11 digits, or blank), and its problem if it is not an NDC."""
    if not ndc.strip():
        return "", []
    try:
        return codes.ndc(ndc), []
    except InvalidValue as error:
        return "", [FieldProblem("ndc", str(error))]


def _dose_amount_problems(modality: Modality, dose_mg: Decimal) -> Iterator[FieldProblem]:
    if not dose_mg.is_finite() or dose_mg <= 0:
        yield FieldProblem("dose_mg", "the dose must be more than 0 mg")
    elif modality is Modality.ESKETAMINE and dose_mg not in ESKETAMINE_DOSES_MG:
        yield FieldProblem("dose_mg", "an esketamine dose is 56 mg or 84 mg")
    elif dose_mg > MAX_DOSE_MG:
        yield FieldProblem("dose_mg", f"{dose_mg} mg is above the {MAX_DOSE_MG} mg limit")
    elif dose_mg != dose_mg.quantize(DOSE_QUANTUM):
        yield FieldProblem("dose_mg", "give the dose to a tenth of a milligram")


def mg_per_kg(dose_mg: Decimal, weight_kg: Decimal) -> Decimal:
    """The dose per kilogram of body weight, rounded half up to :data:`MG_PER_KG_QUANTUM`.

    The one rounding of mg/kg: the dose recorded on the session and the figure the dose
    dialog shows while it is typed both come from here. ``weight_kg`` must be above zero.
    """
    if not weight_kg > 0:
        raise ValueError(f"a weight is above 0 kg, not {weight_kg}")
    return (dose_mg / weight_kg).quantize(MG_PER_KG_QUANTUM, rounding=ROUND_HALF_UP)


def record_weight(
    session: Session,
    actor: Actor,
    session_id: int,
    weight: str | Decimal,
    *,
    unit: str | None = None,
) -> Decimal:
    """Weigh the patient of a session on the floor; return the weight stored, in kg.

    ``weight`` is read by :func:`ketadesk.clinic.validation.weight_kg`: ``"70"``, ``"70 kg"``,
    ``"154 lb"``, or a bare number in ``unit`` (``"kg"`` or ``"lb"``). Only kilograms are
    stored, on the patient. An unchanged weight writes nothing; a new one is audited.
    Raises :class:`ValidationError` on ``weight`` for a value that is not a body weight.
    """
    actor.require(Permission.FLOOR_CLINICAL)
    ts = _load(session, session_id)
    try:
        kilograms = validation.weight_kg(weight, unit)
    except InvalidValue as error:
        raise ValidationError.single("weight", str(error)) from None
    patient = ts.patient
    if patient.weight_kg == kilograms:
        return kilograms
    before = {"weight_kg": None if patient.weight_kg is None else str(patient.weight_kg)}
    patient.weight_kg = kilograms
    try:
        session.flush()
    except StaleDataError:
        raise StaleEdit(
            f"{patient.display_name}'s record was changed by someone else just now; weigh again"
        ) from None
    after = {"weight_kg": str(kilograms)}  # audit rows hold JSON: the Decimal as text
    audit.record_update(session, actor, "patient", patient.mrn, before, after)
    return kilograms


def _mg_per_kg(ts: TreatmentSession, dose_mg: Decimal, route: Route) -> Decimal | None:
    """mg/kg for IV and IM doses, checked against :data:`MAX_MG_PER_KG`."""
    if route not in WEIGHED_ROUTES:
        return None
    weight = ts.patient.weight_kg
    if weight is None or weight <= 0:
        raise Conflict(
            f"{route.label} doses are given per kilogram and "
            f"{ts.patient.display_name} has no weight on file; record the patient's weight first"
        )
    per_kg = mg_per_kg(dose_mg, weight)
    if per_kg > MAX_MG_PER_KG:
        raise ValidationError.single(
            "dose_mg",
            f"{dose_mg} mg is {per_kg} mg/kg for {weight} kg, above the {MAX_MG_PER_KG} mg/kg "
            "limit",
        )
    return per_kg


# --- Discharge and checkpoints -------------------------------------------------------------


def _discharge_problems(ts: TreatmentSession, protocol: Protocol, now: datetime) -> Iterator[str]:
    if ts.modality is Modality.IV and ts.infusion_stopped_at is None:
        yield "the infusion has not been stopped"
    if ts.modality is Modality.ESKETAMINE:
        remaining = monitoring_remaining(ts, protocol, now) or 0
        end = _monitoring_ends(ts, protocol)
        if remaining > 0 and end is not None:
            minutes = max(protocol.monitoring_minutes, ESKETAMINE_MIN_MONITORING_MINUTES)
            verb = "remains" if remaining == 1 else "remain"
            yield (
                f"{_minutes(remaining)} of monitoring {verb}; esketamine needs {minutes} "
                f"minutes after the dose, so discharge from {_clock(ts, end)}"
            )
        missing = _missing_checkpoints(ts)
        if missing:
            yield "blood pressure missing " + ", ".join(_CHECKPOINT_WORDS[c] for c in missing)
    if not ts.driver_confirmed:
        yield "no ride home is confirmed"


_CHECKPOINT_WORDS = {
    Checkpoint.PRE_DOSE: "before the dose",
    Checkpoint.FORTY_MINUTES: "at 40 minutes (taken 35 minutes or more after the dose)",
    Checkpoint.DISCHARGE: "before discharge",
}


_READING_WORDS = {
    Checkpoint.FORTY_MINUTES: "the 40-minute reading",
    Checkpoint.DISCHARGE: "the discharge reading",
}


def _missing_checkpoints(ts: TreatmentSession) -> list[Checkpoint]:
    """The esketamine blood-pressure checkpoints without a reading that counts."""
    counted = {vital.checkpoint for vital in ts.vitals if _counts(vital, ts.dosed_at)}
    return [c for c in _CHECKPOINT_WORDS if c not in counted]


def _counts(vital: VitalSign, dosed: datetime | None) -> bool:
    """Whether ``vital`` counts for its checkpoint: before the dose, from 35 minutes after
    it, or after it (discharge)."""
    if vital.checkpoint is Checkpoint.PRE_DOSE:
        return dosed is None or vital.taken_at <= dosed
    if dosed is None:
        return False
    if vital.checkpoint is Checkpoint.FORTY_MINUTES:
        return vital.taken_at >= dosed + FORTY_MINUTE_BP_EARLIEST
    return vital.checkpoint is Checkpoint.DISCHARGE and vital.taken_at >= dosed


def _check_checkpoint(ts: TreatmentSession, checkpoint: Checkpoint, now: datetime) -> None:
    dosed = ts.dosed_at
    if checkpoint is Checkpoint.PRE_DOSE and dosed is not None:
        raise Conflict(
            f"{ts.reference} was dosed at {_clock(ts, dosed)}; a reading now is not before the dose"
        )
    if checkpoint in (Checkpoint.FORTY_MINUTES, Checkpoint.DISCHARGE) and dosed is None:
        raise Conflict(
            f"{ts.reference} has not been dosed; {_READING_WORDS[checkpoint]} comes after the dose"
        )
    if checkpoint is Checkpoint.FORTY_MINUTES and dosed is not None:
        earliest = dosed + FORTY_MINUTE_BP_EARLIEST
        if now < earliest:
            raise Conflict(
                f"the 40-minute reading of {ts.reference} can be taken from "
                f"{_clock(ts, earliest)} (35 minutes after the dose)"
            )


# --- Loading, stepping, saving -------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a time-zone-aware datetime")
    return now.astimezone(UTC)


def _load(session: Session, session_id: int) -> TreatmentSession:
    ts = session.get(TreatmentSession, session_id)
    if ts is None:
        raise NotFound(f"there is no session S-{session_id}")
    return ts


def _require_status(ts: TreatmentSession, allowed: Collection[SessionStatus], doing: str) -> None:
    """Refuse a step out of order, saying what to do first (or that it is too late)."""
    if ts.status in allowed:
        return
    state = _STATE_WORDS[ts.status]
    if ts.status in RELEASED:
        raise Conflict(f"{ts.reference} is {state} and off the floor; {doing} is not possible")
    if _ORDER[ts.status] < min(_ORDER[s] for s in allowed):
        raise Conflict(f"{ts.reference} is {state}; {_next_step(ts)} before {doing}")
    raise Conflict(f"{ts.reference} is already {state}; it is too late for {doing}")


def _next_step(ts: TreatmentSession) -> str:
    if ts.status in (SessionStatus.SCHEDULED, SessionStatus.CONFIRMED):
        return "check the patient in"
    if ts.status is SessionStatus.CHECKED_IN:
        return "record the dose" if ts.checklist_passed_at else "pass the pre-dose checklist"
    if ts.status is SessionStatus.DOSING:
        return "stop the infusion" if ts.modality is Modality.IV else "start monitoring"
    return "discharge the patient"


def _advance(
    session: Session,
    actor: Actor,
    ts: TreatmentSession,
    status: SessionStatus,
    moment: datetime,
    note: str = "",
    **columns: object,
) -> TreatmentSession:
    """Move ``ts`` to ``status``, set ``columns``, add the step row and audit the change."""
    with _changing(session, actor, ts):
        for name, value in columns.items():
            setattr(ts, name, value)
        ts.status = status
        _add_step(ts, actor, status, moment, note)
    return ts


def _add_step(
    ts: TreatmentSession, actor: Actor, status: SessionStatus, moment: datetime, note: str
) -> None:
    ts.steps.append(
        SessionStep(status=status, at=moment, actor=actor.username, note=note[:NOTE_LENGTH])
    )


def _add_vital(
    ts: TreatmentSession,
    actor: Actor,
    checkpoint: Checkpoint,
    vitals: VitalsInput,
    moment: datetime,
) -> VitalSign:
    vital = VitalSign(
        checkpoint=checkpoint,
        taken_at=moment,
        systolic=vitals.systolic,
        diastolic=vitals.diastolic,
        heart_rate=vitals.heart_rate,
        spo2=vitals.spo2,
        actor=actor.username,
    )
    ts.vitals.append(vital)
    return vital


@contextmanager
def _changing(session: Session, actor: Actor, ts: TreatmentSession) -> Iterator[None]:
    """Change ``ts`` (and add its rows) inside the block, then flush and audit the fields
    that changed. No query inside the block flushes early, so a copy someone else saved in
    between is caught here, at the flush, and becomes :class:`StaleEdit`."""
    stale = StaleEdit(
        f"{ts.reference} was changed on another workstation after you opened it; "
        "refresh the board and try again"
    )
    before = audit.snapshot(ts)
    try:
        with session.no_autoflush:
            yield
        session.flush()
    except StaleDataError:
        raise stale from None
    audit.record_update(session, actor, "treatment_session", ts.id, before, audit.snapshot(ts))


def _raise_problems(problems: Iterable[FieldProblem]) -> None:
    found = list(problems)
    if found:
        raise ValidationError(found)


# --- Words ---------------------------------------------------------------------------------


def _zone(ts: TreatmentSession) -> ZoneInfo:
    return ZoneInfo(ts.location.time_zone)


def _clock(ts: TreatmentSession, moment: datetime) -> str:
    return moment.astimezone(_zone(ts)).strftime("%H:%M")


def _day_words(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _minutes(count: int) -> str:
    return f"{count} minute" if count == 1 else f"{count} minutes"
