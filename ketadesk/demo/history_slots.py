"""Slot finding for the demo's history: the clinic as the allocator sees it, in ticks.

:meth:`Clinic.load` reads each location (:class:`Site`: chairs and the modalities they
host, opening hours, closures through :func:`~ketadesk.clinic.locations.closed_reason`,
cached per day) and the providers (:class:`Staff`). :class:`Occupancy` places a session in
memory, first fit from the wanted day and the patient's usual time of day: per location-day
a bitmask of 15-minute ticks per chair, per provider-day a load per tick and the one
location the provider works at that day. A :class:`Slot` is only taken on an open day,
inside one opening interval, in a chair that hosts the modality, with a provider below
their concurrent-chair limit (REMS-enrolled for esketamine). Ticks round chair time up, so
the checks in :mod:`ketadesk.scheduling.rules`, made on exact instants, hold too — and
PostgreSQL's exclusion constraint never fires.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.clinic.locations import closed_reason, hours_on
from ketadesk.clinic.models import Chair, Location, Modality, Provider
from ketadesk.demo.history_rates import TICKS_PER_DAY
from ketadesk.scheduling.models import Protocol


@dataclass(frozen=True)
class Staff:
    id: int
    rems: bool
    max_chairs: int


class Site:
    """One location: its chairs and providers by modality, and its open days in ticks."""

    def __init__(
        self, location: Location, chairs: Sequence[Chair], providers: Sequence[Provider]
    ) -> None:
        self.id = location.id
        self.location = location
        self.zone = ZoneInfo(location.time_zone)
        self.late_cancel_hours = location.late_cancel_hours
        # Specialised chairs first, so a flexible chair stays free for what only it hosts.
        ordered = sorted(
            (c for c in chairs if c.active), key=lambda c: (len(c.modalities), c.name, c.id)
        )
        self.all_chairs = tuple(c.id for c in ordered)
        self.chairs = {m: tuple(c.id for c in ordered if m in c.modalities) for m in Modality}
        staff = [
            Staff(p.id, p.rems_enrolled, p.max_concurrent_chairs)
            for p in sorted(providers, key=lambda p: p.id)
            if p.active
        ]
        self.providers = {
            m: tuple(s for s in staff if s.rems or m is not Modality.ESKETAMINE) for m in Modality
        }
        self._days: dict[int, tuple[tuple[int, int], ...]] = {}
        self._starts: dict[tuple[int, int], int] = {}

    def offers(self, modality: Modality) -> bool:
        return bool(self.chairs[modality] and self.providers[modality])

    def intervals(self, day: date) -> tuple[tuple[int, int], ...]:
        """The open intervals of ``day`` in ticks from local midnight; none when closed."""
        key = day.toordinal()
        found = self._days.get(key)
        if found is None:
            found = (
                ()
                if closed_reason(self.location, day)
                else tuple(
                    (ticks_up(iv.opens), ticks_down(iv.closes))
                    for iv in hours_on(self.location, day)
                )
            )
            self._days[key] = found
        return found

    def start_mask(self, day: date, length: int) -> int:
        """Bit ``t`` is set when a session of ``length`` ticks may start at tick ``t`` on
        ``day``: it fits inside one opening interval. Zero on a closed day."""
        intervals = self.intervals(day)
        if not intervals:
            return 0
        key = (day.weekday(), length)  # an open day's hours depend on its weekday alone
        found = self._starts.get(key)
        if found is None:
            found = 0
            for opens, closes in intervals:
                for tick in range(opens, closes - length + 1):
                    found |= 1 << tick
            self._starts[key] = found
        return found

    def instant(self, day: date, tick: int) -> datetime:
        return datetime.combine(day, time(tick // 4, tick % 4 * 15), self.zone).astimezone(UTC)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def noon(self, day: date) -> datetime:
        return self.instant(day, 48)


def ticks_from(mask: int, wanted: int) -> Iterator[int]:
    """The set bits of ``mask`` from ``wanted`` upwards, then below ``wanted`` downwards."""
    upper = mask & (-1 << wanted)
    while upper:
        lowest = upper & -upper
        yield lowest.bit_length() - 1
        upper ^= lowest
    lower = mask & ((1 << wanted) - 1)
    while lower:
        highest = lower.bit_length() - 1
        yield highest
        lower ^= 1 << highest


def ticks_up(clock: time) -> int:
    return -(-(clock.hour * 60 + clock.minute + (clock.second > 0)) // 15)


def ticks_down(clock: time) -> int:
    return (clock.hour * 60 + clock.minute) // 15


@dataclass
class Clinic:
    sites: dict[int, Site]
    protocols: dict[str, Protocol]

    @classmethod
    def load(cls, session: Session) -> Clinic:
        locations = session.scalars(
            select(Location)
            .order_by(Location.id)
            .options(
                selectinload(Location.hours),
                selectinload(Location.closures),
                selectinload(Location.holidays_worked),
                selectinload(Location.chairs),
            )
        ).all()
        providers = session.scalars(
            select(Provider).options(selectinload(Provider.locations))
        ).all()
        sites = {
            loc.id: Site(
                loc, loc.chairs, [p for p in providers if any(w.id == loc.id for w in p.locations)]
            )
            for loc in locations
            if loc.active
        }
        protocols = {p.key: p for p in session.scalars(select(Protocol))}
        return cls(sites, protocols)


# ---------------------------------------------------------------------------------------
# Occupancy in ticks
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    site: Site
    day: date
    tick: int
    length: int
    chair_id: int
    provider_id: int
    starts_at: datetime
    ends_at: datetime


class ProviderDay:
    """Where a provider works on one local day (one location a day) and their load per tick."""

    __slots__ = ("loads", "site_id")

    def __init__(self, site_id: int) -> None:
        self.site_id = site_id
        self.loads = [0] * TICKS_PER_DAY


class Occupancy:
    def __init__(self) -> None:
        self.chairs: dict[tuple[int, int], int] = {}
        self.providers: dict[tuple[int, int], ProviderDay] = {}

    def find(
        self,
        site: Site,
        protocol: Protocol,
        wanted_day: date,
        wanted_tick: int,
        earliest: datetime,
        last_day: date,
        preferred: int | None,
        ticks: Sequence[int] | None = None,
    ) -> Slot | None:
        """The first free slot from ``wanted_day`` at ``wanted_tick`` on (then back towards
        the opening, then the next open day), not before ``earliest`` and not after
        ``last_day``; ``ticks`` limits the start ticks."""
        length = -(-protocol.chair_minutes // 15)
        staff = site.providers[protocol.modality]
        if preferred is not None:
            staff = tuple(sorted(staff, key=lambda s: s.id != preferred))
        allowed = sum(1 << t for t in ticks) if ticks is not None else -1
        first = earliest.astimezone(site.zone)
        day = max(wanted_day, first.date())
        while day <= last_day:
            starts = self._free_starts(site, protocol.modality, day, length) & allowed
            if day == first.date():
                starts &= -1 << ticks_up(first.time())
            for tick in ticks_from(starts, wanted_tick):
                found = self._fit(site, protocol, day, tick, length, staff)
                if found is not None:
                    return found
            day += timedelta(days=1)
        return None

    def _free_starts(self, site: Site, modality: Modality, day: date, length: int) -> int:
        """Start ticks at which some chair hosting ``modality`` is free for ``length`` ticks."""
        fitting = site.start_mask(day, length)
        ordinal, found = day.toordinal(), 0
        for chair in site.chairs[modality] if fitting else ():
            free = ~self.chairs.get((chair, ordinal), 0)
            run = free
            for shift in range(1, length):
                run &= free >> shift
            found |= run & fitting
        return found

    def _fit(
        self,
        site: Site,
        protocol: Protocol,
        day: date,
        tick: int,
        length: int,
        staff: Sequence[Staff],
    ) -> Slot | None:
        ordinal = day.toordinal()
        mask = ((1 << length) - 1) << tick
        chair = next(
            c for c in site.chairs[protocol.modality] if not self.chairs.get((c, ordinal), 0) & mask
        )
        for person in staff:
            held = self.providers.get((person.id, ordinal))
            if held is None or (
                held.site_id == site.id
                and max(held.loads[tick : tick + length]) < person.max_chairs
            ):
                starts_at = site.instant(day, tick)
                return Slot(
                    site,
                    day,
                    tick,
                    length,
                    chair,
                    person.id,
                    starts_at,
                    starts_at + timedelta(minutes=protocol.chair_minutes),
                )
        return None

    def take(self, slot: Slot) -> None:
        ordinal = slot.day.toordinal()
        key = (slot.chair_id, ordinal)
        self.chairs[key] = self.chairs.get(key, 0) | ((1 << slot.length) - 1) << slot.tick
        held = self.providers.get((slot.provider_id, ordinal))
        if held is None:
            held = self.providers[slot.provider_id, ordinal] = ProviderDay(slot.site.id)
        for tick in range(slot.tick, slot.tick + slot.length):
            held.loads[tick] += 1

    def chairs_taken(self, site: Site, day: date, tick: int) -> int:
        ordinal = day.toordinal()
        return sum(1 for c in site.all_chairs if self.chairs.get((c, ordinal), 0) >> tick & 1)
