"""Who and what is taken when: the occupancy the planner and booking check against.

:class:`Occupancy` loads, in one query, every session that holds a chair and could matter
to a plan: sessions at the location, sessions of the providers who work there (wherever
they are), and the patient's own sessions, over a window of time. After that every check
is in memory, so the planner can try hundreds of candidate slots in a few milliseconds.

The planner adds its own tentative sessions with :meth:`Occupancy.hold`, so the sessions
of one plan never collide with each other. Booking builds a fresh :class:`Occupancy`
*inside* its write transaction (after the write lock on SQLite, after locking the chairs'
rows on PostgreSQL) and checks again; that second check is what makes a race safe.

Each check returns the :class:`Held` session in the way (or ``None``), so the caller can
name it in the message with :func:`describe`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ketadesk.clinic.models import Chair, Patient, Provider, provider_location
from ketadesk.scheduling.models import RELEASED, Protocol, Series, TreatmentSession

# Spacing rules look back and forward this far around the planning window.
MARGIN = timedelta(days=8)


@dataclass(frozen=True)
class Held:
    """A session holding a chair, a provider and a patient from ``starts_at`` to ``ends_at``.

    ``session_id`` is ``None`` for a tentative session of the plan being built.
    """

    session_id: int | None
    chair_id: int
    provider_id: int
    patient_id: int
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return self.starts_at < ends_at and starts_at < self.ends_at


class Occupancy:
    """The holding sessions around one location and one patient over a window of time.

    Args:
        session: an open SQLAlchemy session.
        location_id: the location being planned.
        start, end: the window (UTC-aware instants); :data:`MARGIN` is added both sides.
        patient_id: the patient being planned, whose sessions anywhere are loaded.
        ignore: ids of sessions to leave out (the ones being moved).
    """

    def __init__(
        self,
        session: Session,
        location_id: int,
        start: datetime,
        end: datetime,
        patient_id: int | None = None,
        ignore: Collection[int] = (),
    ) -> None:
        self._by_chair: dict[int, list[Held]] = defaultdict(list)
        self._by_provider: dict[int, list[Held]] = defaultdict(list)
        self._by_patient: dict[int, list[Held]] = defaultdict(list)
        self._ignore = set(ignore)
        for held in _load(session, location_id, start - MARGIN, end + MARGIN, patient_id):
            if held.session_id not in self._ignore:
                self.hold(held)

    def hold(self, held: Held) -> None:
        """Count ``held`` as taken from now on (a tentative session of the plan)."""
        self._by_chair[held.chair_id].append(held)
        self._by_provider[held.provider_id].append(held)
        self._by_patient[held.patient_id].append(held)

    def release(self, held: Held) -> None:
        """Forget a tentative session (when the planner tries another slot)."""
        self._by_chair[held.chair_id].remove(held)
        self._by_provider[held.provider_id].remove(held)
        self._by_patient[held.patient_id].remove(held)

    def chair_conflict(self, chair_id: int, starts_at: datetime, ends_at: datetime) -> Held | None:
        """The session holding ``chair_id`` at some moment of the range, if any."""
        return _first_overlap(self._by_chair[chair_id], starts_at, ends_at)

    def patient_conflict(
        self, patient_id: int, starts_at: datetime, ends_at: datetime
    ) -> Held | None:
        """The patient's own session overlapping the range (the patient in two places)."""
        return _first_overlap(self._by_patient[patient_id], starts_at, ends_at)

    def spacing_conflict(self, patient_id: int, starts_at: datetime, min_hours: int) -> Held | None:
        """The patient's session whose start is less than ``min_hours`` from ``starts_at``.

        Elapsed hours are real hours (UTC), so a daylight-saving change between two
        sessions at 09:00 local time gives 47 or 49 hours, not 48.
        """
        if min_hours <= 0:
            return None
        gap = timedelta(hours=min_hours)
        for held in self._by_patient[patient_id]:
            if abs(held.starts_at - starts_at) < gap:
                return held
        return None

    def provider_load(self, provider_id: int, starts_at: datetime, ends_at: datetime) -> int:
        """The most sessions the provider supervises at any one moment of the range."""
        overlapping = [h for h in self._by_provider[provider_id] if h.overlaps(starts_at, ends_at)]
        if not overlapping:
            return 0
        events = sorted(
            [(max(h.starts_at, starts_at), 1) for h in overlapping]
            + [(min(h.ends_at, ends_at), -1) for h in overlapping]
        )
        peak = load = 0
        for _moment, change in events:  # ends sort before starts at the same moment
            load += change
            peak = max(peak, load)
        return peak

    def provider_sessions(
        self, provider_id: int, starts_at: datetime, ends_at: datetime
    ) -> list[Held]:
        return [h for h in self._by_provider[provider_id] if h.overlaps(starts_at, ends_at)]

    def patient_sessions(self, patient_id: int) -> list[Held]:
        return sorted(self._by_patient[patient_id], key=lambda h: h.starts_at)


def _first_overlap(items: Iterable[Held], starts_at: datetime, ends_at: datetime) -> Held | None:
    for held in items:
        if held.overlaps(starts_at, ends_at):
            return held
    return None


def _load(
    session: Session, location_id: int, start: datetime, end: datetime, patient_id: int | None
) -> list[Held]:
    providers_here = select(provider_location.c.provider_id).where(
        provider_location.c.location_id == location_id
    )
    who = [
        TreatmentSession.location_id == location_id,
        TreatmentSession.provider_id.in_(providers_here),
    ]
    if patient_id is not None:
        who.append(TreatmentSession.patient_id == patient_id)
    rows = session.execute(
        select(
            TreatmentSession.id,
            TreatmentSession.chair_id,
            TreatmentSession.provider_id,
            TreatmentSession.patient_id,
            TreatmentSession.starts_at,
            TreatmentSession.ends_at,
        ).where(
            or_(*who),
            TreatmentSession.starts_at < end,
            TreatmentSession.ends_at > start,
            TreatmentSession.status.not_in(RELEASED),
        )
    )
    return [Held(*row) for row in rows]


def describe(session: Session, held: Held, time_zone: str) -> str:
    """Name the session in the way, as the front desk would say it.

    ``"S-1234: Łukasiewicz, Zoë — session 4 of IV ketamine induction, Mon 7 Dec 2026
    09:00–10:10 in Chair 2"``; a tentative session of the same plan is named by its time.
    """
    zone = ZoneInfo(time_zone)
    when = (
        f"{held.starts_at.astimezone(zone):%a %d %b %Y %H:%M}–{held.ends_at.astimezone(zone):%H:%M}"
    )
    chair = session.get(Chair, held.chair_id)
    where = f" in {chair.name}" if chair else ""
    if held.session_id is None:
        return f"another session of this plan, {when}{where}"
    row = session.execute(
        select(TreatmentSession.number, Patient, Protocol.name)
        .join(Patient, Patient.id == TreatmentSession.patient_id)
        .join(Series, Series.id == TreatmentSession.series_id)
        .join(Protocol, Protocol.id == Series.protocol_id)
        .where(TreatmentSession.id == held.session_id)
    ).one()
    number, patient, protocol_name = row
    return (
        f"S-{held.session_id}: {patient.family_name}, {patient.given_name} — session "
        f"{number} of {protocol_name}, {when}{where}"
    )


def provider_name(session: Session, provider_id: int) -> str:
    provider = session.get(Provider, provider_id)
    return provider.display_name if provider else f"provider {provider_id}"
