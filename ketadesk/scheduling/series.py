"""A patient's series as a whole: its status, its progress, and stopping it.

A series' status follows from its sessions (:func:`refresh_series_status`), which the
floor calls after each step and booking after adding sessions:

* **planned** until one of its sessions is checked in (or further along the floor);
* **active** from then on;
* **completed** once every session is completed or released (cancelled, late-cancelled,
  no-show), at least one was completed, and the protocol has a fixed number of sessions.
  Interval protocols (maintenance, boosters) have no end: they stay active until the
  front desk discontinues them;
* **discontinued** only by :func:`discontinue_series`, with a reason; the sessions still
  ahead are cancelled. Nothing changes a discontinued series' status again.

:func:`series_progress` says "4 of 6" for the Patients view; :func:`patient_series` loads
a patient's series with their sessions, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Patient
from ketadesk.errors import Conflict, NotFound, StaleEdit, ValidationError
from ketadesk.scheduling.models import (
    RELEASED,
    Series,
    SeriesStatus,
    SessionStatus,
    SessionStep,
    TreatmentSession,
)

# A session in one of these has reached the floor: its series is under way.
STARTED = frozenset(
    {
        SessionStatus.CHECKED_IN,
        SessionStatus.DOSING,
        SessionStatus.MONITORING,
        SessionStatus.COMPLETED,
    }
)
# Sessions the front desk may still move or cancel: not yet on the floor.
AHEAD = frozenset({SessionStatus.SCHEDULED, SessionStatus.CONFIRMED})
REASON_LENGTH = 200


@dataclass(frozen=True)
class SeriesProgress:
    """``done`` completed sessions of ``planned`` still holding a chair (completed ones
    included); ``total`` is the protocol's session count, ``None`` for open-ended series;
    ``next_session`` the earliest session still ahead or on the floor."""

    done: int
    planned: int
    total: int | None
    next_session: TreatmentSession | None

    @property
    def text(self) -> str:
        """``"4 of 6"``, or ``"4 done, 2 booked"`` for an open-ended series."""
        if self.total is not None:
            return f"{self.done} of {self.total}"
        return f"{self.done} done, {self.planned - self.done} booked"


def refresh_series_status(session: Session, series: Series) -> SeriesStatus:
    """Set ``series.status`` from its sessions' statuses (see the module docstring)."""
    if series.status is SeriesStatus.DISCONTINUED:
        return series.status
    statuses = list(
        session.scalars(
            select(TreatmentSession.status).where(TreatmentSession.series_id == series.id)
        )
    )
    status = _status_from(statuses, closed_ended=series.protocol.session_count is not None)
    if status is not series.status:
        series.status = status
        session.flush()
    return status


def _status_from(statuses: list[SessionStatus], *, closed_ended: bool) -> SeriesStatus:
    finished = all(s is SessionStatus.COMPLETED or s in RELEASED for s in statuses)
    if closed_ended and finished and SessionStatus.COMPLETED in statuses:
        return SeriesStatus.COMPLETED
    if any(s in STARTED for s in statuses):
        return SeriesStatus.ACTIVE
    return SeriesStatus.PLANNED


def discontinue_series(
    session: Session,
    actor: Actor,
    series_id: int,
    reason: str,
    *,
    now: datetime,
) -> Series:
    """Stop a series: cancel every session still ahead (after ``now``), record the reason.

    Sessions already on the floor or in the past are left as they are.
    """
    actor.require(Permission.SCHEDULE_BOOK)
    reason = required_reason(reason, "say why the series is stopped")
    series = session.get(Series, series_id)
    if series is None:
        raise NotFound(f"no series with id {series_id}")
    if series.status is SeriesStatus.DISCONTINUED:
        raise Conflict(f"this series was already discontinued: {series.discontinued_reason}")
    ahead = session.scalars(
        select(TreatmentSession).where(
            TreatmentSession.series_id == series.id,
            TreatmentSession.status.in_(AHEAD),
            TreatmentSession.starts_at > now,
        )
    ).all()
    for ts in ahead:
        _cancel_for_series(session, actor, ts, reason, now)
    before = audit.snapshot(series)
    series.status = SeriesStatus.DISCONTINUED
    series.discontinued_reason = reason
    try:
        session.flush()
    except StaleDataError:
        raise StaleEdit(
            "this series was changed by someone else; reopen it and try again"
        ) from None
    audit.record_update(session, actor, "series", series.id, before, audit.snapshot(series))
    return series


def _cancel_for_series(
    session: Session, actor: Actor, ts: TreatmentSession, reason: str, now: datetime
) -> None:
    before = audit.snapshot(ts)
    ts.status = SessionStatus.CANCELLED
    ts.ended_at = now
    ts.ended_reason = f"series discontinued: {reason}"[:REASON_LENGTH]
    session.add(
        SessionStep(
            session_id=ts.id,
            status=SessionStatus.CANCELLED,
            at=now,
            actor=actor.username,
            note=ts.ended_reason,
        )
    )
    session.flush()
    audit.record_update(session, actor, "session", ts.id, before, audit.snapshot(ts))


def required_reason(reason: str, missing: str, field: str = "reason") -> str:
    """``reason`` tidied; :class:`ValidationError` on ``field`` when blank or too long."""
    text = " ".join(reason.split())
    if not text:
        raise ValidationError.single(field, missing)
    if len(text) > REASON_LENGTH:
        raise ValidationError.single(field, f"keep it under {REASON_LENGTH} characters")
    return text


def series_progress(series: Series) -> SeriesProgress:
    """How far the series has come; reads ``series.sessions`` and ``series.protocol``."""
    holding = [s for s in series.sessions if s.status not in RELEASED]
    ahead = sorted(
        (s for s in holding if s.status is not SessionStatus.COMPLETED),
        key=lambda s: s.starts_at,
    )
    return SeriesProgress(
        done=sum(1 for s in holding if s.status is SessionStatus.COMPLETED),
        planned=len(holding),
        total=series.protocol.session_count,
        next_session=ahead[0] if ahead else None,
    )


def patient_series(session: Session, actor: Actor, patient_id: int) -> list[Series]:
    """The patient's series, newest first, with sessions, protocol and location loaded."""
    if not actor.can(Permission.PATIENT_VIEW):
        actor.require(Permission.SCHEDULE_VIEW)
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    return list(
        session.scalars(
            select(Series)
            .where(Series.patient_id == patient_id)
            .order_by(Series.created_at.desc(), Series.id.desc())
            .options(
                selectinload(Series.sessions),
                selectinload(Series.protocol),
                selectinload(Series.location),
            )
        )
    )
