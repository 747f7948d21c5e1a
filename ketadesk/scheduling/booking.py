"""Booking: turning a plan into sessions, all or nothing, safely across workstations.

The flow of :func:`book_series`, inside the caller's one write transaction:

1. refuse what cannot be booked whatever happens: the plan's hard stops (``blockers``)
   and any session the planner could not place;
2. :func:`lock_for_booking` the chairs (and the patient) the plan uses. On SQLite the
   transaction already holds the write lock (``BEGIN IMMEDIATE``); on PostgreSQL the rows
   are locked ``FOR UPDATE`` in id order, so racing workstations queue here and each one
   after the first sees what the ones before it booked;
3. re-run the gates (:func:`ketadesk.scheduling.gates.booking_gates`): new hard stops
   refuse, warnings whose code is not in ``acknowledged`` raise
   :class:`~ketadesk.errors.Unacknowledged`;
4. re-check every slot against a fresh :class:`~ketadesk.scheduling.rules.PlanningContext`
   loaded *after* the lock (:func:`check_slots`), holding the plan's own sessions as
   tentative so they are checked against each other too. A chair, patient or spacing
   clash raises :class:`~ketadesk.errors.SlotTaken` naming the session in the way; any
   other broken rule raises :class:`~ketadesk.errors.ValidationError` in words;
5. write the series, one :class:`TreatmentSession` and one ``scheduled``
   :class:`SessionStep` per session, and their audit rows. On PostgreSQL the inserts run
   in a savepoint (:func:`chair_backstop`): if the exclusion constraint
   ``ex_session_chair_overlap`` still refuses one, the error becomes ``SlotTaken`` naming
   the session now in that chair.

:func:`book_session` books one session as a one-session series through the same path.
:mod:`.changes` reuses the lock, the checks and the backstop for moves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Chair, Location, Modality, Patient, Provider
from ketadesk.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    SlotTaken,
    Unacknowledged,
    ValidationError,
)
from ketadesk.scheduling.availability import Held, describe
from ketadesk.scheduling.gates import booking_gates
from ketadesk.scheduling.models import (
    RELEASED,
    Protocol,
    Series,
    SeriesStatus,
    SessionStatus,
    SessionStep,
    TreatmentSession,
)
from ketadesk.scheduling.proposals import ProposedSession, SeriesPlan, Slot
from ketadesk.scheduling.rules import PlanningContext, SlotProblem, load_context, slot_problems
from ketadesk.scheduling.series import refresh_series_status

# Rules whose problem is another session in the way: these raise SlotTaken.
CLASHES = frozenset({"chair_taken", "patient_busy", "spacing"})
# The form field each other rule belongs to, for single-session changes.
RULE_FIELDS = {
    "past": "starts_at",
    "closed": "starts_at",
    "hours": "starts_at",
    "chair": "chair",
    "provider": "provider",
    "provider_busy": "provider",
}
# A session may be booked or moved to a start this far in the past (a walk-in booked as
# they sit down), never earlier: the past belongs to the floor's record, not the calendar.
PAST_GRACE = timedelta(minutes=15)
OVERLAP_CONSTRAINT = "ex_session_chair_overlap"
EXCLUSION_VIOLATION = "23P01"


@dataclass(frozen=True)
class Wanted:
    """A slot to check: ``label`` names it in messages (``"session 3"``, ``"S-12"``);
    ``session_id`` is the session being moved, ``None`` for a new one."""

    label: str
    starts_at: datetime
    chair_id: int
    provider_id: int
    session_id: int | None = None


def book_series(
    session: Session,
    actor: Actor,
    plan: SeriesPlan,
    acknowledged: Collection[str] = (),
    *,
    now: datetime,
) -> Series:
    """Book every session of ``plan`` or none; return the series (new, or ``plan.series_id``).

    Raises :class:`ValidationError` for hard stops, unplaced sessions and broken rules,
    :class:`Unacknowledged` for warnings not acknowledged by code, :class:`SlotTaken` when
    a session holds a chair, the patient or the spacing the plan needs. A session starting
    before ``now`` (the caller's clock, UTC-aware) less :data:`PAST_GRACE` is refused.
    """
    actor.require(Permission.SCHEDULE_BOOK)
    series, _rows = _book(session, actor, plan, acknowledged, now)
    return series


def _book(
    session: Session,
    actor: Actor,
    plan: SeriesPlan,
    acknowledged: Collection[str],
    now: datetime,
) -> tuple[Series, list[TreatmentSession]]:
    _refuse_unbookable(plan)
    patient, protocol, location = _plan_records(session, plan)
    series = _series_to_extend(session, plan) if plan.series_id is not None else None
    wanted = _wanted(plan)
    lock_for_booking(session, [w.chair_id for w in wanted], patient_ids=[patient.id])
    zone = ZoneInfo(location.time_zone)
    _check_gates(session, plan, patient, protocol, location, wanted, zone, acknowledged)
    chair_time = timedelta(minutes=protocol.chair_minutes)
    ctx = load_context(
        session,
        patient,
        protocol,
        location,
        min(w.starts_at for w in wanted),
        max(w.starts_at for w in wanted) + chair_time,
    )
    refuse(ctx, check_slots(ctx, wanted, now=now))
    if series is None:
        series = _new_series(session, actor, plan)
    rows = _write_sessions(session, actor, ctx, series, plan, wanted, now)
    session.expire(series, ["sessions"])
    if plan.series_id is not None:
        refresh_series_status(session, series)
    return series, rows


def book_session(
    session: Session,
    actor: Actor,
    patient: Patient,
    protocol: Protocol,
    chair: Chair,
    starts_at: datetime,
    *,
    provider: Provider | None = None,
    acknowledged: Collection[str] = (),
    now: datetime,
) -> TreatmentSession:
    """Book one session as a one-session series at ``chair``'s location.

    ``provider`` defaults to the first usable provider at the location who can take one
    more chair then. The checks and gates are those of :func:`book_series`.
    """
    actor.require(Permission.SCHEDULE_BOOK)
    start = as_instant(starts_at)
    location = chair.location
    if provider is None:
        provider = _free_provider(session, patient, protocol, location, chair, start)
    slot = Slot(
        starts_at=start,
        ends_at=start + timedelta(minutes=protocol.chair_minutes),
        chair_id=chair.id,
        chair_name=chair.name,
        provider_id=provider.id,
        provider_name=provider.display_name,
    )
    choices = protocol.interval_choices
    plan = SeriesPlan(
        patient_id=patient.id,
        protocol_id=protocol.id,
        location_id=location.id,
        time_zone=location.time_zone,
        interval_weeks=choices[0] if choices else None,
        sessions=(ProposedSession(1, slot),),
    )
    _series, rows = _book(session, actor, plan, acknowledged, now)
    return rows[0]


def lock_for_booking(
    session: Session, chair_ids: Iterable[int], *, patient_ids: Iterable[int] = ()
) -> None:
    """Make racing bookings of these chairs (and patients) queue before their checks.

    SQLite: nothing to do, the write transaction began with ``BEGIN IMMEDIATE``.
    PostgreSQL: ``SELECT … FOR UPDATE`` on the chair rows, then the patient rows, each in
    id order, so two workstations never wait on each other in a circle.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    chairs = sorted(set(chair_ids))
    session.execute(
        select(Chair.id).where(Chair.id.in_(chairs)).order_by(Chair.id).with_for_update()
    ).all()
    patients = sorted(set(patient_ids))
    if patients:
        session.execute(
            select(Patient.id)
            .where(Patient.id.in_(patients))
            .order_by(Patient.id)
            .with_for_update()
        ).all()


def as_instant(moment: datetime, field: str = "starts_at") -> datetime:
    """``moment`` in UTC; a naive datetime is refused (we would only be guessing its zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError.single(field, "give the time with its time zone")
    return moment.astimezone(UTC)


def check_slots(
    ctx: PlanningContext, wanted: Sequence[Wanted], *, now: datetime
) -> list[tuple[Wanted, SlotProblem]]:
    """Every problem of every wanted slot, in order.

    Each slot is held in ``ctx.occupancy`` once checked, so the later ones are checked
    against it: the sessions of one booking or shift never clash with each other. A slot
    starting before ``now`` less :data:`PAST_GRACE` is a problem too.
    """
    earliest = as_instant(now, "now") - PAST_GRACE
    found: list[tuple[Wanted, SlotProblem]] = []
    for want in wanted:
        problems = slot_problems(ctx, want.starts_at, want.chair_id, want.provider_id)
        if want.starts_at < earliest:
            problems.insert(0, SlotProblem("past", "that time has already passed"))
        found.extend((want, problem) for problem in problems)
        ends_at = want.starts_at + ctx.chair_time
        held = Held(
            want.session_id,
            want.chair_id,
            want.provider_id,
            ctx.patient.id,
            want.starts_at,
            ends_at,
        )
        ctx.occupancy.hold(held)
    return found


def refuse(
    ctx: PlanningContext,
    found: Sequence[tuple[Wanted, SlotProblem]],
    *,
    first_per_slot: bool = False,
    by_rule: bool = False,
) -> None:
    """Raise for the problems :func:`check_slots` found; return when there are none.

    A clash with another session raises :class:`SlotTaken` (its ``session_id`` is the
    first session in the way, its message lists every problem); other problems raise
    :class:`ValidationError`, one :class:`FieldProblem` each, under the slot's label or,
    with ``by_rule``, under the form field the rule belongs to.
    """
    if first_per_slot:
        firsts: dict[Wanted, SlotProblem] = {}
        for want, problem in found:
            firsts.setdefault(want, problem)
        found = list(firsts.items())
    if not found:
        return
    clash = next((problem for _want, problem in found if problem.rule in CLASHES), None)
    if clash is not None:
        lines = "; ".join(f"{w.label}, {_when(ctx, w.starts_at)}: {p.text}" for w, p in found)
        raise SlotTaken(
            lines[:1].upper() + lines[1:], clash.held.session_id if clash.held else None
        )
    raise ValidationError(
        FieldProblem(
            RULE_FIELDS.get(p.rule, w.label) if by_rule else w.label,
            f"{_when(ctx, w.starts_at)}: {p.text}",
        )
        for w, p in found
    )


@contextmanager
def chair_backstop(
    session: Session, wanted: Sequence[Wanted], chair_time: timedelta, time_zone: str
) -> Iterator[None]:
    """Run the block's writes of holding sessions; flush them at the end.

    On PostgreSQL the block runs in a savepoint: when the exclusion constraint refuses an
    overlap the checks could not see (a session written by a path that took no lock), the
    savepoint is rolled back and :class:`SlotTaken` names the session now in the chair.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        session.flush()
        return
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as error:
        if not _is_chair_overlap(error):
            raise
        raise _taken_after_backstop(session, wanted, chair_time, time_zone) from None


def _is_chair_overlap(error: IntegrityError) -> bool:
    orig = error.orig
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    return getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION and constraint in (
        None,
        OVERLAP_CONSTRAINT,
    )


def _taken_after_backstop(
    session: Session, wanted: Sequence[Wanted], chair_time: timedelta, time_zone: str
) -> Conflict:
    mine = [w.session_id for w in wanted if w.session_id is not None]
    for want in wanted:
        ends_at = want.starts_at + chair_time
        row = session.execute(
            select(
                TreatmentSession.id,
                TreatmentSession.chair_id,
                TreatmentSession.provider_id,
                TreatmentSession.patient_id,
                TreatmentSession.starts_at,
                TreatmentSession.ends_at,
            )
            .where(
                TreatmentSession.chair_id == want.chair_id,
                TreatmentSession.starts_at < ends_at,
                TreatmentSession.ends_at > want.starts_at,
                TreatmentSession.status.not_in(RELEASED),
                TreatmentSession.id.not_in(mine),
            )
            .order_by(TreatmentSession.starts_at)
        ).first()
        if row is not None:
            held = Held(*row)
            chair = session.get(Chair, want.chair_id)
            name = chair.name if chair else "the chair"
            text = f"{name} was just taken by {describe(session, held, time_zone)}"
            return SlotTaken(f"{want.label[:1].upper()}{want.label[1:]}: {text}", held.session_id)
    return Conflict("the chair was taken at the same moment on another workstation; try again")


def _when(ctx: PlanningContext, moment: datetime) -> str:
    return f"{ctx.local(moment):%a %d %b %Y %H:%M}"


def _refuse_unbookable(plan: SeriesPlan) -> None:
    if plan.blockers:
        raise ValidationError(FieldProblem("booking", blocker) for blocker in plan.blockers)
    if not plan.sessions:
        raise ValidationError.single("booking", "the plan has no sessions to book")
    if plan.unplaced:
        numbers = ", ".join(str(s.number) for s in plan.unplaced)
        many = len(plan.unplaced) > 1
        raise ValidationError.single(
            "booking",
            f"session{'s' if many else ''} {numbers} could not be placed; pick one of the "
            "alternatives offered, or plan again from another start or with other preferences",
        )


def _plan_records(session: Session, plan: SeriesPlan) -> tuple[Patient, Protocol, Location]:
    patient = session.get(Patient, plan.patient_id)
    protocol = session.get(Protocol, plan.protocol_id)
    location = session.get(Location, plan.location_id)
    if patient is None:
        raise NotFound(f"no patient with id {plan.patient_id}")
    if protocol is None:
        raise NotFound(f"no protocol with id {plan.protocol_id}")
    if location is None:
        raise NotFound(f"no location with id {plan.location_id}")
    return patient, protocol, location


def _series_to_extend(session: Session, plan: SeriesPlan) -> Series:
    series = session.get(Series, plan.series_id)
    if series is None:
        raise NotFound(f"no series with id {plan.series_id}")
    if series.patient_id != plan.patient_id:
        raise ValidationError.single("booking", "that series belongs to another patient")
    if series.status is SeriesStatus.DISCONTINUED:
        raise Conflict(
            f"this series was discontinued ({series.discontinued_reason}); "
            "book a new series instead"
        )
    taken = set(
        session.scalars(
            select(TreatmentSession.number).where(TreatmentSession.series_id == series.id)
        )
    )
    numbers = {plan.first_number + i for i in range(len(plan.sessions))}
    if taken & numbers:
        raise Conflict("the series changed since these sessions were planned; plan them again")
    return series


def _wanted(plan: SeriesPlan) -> list[Wanted]:
    wanted = []
    for index, proposed in enumerate(plan.sessions):
        slot = proposed.slot
        if slot is None:  # refused by _refuse_unbookable; kept for the type checker
            continue
        number = plan.first_number + index
        wanted.append(
            Wanted(f"session {number}", as_instant(slot.starts_at), slot.chair_id, slot.provider_id)
        )
    return wanted


def _check_gates(
    session: Session,
    plan: SeriesPlan,
    patient: Patient,
    protocol: Protocol,
    location: Location,
    wanted: Sequence[Wanted],
    zone: ZoneInfo,
    acknowledged: Collection[str],
) -> None:
    days = [w.starts_at.astimezone(zone).date() for w in wanted]
    blockers, warnings = booking_gates(
        session, patient, protocol, location, min(days), days, series_id=plan.series_id
    )
    if blockers:
        raise ValidationError(FieldProblem("booking", blocker) for blocker in blockers)
    every = {w.code: w.message for w in (*plan.warnings, *warnings)}
    missing = [(code, text) for code, text in every.items() if code not in acknowledged]
    if missing:
        raise Unacknowledged(missing)


def _new_series(session: Session, actor: Actor, plan: SeriesPlan) -> Series:
    series = Series(
        patient_id=plan.patient_id,
        protocol_id=plan.protocol_id,
        location_id=plan.location_id,
        status=SeriesStatus.PLANNED,
        interval_weeks=plan.interval_weeks,
        created_by=actor.username,
    )
    session.add(series)
    session.flush()
    audit.record(session, actor, "create", "series", series.id, after=audit.snapshot(series))
    return series


def _write_sessions(
    session: Session,
    actor: Actor,
    ctx: PlanningContext,
    series: Series,
    plan: SeriesPlan,
    wanted: Sequence[Wanted],
    now: datetime,
) -> list[TreatmentSession]:
    protocol = ctx.protocol
    rows = [
        TreatmentSession(
            series_id=series.id,
            number=plan.first_number + index,
            patient_id=ctx.patient.id,
            location_id=ctx.location.id,
            chair_id=want.chair_id,
            provider_id=want.provider_id,
            modality=protocol.modality,
            starts_at=want.starts_at,
            ends_at=want.starts_at + ctx.chair_time,
            status=SessionStatus.SCHEDULED,
        )
        for index, want in enumerate(wanted)
    ]
    with chair_backstop(session, wanted, ctx.chair_time, ctx.location.time_zone):
        session.add_all(rows)
    for row in rows:
        session.add(
            SessionStep(
                session_id=row.id,
                status=SessionStatus.SCHEDULED,
                at=now,
                actor=actor.username,
                note="booked",
            )
        )
        audit.record(session, actor, "create", "session", row.id, after=audit.snapshot(row))
    return rows


def _free_provider(
    session: Session,
    patient: Patient,
    protocol: Protocol,
    location: Location,
    chair: Chair,
    start: datetime,
) -> Provider:
    ctx = load_context(
        session,
        patient,
        protocol,
        location,
        start,
        start + timedelta(minutes=protocol.chair_minutes),
    )
    usable = ctx.usable_providers()
    for provider in usable:
        problems = slot_problems(ctx, start, chair.id, provider.id)
        if not any(p.rule in ("provider", "provider_busy") for p in problems):
            return provider
    what = Modality(protocol.modality).label
    if not usable:
        raise ValidationError.single(
            "provider", f"no provider at {location.name} can supervise {what} sessions"
        )
    raise ValidationError.single(
        "provider",
        f"every provider at {location.name} supervises as many chairs as allowed at "
        f"{_when(ctx, start)}; choose another time",
    )
