"""The demo's side effects: plausible rates on past sessions, and one patient to review today.

Each completed session draws at most one side effect, by the rates below (its modality's),
then a severity (mostly mild), an onset 5 to 60 minutes after the dose and what was done.

* IV and the other ketamine routes: nausea about 12%, vomiting 4%, dissociation beyond the
  expected 5%, blood pressure above the limit 7%, headache 5% of sessions -- within the ranges
  reported for subanaesthetic ketamine infusions.
* Esketamine: the Spravato label lists as its most common adverse reactions dissociation,
  dizziness, nausea, sedation, vertigo, reduced sensation, anxiety, lethargy, a rise in blood
  pressure, vomiting and feeling drunk, counted per patient over weeks of treatment; per
  session the demo takes lower figures for the ones KetaDesk records (dissociation beyond the
  expected 8%, dizziness 8%, nausea 8%, sedation 6%, blood pressure 6%, vomiting 3%,
  headache 4%).

About one session in 2,000 has a serious event; a provider cleared each a day later, so the
past leaves no one flagged. Then one patient booked today, with a completed session before,
gets a serious event on that session and no clearance: that patient's card shows "Review
needed" and the checklist refuses the dose until a provider clears it (one flagged patient
keeps the demo workable). The blood-pressure events say the reading in words; the floor's
own vital-sign rows of the demo stay below the limit.

Everything is written with the demo's bulk writer in one pass over the completed sessions.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.clinic.models import Location, Modality
from ketadesk.demo.bulk import insert_rows, table_of
from ketadesk.demo.history_rates import NURSE_USER
from ketadesk.scheduling.models import OPEN, SessionStatus, TreatmentSession
from ketadesk.scheduling.side_effects.models import (
    ReviewClearance,
    SideEffect,
    SideEffectKind,
    SideEffectSeverity,
)
from ketadesk.scheduling.vital_limits import blood_pressure_limit

K = SideEffectKind
# (kind, share of sessions, what was done)
KETAMINE_RATES = (
    (K.NAUSEA, 0.12, "ondansetron 4 mg IV"),
    (K.VOMITING, 0.04, "infusion paused; ondansetron 4 mg IV"),
    (K.DISSOCIATION, 0.05, "reassurance, lights dimmed; infusion rate lowered"),
    (K.BLOOD_PRESSURE, 0.07, "rechecked every 10 minutes until below the limit"),
    (K.HEADACHE, 0.05, "acetaminophen 1000 mg by mouth"),
)
ESKETAMINE_RATES = (
    (K.DISSOCIATION, 0.08, "reassurance; monitored in the chair"),
    (K.DIZZINESS, 0.08, "rested in the chair; stood up with help"),
    (K.NAUSEA, 0.08, "ondansetron 4 mg ODT"),
    (K.SEDATION, 0.06, "monitored; observation extended"),
    (K.BLOOD_PRESSURE, 0.06, "rechecked every 15 minutes until below the limit"),
    (K.VOMITING, 0.03, "ondansetron 4 mg ODT"),
    (K.HEADACHE, 0.04, "acetaminophen 1000 mg by mouth"),
)
SEVERITIES = ((SideEffectSeverity.MILD, 0.72), (SideEffectSeverity.MODERATE, 0.24))
SERIOUS_RATE = 0.0005
PROVIDER_USER = "dr.patel"  # who cleared the past reviews
FLAGGED_EVENT = (K.VOMITING, "repeated vomiting; infusion stopped; ondansetron 4 mg IV")


def add_side_effects(session: Session, rng: random.Random, *, now: datetime) -> int:
    """Write the demo's side effects and clearances; return how many side effects."""
    rows: list[dict[str, Any]] = []
    clearances: list[dict[str, Any]] = []
    query = (
        select(TreatmentSession.id, TreatmentSession.patient_id, TreatmentSession.modality,
               TreatmentSession.dosed_at)
        .where(TreatmentSession.status == SessionStatus.COMPLETED,
               TreatmentSession.dosed_at.is_not(None))
        .order_by(TreatmentSession.id)
    )  # fmt: skip
    last_dosed: dict[int, tuple[int, datetime]] = {}
    for session_id, patient_id, modality, dosed_at in session.execute(query):
        if dosed_at is None:  # the query asked for dosed sessions; this tells the type checker
            continue
        last_dosed[patient_id] = (session_id, dosed_at)
        row = _draw(rng, session_id, patient_id, modality, dosed_at)
        if row is None:
            continue
        rows.append(row)
        if row["serious"]:
            clearances.append(_clearance(row))
    flagged = _flagged_today(session, now, last_dosed, {c["patient_id"] for c in clearances})
    if flagged is not None:
        rows.append(flagged)
    insert_rows(session, table_of(SideEffect), rows)
    insert_rows(session, table_of(ReviewClearance), clearances)
    return len(rows)


def _draw(
    rng: random.Random, session_id: int, patient_id: int, modality: Modality, dosed_at: datetime
) -> dict[str, Any] | None:
    rates = ESKETAMINE_RATES if modality is Modality.ESKETAMINE else KETAMINE_RATES
    roll = rng.random()
    for kind, share, action in rates:
        if roll < share:
            onset = dosed_at + timedelta(minutes=rng.randint(5, 60))
            serious = rng.random() < SERIOUS_RATE
            severity = SideEffectSeverity.SEVERE if serious else _severity(rng)
            detail = _blood_pressure_words(rng, modality) if kind is K.BLOOD_PRESSURE else ""
            return _row(session_id, patient_id, kind, severity, serious, onset, action, detail)
        roll -= share
    return None


def _severity(rng: random.Random) -> SideEffectSeverity:
    roll = rng.random()
    for severity, share in SEVERITIES:
        if roll < share:
            return severity
        roll -= share
    return SideEffectSeverity.SEVERE


def _blood_pressure_words(rng: random.Random, modality: Modality) -> str:
    systolic, diastolic = blood_pressure_limit(modality)
    reading = f"{systolic + rng.randint(0, 18)}/{diastolic - 10 + rng.randint(0, 12)}"
    return f"reading {reading} after the dose; limit below {systolic}/{diastolic}"


def _row(
    session_id: int,
    patient_id: int,
    kind: SideEffectKind,
    severity: SideEffectSeverity,
    serious: bool,
    onset: datetime,
    action: str,
    detail: str,
) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "patient_id": patient_id,
        "kind": kind.value,
        "detail": detail,
        "severity": severity.value,
        "serious": serious,
        "onset_at": onset,
        "action": action,
        "recorded_by": NURSE_USER,
        "recorded_at": onset + timedelta(minutes=5),
        "corrects_id": None,
        "withdrawn": False,
    }


def _clearance(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient_id": row["patient_id"],
        "cleared_at": row["recorded_at"] + timedelta(days=1),
        "cleared_by": PROVIDER_USER,
        "note": "Reviewed with the patient; pre-treatment antiemetic and a lower dose next time.",
    }


def _flagged_today(
    session: Session,
    now: datetime,
    last_dosed: dict[int, tuple[int, datetime]],
    reviewed: set[int],
) -> dict[str, Any] | None:
    """A serious event, not yet cleared, for the first patient still to come in today who
    has a session behind them (and no past review, so nothing clears it)."""
    upcoming = session.execute(
        select(TreatmentSession.patient_id, Location.time_zone, TreatmentSession.starts_at)
        .join(Location, Location.id == TreatmentSession.location_id)
        .where(TreatmentSession.starts_at > now,
               TreatmentSession.starts_at < now + timedelta(hours=12),
               TreatmentSession.status.in_(OPEN))
        .order_by(TreatmentSession.starts_at, TreatmentSession.id)
    ).all()  # fmt: skip
    for patient_id, zone, starts_at in upcoming:
        today = now.astimezone(ZoneInfo(zone)).date()
        if starts_at.astimezone(ZoneInfo(zone)).date() != today or patient_id in reviewed:
            continue
        if patient_id in last_dosed:
            session_id, dosed_at = last_dosed[patient_id]
            kind, action = FLAGGED_EVENT
            onset = dosed_at + timedelta(minutes=25)
            severe = SideEffectSeverity.SEVERE
            return _row(session_id, patient_id, kind, severe, True, onset, action, "")
    return None
