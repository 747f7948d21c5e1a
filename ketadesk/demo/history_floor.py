"""Floor records for the demo's history: what happened in each session, cut at ``now``.

:class:`FloorRecord` turns a booked slot into its session row. A session holding its chair
gets its whole floor record drawn (confirmation, check-in, checklist, dose, infusion,
monitoring, discharge, score, vitals and observations for esketamine, the REMS monitoring
form) and then cut at ``now``: what lies after ``now`` has not happened yet, so sessions
earlier today are completed, those under way are checked in, dosing or monitoring, and later
ones are scheduled or confirmed. Session steps are written for the last
:data:`~ketadesk.demo.history_rates.STEP_WINDOW_DAYS` days only, to keep the stage fast.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ketadesk.clinic.models import Modality
from ketadesk.demo.history_people import Fate, Person, Run, Visit
from ketadesk.demo.history_rates import (
    CONFIRM_HOURS,
    CONFIRM_RATE,
    FRONT_DESK_USER,
    INFUSION_MINUTES,
    IV_DOSES,
    LOT_DAYS,
    NURSE_USER,
    RECENT_UNFILED_DAYS,
    RECENT_UNFILED_RATE,
    REMS_LATE_FILING_RATE,
)
from ketadesk.demo.history_slots import Slot
from ketadesk.scheduling.floor import ESKETAMINE_DOSES_MG, mg_per_kg
from ketadesk.scheduling.models import (
    Checkpoint,
    Observation,
    ObservationKind,
    Protocol,
    Route,
    SessionStatus,
    SessionStep,
    Severity,
    TreatmentSession,
    VitalSign,
)
from ketadesk.scheduling.rems import rems_form_due_on
from ketadesk.scheduling.vital_limits import ESKETAMINE_MAX_SYSTOLIC, MAX_DIASTOLIC

if TYPE_CHECKING:
    from ketadesk.demo.history_journeys import History


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


class FloorRecord:
    """Turns a booked slot into its session row, steps, vital signs and observations."""

    def __init__(self, history: History) -> None:
        self.h = history
        self.dice = history.dice
        self.sink = history.sink

    def released(self, run: Run, number: int, slot: Slot, fate: Fate, created: datetime) -> None:
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

    def holding(self, run: Run, number: int, slot: Slot, created: datetime) -> Visit:
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
        return Visit(
            slot.day, slot.starts_at, slot.ends_at, row["status"] is SessionStatus.COMPLETED
        )

    def _account(self, run: Run, row: dict[str, Any]) -> None:
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

    def _row(self, run: Run, number: int, slot: Slot, created: datetime) -> dict[str, Any]:
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

    def _confirmation(self, slot: Slot, created: datetime, before: datetime) -> datetime | None:
        if not self.dice.chance(CONFIRM_RATE):
            return None
        at = slot.starts_at - timedelta(hours=self.dice.between(*CONFIRM_HOURS))
        at = max(at, created + timedelta(minutes=10))
        return at if at < before else None

    def _timeline(self, row: dict[str, Any], protocol: Protocol, slot: Slot) -> None:
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

    def _treatment(self, row: dict[str, Any], run: Run, slot: Slot) -> None:
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
        row["lot_number"] = lot_number(slot.site.id, row["route"], slot.day)
        row.update(score_kind=patient.score_kind, score=self._score(patient))
        if modality is Modality.ESKETAMINE:
            row["rems_form_due_on"] = rems_form_due_on(slot.day)
            row["rems_form_filed_on"] = self._rems_filed(slot.day)

    def _weighed_dose(self, row: dict[str, Any], patient: Person) -> None:
        """mg/kg from the weight: 0.5 mg/kg first, up by 0.1 a session to the patient's dose."""
        weight = patient.weight or Decimal(70)  # never None: the unweighed are not treated
        per_kg = min(patient.dose_step, IV_DOSES[0] + Decimal("0.1") * patient.doses)
        dose = (weight * per_kg).quantize(_MILLIGRAM)
        per_kg = mg_per_kg(dose, weight)  # the floor's own rounding
        row.update(dose_mg=dose, dose_mg_per_kg=per_kg)

    def _score(self, patient: Person) -> int:
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
        self, row: dict[str, Any], run: Run, slot: Slot
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

    def _steps_wanted(self, slot: Slot) -> bool:
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


def lot_number(site_id: int, route: Route | None, day: date) -> str:
    """The lot in use at a location for a drug in a ~45-day period (stable across runs)."""
    period = day.toordinal() // LOT_DAYS
    number = zlib.crc32(f"{site_id}:{route}:{period}".encode()) % 1_000_000
    if route is Route.INTRANASAL:
        return f"SPV{day.year % 100:02d}{number % 10_000:04d}"
    if route is Route.SUBLINGUAL:
        return f"RX{number:06d}"
    return f"KET{number:06d}"
