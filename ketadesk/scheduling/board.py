"""The chair board of one location's day: who is in each chair, and what is due there.

:func:`chair_board` answers the Today area. It reads the location's active chairs and,
in one query over ``ix_session_location_start``, every open session of the location's
local day (joined to its patient and protocol), plus their vital signs (one ``IN`` query,
needed to tell whether the 40-minute blood pressure was taken). Then, in memory, each chair
gets a :class:`ChairCard`:

* ``current`` — the session on the floor in that chair (checked in, dosing, monitoring);
  failing that, the next arrival whose booked time is running now or starts within
  :data:`LOOKAHEAD` (its check-in may already be overdue);
* ``next_up`` — the first later arrival in that chair;
* ``later_today`` — how many more arrivals follow it.

Each shown session is a frozen :class:`BoardSession` carrying its local times, the floor's
timers and what is due next (:func:`ketadesk.scheduling.floor.next_due`), so the window
only draws. Arrivals whose booked time is over without a check-in are left off the board
(the front desk records them as no-shows from the schedule). The side list of Spravato
REMS monitoring forms due comes from :func:`ketadesk.scheduling.rems.rems_forms_due`.

:func:`reschedule_choices` offers the nearest free slots for a session the floor cannot
dose today (a failed pre-dose checklist), through the planner's
:func:`~ketadesk.scheduling.planner.alternatives`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.locations import local_days
from ketadesk.clinic.models import Chair, Location, Modality, Patient
from ketadesk.errors import NotFound
from ketadesk.scheduling import floor, planner, rems
from ketadesk.scheduling.candidacy import BoardIntake, board_intake
from ketadesk.scheduling.consent_check import ConsentBadge, consent_badges
from ketadesk.scheduling.floor import DueItem
from ketadesk.scheduling.models import (
    OPEN,
    Checkpoint,
    Protocol,
    Route,
    ScoreKind,
    Series,
    SessionStatus,
    TreatmentSession,
)
from ketadesk.scheduling.outcomes import alerts
from ketadesk.scheduling.outcomes.alerts import AlertView
from ketadesk.scheduling.proposals import Slot
from ketadesk.scheduling.rems import RemsFormDue
from ketadesk.scheduling.rules import load_context
from ketadesk.scheduling.side_effects import review

# How far ahead an arrival counts as the chair's current session when nobody is in it.
LOOKAHEAD = timedelta(hours=1)
ON_FLOOR = floor.ON_THE_FLOOR  # a patient physically in the chair
ARRIVING = frozenset({SessionStatus.SCHEDULED, SessionStatus.CONFIRMED})


@dataclass(frozen=True)
class BoardSession:
    """One session as a chair card shows it; instants in UTC, ``local_*`` at the location."""

    session_id: int
    reference: str
    version: int
    patient_id: int
    patient_name: str
    mrn: str
    protocol_name: str
    modality: Modality
    number: int
    series_size: int | None  # the protocol's session count; None when open-ended
    status: SessionStatus
    local_start: datetime
    local_end: datetime
    dosed_at: datetime | None
    minutes_since_dose: int | None
    monitoring_remaining: int | None
    due: tuple[DueItem, ...]
    overdue: bool
    driver_confirmed: bool
    # What the floor's dialogs need, so they never query again before acting.
    checklist_passed: bool = False
    infusion_stopped: bool = False
    weight_kg: Decimal | None = None
    dose_mg: Decimal | None = None
    dose_mg_per_kg: Decimal | None = None
    route: Route | None = None
    checkpoints: frozenset[Checkpoint] = frozenset()
    score_kind: ScoreKind | None = None
    score: int | None = None
    fasting_food_hours: int = 0
    fasting_drink_minutes: int = 0
    intake: BoardIntake | None = None  # the intake's line (:mod:`.candidacy`)
    # "Provider review needed: …" while the patient awaits one after a serious side effect.
    review_needed: str = ""
    # "No consent: …" (check-in will be refused) or "Consent expires in N days".
    consent: ConsentBadge | None = None
    # The patient's open PHQ-9 item-9 alerts: shown on the card until acknowledged.
    safety_alerts: tuple[AlertView, ...] = ()

    @property
    def progress(self) -> str:
        """``"4 of 6"``, or ``"#4"`` for an open-ended series."""
        return f"{self.number} of {self.series_size}" if self.series_size else f"#{self.number}"

    @property
    def on_floor(self) -> bool:
        return self.status in ON_FLOOR


@dataclass(frozen=True)
class ChairCard:
    chair_id: int
    chair_name: str
    modalities: frozenset[Modality]
    current: BoardSession | None
    next_up: BoardSession | None
    later_today: int


@dataclass(frozen=True)
class Board:
    """The location's floor at ``now`` (an aware datetime in the location's time zone)."""

    location_id: int
    location_name: str
    time_zone: str
    now: datetime
    cards: tuple[ChairCard, ...]
    rems_due: tuple[RemsFormDue, ...]

    def card(self, chair_name: str) -> ChairCard:
        """The card of the chair called ``chair_name`` (KeyError when there is none)."""
        for card in self.cards:
            if card.chair_name == chair_name:
                return card
        raise KeyError(chair_name)


def chair_board(session: Session, actor: Actor, location_id: int, now: datetime) -> Board:
    """The chair board of ``location_id`` on the location's local day of ``now``.

    ``now`` must be timezone-aware. Needs ``SCHEDULE_VIEW``. Raises :class:`NotFound` for
    an unknown location.
    """
    actor.require(Permission.SCHEDULE_VIEW)
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(f"There is no location with id {location_id}.")
    zone = ZoneInfo(location.time_zone)
    local_now = now.astimezone(zone)
    chairs = session.scalars(
        select(Chair)
        .where(Chair.location_id == location_id, Chair.active.is_(True))
        .order_by(Chair.name, Chair.id)
    ).all()
    by_chair: dict[int, list[BoardSession]] = defaultdict(list)
    day_sessions = _day_sessions(session, location_id, local_now, zone)
    patient_ids = {s.patient_id for _, s in day_sessions}
    intake = board_intake(session, patient_ids, local_now.date())
    open_alerts = alerts.open_by_patient(session, actor, patient_ids)
    for chair_id, shown in day_sessions:
        by_chair[chair_id].append(
            replace(
                shown,
                intake=intake.get(shown.patient_id),
                safety_alerts=open_alerts.get(shown.patient_id, ()),
            )
        )
    due = rems.rems_forms_due(session, actor, location_id=location_id, today=local_now.date())
    return Board(
        location_id=location.id,
        location_name=location.name,
        time_zone=location.time_zone,
        now=local_now,
        cards=tuple(_card(chair, by_chair[chair.id], local_now) for chair in chairs),
        rems_due=tuple(due),
    )


def _day_sessions(
    session: Session, location_id: int, local_now: datetime, zone: ZoneInfo
) -> list[tuple[int, BoardSession]]:
    """``(chair_id, session)`` for every open session of the local day, by start."""
    start, end = local_days(local_now.date(), 1, zone)
    rows = session.execute(
        select(
            TreatmentSession,
            Protocol,
            Patient.family_name,
            Patient.given_name,
            Patient.mrn,
            Patient.weight_kg,
        )
        .join(Series, Series.id == TreatmentSession.series_id)
        .join(Protocol, Protocol.id == Series.protocol_id)
        .join(Patient, Patient.id == TreatmentSession.patient_id)
        .where(
            TreatmentSession.location_id == location_id,
            TreatmentSession.starts_at >= start,
            TreatmentSession.starts_at < end,
            TreatmentSession.status.in_(OPEN),
        )
        .options(selectinload(TreatmentSession.vitals))
        .order_by(TreatmentSession.starts_at, TreatmentSession.id)
    ).all()
    now = local_now.astimezone(UTC)
    reviews = review.pending_words(session, {row[0].patient_id for row in rows})
    badges = consent_badges(session, [row[0] for row in rows], local_now.date())
    return [
        (
            ts.chair_id,
            replace(
                _shown(ts, protocol, f"{family}, {given}", mrn, weight, now, zone),
                review_needed=reviews.get(ts.patient_id, ""),
                consent=badges.get(ts.id),
            ),
        )
        for ts, protocol, family, given, mrn, weight in rows
    ]


def _shown(
    ts: TreatmentSession,
    protocol: Protocol,
    patient_name: str,
    mrn: str,
    weight_kg: Decimal | None,
    now: datetime,
    zone: ZoneInfo,
) -> BoardSession:
    due = floor.next_due(ts, protocol, now)
    return BoardSession(
        session_id=ts.id,
        reference=ts.reference,
        version=ts.version,
        patient_id=ts.patient_id,
        patient_name=patient_name,
        mrn=mrn,
        protocol_name=protocol.name,
        modality=ts.modality,
        number=ts.number,
        series_size=protocol.session_count,
        status=ts.status,
        local_start=ts.starts_at.astimezone(zone),
        local_end=ts.ends_at.astimezone(zone),
        dosed_at=ts.dosed_at,
        minutes_since_dose=floor.minutes_since_dose(ts, now),
        monitoring_remaining=floor.monitoring_remaining(ts, protocol, now),
        due=due,
        overdue=any(item.overdue for item in due),
        driver_confirmed=ts.driver_confirmed,
        checklist_passed=ts.checklist_passed_at is not None,
        infusion_stopped=ts.infusion_stopped_at is not None,
        weight_kg=weight_kg,
        dose_mg=ts.dose_mg,
        dose_mg_per_kg=ts.dose_mg_per_kg,
        route=ts.route,
        checkpoints=frozenset(v.checkpoint for v in ts.vitals),
        score_kind=ts.score_kind,
        score=ts.score,
        fasting_food_hours=protocol.fasting_food_hours,
        fasting_drink_minutes=protocol.fasting_drink_minutes,
    )


def reschedule_choices(
    session: Session,
    actor: Actor,
    session_id: int,
    day: date,
    *,
    now: datetime,
    limit: int = 6,
) -> tuple[Slot, ...]:
    """The nearest valid slots for session ``session_id`` around its local time on ``day``.

    For the floor's "Reschedule…" after a failed pre-dose checklist: the session itself is
    left out of the occupancy (its own slot does not block), every booking rule holds
    (hours, chair, provider capacity, the patient elsewhere, spacing from the series' other
    sessions), and nothing before ``now`` is offered. Raises :class:`NotFound`.
    """
    actor.require(Permission.SCHEDULE_VIEW)
    ts = session.get(TreatmentSession, session_id)
    if ts is None:
        raise NotFound(f"there is no session S-{session_id}")
    zone = ZoneInfo(ts.location.time_zone)
    clock = ts.starts_at.astimezone(zone).time()
    wanted = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
    horizon = timedelta(days=planner.HORIZON_DAYS)
    ctx = load_context(
        session,
        ts.patient,
        ts.series.protocol,
        ts.location,
        wanted - horizon,
        wanted + horizon,
        ignore=[ts.id],
    )
    return planner.alternatives(ctx, wanted, limit=limit, now=now)


def _card(chair: Chair, sessions: Sequence[BoardSession], now: datetime) -> ChairCard:
    """Pick the chair's current session, the next arrival, and count the rest."""
    current = next((s for s in sessions if s.on_floor), None)
    arrivals = [s for s in sessions if s.status in ARRIVING and s.local_end > now]
    if current is None and arrivals and arrivals[0].local_start <= now + LOOKAHEAD:
        current = arrivals.pop(0)
    elif current is not None:
        arrivals = [s for s in arrivals if s.local_start >= current.local_start]
    next_up = arrivals[0] if arrivals else None
    return ChairCard(
        chair_id=chair.id,
        chair_name=chair.name,
        modalities=chair.modalities,
        current=current,
        next_up=next_up,
        later_today=max(len(arrivals) - 1, 0),
    )


__all__ = [
    "LOOKAHEAD",
    "ON_FLOOR",
    "Board",
    "BoardSession",
    "ChairCard",
    "chair_board",
    "reschedule_choices",
]
