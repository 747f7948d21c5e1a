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

Each part has its own module: the rates and reasons (:mod:`~ketadesk.demo.history_rates`),
slot finding (:mod:`~ketadesk.demo.history_slots`), the patients and their series records
(:mod:`~ketadesk.demo.history_people`), the journeys (:mod:`~ketadesk.demo.history_journeys`),
the floor records (:mod:`~ketadesk.demo.history_floor`), today's floor
(:mod:`~ketadesk.demo.history_today`) and the writing (:mod:`~ketadesk.demo.history_rows`).

Every draw comes from the stage's own :class:`random.Random` in a fixed order (patients by
registration, sessions in time order), so a seed, ``today`` and ``now`` give the same
history every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session

from ketadesk.demo.dice import Dice
from ketadesk.demo.history_journeys import History
from ketadesk.demo.history_people import load_people
from ketadesk.demo.history_rates import (
    ADMISSION_WAIT_DAYS,
    CANCEL_RATE,
    CONTRAINDICATIONS,
    FRONT_DESK_USER,
    LATE_CANCEL_RATE,
    NO_SHOW_RATE,
    NURSE_USER,
    RECENT_UNFILED_DAYS,
    SERIES_CANCEL_PREFIX,
    STEP_WINDOW_DAYS,
    TODAY_MIN_IN_CHAIRS,
)
from ketadesk.demo.history_rows import HistoryCounts, HistorySink
from ketadesk.demo.history_slots import Clinic
from ketadesk.demo.history_today import TodayFloor

__all__ = [
    "ADMISSION_WAIT_DAYS",
    "CANCEL_RATE",
    "CONTRAINDICATIONS",
    "FRONT_DESK_USER",
    "LATE_CANCEL_RATE",
    "NO_SHOW_RATE",
    "NURSE_USER",
    "RECENT_UNFILED_DAYS",
    "SERIES_CANCEL_PREFIX",
    "STEP_WINDOW_DAYS",
    "TODAY_MIN_IN_CHAIRS",
    "HistoryCounts",
    "add_history",
]

ProgressCallback = Callable[[str, int, int], None]


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
    clinic = Clinic.load(session)
    patients = load_people(session, clinic)
    sink = HistorySink(session)
    history = History(Dice(rng), clinic, sink, today, now)
    report("sessions", 0, len(patients))
    for done, patient in enumerate(patients, start=1):
        history.journey(patient)
        if sink.full() or done == len(patients):
            sink.flush()
            report("sessions", done, len(patients))
    TodayFloor(history).fill([p for p in patients if p.between_series])
    sink.flush()
    sink.sync_sequences()
    return sink.counts()
