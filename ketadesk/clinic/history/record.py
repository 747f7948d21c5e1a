"""A patient's treatment history as the faces show it: frozen lines and the TRD verdict.

:func:`patient_history` reads the live entries and judges them in one go (``PATIENT_VIEW``;
the read is audited, as any opening of a clinical record). The window's History tab,
``ketadesk history`` and the letter of medical necessity all start from it, so they show
the same trials and the same reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.history.adequacy import adequacy_table
from ketadesk.clinic.history.entries import TreatmentDraft, live_entries
from ketadesk.clinic.history.models import PriorTreatment
from ketadesk.clinic.history.trd import TrdVerdict, verdict_of
from ketadesk.clinic.history.words import amount_text
from ketadesk.clinic.models import Patient
from ketadesk.errors import NotFound


@dataclass(frozen=True, kw_only=True)
class HistoryLine(TreatmentDraft):
    """A recorded entry as shown: what was tried, who recorded it, and whether it counts."""

    id: int
    recorded_by: str
    recorded_at: datetime
    counts: bool  # as an adequate failed antidepressant trial
    reason: str  # why it counts or not

    @property
    def dose(self) -> str:
        return dose_text(self.dose_amount, self.dose_unit)

    @property
    def started(self) -> str:
        return month_text(self.started_on)


DRAFT_FIELDS = tuple(f.name for f in fields(TreatmentDraft))


@dataclass(frozen=True)
class PatientHistory:
    patient_id: int
    mrn: str
    lines: tuple[HistoryLine, ...]
    verdict: TrdVerdict


def dose_text(amount: Decimal | None, unit: str) -> str:
    """``150 mg``; ``12.5 mg``; blank when none was recorded."""
    if amount is None:
        return ""
    return f"{amount_text(amount)} {unit}".strip()


def month_text(day: date | None) -> str:
    return f"{day:%b %Y}" if day is not None else ""


def patient_history(session: Session, actor: Actor, patient_id: int) -> PatientHistory:
    """The live history with each entry judged, and the verdict; the read is audited."""
    actor.require(Permission.PATIENT_VIEW)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    entries = live_entries(session, patient_id)
    verdict = verdict_of(entries, adequacy_table())
    reasons = {j.entry_id: j for j in (*verdict.counted, *verdict.not_counted)}
    audit.record(session, actor, "view", "treatment_history", patient.mrn,
                 after={"patient_id": patient_id})
    return PatientHistory(
        patient_id=patient_id,
        mrn=patient.mrn,
        lines=tuple(_line(e, reasons[e.id].counts, reasons[e.id].reason) for e in entries),
        verdict=verdict,
    )


def _line(entry: PriorTreatment, counts: bool, reason: str) -> HistoryLine:
    drafted = {name: getattr(entry, name) for name in DRAFT_FIELDS}
    return HistoryLine(**drafted, id=entry.id, recorded_by=entry.recorded_by,
                       recorded_at=entry.recorded_at, counts=counts, reason=reason)
