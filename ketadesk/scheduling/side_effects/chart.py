"""The patient chart's side effects: what the CLI and the window both show, read once.

:func:`side_effect_chart` returns the patient's side effects as they stand (corrections
applied, withdrawn entries left out), whether a provider's review is pending, and the
review clearances, with instants in each session's location time. It is part of the
patient's record: it needs ``PATIENT_VIEW``, and the caller opens the record first with its
audited opening (:func:`ketadesk.clinic.patients.open_patient`: the window's chart, the
command line), so one reading leaves one "view" row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Patient
from ketadesk.errors import NotFound
from ketadesk.scheduling.side_effects import review
from ketadesk.scheduling.side_effects.models import SideEffect
from ketadesk.scheduling.side_effects.recording import in_force, minutes_after_dose


@dataclass(frozen=True)
class SideEffectLine:
    """One side effect as the chart lists it; ``onset`` and ``recorded_at`` are local."""

    side_effect_id: int
    reference: str
    session_id: int
    session_reference: str
    kind: str
    kind_label: str
    detail: str
    severity: str
    serious: bool
    onset: datetime
    minutes_after_dose: int | None
    action: str
    recorded_by: str
    recorded_at: datetime
    corrects: str  # "SE-12" when this row corrects another, else ""


@dataclass(frozen=True)
class ClearanceLine:
    cleared_at: datetime  # local to the patient's home location, else UTC
    cleared_by: str
    note: str


@dataclass(frozen=True)
class SideEffectChart:
    mrn: str
    patient_name: str
    review_needed: str  # "Provider review needed: …", or "" when none is pending
    side_effects: tuple[SideEffectLine, ...]
    clearances: tuple[ClearanceLine, ...]


def side_effect_chart(session: Session, actor: Actor, patient_id: int) -> SideEffectChart:
    """The side effects, review state and clearances of ``patient_id``."""
    actor.require(Permission.PATIENT_VIEW)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"there is no patient with id {patient_id}")
    home = ZoneInfo(patient.home_location.time_zone) if patient.home_location else None
    return SideEffectChart(
        mrn=patient.mrn,
        patient_name=patient.display_name,
        review_needed=review.pending_words(session, [patient_id]).get(patient_id, ""),
        side_effects=tuple(_line(row) for row in in_force(session, patient_id)),
        clearances=tuple(
            ClearanceLine(c.cleared_at.astimezone(home), c.cleared_by, c.note)
            for c in review.clearances(session, patient_id)
        ),
    )


def _line(row: SideEffect) -> SideEffectLine:
    zone = ZoneInfo(row.session.location.time_zone)
    return SideEffectLine(
        side_effect_id=row.id,
        reference=row.reference,
        session_id=row.session_id,
        session_reference=row.session.reference,
        kind=row.kind.value,
        kind_label=row.kind.label,
        detail=row.detail,
        severity=row.severity.value,
        serious=row.serious,
        onset=row.onset_at.astimezone(zone),
        minutes_after_dose=minutes_after_dose(row),
        action=row.action,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at.astimezone(zone),
        corrects=f"SE-{row.corrects_id}" if row.corrects_id else "",
    )
