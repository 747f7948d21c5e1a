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

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ketadesk.clinic.models import Chair, Patient, Provider, provider_location
from ketadesk.scheduling.models import RELEASED, Protocol, Series, TreatmentSession

# Spacing rules look back and forward this far around the planning window (the patient's
# own sessions only: chair and provider questions need just the sessions overlapping it).
MARGIN = timedelta(days=8)
# No session holds a chair this long (protocols allow 20 h at most), so a session that
# overlaps the window starts less than this before it: the bound that lets each index
# seek to the window instead of reading years of history.
LONGEST_SESSION = timedelta(days=1)


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
        start, end: the window (UTC-aware instants). The chair and provider sessions
            overlapping it are loaded, and the patient's own with :data:`MARGIN` added
            both sides, for the spacing rule.
        patient_id: the patient being planned, whose sessions anywhere are loaded.
        ignore: ids of sessions to leave out (the ones being moved).

    Sessions are kept per chair, per provider and per patient in start order
    (:class:`_Timeline`), so each question looks only at the sessions near the moment
    asked about, however many years of history the location has.
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
        self._by_chair: dict[int, _Timeline] = defaultdict(_Timeline)
        self._by_provider: dict[int, _Timeline] = defaultdict(_Timeline)
        self._by_patient: dict[int, _Timeline] = defaultdict(_Timeline)
        self._ignore = set(ignore)
        for held in _load(session, location_id, start, end, patient_id):
            if held.session_id not in self._ignore:
                self.hold(held)

    def hold(self, held: Held) -> None:
        """Count ``held`` as taken from now on (a tentative session of the plan)."""
        self._by_chair[held.chair_id].add(held)
        self._by_provider[held.provider_id].add(held)
        self._by_patient[held.patient_id].add(held)

    def release(self, held: Held) -> None:
        """Forget a tentative session (when the planner tries another slot)."""
        self._by_chair[held.chair_id].remove(held)
        self._by_provider[held.provider_id].remove(held)
        self._by_patient[held.patient_id].remove(held)

    def chair_conflict(self, chair_id: int, starts_at: datetime, ends_at: datetime) -> Held | None:
        """The session holding ``chair_id`` at some moment of the range, if any."""
        return next(self._by_chair[chair_id].overlapping(starts_at, ends_at), None)

    def patient_conflict(
        self, patient_id: int, starts_at: datetime, ends_at: datetime
    ) -> Held | None:
        """The patient's own session overlapping the range (the patient in two places)."""
        return next(self._by_patient[patient_id].overlapping(starts_at, ends_at), None)

    def spacing_conflict(self, patient_id: int, starts_at: datetime, min_hours: int) -> Held | None:
        """The patient's session whose start is less than ``min_hours`` from ``starts_at``.

        Elapsed hours are real hours (UTC), so a daylight-saving change between two
        sessions at 09:00 local time gives 47 or 49 hours, not 48.
        """
        if min_hours <= 0:
            return None
        return self._by_patient[patient_id].starting_near(starts_at, timedelta(hours=min_hours))

    def provider_load(self, provider_id: int, starts_at: datetime, ends_at: datetime) -> int:
        """The most sessions the provider supervises at any one moment of the range."""
        overlapping = self.provider_sessions(provider_id, starts_at, ends_at)
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
        return list(self._by_provider[provider_id].overlapping(starts_at, ends_at))

    def patient_sessions(self, patient_id: int) -> list[Held]:
        return list(self._by_patient[patient_id])


class _Timeline:
    """Sessions in start order, with the longest one's length, for overlap questions.

    A session overlapping ``[starts_at, ends_at)`` starts before ``ends_at`` and no earlier
    than ``starts_at`` minus the longest session, so two bisections bound the search.
    Arithmetic is done in UTC: on a zoned datetime ``- timedelta(hours=48)`` would count
    wall-clock hours and be an hour off across a daylight-saving change.
    """

    def __init__(self) -> None:
        self._starts: list[datetime] = []
        self._items: list[Held] = []
        self._longest = timedelta(0)

    def __iter__(self) -> Iterator[Held]:
        return iter(list(self._items))

    def add(self, held: Held) -> None:
        starts_at = held.starts_at.astimezone(UTC)
        index = bisect_right(self._starts, starts_at)
        self._starts.insert(index, starts_at)
        self._items.insert(index, held)
        self._longest = max(self._longest, held.ends_at.astimezone(UTC) - starts_at)

    def remove(self, held: Held) -> None:
        index = self._items.index(held)
        del self._starts[index]
        del self._items[index]

    def overlapping(self, starts_at: datetime, ends_at: datetime) -> Iterator[Held]:
        first = bisect_left(self._starts, starts_at.astimezone(UTC) - self._longest)
        last = bisect_left(self._starts, ends_at)
        return (h for h in self._items[first:last] if h.overlaps(starts_at, ends_at))

    def starting_near(self, moment: datetime, gap: timedelta) -> Held | None:
        """The first session starting less than ``gap`` before or after ``moment``."""
        moment = moment.astimezone(UTC)
        first = bisect_right(self._starts, moment - gap)
        last = bisect_left(self._starts, moment + gap)
        return self._items[first] if first < last else None


def _load(
    session: Session, location_id: int, start: datetime, end: datetime, patient_id: int | None
) -> list[Held]:
    """The holding sessions that could matter, oldest first, in one query.

    Each branch of the ``OR`` carries its own range on ``starts_at`` so that SQLite and
    PostgreSQL seek in the matching index (location, provider or patient, then start).
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    starts = TreatmentSession.starts_at
    overlapping = (starts >= start - LONGEST_SESSION, starts < end)
    providers_here = select(provider_location.c.provider_id).where(
        provider_location.c.location_id == location_id
    )
    who = [
        and_(TreatmentSession.location_id == location_id, *overlapping),
        and_(TreatmentSession.provider_id.in_(providers_here), *overlapping),
    ]
    if patient_id is not None:
        who.append(
            and_(
                TreatmentSession.patient_id == patient_id,
                starts >= start - MARGIN,
                starts < end + MARGIN,
            )
        )
    rows = session.execute(
        select(
            TreatmentSession.id,
            TreatmentSession.chair_id,
            TreatmentSession.provider_id,
            TreatmentSession.patient_id,
            starts,
            TreatmentSession.ends_at,
        ).where(
            or_(*who),
            TreatmentSession.ends_at > start - MARGIN,
            TreatmentSession.status.not_in(RELEASED),
        )
    )
    return sorted((Held(*row) for row in rows), key=lambda held: held.starts_at)


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
