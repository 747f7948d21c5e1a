"""The rules one session's slot must satisfy, checked the same way by planner and booking.

:func:`load_context` gathers, once, everything a plan or a booking at one location needs:
the location with its hours and closures, the chairs and providers that may take the
protocol, and the :class:`~ketadesk.scheduling.availability.Occupancy` around the window.
:func:`slot_problems` then lists every rule a proposed slot breaks, each as a
:class:`SlotProblem` whose sentence a person can read and whose ``held`` names the session
in the way when there is one.

The rules, in the order they are checked:

1. the location is open that local day (closures and observed public holidays included)
   and the whole chair time lies inside one opening interval;
2. the chair is active, at the location, and hosts the protocol's modality;
3. the chair is free for the whole chair time;
4. the provider works at the location, is active, is REMS-enrolled for esketamine, and
   supervises fewer than their concurrent-chair limit throughout;
5. the patient is nowhere else at that time;
6. the patient's other doses are at least ``min_hours_between`` real hours away.

:func:`slot_is_free` asks the same questions but stops at the first broken rule and
words nothing, so a planner trying hundreds of candidates never runs the query that
names a session in the way (:func:`~ketadesk.scheduling.availability.describe`); it
calls :func:`slot_problems` only for the slots it reports on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.clinic.locations import WEEKDAY_NAMES, Interval, closed_reason, hours_on
from ketadesk.clinic.models import Chair, Location, Modality, Patient, Provider
from ketadesk.errors import NotFound
from ketadesk.scheduling.availability import Held, Occupancy, describe
from ketadesk.scheduling.models import Protocol


@dataclass(frozen=True)
class SlotProblem:
    """One broken rule: ``rule`` is a stable key, ``text`` the sentence, ``held`` the
    session in the way (for chair, patient and spacing clashes)."""

    rule: str
    text: str
    held: Held | None = None


@dataclass
class PlanningContext:
    """What planning or booking at one location needs, loaded once."""

    session: Session
    patient: Patient
    protocol: Protocol
    location: Location
    zone: ZoneInfo
    chairs: dict[int, Chair]
    providers: dict[int, Provider]
    occupancy: Occupancy
    _days: dict[date, tuple[str | None, tuple[Interval, ...]]] = field(
        default_factory=dict, repr=False
    )

    @property
    def chair_time(self) -> timedelta:
        return timedelta(minutes=self.protocol.chair_minutes)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def instant(self, day: date, clock: time) -> datetime:
        """The UTC instant of ``clock`` local time on ``day`` at the location.

        A clock time that does not exist (skipped by a spring-forward change) resolves
        forward, as ``zoneinfo`` does with ``fold=0``.
        """
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def opening(self, day: date) -> tuple[str | None, tuple[Interval, ...]]:
        """Why the location is closed on local ``day`` (or ``None``) and its intervals then.

        Worked out once per day for the life of the context.
        """
        known = self._days.get(day)
        if known is None:
            reason = closed_reason(self.location, day)
            intervals = () if reason else tuple(hours_on(self.location, day))
            known = self._days[day] = (reason, intervals)
        return known

    def usable_chairs(self) -> list[Chair]:
        """Chairs that may host the protocol, in a stable order (by name)."""
        modality = self.protocol.modality
        return sorted(
            (c for c in self.chairs.values() if c.active and modality in c.modalities),
            key=lambda c: (c.name, c.id),
        )

    def usable_providers(self) -> list[Provider]:
        return sorted(
            (p for p in self.providers.values() if provider_unfit(p, self.protocol) is None),
            key=lambda p: (p.family_name, p.given_name, p.id),
        )


def load_context(
    session: Session,
    patient: Patient,
    protocol: Protocol,
    location: Location,
    start: datetime,
    end: datetime,
    ignore: Collection[int] = (),
) -> PlanningContext:
    """Load the location's setup and the occupancy from ``start`` to ``end`` (UTC)."""
    location = session.scalars(
        select(Location)
        .where(Location.id == location.id)
        .options(
            selectinload(Location.hours),
            selectinload(Location.closures),
            selectinload(Location.holidays_worked),
        )
    ).one()
    chairs = session.scalars(select(Chair).where(Chair.location_id == location.id)).all()
    providers = session.scalars(
        select(Provider).where(Provider.locations.any(Location.id == location.id))
    ).all()
    return PlanningContext(
        session=session,
        patient=patient,
        protocol=protocol,
        location=location,
        zone=ZoneInfo(location.time_zone),
        chairs={c.id: c for c in chairs},
        providers={p.id: p for p in providers},
        occupancy=Occupancy(session, location.id, start, end, patient.id, ignore),
    )


def provider_unfit(provider: Provider, protocol: Protocol) -> str | None:
    """Why ``provider`` may not supervise ``protocol`` at all (inactive, no REMS), or ``None``."""
    if not provider.active:
        return f"{provider.display_name} is inactive"
    if protocol.requires_rems and not provider.rems_enrolled:
        return f"{provider.display_name} is not enrolled in the Spravato REMS"
    return None


def closed_sentence(location_name: str, day: date, reason: str) -> str:
    """``"Thu 26 Nov 2026: KetaDesk NYC is closed — Thanksgiving Day (public holiday)"``.

    ``reason`` is :func:`~ketadesk.clinic.locations.closed_reason`'s answer; its own
    "Closed" is folded into the sentence rather than repeated.
    """
    if reason.startswith("Closed on "):  # "Closed on Sundays"
        return f"{day:%a %d %b %Y}: {location_name} is closed{reason[len('Closed') :]}"
    detail = reason.removeprefix("Closed: ")
    return f"{day:%a %d %b %Y}: {location_name} is closed — {detail}"


def hours_problem(ctx: PlanningContext, starts_at: datetime) -> SlotProblem | None:
    """Rule 1: the location is open that day and the whole chair time fits one interval."""
    starts_at = starts_at.astimezone(UTC)
    local_start = ctx.local(starts_at)
    local_end = ctx.local(starts_at + ctx.chair_time)
    day = local_start.date()
    reason, intervals = ctx.opening(day)
    if reason is not None:
        return SlotProblem("closed", closed_sentence(ctx.location.name, day, reason))
    for interval in intervals:
        if (
            local_end.date() == day
            and interval.opens <= local_start.time()
            and local_end.time() <= interval.closes
        ):
            return None
    return SlotProblem(
        "hours",
        f"{local_start:%H:%M}–{local_end:%H:%M} is outside {ctx.location.name}'s opening hours "
        f"on {WEEKDAY_NAMES[day.weekday()]}s",
    )


def chair_problem(ctx: PlanningContext, chair_id: int) -> SlotProblem | None:
    """Why the chair cannot take the protocol at all (elsewhere, out of service, modality)."""
    chair = ctx.chairs.get(chair_id)
    if chair is None:
        return SlotProblem("chair", f"that chair is not at {ctx.location.name}")
    if not chair.active:
        return SlotProblem("chair", f"{chair.name} is out of service")
    if ctx.protocol.modality not in chair.modalities:
        return SlotProblem(
            "chair", f"{chair.name} cannot host {Modality(ctx.protocol.modality).label}"
        )
    return None


def slot_problems(
    ctx: PlanningContext, starts_at: datetime, chair_id: int, provider_id: int
) -> list[SlotProblem]:
    """Every rule the slot (``starts_at``, chair, provider) breaks; empty when valid."""
    starts_at = starts_at.astimezone(UTC)  # chair time in real minutes, not wall-clock ones
    ends_at = starts_at + ctx.chair_time
    problems = [p for p in (hours_problem(ctx, starts_at), chair_problem(ctx, chair_id)) if p]
    taken = ctx.occupancy.chair_conflict(chair_id, starts_at, ends_at)
    if taken is not None and not any(p.rule == "chair" for p in problems):
        name = ctx.chairs[chair_id].name
        problems.append(
            SlotProblem("chair_taken", f"{name} is taken by {_named(ctx, taken)}", taken)
        )
    problems.extend(provider_problems(ctx, provider_id, starts_at, ends_at))
    problems.extend(patient_problems(ctx, starts_at, ends_at))
    return problems


def slot_is_free(
    ctx: PlanningContext, starts_at: datetime, chair_id: int, provider_id: int
) -> bool:
    """Whether the slot breaks none of :func:`slot_problems`'s rules.

    Stops at the first broken rule and never names the session in the way, so it runs
    no query: the planner's test for each candidate.
    """
    starts_at = starts_at.astimezone(UTC)
    ends_at = starts_at + ctx.chair_time
    occupancy = ctx.occupancy
    patient_id = ctx.patient.id
    return (
        hours_problem(ctx, starts_at) is None
        and chair_problem(ctx, chair_id) is None
        and occupancy.chair_conflict(chair_id, starts_at, ends_at) is None
        and not provider_problems(ctx, provider_id, starts_at, ends_at)
        and occupancy.patient_conflict(patient_id, starts_at, ends_at) is None
        and occupancy.spacing_conflict(patient_id, starts_at, ctx.protocol.min_hours_between)
        is None
    )


def provider_problems(
    ctx: PlanningContext, provider_id: int, starts_at: datetime, ends_at: datetime
) -> list[SlotProblem]:
    """Rule 4: the provider works here, may give the protocol and has a chair to spare."""
    provider = ctx.providers.get(provider_id)
    if provider is None:
        return [SlotProblem("provider", f"that provider does not work at {ctx.location.name}")]
    unfit = provider_unfit(provider, ctx.protocol)
    if unfit:
        return [SlotProblem("provider", unfit)]
    load = ctx.occupancy.provider_load(provider_id, starts_at, ends_at)
    if load >= provider.max_concurrent_chairs:
        return [
            SlotProblem(
                "provider_busy",
                f"{provider.display_name} already supervises {load} "
                f"chair{'' if load == 1 else 's'} then (limit {provider.max_concurrent_chairs})",
            )
        ]
    return []


def patient_problems(
    ctx: PlanningContext, starts_at: datetime, ends_at: datetime
) -> list[SlotProblem]:
    """Rules 5 and 6: the patient is nowhere else then, and other doses are far enough."""
    patient_id = ctx.patient.id
    elsewhere = ctx.occupancy.patient_conflict(patient_id, starts_at, ends_at)
    if elsewhere is not None:
        return [
            SlotProblem(
                "patient_busy",
                f"the patient is already booked: {_named(ctx, elsewhere)}",
                elsewhere,
            )
        ]
    hours = ctx.protocol.min_hours_between
    near = ctx.occupancy.spacing_conflict(patient_id, starts_at, hours)
    if near is not None:
        gap = abs(near.starts_at - starts_at)
        return [
            SlotProblem(
                "spacing",
                f"only {hours_and_minutes(gap)} from {_named(ctx, near)}; "
                f"doses must be at least {hours} h apart",
                near,
            )
        ]
    return []


def hours_and_minutes(span: timedelta) -> str:
    """``47 h``, ``47 h 45 min``: an elapsed time, never rounded up to the limit it misses."""
    minutes = int(span.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _named(ctx: PlanningContext, held: Held) -> str:
    return describe(ctx.session, held, ctx.location.time_zone)


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient
