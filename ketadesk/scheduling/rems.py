"""The Spravato REMS patient monitoring form: its due date, its filing, the overdue list.

After every esketamine session the clinic files a patient monitoring form with the REMS
within 7 calendar days. :func:`~ketadesk.scheduling.floor.discharge` sets the session's
``rems_form_due_on`` with :func:`rems_form_due_on`; clinical staff then record the day they
filed it with :func:`file_rems_form`. :func:`rems_forms_due` is the Today board's list of
forms still to file, overdue first, read in one query over the partial index
``ix_session_rems_open``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Location, Modality, Patient
from ketadesk.errors import Conflict, NotFound, StaleEdit, ValidationError
from ketadesk.scheduling.models import SessionStatus, TreatmentSession

REMS_FORM_DAYS = 7  # calendar days after the session


@dataclass(frozen=True)
class RemsFormDue:
    """A REMS monitoring form to file (or, with ``include_filed``, one filed on
    ``filed_on``). ``days_left`` is negative once overdue."""

    session_id: int
    reference: str
    patient_id: int
    patient_name: str
    mrn: str
    session_day: date
    due_on: date
    overdue: bool
    days_left: int
    filed_on: date | None = None


def rems_form_due_on(session_day: date) -> date:
    """The day the form for a session on ``session_day`` (local date) is due."""
    return session_day + timedelta(days=REMS_FORM_DAYS)


def file_rems_form(
    session: Session,
    actor: Actor,
    session_id: int,
    filed_on: date,
    *,
    today: date | None = None,
) -> TreatmentSession:
    """Record the day the REMS form of a completed esketamine session was filed.

    ``filed_on`` may be neither after ``today`` (the location's local date unless given)
    nor before the session's day. Filing again corrects the date; the audit log keeps both.
    """
    actor.require(Permission.FLOOR_CLINICAL)
    ts = session.get(TreatmentSession, session_id)
    if ts is None:
        raise NotFound(f"there is no session S-{session_id}")
    if ts.modality is not Modality.ESKETAMINE:
        raise Conflict(f"{ts.reference} is not an esketamine session; it has no REMS form")
    if ts.status is not SessionStatus.COMPLETED:
        raise Conflict(
            f"{ts.reference} is {ts.status.label.lower()}; "
            "the REMS form is filed after the patient is discharged"
        )
    zone = ZoneInfo(ts.location.time_zone)
    _check_filing_day(filed_on, ts.starts_at.astimezone(zone).date(), today or _today(zone))
    before = audit.snapshot(ts)
    ts.rems_form_filed_on = filed_on
    stale = StaleEdit(
        f"{ts.reference} was changed on another workstation after you opened it; "
        "refresh the list and try again"
    )
    try:
        session.flush()
    except StaleDataError:
        raise stale from None
    audit.record_update(session, actor, "treatment_session", ts.id, before, audit.snapshot(ts))
    return ts


def rems_forms_due(
    session: Session,
    actor: Actor,
    *,
    location_id: int | None = None,
    today: date,
    include_filed: bool = False,
) -> list[RemsFormDue]:
    """Completed esketamine sessions whose REMS form is still to file, overdue first, then
    by due date (with ``include_filed``, the filed ones too, never overdue)."""
    actor.require(Permission.SCHEDULE_VIEW)
    query = (
        select(
            TreatmentSession.id,
            TreatmentSession.starts_at,
            TreatmentSession.rems_form_due_on,
            TreatmentSession.rems_form_filed_on,
            Location.time_zone,
            Patient,
        )
        .join(Patient, Patient.id == TreatmentSession.patient_id)
        .join(Location, Location.id == TreatmentSession.location_id)
        .where(
            TreatmentSession.rems_form_due_on.is_not(None),
            TreatmentSession.modality == Modality.ESKETAMINE,
            TreatmentSession.status == SessionStatus.COMPLETED,
        )
        .order_by(TreatmentSession.rems_form_due_on, TreatmentSession.id)
    )
    if not include_filed:
        query = query.where(TreatmentSession.rems_form_filed_on.is_(None))
    if location_id is not None:
        query = query.where(TreatmentSession.location_id == location_id)
    forms = [
        # the query keeps only rows with a due date
        _due(session_id, starts_at, cast(date, due_on), filed_on, ZoneInfo(zone), patient, today)
        for session_id, starts_at, due_on, filed_on, zone, patient in session.execute(query)
    ]
    return sorted(forms, key=lambda form: not form.overdue)  # stable: due order kept


def _due(
    session_id: int,
    starts_at: datetime,
    due_on: date,
    filed_on: date | None,
    zone: ZoneInfo,
    patient: Patient,
    today: date,
) -> RemsFormDue:
    return RemsFormDue(
        session_id=session_id,
        reference=f"S-{session_id}",
        patient_id=patient.id,
        patient_name=patient.display_name,
        mrn=patient.mrn,
        session_day=starts_at.astimezone(zone).date(),
        due_on=due_on,
        overdue=filed_on is None and today > due_on,
        days_left=(due_on - today).days,
        filed_on=filed_on,
    )


def _check_filing_day(filed_on: date, session_day: date, today: date) -> None:
    if filed_on > today:
        raise ValidationError.single(
            "filed_on", f"{_words(filed_on)} is in the future; enter the day the form was filed"
        )
    if filed_on < session_day:
        raise ValidationError.single(
            "filed_on", f"{_words(filed_on)} is before the session on {_words(session_day)}"
        )


def _words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _today(zone: ZoneInfo) -> date:
    return datetime.now(zone).date()
