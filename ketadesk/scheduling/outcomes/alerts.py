"""The PHQ-9 item-9 safety alert: who has one open, and its acknowledgement.

An alert is raised by :func:`ketadesk.scheduling.outcomes.scores.record_score` when a patient
answers item 9 (thoughts that they would be better off dead, or of hurting themselves) above
zero. It shows on the patient's card on the Today board and in the chart until a clinician
acknowledges it (``CLINICAL_DECIDE``) with a note saying what was done; acknowledged alerts
are kept, with who, when and the note, as the patient's history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Patient
from ketadesk.errors import Conflict, NotFound, StaleEdit, ValidationError
from ketadesk.scheduling.outcomes.models import OutcomeScore, SafetyAlert

NOTE_LENGTH = 2000
ITEM_WORDS = "PHQ-9 item 9 (thoughts of self-harm)"


@dataclass(frozen=True)
class AlertView:
    """One alert as the faces show it."""

    alert_id: int
    patient_id: int
    mrn: str
    patient_name: str
    item_value: int
    phq9_total: int
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str

    @property
    def reference(self) -> str:
        return f"A-{self.alert_id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def words(self) -> str:
        """``"PHQ-9 item 9 (thoughts of self-harm) answered 2 (PHQ-9 total 18)"``."""
        return f"{ITEM_WORDS} answered {self.item_value} (PHQ-9 total {self.phq9_total})"


def _query() -> Select[SafetyAlert, OutcomeScore, Patient]:
    return (
        select(SafetyAlert, OutcomeScore, Patient)
        .join(OutcomeScore, OutcomeScore.id == SafetyAlert.score_id)
        .join(Patient, Patient.id == SafetyAlert.patient_id)
        .order_by(SafetyAlert.raised_at, SafetyAlert.id)
    )


def _views(session: Session, query: Select[SafetyAlert, OutcomeScore, Patient]) -> list[AlertView]:
    return [
        AlertView(
            alert_id=alert.id,
            patient_id=patient.id,
            mrn=patient.mrn,
            patient_name=f"{patient.family_name}, {patient.given_name}",
            item_value=alert.item_value,
            phq9_total=score.total,
            raised_at=alert.raised_at,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
            note=alert.note,
        )
        for alert, score, patient in session.execute(query)
    ]


def open_alerts(
    session: Session, actor: Actor, patient_ids: Collection[int] | None = None
) -> list[AlertView]:
    """Alerts not yet acknowledged, oldest first; of ``patient_ids`` only, when given."""
    actor.require(Permission.PATIENT_VIEW)
    query = _query().where(SafetyAlert.acknowledged_at.is_(None))
    if patient_ids is not None:
        query = query.where(SafetyAlert.patient_id.in_(patient_ids))
    return _views(session, query)


def open_by_patient(
    session: Session, actor: Actor, patient_ids: Collection[int]
) -> dict[int, tuple[AlertView, ...]]:
    """:func:`open_alerts` of ``patient_ids``, grouped by patient (what the board shows)."""
    grouped: dict[int, list[AlertView]] = defaultdict(list)
    if patient_ids:
        for view in open_alerts(session, actor, patient_ids):
            grouped[view.patient_id].append(view)
    return {patient_id: tuple(views) for patient_id, views in grouped.items()}


def patient_alerts(session: Session, actor: Actor, patient_id: int) -> list[AlertView]:
    """Every alert of the patient, open and acknowledged, oldest first."""
    actor.require(Permission.PATIENT_VIEW)
    return _views(session, _query().where(SafetyAlert.patient_id == patient_id))


def acknowledge(
    session: Session,
    actor: Actor,
    alert_id: int,
    note: str,
    *,
    now: datetime | None = None,
) -> SafetyAlert:
    """Acknowledge alert ``alert_id`` with ``note`` (what was done); needs ``CLINICAL_DECIDE``.

    Raises :class:`ValidationError` on ``note`` when it is blank or too long,
    :class:`NotFound` for an unknown alert and :class:`Conflict` for one already
    acknowledged (naming by whom).
    """
    actor.require(Permission.CLINICAL_DECIDE)
    text = note.strip()
    if not text:
        raise ValidationError.single("note", "say what was done about the alert")
    if len(text) > NOTE_LENGTH:
        raise ValidationError.single("note", f"a note has at most {NOTE_LENGTH} characters")
    alert = session.get(SafetyAlert, alert_id)
    if alert is None:
        raise NotFound(f"there is no alert A-{alert_id}")
    if alert.acknowledged_at is not None:
        raise Conflict(
            f"{alert.reference} was already acknowledged by {alert.acknowledged_by} "
            f"on {alert.acknowledged_at:%Y-%m-%d %H:%M} UTC"
        )
    before = audit.snapshot(alert)
    alert.acknowledged_by = actor.username
    alert.acknowledged_at = (now or datetime.now(UTC)).astimezone(UTC)
    alert.note = text
    try:
        session.flush()
    except StaleDataError:
        raise StaleEdit(
            f"{alert.reference} was acknowledged on another workstation just now"
        ) from None
    audit.record_update(session, actor, "safety_alert", alert.id, before, audit.snapshot(alert))
    return alert
