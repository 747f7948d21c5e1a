"""The demo's intake assessments: nearly every patient assessed, in bulk.

For each patient (in id order, from its own seeded generator) :func:`add_intakes` writes one
signed intake with an answer to every condition, the current medications and the baseline
vitals and weight:

* the findings follow the patient's screening flags (a history of psychosis becomes
  "psychosis or mania", cardiac disease an arrhythmia, …) plus a few relative ones drawn at
  plausible rates (liver, kidney and bladder problems, glaucoma, breastfeeding); the
  medications are an antidepressant or two, and for some a benzodiazepine, lamotrigine, a
  stimulant or, rarely, an MAO inhibitor (the interactions the intake finds);
* patients with a session from yesterday on (:func:`_booked_patients`) are kept workable:
  their intake is valid and every absolute finding carries a provider's override, a few
  with an intake falling due within the month (the Today board says so);
* of the others, a few have an intake that has expired, a few one due within 30 days, and
  some an absolute finding no provider has overridden; about 2% have no intake at all.

Ids are assigned here and PostgreSQL's sequences moved past them (:class:`~.bulk.Sink`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic.intake.conditions import condition_keys
from ketadesk.clinic.intake.models import (
    FindingOverride,
    IntakeAnswer,
    IntakeAssessment,
    IntakeMedication,
)
from ketadesk.clinic.intake.rules import DEFAULT_VALID_MONTHS
from ketadesk.clinic.intake.state import DUE_WITHIN_DAYS, add_months
from ketadesk.clinic.models import Patient, ScreeningFlag, Sex, provider_location
from ketadesk.demo.bulk import Sink
from ketadesk.demo.dice import Dice
from ketadesk.scheduling.models import RELEASED, TreatmentSession

FLAG_FINDINGS = {
    ScreeningFlag.PSYCHOSIS_HISTORY: ("psychosis_mania", "one episode, in remission"),
    ScreeningFlag.UNCONTROLLED_HYPERTENSION: ("uncontrolled_hypertension", "on two agents"),
    ScreeningFlag.PREGNANCY: ("pregnancy", ""),
    ScreeningFlag.ANEURYSMAL_VASCULAR_DISEASE: ("aneurysmal_vascular_disease", "AAA 3.2 cm"),
    ScreeningFlag.INTRACEREBRAL_HEMORRHAGE: ("brain_bleed", "remote, treated"),
    ScreeningFlag.SUBSTANCE_USE_DISORDER: ("substance_use", "alcohol, in recovery"),
    ScreeningFlag.CARDIAC_DISEASE: ("arrhythmia", "paroxysmal AF"),
    ScreeningFlag.SEIZURE_DISORDER: ("seizures", "controlled on medication"),
}
# (condition, share of patients, details) for findings that have no screening flag.
OTHER_FINDINGS = (
    ("liver_disease", 0.03, "fatty liver, ALT mildly raised"),
    ("kidney_disease", 0.015, "CKD stage 2"),
    ("bladder_problems", 0.03, "urinary frequency"),
    ("raised_intraocular_pressure", 0.01, "open-angle glaucoma"),
    ("heart_failure", 0.004, "HFpEF, stable"),
)
ABSOLUTE = frozenset(
    {
        "psychosis_mania",
        "uncontrolled_hypertension",
        "recent_heart_attack",
        "aneurysmal_vascular_disease",
        "brain_bleed",
        "pregnancy",
    }
)
OVERRIDE_REASONS = (
    "Reviewed with the patient's specialist; benefit outweighs the risk, monitored closely.",
    "Blood pressure controlled at review; proceed with pre-dose checks.",
    "Psychiatry consulted: no active symptoms; proceed with monitoring.",
)
# (name, dose, share of patients).
MEDICATIONS = (
    ("Sertraline", "100 mg", 0.18),
    ("Escitalopram", "20 mg", 0.15),
    ("Bupropion XL", "300 mg", 0.14),
    ("Venlafaxine XR", "150 mg", 0.09),
    ("Trazodone", "50 mg", 0.08),
    ("Lithium carbonate", "600 mg", 0.03),
    ("Quetiapine", "50 mg", 0.04),
    ("Lorazepam", "0.5 mg", 0.06),
    ("Clonazepam", "0.5 mg", 0.04),
    ("Lamotrigine", "100 mg", 0.04),
    ("Adderall", "20 mg", 0.03),
    ("Methylphenidate ER", "36 mg", 0.02),
    ("Phenelzine", "15 mg", 0.004),
)
NO_INTAKE = 0.02
PatientRow = Row[int, Sex, date, Decimal | None, frozenset[ScreeningFlag], int | None]


@dataclass(frozen=True)
class IntakeCounts:
    intakes: int
    overrides: int


def add_intakes(
    session: Session, rng: random.Random, *, actor: Actor, today: date, now: datetime
) -> IntakeCounts:
    """Write the demo's intakes (see the module's docstring); returns how many."""
    dice = Dice(rng)
    booked = _booked_patients(session, today)
    providers = _providers_by_location(session)
    everyone = [p for ids in providers.values() for p in ids]
    sink = Sink(session, (IntakeAssessment, IntakeAnswer, IntakeMedication, FindingOverride))
    written = Writer(dice, sink, actor.username, today, now)
    rows = session.execute(
        select(
            Patient.id, Patient.sex, Patient.date_of_birth, Patient.weight_kg,
            Patient.screening_flags, Patient.home_location_id,
        ).order_by(Patient.id)
    )
    for row in rows:
        if dice.chance(NO_INTAKE) or not everyone:
            continue
        pool = providers.get(row.home_location_id) or everyone
        written.intake(row, dice.one(pool), row.id in booked)
        if sink.full():
            sink.flush()
    sink.flush()
    sink.sync_sequences()
    return IntakeCounts(written.intakes, written.overrides)


class Writer:
    """Draws one patient's intake and buffers its rows."""

    def __init__(self, dice: Dice, sink: Sink, by: str, today: date, now: datetime) -> None:
        self.dice, self.sink, self.by, self.today, self.now = dice, sink, by, today, now
        self.intakes = self.overrides = 0

    def intake(self, row: PatientRow, provider_id: int, booked: bool) -> None:
        dice = self.dice
        assessed = self._assessed_on(booked)
        found = self._findings(row)
        blocked_ok = booked or dice.chance(0.6)  # absolute findings overridden
        assessment_id = self.sink.next_id(IntakeAssessment)
        systolic = max(96, min(168, int(dice.gauss(124, 11))))
        diastolic = max(58, min(systolic - 25, int(dice.gauss(78, 7))))
        weight = row.weight_kg or Decimal(str(round(dice.gauss(78, 14), 1)))
        self.sink.add(IntakeAssessment, {
            "id": assessment_id, "patient_id": row.id, "assessed_on": assessed,
            "provider_id": provider_id, "recorded_by": self.by, "recorded_by_user_id": None,
            "systolic": systolic, "diastolic": diastolic,
            "heart_rate": max(52, min(108, int(dice.gauss(74, 9)))),
            "weight_kg": weight,
            "supersedes_id": None,
            "created_at": datetime.combine(assessed, time(15), UTC),
        })
        for key in condition_keys():
            self.sink.add(IntakeAnswer, {
                "id": self.sink.next_id(IntakeAnswer), "assessment_id": assessment_id,
                "condition": key, "present": key in found, "details": found.get(key, ""),
            })
        self._medications(assessment_id)
        for key in sorted(found.keys() & ABSOLUTE):
            if blocked_ok:
                self._override(assessment_id, key, provider_id, assessed)
        self.intakes += 1

    def _assessed_on(self, booked: bool) -> date:
        """When the intake was signed: valid for the booked, some due, some expired."""
        dice, today = self.dice, self.today
        year_ago = add_months(today, -DEFAULT_VALID_MONTHS)
        if booked:
            if dice.chance(0.04):  # falls due within the month, after the next week
                return year_ago + timedelta(days=dice.between(8, DUE_WITHIN_DAYS))
            return today - timedelta(days=dice.between(1, 300))
        roll = dice.uniform(0, 1)
        if roll < 0.05:  # expired
            return year_ago - timedelta(days=dice.between(0, 200))
        if roll < 0.10:  # due within 30 days
            return year_ago + timedelta(days=dice.between(1, DUE_WITHIN_DAYS))
        return today - timedelta(days=dice.between(0, 330))

    def _findings(self, row: PatientRow) -> dict[str, str]:
        found = {
            FLAG_FINDINGS[flag][0]: FLAG_FINDINGS[flag][1]
            for flag in row.screening_flags or ()
            if flag in FLAG_FINDINGS
        }
        for key, rate, details in OTHER_FINDINGS:
            if self.dice.chance(rate):
                found[key] = details
        if row.sex is Sex.FEMALE and self.dice.chance(0.006):
            found["breastfeeding"] = "infant 4 months"
        return found

    def _medications(self, assessment_id: int) -> None:
        position = 0
        for name, dose, rate in MEDICATIONS:
            if self.dice.chance(rate):
                position += 1
                self.sink.add(IntakeMedication, {
                    "id": self.sink.next_id(IntakeMedication), "assessment_id": assessment_id,
                    "position": position, "name": name, "dose": dose,
                })

    def _override(self, assessment_id: int, key: str, provider_id: int, on: date) -> None:
        self.sink.add(FindingOverride, {
            "id": self.sink.next_id(FindingOverride), "assessment_id": assessment_id,
            "condition": key, "provider_id": provider_id,
            "reason": self.dice.one(OVERRIDE_REASONS), "recorded_by": self.by,
            "recorded_at": datetime.combine(on, time(16), UTC),
        })
        self.overrides += 1


def _booked_patients(session: Session, today: date) -> set[int]:
    """Patients holding a session from yesterday on: their intake must let them be dosed."""
    since = datetime.combine(today - timedelta(days=1), time(), UTC)
    return set(
        session.scalars(
            select(TreatmentSession.patient_id)
            .where(TreatmentSession.starts_at >= since, TreatmentSession.status.not_in(RELEASED))
            .distinct()
        )
    )


def _providers_by_location(session: Session) -> dict[int | None, list[int]]:
    found: dict[int | None, list[int]] = {}
    for location_id, provider_id in session.execute(
        select(provider_location.c.location_id, provider_location.c.provider_id).order_by(
            provider_location.c.location_id, provider_location.c.provider_id
        )
    ):
        found.setdefault(location_id, []).append(provider_id)
    return found

