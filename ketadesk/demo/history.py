"""The demo's scheduling history: every patient's series and sessions over the years.

:func:`add_history` runs after the patients stage of :func:`ketadesk.demo.generator.generate`
and gives each patient a treatment journey that starts around their registration date:

1. **Who is treated.** Patients without a recorded weight, with a contraindication among
   their screening flags, or a small share of the rest (:data:`NO_TREATMENT_RATE`) only
   came for a consultation and have no series.
2. **Induction.** REMS-enrolled patients mostly start the esketamine induction (only with a
   REMS-enrolled provider, after their enrolment date); the others IV, IM or KAP by
   :data:`INDUCTION_MIX`, as their home location's chairs allow. Some stop during the
   induction (:data:`DISCONTINUE_RATE`, higher for patients who do not respond): the
   series is discontinued with a reason and its remaining sessions are cancelled.
3. **Maintenance.** After a completed induction many go on (:data:`MAINTENANCE_RATE`) with
   IV boosters every 2–6 weeks or esketamine weekly or every two weeks, until they stop
   (:data:`MAINTENANCE_STOP_RATE` per session: the series is discontinued with a reason)
   or the booking horizon is reached (the series stays active). Some return for a new
   induction months later (:data:`RETURN_RATE`).
4. **Sessions.** Each session is placed in memory, first fit from the wanted day and the
   patient's usual time of day, moving to the next open day when the location is full:
   per location-day a bitmask of 15-minute ticks per chair, per provider-day a load per
   tick and the one location the provider works at that day. A slot is only taken on an
   open day (:func:`~ketadesk.clinic.locations.closed_reason`, cached per location-day),
   inside one opening interval, in a chair that hosts the modality, with a provider below
   their concurrent-chair limit (REMS-enrolled for esketamine), at least the protocol's
   ``min_hours_between`` after the patient's previous dose. Ticks round chair time up, so
   the checks in :mod:`ketadesk.scheduling.rules`, made on exact instants, hold too — and
   PostgreSQL's exclusion constraint never fires.
5. **Outcomes relative to ``now``.** Every booked session draws a fate: attended, or
   cancelled / late-cancelled / no-show at the named rates. A fate whose moment has come
   (the call, or 15–40 minutes after a missed start) releases the chair and the session is
   rebooked a few days later under the same number; otherwise the session holds its chair.
   A holding session's floor record (confirmation, check-in, checklist, dose, infusion,
   monitoring, discharge, score, vitals and observations for esketamine, REMS form) is
   drawn whole and then cut at ``now``: what lies after ``now`` has not happened yet, so
   sessions earlier today are completed, those under way are checked in, dosing or
   monitoring, and later ones are scheduled or confirmed.
6. **Today's floor.** So that the demo's Today board has someone in a chair at any hour the
   clinic is open, :class:`_TodayFloor` tops up ``today`` at each location with single
   booster sessions (IV, and esketamine when an esketamine chair stands empty) for patients
   between series, until :data:`TODAY_MIN_IN_CHAIRS` chairs are taken at every half hour.

Rows go to the database through the demo's bulk writer (:mod:`ketadesk.demo.bulk`) in
chunks, series first, then sessions, then their steps, vital signs and observations; series
and session ids are assigned here (and PostgreSQL's sequences moved past them). To keep the stage
fast, :class:`~ketadesk.scheduling.models.SessionStep` rows (and a pre-dose blood pressure
for modalities other than esketamine) are written only for sessions from
:data:`STEP_WINDOW_DAYS` days before ``now`` onwards, naming the demo users ``frontdesk``
and ``nurse``.

Every draw comes from the stage's own :class:`random.Random` in a fixed order (patients by
registration, sessions in time order), so a seed, ``today`` and ``now`` give the same
history every time.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.clinic.locations import closed_reason, hours_on
from ketadesk.clinic.models import (
    Chair,
    Diagnosis,
    Location,
    Modality,
    Patient,
    Provider,
    ScreeningFlag,
)
from ketadesk.demo.bulk import Sink, table_of
from ketadesk.demo.dice import Dice
from ketadesk.scheduling.floor import (
    ESKETAMINE_DOSES_MG,
    ESKETAMINE_MAX_SYSTOLIC,
    MAX_DIASTOLIC,
    MG_PER_KG_QUANTUM,
)
from ketadesk.scheduling.models import (
    Checkpoint,
    Observation,
    ObservationKind,
    Protocol,
    Route,
    ScoreKind,
    Series,
    SeriesStatus,
    SessionStatus,
    SessionStep,
    Severity,
    TreatmentSession,
    VitalSign,
    WaitlistEntry,
    WaitlistStatus,
)
from ketadesk.scheduling.rems import rems_form_due_on

# The demo users who act on the floor (see generator.DEMO_USERS).
FRONT_DESK_USER = "frontdesk"
NURSE_USER = "nurse"

TICK = timedelta(minutes=15)  # the allocation grid
TICKS_PER_DAY = 96
STEP_WINDOW_DAYS = 60  # session steps are written from this many days before now on
BOOKING_HORIZON_DAYS = 35  # maintenance is booked this far ahead of today
ADMISSION_WAIT_DAYS = 42  # a new patient waits at most this long for a first session
SESSION_SEARCH_DAYS = 21  # a later session is looked for this long after its wanted day
FIRST_SESSION_AFTER = (3, 21)  # days from registration (or REMS enrolment) to session 1

# Who is treated at all.
NO_TREATMENT_RATE = 0.06  # consultation only, among those who could be treated
CONTRAINDICATIONS = frozenset(
    {
        ScreeningFlag.PSYCHOSIS_HISTORY,
        ScreeningFlag.ANEURYSMAL_VASCULAR_DISEASE,
        ScreeningFlag.INTRACEREBRAL_HEMORRHAGE,
        ScreeningFlag.PREGNANCY,
    }
)
# Which induction: most REMS-enrolled patients were enrolled for esketamine.
ESKETAMINE_RATE = 0.80
INDUCTION_MIX = (("iv-induction", 75.0), ("im-induction", 12.0), ("kap", 13.0))
# How patients respond (share, least and most relative fall of their score).
RESPONSES = (
    ("responder", 0.62, 0.45, 0.75),
    ("partial", 0.23, 0.15, 0.35),
    ("none", 0.15, 0.0, 0.10),
)
# The chance to stop during an induction (after any session but the last), by response.
DISCONTINUE_RATE = {"responder": 0.06, "partial": 0.12, "none": 0.35}
MAINTENANCE_RATE = 0.60  # of completed inductions
MAINTENANCE_STOP_RATE = {"iv-booster": 0.12, "esketamine-maintenance": 0.05}  # per session
ESKETAMINE_WEEKLY_RATE = 0.40  # the rest every two weeks
RETURN_RATE = 0.15  # a new induction after the last series ended
RETURN_AFTER = (90, 365)  # days
# Session outcomes: the rest are attended.
CANCEL_RATE = 0.06
LATE_CANCEL_RATE = 0.02
NO_SHOW_RATE = 0.03
CONFIRM_RATE = 0.92  # sessions confirmed by phone two to five days ahead
CONFIRM_HOURS = (48, 120)
# Floor details.
INFUSION_MINUTES = (40, 55)
IV_DOSES = tuple(Decimal(n).scaleb(-2) for n in range(50, 101, 5))  # mg/kg: 0.50 … 1.00
ESKETAMINE_HIGH_DOSE_RATE = 0.60  # 84 mg from session 2 on; 56 mg otherwise
KAP_SUBLINGUAL_RATE = 0.80  # the rest of KAP is IM
REMS_LATE_FILING_RATE = 0.04
RECENT_UNFILED_RATE = 0.20  # of esketamine sessions in the last RECENT_UNFILED_DAYS days
RECENT_UNFILED_DAYS = 14
LOT_DAYS = 45  # a new lot of each drug about this often
TODAY_MIN_IN_CHAIRS = 2

CANCEL_REASONS = (
    "Patient ill",
    "Work conflict",
    "No ride home available",
    "Rescheduled by phone",
    "Family emergency",
    "Weather",
    "Prior authorisation pending",
)
LATE_CANCEL_REASONS = (
    "Patient ill",
    "No ride home available",
    "Car trouble",
    "Childcare fell through",
    "Work emergency",
)
NO_SHOW_REASONS = (
    "Did not arrive; no answer by phone",
    "Did not arrive",
    "Did not arrive; left a voicemail",
)
STOP_REASONS = (
    "Side effects not tolerated (nausea, dissociation)",
    "No improvement after several sessions; patient chose to stop",
    "Insurance did not approve the rest of the series",
    "Could not arrange a driver for each session",
    "Moved out of the area",
    "Admitted to hospital; treatment stopped",
)
MAINTENANCE_STOP_REASONS = (
    "In remission; maintenance stopped by the provider",
    "Patient chose to stop maintenance",
    "Insurance stopped covering maintenance",
    "Moved out of the area",
    "Switched to another treatment",
)
LEFT_REASON = "Patient left the practice"
NO_ROOM_REASON = "No chair time within three weeks; referred to another clinic"
SERIES_CANCEL_PREFIX = "series discontinued: "

ProgressCallback = Callable[[str, int, int], None]
Processor = Callable[[Any], Any]
T = TypeVar("T")
# What the stage writes, in foreign-key order.
HISTORY_MODELS = (Series, TreatmentSession, SessionStep, VitalSign, Observation, WaitlistEntry)


@dataclass(frozen=True)
class HistoryCounts:
    """How many scheduling records :func:`add_history` wrote."""

    series: int
    sessions: int
    completed_sessions: int
    session_steps: int
    vital_signs: int
    observations: int
    waitlist_entries: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def add_history(
    session: Session,
    rng: random.Random,
    *,
    today: date,
    now: datetime,
    report: ProgressCallback,
) -> HistoryCounts:
    """Write every patient's series and sessions up to ``today`` and the weeks after it.

    The clinic, the patients and the shipped protocols must be in ``session`` already.
    ``now`` (UTC-aware) splits what happened from what is booked; ``report`` is called as
    ``report("sessions", patients done, patients)``.
    """
    clinic = _Clinic.load(session)
    patients = _load_patients(session, clinic)
    sink = _Sink(session)
    history = _History(Dice(rng), clinic, sink, today, now)
    report("sessions", 0, len(patients))
    for done, patient in enumerate(patients, start=1):
        history.journey(patient)
        if sink.full() or done == len(patients):
            sink.flush()
            report("sessions", done, len(patients))
    _TodayFloor(history).fill([p for p in patients if p.between_series])
    sink.flush()
    sink.sync_sequences()
    return sink.counts()


# ---------------------------------------------------------------------------------------
# Draws
# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# The clinic as the allocator sees it
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Staff:
    id: int
    rems: bool
    max_chairs: int


class _Site:
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
            _Staff(p.id, p.rems_enrolled, p.max_concurrent_chairs)
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
                    (_ticks_up(iv.opens), _ticks_down(iv.closes))
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


def _ticks_from(mask: int, wanted: int) -> Iterator[int]:
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


def _ticks_up(clock: time) -> int:
    return -(-(clock.hour * 60 + clock.minute + (clock.second > 0)) // 15)


def _ticks_down(clock: time) -> int:
    return (clock.hour * 60 + clock.minute) // 15


@dataclass
class _Clinic:
    sites: dict[int, _Site]
    protocols: dict[str, Protocol]

    @classmethod
    def load(cls, session: Session) -> _Clinic:
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
            loc.id: _Site(
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
class _Slot:
    site: _Site
    day: date
    tick: int
    length: int
    chair_id: int
    provider_id: int
    starts_at: datetime
    ends_at: datetime


class _ProviderDay:
    """Where a provider works on one local day (one location a day) and their load per tick."""

    __slots__ = ("loads", "site_id")

    def __init__(self, site_id: int) -> None:
        self.site_id = site_id
        self.loads = [0] * TICKS_PER_DAY


class _Occupancy:
    def __init__(self) -> None:
        self.chairs: dict[tuple[int, int], int] = {}
        self.providers: dict[tuple[int, int], _ProviderDay] = {}

    def find(
        self,
        site: _Site,
        protocol: Protocol,
        wanted_day: date,
        wanted_tick: int,
        earliest: datetime,
        last_day: date,
        preferred: int | None,
        ticks: Sequence[int] | None = None,
    ) -> _Slot | None:
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
                starts &= -1 << _ticks_up(first.time())
            for tick in _ticks_from(starts, wanted_tick):
                found = self._fit(site, protocol, day, tick, length, staff)
                if found is not None:
                    return found
            day += timedelta(days=1)
        return None

    def _free_starts(self, site: _Site, modality: Modality, day: date, length: int) -> int:
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
        site: _Site,
        protocol: Protocol,
        day: date,
        tick: int,
        length: int,
        staff: Sequence[_Staff],
    ) -> _Slot | None:
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
                return _Slot(
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

    def take(self, slot: _Slot) -> None:
        ordinal = slot.day.toordinal()
        key = (slot.chair_id, ordinal)
        self.chairs[key] = self.chairs.get(key, 0) | ((1 << slot.length) - 1) << slot.tick
        held = self.providers.get((slot.provider_id, ordinal))
        if held is None:
            held = self.providers[slot.provider_id, ordinal] = _ProviderDay(slot.site.id)
        for tick in range(slot.tick, slot.tick + slot.length):
            held.loads[tick] += 1

    def chairs_taken(self, site: _Site, day: date, tick: int) -> int:
        ordinal = day.toordinal()
        return sum(1 for c in site.all_chairs if self.chairs.get((c, ordinal), 0) >> tick & 1)


# ---------------------------------------------------------------------------------------
# Patients
# ---------------------------------------------------------------------------------------


@dataclass
class _Patient:
    """What the journey needs about one patient, and where their care stands."""

    id: int
    site: _Site
    registered: datetime
    weight: Decimal | None
    rems_on: date | None
    flags: frozenset[ScreeningFlag]
    active: bool
    score_kind: ScoreKind
    leaves_on: date | None = None  # inactive patients: the day they left
    last_start: datetime | None = None  # the latest session holding a chair
    last_hours: int = 0  # that session's protocol's min_hours_between
    baseline: float = 0.0
    response: float = 0.0
    responder: str = "responder"
    doses: int = 0  # attended doses of the current course, for the score trend
    pref_tick: int = 40  # the time of day the patient likes to come
    dose_step: Decimal = IV_DOSES[0]  # the mg/kg the provider titrates up to
    high_dose: bool = False  # esketamine 84 mg after the first session
    sublingual: bool = True  # KAP by lozenge rather than IM
    treated: bool = False
    between_series: bool = False  # treated, and no series planned or active
    last_modality: Modality | None = None  # of the latest series

    def earliest(self, protocol: Protocol) -> datetime:
        if self.last_start is None:
            return self.registered + timedelta(hours=1)
        hours = max(self.last_hours, protocol.min_hours_between)
        return self.last_start + timedelta(hours=hours)


def _load_patients(session: Session, clinic: _Clinic) -> list[_Patient]:
    patient_t, diagnosis_t = table_of(Patient), table_of(Diagnosis)
    primary = dict(
        session.execute(
            select(diagnosis_t.c.patient_id, diagnosis_t.c.code).where(diagnosis_t.c.position == 1)
        ).all()
    )
    rows = session.execute(
        select(
            patient_t.c.id,
            patient_t.c.home_location_id,
            patient_t.c.created_at,
            patient_t.c.weight_kg,
            patient_t.c.rems_enrolled_on,
            patient_t.c.screening_flags,
            patient_t.c.active,
        ).order_by(patient_t.c.created_at, patient_t.c.id)
    ).all()
    return [
        _Patient(
            id=pid,
            site=clinic.sites[home],
            registered=created,
            weight=weight,
            rems_on=rems_on,
            flags=flags,
            active=active,
            score_kind=ScoreKind.GAD7 if primary.get(pid, "").startswith("F41") else ScoreKind.PHQ9,
        )
        for pid, home, created, weight, rems_on, flags, active in rows
        if home in clinic.sites
    ]


# ---------------------------------------------------------------------------------------
# Writing rows
# ---------------------------------------------------------------------------------------


class _Sink(Sink):
    """The bulk writer (:class:`~ketadesk.demo.bulk.Sink`), with this stage's ids and counts."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, HISTORY_MODELS)
        self.completed = 0

    def series_id(self) -> int:
        return self.next_id(Series)

    def session_id(self) -> int:
        return self.next_id(TreatmentSession)

    def counts(self) -> HistoryCounts:
        w = self.written
        return HistoryCounts(
            series=w[Series],
            sessions=w[TreatmentSession],
            completed_sessions=self.completed,
            session_steps=w[SessionStep],
            vital_signs=w[VitalSign],
            observations=w[Observation],
            waitlist_entries=w[WaitlistEntry],
        )


# ---------------------------------------------------------------------------------------
# Series, sessions and what happened in them
# ---------------------------------------------------------------------------------------


@dataclass
class _Run:
    """One series being booked: its row and what its sessions came to."""

    id: int
    patient: _Patient
    protocol: Protocol
    booked_at: datetime
    interval_weeks: int | None = None
    sessions: int = 0
    started: bool = False  # a session was checked in or completed
    open_sessions: int = 0  # sessions still ahead or on the floor
    completed: int = 0
    held: int = 0  # sessions holding their chair (attended, on the floor or ahead)
    reason: str = ""

    @property
    def closed_ended(self) -> bool:
        return self.protocol.session_count is not None


@dataclass(frozen=True)
class _Fate:
    status: SessionStatus
    at: datetime
    reason: str


@dataclass(frozen=True)
class _Visit:
    """A session that holds its chair: when, and whether it is over."""

    day: date
    starts_at: datetime
    ends_at: datetime
    completed: bool


class _History:
    """Walks each patient's journey, booking and recording every session."""

    def __init__(
        self, dice: Dice, clinic: _Clinic, sink: _Sink, today: date, now: datetime
    ) -> None:
        self.dice = dice
        self.clinic = clinic
        self.sink = sink
        self.today = today
        self.now = now
        self.booking_end = today + timedelta(days=BOOKING_HORIZON_DAYS)
        self.steps_from = now - timedelta(days=STEP_WINDOW_DAYS)
        self.occupancy = _Occupancy()
        self.floor = _FloorRecord(self)

    # -- the journey ---------------------------------------------------------------------

    def journey(self, patient: _Patient) -> None:
        if not self._treatable(patient):
            return
        self._draw_response(patient)
        protocol = self._induction_protocol(patient)
        first = self._first_day(patient, protocol)
        while True:
            run = self._closed_series(patient, protocol, first)
            if run is None:
                self._waitlist(patient, protocol, first)
                return
            if run.reason or run.open_sessions:
                return
            if self.dice.chance(MAINTENANCE_RATE):
                maintenance = self._maintenance(patient, protocol)
                if maintenance is not None and not maintenance.reason:
                    return
            if patient.last_start is None or not self.dice.chance(RETURN_RATE):
                return
            first = patient.site.local_day(patient.last_start) + timedelta(
                days=self.dice.between(*RETURN_AFTER)
            )
            if first > self.booking_end:
                return
            patient.doses = 0  # a relapse: the score climbs back before the new course
            patient.baseline *= self.dice.uniform(0.85, 1.0)

    def _treatable(self, patient: _Patient) -> bool:
        if patient.weight is None or patient.flags & CONTRAINDICATIONS:
            return False
        if self.dice.chance(NO_TREATMENT_RATE):
            return False
        if not patient.active:
            registered = patient.site.local_day(patient.registered)
            span = (self.today - registered).days - 1
            if span < 30:
                return False
            patient.leaves_on = registered + timedelta(days=self.dice.between(30, span))
        return True

    def _draw_response(self, patient: _Patient) -> None:
        dice = self.dice
        patient.responder, least, most = dice.weighted(
            [((name, low, high), share) for name, share, low, high in RESPONSES]
        )
        patient.response = dice.uniform(least, most)
        if patient.score_kind is ScoreKind.PHQ9:
            patient.baseline = min(27.0, max(10.0, dice.gauss(19.0, 3.5)))
        else:
            patient.baseline = min(21.0, max(8.0, dice.gauss(15.0, 3.0)))
        patient.pref_tick = dice.between(32, 64)  # 08:00 to 16:00
        patient.dose_step = dice.one(IV_DOSES)
        patient.high_dose = dice.chance(ESKETAMINE_HIGH_DOSE_RATE)
        patient.sublingual = dice.chance(KAP_SUBLINGUAL_RATE)

    def _induction_protocol(self, patient: _Patient) -> Protocol:
        site, protocols = patient.site, self.clinic.protocols
        esketamine = protocols["esketamine-induction"]
        if (
            patient.rems_on is not None
            and site.offers(Modality.ESKETAMINE)
            and ScreeningFlag.UNCONTROLLED_HYPERTENSION not in patient.flags
            and self.dice.chance(ESKETAMINE_RATE)
        ):
            return esketamine
        mix = [
            (protocols[key], weight)
            for key, weight in INDUCTION_MIX
            if site.offers(protocols[key].modality)
        ]
        return self.dice.weighted(mix)

    def _first_day(self, patient: _Patient, protocol: Protocol) -> date:
        first = patient.site.local_day(patient.registered)
        if protocol.requires_rems and patient.rems_on is not None:
            first = max(first, patient.rems_on)
        return first + timedelta(days=self.dice.between(*FIRST_SESSION_AFTER))

    def _last_day(self, patient: _Patient, wanted: date, search: int) -> date:
        last = wanted + timedelta(days=search)
        return min(last, patient.leaves_on) if patient.leaves_on else last

    # -- series --------------------------------------------------------------------------

    def open_run(
        self, patient: _Patient, protocol: Protocol, first: date, interval: int | None = None
    ) -> _Run:
        site = patient.site
        booked = site.instant(first, patient.pref_tick) - timedelta(
            days=self.dice.between(3, 14), minutes=self.dice.between(0, 300)
        )
        booked = max(booked, patient.registered + timedelta(minutes=20))
        booked = min(booked, self.now - timedelta(minutes=5))
        return _Run(self.sink.series_id(), patient, protocol, booked, interval)

    def _closed_series(self, patient: _Patient, protocol: Protocol, first: date) -> _Run | None:
        """An induction (a fixed number of sessions), or ``None`` if it could not start."""
        run = self.open_run(patient, protocol, first)
        offsets = _offsets(protocol)
        count = len(offsets) + 1
        stops_after = (
            self.dice.between(1, count - 1)
            if count > 1 and self.dice.chance(DISCONTINUE_RATE[patient.responder])
            else None
        )
        wanted = first
        for number in range(1, count + 1):
            search = ADMISSION_WAIT_DAYS if number == 1 else SESSION_SEARCH_DAYS
            visit = self.visit(run, number, wanted, self._last_day(patient, wanted, search))
            if visit is None:
                if run.sessions == 0:
                    return None
                self._cut_short(run, wanted)
                break
            if number == count:
                break
            wanted = visit.day + timedelta(days=offsets[number - 1])
            if visit.completed and number == stops_after:
                stop = visit.ends_at + timedelta(hours=self.dice.between(2, 30))
                if stop <= self.now:
                    self._discontinue(
                        run, number + 1, count, wanted, stop, self.dice.one(STOP_REASONS)
                    )
                    break
        self.close(run)
        return run

    def _maintenance(self, patient: _Patient, induction: Protocol) -> _Run | None:
        if induction.modality is Modality.ESKETAMINE:
            protocol = self.clinic.protocols["esketamine-maintenance"]
            interval = 1 if self.dice.chance(ESKETAMINE_WEEKLY_RATE) else 2
            gap = 7
        else:
            protocol = self.clinic.protocols["iv-booster"]
            interval = self.dice.one(protocol.interval_choices or [4])
            gap = self.dice.between(14, 35)
        if not patient.site.offers(protocol.modality) or patient.last_start is None:
            return None
        wanted = patient.site.local_day(patient.last_start) + timedelta(days=gap)
        if wanted > self.booking_end:
            return None
        run = self.open_run(patient, protocol, wanted, interval)
        self._boosters(run, wanted)
        self.close(run)
        return run

    def _boosters(self, run: _Run, wanted: date) -> None:
        patient, dice = run.patient, self.dice
        stop_rate = MAINTENANCE_STOP_RATE.get(run.protocol.key, 0.1)
        number = 1
        while wanted <= self.booking_end:
            if patient.leaves_on and wanted > patient.leaves_on:
                self._cut_short(run, wanted)
                return
            visit = self.visit(
                run, number, wanted, self._last_day(patient, wanted, SESSION_SEARCH_DAYS)
            )
            if visit is None:
                self._cut_short(run, wanted)
                return
            wanted = visit.day + timedelta(days=7 * (run.interval_weeks or 1) + dice.between(-1, 3))
            if visit.completed and dice.chance(stop_rate):
                stop = visit.ends_at + timedelta(hours=dice.between(2, 30))
                if stop <= self.now:
                    self._discontinue(
                        run,
                        number + 1,
                        number + 1,
                        wanted,
                        stop,
                        dice.one(MAINTENANCE_STOP_REASONS),
                    )
                    return
            number += 1

    def _cut_short(self, run: _Run, wanted: date) -> None:
        """No session could be booked on or after ``wanted``: the patient left, or the
        location had no room. Only what has already happened becomes a discontinuation."""
        patient = run.patient
        leaves_on = patient.leaves_on
        left = leaves_on is not None and wanted + timedelta(days=SESSION_SEARCH_DAYS) > leaves_on
        day = leaves_on if left and leaves_on is not None else wanted
        at = patient.site.noon(day)
        if at <= self.now:
            run.reason = LEFT_REASON if left else NO_ROOM_REASON

    def _discontinue(
        self, run: _Run, first: int, last: int, wanted: date, at: datetime, reason: str
    ) -> None:
        """Stop the series at ``at``: its remaining booked sessions are cancelled."""
        run.reason = reason
        patient = run.patient
        for number in range(first, last + 1):
            slot = self.occupancy.find(
                patient.site,
                run.protocol,
                wanted,
                patient.pref_tick,
                max(patient.earliest(run.protocol), at + timedelta(hours=1)),
                wanted + timedelta(days=SESSION_SEARCH_DAYS),
                None,
            )
            if slot is None:
                return
            fate = _Fate(SessionStatus.CANCELLED, at, SERIES_CANCEL_PREFIX + reason)
            self.floor.released(run, number, slot, fate, run.booked_at)
            wanted = slot.day + timedelta(days=2)

    def close(self, run: _Run) -> None:
        if run.sessions == 0:
            return
        if run.reason:
            status = SeriesStatus.DISCONTINUED
        elif not run.started:
            status = SeriesStatus.PLANNED
        elif (
            run.closed_ended
            and not run.open_sessions
            and run.completed
            and run.held == run.protocol.session_count
        ):
            status = SeriesStatus.COMPLETED
        else:
            status = SeriesStatus.ACTIVE
        run.patient.treated = True
        run.patient.last_modality = run.protocol.modality
        run.patient.between_series = status in (SeriesStatus.DISCONTINUED, SeriesStatus.COMPLETED)
        self.sink.add(
            Series,
            {
                "id": run.id,
                "patient_id": run.patient.id,
                "protocol_id": run.protocol.id,
                "location_id": run.patient.site.id,
                "status": status,
                "interval_weeks": run.interval_weeks,
                "discontinued_reason": run.reason,
                "created_at": run.booked_at,
                "created_by": FRONT_DESK_USER,
                "version": 1,
            },
        )

    # -- one session ---------------------------------------------------------------------

    def visit(
        self,
        run: _Run,
        number: int,
        wanted: date,
        last_day: date,
        *,
        fates: bool = True,
        ticks: Sequence[int] | None = None,
    ) -> _Visit | None:
        """Book session ``number`` from ``wanted`` on; a released booking is rebooked under
        the same number until one holds its chair. ``None`` when nothing fits."""
        patient = run.patient
        created = run.booked_at if number == 1 else self._booked_at(patient, run)
        earliest = patient.earliest(run.protocol)
        while True:
            slot = self.occupancy.find(
                patient.site,
                run.protocol,
                wanted,
                patient.pref_tick,
                earliest,
                last_day,
                self._usual_provider(patient),
                ticks,
            )
            if slot is None:
                return None
            fate = self._fate(slot, created) if fates else None
            if fate is None or fate.at > self.now:
                self.occupancy.take(slot)
                return self.floor.holding(run, number, slot, created)
            self.floor.released(run, number, slot, fate, created)
            created = fate.at
            earliest = max(earliest, fate.at + timedelta(hours=1))
            wanted = max(slot.day, patient.site.local_day(fate.at)) + timedelta(
                days=self.dice.between(1, 4)
            )
            last_day = max(last_day, wanted + timedelta(days=SESSION_SEARCH_DAYS // 3))
            if patient.leaves_on:
                last_day = min(last_day, patient.leaves_on)

    def _booked_at(self, patient: _Patient, run: _Run) -> datetime:
        """Later sessions are booked at check-out of the one before (never after now)."""
        last = patient.last_start or run.booked_at
        return min(
            last + timedelta(minutes=self.dice.between(80, 150)), self.now - timedelta(minutes=5)
        )

    def _usual_provider(self, patient: _Patient) -> int | None:
        staff = patient.site.providers[Modality.IV] or patient.site.providers[Modality.KAP]
        return staff[patient.id % len(staff)].id if staff else None

    def _fate(self, slot: _Slot, created: datetime) -> _Fate | None:
        dice = self.dice
        draw = dice.rng.random()
        start = slot.starts_at
        window = timedelta(hours=slot.site.late_cancel_hours)
        if draw < CANCEL_RATE:
            latest = start - window - timedelta(hours=1)
            earliest = max(created + timedelta(hours=1), start - timedelta(days=7))
            if earliest < latest:
                span = int((latest - earliest) / timedelta(minutes=1))
                at = earliest + timedelta(minutes=dice.between(0, span))
                return _Fate(SessionStatus.CANCELLED, at, dice.one(CANCEL_REASONS))
            draw = CANCEL_RATE  # booked too late to cancel early: a late cancellation
        if draw < CANCEL_RATE + LATE_CANCEL_RATE:
            earliest = max(created + timedelta(minutes=30), start - window + timedelta(hours=1))
            span = max(0, int((start - timedelta(minutes=30) - earliest) / timedelta(minutes=1)))
            at = earliest + timedelta(minutes=dice.between(0, span))
            return _Fate(SessionStatus.LATE_CANCELLED, at, dice.one(LATE_CANCEL_REASONS))
        if draw < CANCEL_RATE + LATE_CANCEL_RATE + NO_SHOW_RATE:
            return _Fate(
                SessionStatus.NO_SHOW, start + dice.minutes(15, 40), dice.one(NO_SHOW_REASONS)
            )
        return None

    # -- waiting -------------------------------------------------------------------------

    def _waitlist(self, patient: _Patient, protocol: Protocol, wanted: date) -> None:
        """A recent patient the location had no room for waits for a first session."""
        if not patient.active or patient.registered < self.now - timedelta(
            days=ADMISSION_WAIT_DAYS
        ):
            return
        self.sink.add(
            WaitlistEntry,
            {
                "patient_id": patient.id,
                "location_id": patient.site.id,
                "modality": protocol.modality,
                "weekdays": "",
                "earliest_on": wanted,
                "note": f"Wants to start {protocol.name}; no chair free in the next weeks",
                "status": WaitlistStatus.WAITING,
                "created_at": patient.registered + timedelta(minutes=30),
                "created_by": FRONT_DESK_USER,
            },
        )


def _offsets(protocol: Protocol) -> list[int]:
    """Days from each session to the next, from the weekly pattern (3 a week: Mon, Wed,
    Fri); interval protocols use one gap of ``min_hours_between``."""
    pattern = protocol.pattern
    if not pattern:
        count = protocol.session_count or 1
        return [max(1, -(-protocol.min_hours_between // 24))] * (count - 1)
    days = [
        week * 7 + i * (7 // per_week)
        for week, per_week in enumerate(pattern)
        for i in range(per_week)
    ]
    count = protocol.session_count or len(days)
    days = (days + [days[-1] + 7 * n for n in range(1, count)])[:count]
    return [later - earlier for earlier, later in pairwise(days)]


# ---------------------------------------------------------------------------------------
# What happened in a session
# ---------------------------------------------------------------------------------------

_STATUS_COLUMNS = (  # a holding session's status once each moment has passed
    ("discharged_at", SessionStatus.COMPLETED),
    ("monitoring_from", SessionStatus.MONITORING),
    ("dosed_at", SessionStatus.DOSING),
    ("checked_in_at", SessionStatus.CHECKED_IN),
    ("confirmed_at", SessionStatus.CONFIRMED),
)
# The floor's moments in the order they happen.
_MOMENTS = (
    "confirmed_at",
    "checked_in_at",
    "checklist_passed_at",
    "dosed_at",
    "infusion_started_at",
    "infusion_stopped_at",
    "monitoring_from",
    "discharged_at",
)
_ROUTES = {
    Modality.IV: Route.IV,
    Modality.IM: Route.IM,
    Modality.ESKETAMINE: Route.INTRANASAL,
    Modality.ORAL: Route.ORAL,
}
_SEDATION = (
    (Severity.NONE, 55.0),
    (Severity.MILD, 35.0),
    (Severity.MODERATE, 9.0),
    (Severity.SEVERE, 1.0),
)
_DISSOCIATION = (
    (Severity.NONE, 40.0),
    (Severity.MILD, 40.0),
    (Severity.MODERATE, 17.0),
    (Severity.SEVERE, 3.0),
)
_Step = tuple[SessionStatus, datetime, str, str]  # to which status, when, who, note
_MILLIGRAM = Decimal(1)
# Esketamine as the floor accepts it: 56 mg (two devices) at first, 84 mg (three) later.
_ESKETAMINE_LOW, _ESKETAMINE_HIGH = min(ESKETAMINE_DOSES_MG), max(ESKETAMINE_DOSES_MG)
# Readings stay just inside the floor's pre-dose limits, so every demo dose was allowed.
_TOP_SYSTOLIC = ESKETAMINE_MAX_SYSTOLIC - 2
_TOP_DIASTOLIC = MAX_DIASTOLIC - 2


class _FloorRecord:
    """Turns a booked slot into its session row, steps, vital signs and observations."""

    def __init__(self, history: _History) -> None:
        self.h = history
        self.dice = history.dice
        self.sink = history.sink

    def released(self, run: _Run, number: int, slot: _Slot, fate: _Fate, created: datetime) -> None:
        row = self._row(run, number, slot, created)
        row.update(
            status=fate.status,
            ended_at=fate.at,
            ended_reason=fate.reason,
            policy_window_hours=slot.site.late_cancel_hours,
        )
        if fate.status is not SessionStatus.CANCELLED:  # confirmed first, then missed
            row["confirmed_at"] = self._confirmation(slot, created, before=fate.at)
        run.sessions += 1
        self.sink.add(TreatmentSession, row)
        if self._steps_wanted(slot):
            steps = [(SessionStatus.SCHEDULED, created, FRONT_DESK_USER, "")]
            if row["confirmed_at"] is not None:
                steps.append((SessionStatus.CONFIRMED, row["confirmed_at"], FRONT_DESK_USER, ""))
            steps.append((fate.status, fate.at, FRONT_DESK_USER, fate.reason))
            self._steps(row, steps)

    def holding(self, run: _Run, number: int, slot: _Slot, created: datetime) -> _Visit:
        patient, now = run.patient, self.h.now
        row = self._row(run, number, slot, created)
        row["confirmed_at"] = self._confirmation(slot, created, before=slot.starts_at)
        self._timeline(row, run.protocol, slot)
        self._treatment(row, run, slot)
        vitals, observations = self._vitals(row, run, slot)
        self._cut_at_now(row)
        row["status"] = next(
            (status for column, status in _STATUS_COLUMNS if row[column]), SessionStatus.SCHEDULED
        )
        self._account(run, row)
        self.sink.add(TreatmentSession, row)
        for vital in vitals:
            if vital["taken_at"] <= now:
                self.sink.add(VitalSign, {**vital, "session_id": row["id"]})
        for observation in observations:
            if observation["at"] <= now:
                self.sink.add(Observation, {**observation, "session_id": row["id"]})
        if self._steps_wanted(slot):
            self._steps(row, self._floor_steps(row))  # booked, then each step on the floor
        patient.last_start, patient.last_hours = slot.starts_at, run.protocol.min_hours_between
        return _Visit(
            slot.day, slot.starts_at, slot.ends_at, row["status"] is SessionStatus.COMPLETED
        )

    def _account(self, run: _Run, row: dict[str, Any]) -> None:
        run.sessions += 1
        run.held += 1
        status = row["status"]
        if status in (SessionStatus.SCHEDULED, SessionStatus.CONFIRMED):
            run.open_sessions += 1
            return
        run.started = True
        if status is SessionStatus.COMPLETED:
            run.completed += 1
            self.sink.completed += 1
            run.patient.doses += 1
        else:
            run.open_sessions += 1

    def _row(self, run: _Run, number: int, slot: _Slot, created: datetime) -> dict[str, Any]:
        return {
            "id": self.sink.session_id(),
            "series_id": run.id,
            "number": number,
            "patient_id": run.patient.id,
            "location_id": slot.site.id,
            "chair_id": slot.chair_id,
            "provider_id": slot.provider_id,
            "modality": run.protocol.modality,
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "status": SessionStatus.SCHEDULED,
            "confirmed_at": None,
            "checked_in_at": None,
            "dosed_at": None,
            "monitoring_from": None,
            "discharged_at": None,
            "infusion_started_at": None,
            "infusion_stopped_at": None,
            "driver_confirmed": False,
            "fasting_confirmed": False,
            "checklist_passed_at": None,
            "dose_mg": None,
            "dose_mg_per_kg": None,
            "route": None,
            "lot_number": "",
            "score_kind": None,
            "score": None,
            "ended_reason": "",
            "ended_at": None,
            "policy_window_hours": None,
            "rems_form_due_on": None,
            "rems_form_filed_on": None,
            "notes": "",
            "created_at": created,
            "version": 1,
        }

    def _confirmation(self, slot: _Slot, created: datetime, before: datetime) -> datetime | None:
        if not self.dice.chance(CONFIRM_RATE):
            return None
        at = slot.starts_at - timedelta(hours=self.dice.between(*CONFIRM_HOURS))
        at = max(at, created + timedelta(minutes=10))
        return at if at < before else None

    def _timeline(self, row: dict[str, Any], protocol: Protocol, slot: _Slot) -> None:
        """Arrival to discharge, minute by minute, as the floor would have recorded it."""
        dice, start = self.dice, slot.starts_at
        arrived = start + dice.minutes(-15, 3)
        checklist = arrived + dice.minutes(3, 7)
        dosed = checklist + dice.minutes(1, 4)
        modality = protocol.modality
        if modality is Modality.IV:
            stopped = dosed + dice.minutes(*INFUSION_MINUTES)
            row.update(infusion_started_at=dosed, infusion_stopped_at=stopped)
            monitoring = stopped
            discharged = monitoring + dice.minutes(15, 25)
        elif modality is Modality.ESKETAMINE:
            monitoring = dosed + dice.minutes(5, 12)  # one device every five minutes
            discharged = (
                dosed
                + timedelta(minutes=max(120, protocol.monitoring_minutes))
                + dice.minutes(2, 12)
            )
        else:
            treatment = max(1, protocol.treatment_minutes - 10)
            monitoring = dosed + dice.minutes(treatment, treatment + 10)
            discharged = monitoring + dice.minutes(
                max(15, protocol.monitoring_minutes - 10), protocol.monitoring_minutes + 5
            )
        row.update(
            checked_in_at=arrived,
            checklist_passed_at=checklist,
            dosed_at=dosed,
            monitoring_from=monitoring,
            discharged_at=discharged,
            driver_confirmed=True,
            fasting_confirmed=True,
        )
        if row["confirmed_at"] is not None and row["confirmed_at"] > arrived:
            row["confirmed_at"] = None

    def _treatment(self, row: dict[str, Any], run: _Run, slot: _Slot) -> None:
        """Dose, route, lot, score and the REMS form."""
        patient, protocol, dice = run.patient, run.protocol, self.dice
        modality = protocol.modality
        if modality is Modality.ESKETAMINE:
            high = patient.doses > 0 and patient.high_dose
            row.update(
                dose_mg=_ESKETAMINE_HIGH if high else _ESKETAMINE_LOW, route=Route.INTRANASAL
            )
        elif modality is Modality.KAP and patient.sublingual:
            row.update(dose_mg=Decimal(dice.one((100, 150, 200, 250, 300))), route=Route.SUBLINGUAL)
        else:
            self._weighed_dose(row, patient)
            row["route"] = _ROUTES.get(modality, Route.IM)
        row["lot_number"] = _lot(slot.site.id, row["route"], slot.day)
        row.update(score_kind=patient.score_kind, score=self._score(patient))
        if modality is Modality.ESKETAMINE:
            row["rems_form_due_on"] = rems_form_due_on(slot.day)
            row["rems_form_filed_on"] = self._rems_filed(slot.day)

    def _weighed_dose(self, row: dict[str, Any], patient: _Patient) -> None:
        """mg/kg from the weight: 0.5 mg/kg first, up by 0.1 a session to the patient's dose."""
        weight = patient.weight or Decimal(70)  # never None: the unweighed are not treated
        per_kg = min(patient.dose_step, IV_DOSES[0] + Decimal("0.1") * patient.doses)
        dose = (weight * per_kg).quantize(_MILLIGRAM)
        # Rounded as the floor rounds it.
        per_kg = (dose / weight).quantize(MG_PER_KG_QUANTUM, rounding=ROUND_HALF_UP)
        row.update(dose_mg=dose, dose_mg_per_kg=per_kg)

    def _score(self, patient: _Patient) -> int:
        """The score falls with each dose as far as the patient responds, with noise."""
        maximum = patient.score_kind.maximum
        relief = patient.response * (1 - math.exp(-patient.doses / 2.5))
        value = patient.baseline * (1 - relief) + self.dice.gauss(0.0, 1.6)
        return max(0, min(maximum, round(value)))

    def _rems_filed(self, day: date) -> date | None:
        dice, today = self.dice, self.h.today
        if (today - day).days <= RECENT_UNFILED_DAYS and dice.chance(RECENT_UNFILED_RATE):
            return None
        late = dice.chance(REMS_LATE_FILING_RATE)
        filed = day + timedelta(days=dice.between(8, 12) if late else dice.between(0, 6))
        return filed if filed <= today else None

    def _vitals(
        self, row: dict[str, Any], run: _Run, slot: _Slot
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Blood pressure at the esketamine checkpoints (before the dose elsewhere, in the
        steps window) and sedation and dissociation for esketamine."""
        esketamine = run.protocol.modality is Modality.ESKETAMINE
        if not esketamine and not self._steps_wanted(slot):
            return [], []
        dice = self.dice
        base_sys, base_dia = 112 + run.patient.id % 28, 70 + run.patient.id % 20
        moments = [(Checkpoint.PRE_DOSE, row["checklist_passed_at"] - dice.minutes(1, 2), 0)]
        if esketamine:
            moments += [
                (
                    Checkpoint.FORTY_MINUTES,
                    row["dosed_at"] + dice.minutes(40, 44),
                    dice.between(8, 22),
                ),
                (
                    Checkpoint.DISCHARGE,
                    row["discharged_at"] - dice.minutes(2, 6),
                    dice.between(0, 8),
                ),
            ]
        vitals = [
            {
                "checkpoint": checkpoint,
                "taken_at": at,
                "systolic": min(_TOP_SYSTOLIC, base_sys + rise + dice.between(-4, 4)),
                "diastolic": min(_TOP_DIASTOLIC, base_dia + rise // 2 + dice.between(-3, 3)),
                "heart_rate": dice.between(62, 92),
                "spo2": dice.between(95, 99),
                "actor": NURSE_USER,
            }
            for checkpoint, at, rise in moments
        ]
        if not esketamine:
            return vitals, []
        dosed = row["dosed_at"]
        observations = [
            {
                "kind": ObservationKind.DISSOCIATION,
                "severity": dice.weighted(_DISSOCIATION),
                "at": dosed + dice.minutes(25, 40),
                "note": "",
                "actor": NURSE_USER,
            },
            {
                "kind": ObservationKind.SEDATION,
                "severity": dice.weighted(_SEDATION),
                "at": dosed + dice.minutes(45, 60),
                "note": "",
                "actor": NURSE_USER,
            },
        ]
        for observation in observations:
            if observation["severity"] in (Severity.MODERATE, Severity.SEVERE):
                observation["note"] = "Resolved before discharge"
        return vitals, observations

    def _cut_at_now(self, row: dict[str, Any]) -> None:
        """Clear every moment after now, and what goes with it: it has not happened yet."""
        now = self.h.now
        for column in _MOMENTS:
            if row[column] is not None and row[column] > now:
                row[column] = None
        if row["checked_in_at"] is None:  # the score is taken at check-in
            row.update(score_kind=None, score=None, checklist_passed_at=None)
        if row["checklist_passed_at"] is None:
            row.update(driver_confirmed=False, fasting_confirmed=False)
        if row["dosed_at"] is None:
            row.update(dose_mg=None, dose_mg_per_kg=None, route=None, lot_number="")
        if row["discharged_at"] is None:
            row.update(rems_form_due_on=None, rems_form_filed_on=None)

    # -- steps ---------------------------------------------------------------------------

    def _steps_wanted(self, slot: _Slot) -> bool:
        return slot.starts_at >= self.h.steps_from

    def _floor_steps(self, row: dict[str, Any]) -> Iterator[_Step]:
        yield SessionStatus.SCHEDULED, row["created_at"], FRONT_DESK_USER, ""
        moments = (
            (SessionStatus.CONFIRMED, "confirmed_at", FRONT_DESK_USER, ""),
            (SessionStatus.CHECKED_IN, "checked_in_at", FRONT_DESK_USER, ""),
            (
                SessionStatus.CHECKED_IN,
                "checklist_passed_at",
                NURSE_USER,
                "pre-dose checklist passed",
            ),
            (SessionStatus.DOSING, "dosed_at", NURSE_USER, ""),
            (SessionStatus.MONITORING, "monitoring_from", NURSE_USER, ""),
            (SessionStatus.COMPLETED, "discharged_at", NURSE_USER, ""),
        )
        for status, column, actor, note in moments:
            if row[column] is not None:
                yield status, row[column], actor, note

    def _steps(self, row: dict[str, Any], steps: Iterable[_Step]) -> None:
        for status, at, actor, note in steps:
            self.sink.add(
                SessionStep,
                {"session_id": row["id"], "status": status, "at": at, "actor": actor, "note": note},
            )


def _lot(site_id: int, route: Route | None, day: date) -> str:
    """The lot in use at a location for a drug in a ~45-day period (stable across runs)."""
    period = day.toordinal() // LOT_DAYS
    number = zlib.crc32(f"{site_id}:{route}:{period}".encode()) % 1_000_000
    if route is Route.INTRANASAL:
        return f"SPV{day.year % 100:02d}{number % 10_000:04d}"
    if route is Route.SUBLINGUAL:
        return f"RX{number:06d}"
    return f"KET{number:06d}"


# ---------------------------------------------------------------------------------------
# Today's floor
# ---------------------------------------------------------------------------------------


class _TodayFloor:
    """Tops up ``today`` so that every half hour the clinic is open has people in chairs."""

    def __init__(self, history: _History) -> None:
        self.h = history

    def fill(self, between: list[_Patient]) -> None:
        by_site: dict[int, list[_Patient]] = {}
        for patient in between:
            if patient.active and patient.leaves_on is None:
                by_site.setdefault(patient.site.id, []).append(patient)
        for site in self.h.clinic.sites.values():
            self._fill_site(site, by_site.get(site.id, []))

    def _fill_site(self, site: _Site, candidates: list[_Patient]) -> None:
        h, today = self.h, self.h.today
        protocols = h.clinic.protocols
        target = min(TODAY_MIN_IN_CHAIRS, len(site.all_chairs))
        for opens, closes in site.intervals(today):
            for mark in range(opens, closes, 2):
                while h.occupancy.chairs_taken(site, today, mark) < target:
                    if not any(
                        self._add(site, protocols[key], mark, candidates)
                        for key in ("esketamine-maintenance", "iv-booster")
                    ):
                        break

    def _add(self, site: _Site, protocol: Protocol, mark: int, candidates: list[_Patient]) -> bool:
        """Book one session of ``protocol`` in a chair at ``mark`` for a patient between
        series (a new single-session maintenance series); ``False`` when none fits."""
        h, today = self.h, self.h.today
        if not site.offers(protocol.modality):
            return False
        length = -(-protocol.chair_minutes // 15)
        valid = site.start_mask(today, length)
        ticks = [t for t in range(mark, mark - length, -1) if t >= 0 and valid >> t & 1]
        start = site.instant(today, min(ticks, default=mark))
        esketamine = protocol.modality is Modality.ESKETAMINE
        fitting = [  # esketamine maintenance only after esketamine, boosters after the rest
            p
            for p in candidates
            if p.earliest(protocol) <= start
            and (p.last_modality is Modality.ESKETAMINE) == esketamine
        ]
        if not ticks or not fitting:
            return False
        patient = h.dice.one(fitting)
        interval = protocol.interval_choices[0] if protocol.interval_choices else None
        run = h.open_run(patient, protocol, today, interval)
        if h.visit(run, 1, today, today, fates=False, ticks=ticks) is None:
            return False
        candidates.remove(patient)
        h.close(run)
        return True
