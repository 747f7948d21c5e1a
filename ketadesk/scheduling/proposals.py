"""What the planner proposes and booking takes: frozen records that cross layers.

A :class:`SeriesPlan` is the planner's answer for one patient, protocol and location: one
:class:`ProposedSession` per session, each with a :class:`Slot` (chair, provider, time) or
none when nothing fits, the problems met on the way (in words), and the nearest valid
alternatives. Hard stops (``blockers``, e.g. REMS enrolment) forbid booking; ``warnings``
(screening flags, prior authorisation) must be acknowledged by their ``code``.

The window and the CLI show these records; :func:`ketadesk.scheduling.booking.book_series`
books one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time


@dataclass(frozen=True)
class Preferences:
    """What the patient asked for. Empty means "any".

    ``weekdays`` are 0 = Monday … 6 = Sunday; ``earliest``/``latest`` bound the session's
    local start time; ``interval_weeks`` and ``count`` apply to open-ended (interval)
    protocols: how often, and how many sessions to book now.
    """

    weekdays: frozenset[int] = frozenset()
    earliest: time | None = None
    latest: time | None = None
    chair_id: int | None = None
    provider_id: int | None = None
    interval_weeks: int | None = None
    count: int | None = None


@dataclass(frozen=True)
class Slot:
    """A chair and a provider from ``starts_at`` to ``ends_at`` (UTC-aware instants)."""

    starts_at: datetime
    ends_at: datetime
    chair_id: int
    chair_name: str
    provider_id: int
    provider_name: str


@dataclass(frozen=True)
class ProposedSession:
    """Session ``number`` of the series.

    ``slot`` is ``None`` when it could not be placed; ``problems`` say, in words, why the
    wanted time could not be used (and, when ``slot`` is set, that it was moved);
    ``alternatives`` are the nearest valid slots the user may pick instead.
    """

    number: int
    slot: Slot | None
    problems: tuple[str, ...] = ()
    alternatives: tuple[Slot, ...] = ()

    @property
    def placed(self) -> bool:
        return self.slot is not None


@dataclass(frozen=True)
class PlanWarning:
    """A finding the user must acknowledge before booking (``code`` is stable)."""

    code: str
    message: str


@dataclass(frozen=True)
class SeriesPlan:
    patient_id: int
    protocol_id: int
    location_id: int
    time_zone: str
    interval_weeks: int | None
    sessions: tuple[ProposedSession, ...]
    blockers: tuple[str, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    # Sessions that already exist in the series (when adding boosters), for numbering.
    first_number: int = 1
    series_id: int | None = field(default=None)

    @property
    def unplaced(self) -> tuple[ProposedSession, ...]:
        return tuple(s for s in self.sessions if s.slot is None)

    @property
    def bookable(self) -> bool:
        """No hard stop and every session has a slot (warnings still need acknowledging)."""
        return not self.blockers and not self.unplaced

    def choose(self, number: int, slot: Slot) -> SeriesPlan:
        """This plan with session ``number`` moved to ``slot`` (one of its alternatives)."""
        sessions = tuple(
            replace(s, slot=slot, problems=(), alternatives=()) if s.number == number else s
            for s in self.sessions
        )
        return replace(self, sessions=sessions)
