"""Patient journeys for the demo's history: induction, maintenance, return, each session's fate.

:class:`History` walks one patient at a time (:meth:`History.journey`): whether they are
treated at all, which induction, how they respond, whether they stop, go on to maintenance
or come back months later. Each session is placed with
:class:`~ketadesk.demo.history_slots.Occupancy` and draws a fate relative to ``now``:
attended, or cancelled / late-cancelled / no-show at the rates of
:mod:`ketadesk.demo.history_rates`; a released session is rebooked a few days later under
the same number. What happened in a session that holds its chair is recorded by
:class:`~ketadesk.demo.history_floor.FloorRecord`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import pairwise

from ketadesk.clinic.models import Modality, ScreeningFlag
from ketadesk.demo.dice import Dice
from ketadesk.demo.history_floor import FloorRecord
from ketadesk.demo.history_people import Fate, Person, Run, Visit
from ketadesk.demo.history_rates import (
    ADMISSION_WAIT_DAYS,
    BOOKING_HORIZON_DAYS,
    CANCEL_RATE,
    CANCEL_REASONS,
    CONTRAINDICATIONS,
    DISCONTINUE_RATE,
    ESKETAMINE_HIGH_DOSE_RATE,
    ESKETAMINE_RATE,
    ESKETAMINE_WEEKLY_RATE,
    FIRST_SESSION_AFTER,
    FRONT_DESK_USER,
    INDUCTION_MIX,
    IV_DOSES,
    KAP_SUBLINGUAL_RATE,
    LATE_CANCEL_RATE,
    LATE_CANCEL_REASONS,
    LEFT_REASON,
    MAINTENANCE_RATE,
    MAINTENANCE_STOP_RATE,
    MAINTENANCE_STOP_REASONS,
    NO_ROOM_REASON,
    NO_SHOW_RATE,
    NO_SHOW_REASONS,
    NO_TREATMENT_RATE,
    RESPONSES,
    RETURN_AFTER,
    RETURN_RATE,
    SERIES_CANCEL_PREFIX,
    SESSION_SEARCH_DAYS,
    STEP_WINDOW_DAYS,
    STOP_REASONS,
)
from ketadesk.demo.history_rows import HistorySink
from ketadesk.demo.history_slots import Clinic, Occupancy, Slot
from ketadesk.scheduling.models import (
    Protocol,
    ScoreKind,
    Series,
    SeriesStatus,
    SessionStatus,
    WaitlistEntry,
    WaitlistStatus,
)


class History:
    """Walks each patient's journey, booking and recording every session."""

    def __init__(
        self, dice: Dice, clinic: Clinic, sink: HistorySink, today: date, now: datetime
    ) -> None:
        self.dice = dice
        self.clinic = clinic
        self.sink = sink
        self.today = today
        self.now = now
        self.booking_end = today + timedelta(days=BOOKING_HORIZON_DAYS)
        self.steps_from = now - timedelta(days=STEP_WINDOW_DAYS)
        self.occupancy = Occupancy()
        self.floor = FloorRecord(self)

    # -- the journey ---------------------------------------------------------------------

    def journey(self, patient: Person) -> None:
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

    def _treatable(self, patient: Person) -> bool:
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

    def _draw_response(self, patient: Person) -> None:
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

    def _induction_protocol(self, patient: Person) -> Protocol:
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

    def _first_day(self, patient: Person, protocol: Protocol) -> date:
        first = patient.site.local_day(patient.registered)
        if protocol.requires_rems and patient.rems_on is not None:
            first = max(first, patient.rems_on)
        return first + timedelta(days=self.dice.between(*FIRST_SESSION_AFTER))

    def _last_day(self, patient: Person, wanted: date, search: int) -> date:
        last = wanted + timedelta(days=search)
        return min(last, patient.leaves_on) if patient.leaves_on else last

    # -- series --------------------------------------------------------------------------

    def open_run(
        self, patient: Person, protocol: Protocol, first: date, interval: int | None = None
    ) -> Run:
        site = patient.site
        booked = site.instant(first, patient.pref_tick) - timedelta(
            days=self.dice.between(3, 14), minutes=self.dice.between(0, 300)
        )
        booked = max(booked, patient.registered + timedelta(minutes=20))
        booked = min(booked, self.now - timedelta(minutes=5))
        return Run(self.sink.series_id(), patient, protocol, booked, interval)

    def _closed_series(self, patient: Person, protocol: Protocol, first: date) -> Run | None:
        """An induction (a fixed number of sessions), or ``None`` if it could not start."""
        run = self.open_run(patient, protocol, first)
        offsets = offsets_of(protocol)
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

    def _maintenance(self, patient: Person, induction: Protocol) -> Run | None:
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

    def _boosters(self, run: Run, wanted: date) -> None:
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

    def _cut_short(self, run: Run, wanted: date) -> None:
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
        self, run: Run, first: int, last: int, wanted: date, at: datetime, reason: str
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
            fate = Fate(SessionStatus.CANCELLED, at, SERIES_CANCEL_PREFIX + reason)
            self.floor.released(run, number, slot, fate, run.booked_at)
            wanted = slot.day + timedelta(days=2)

    def close(self, run: Run) -> None:
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
        run: Run,
        number: int,
        wanted: date,
        last_day: date,
        *,
        fates: bool = True,
        ticks: Sequence[int] | None = None,
    ) -> Visit | None:
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

    def _booked_at(self, patient: Person, run: Run) -> datetime:
        """Later sessions are booked at check-out of the one before (never after now)."""
        last = patient.last_start or run.booked_at
        return min(
            last + timedelta(minutes=self.dice.between(80, 150)), self.now - timedelta(minutes=5)
        )

    def _usual_provider(self, patient: Person) -> int | None:
        staff = patient.site.providers[Modality.IV] or patient.site.providers[Modality.KAP]
        return staff[patient.id % len(staff)].id if staff else None

    def _fate(self, slot: Slot, created: datetime) -> Fate | None:
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
                return Fate(SessionStatus.CANCELLED, at, dice.one(CANCEL_REASONS))
            draw = CANCEL_RATE  # booked too late to cancel early: a late cancellation
        if draw < CANCEL_RATE + LATE_CANCEL_RATE:
            earliest = max(created + timedelta(minutes=30), start - window + timedelta(hours=1))
            span = max(0, int((start - timedelta(minutes=30) - earliest) / timedelta(minutes=1)))
            at = earliest + timedelta(minutes=dice.between(0, span))
            return Fate(SessionStatus.LATE_CANCELLED, at, dice.one(LATE_CANCEL_REASONS))
        if draw < CANCEL_RATE + LATE_CANCEL_RATE + NO_SHOW_RATE:
            return Fate(
                SessionStatus.NO_SHOW, start + dice.minutes(15, 40), dice.one(NO_SHOW_REASONS)
            )
        return None

    # -- waiting -------------------------------------------------------------------------

    def _waitlist(self, patient: Person, protocol: Protocol, wanted: date) -> None:
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


def offsets_of(protocol: Protocol) -> list[int]:
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
