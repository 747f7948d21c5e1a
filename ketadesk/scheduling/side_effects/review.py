"""The provider review a serious side effect calls for: who needs it, where it shows, clearing.

The flag lives on the patient, not on sessions: a patient needs a review while a serious side
effect in force (not corrected away, not withdrawn) was recorded after the patient's last
:class:`~.models.ReviewClearance`. So the next session, every session booked later -- even one
booked after the event -- and any booked before it all show it, until a provider clears it;
nothing has to be copied onto sessions and nothing can be missed by a booking path.

It shows:

* at booking, as the warning ``review:serious_event`` (:func:`review_warnings`, called by
  :func:`ketadesk.scheduling.gates.booking_gates`), to acknowledge like any other;
* on the Today board's card (:func:`pending_words`, read by the board for its patients in
  one query);
* in the pre-dose checklist as a failed line (:func:`checklist_lines`), so dosing is refused
  until :func:`clear_review` (``CLINICAL_DECIDE``, a required note) is recorded.

A correction recorded after a clearance that is (still) serious flags the patient again: the
provider reviews the corrected record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Patient
from ketadesk.errors import Conflict, NotFound
from ketadesk.scheduling.models import TreatmentSession
from ketadesk.scheduling.proposals import PlanWarning
from ketadesk.scheduling.side_effects.models import ReviewClearance, SideEffect
from ketadesk.scheduling.side_effects.recording import corrected, now_utc, required_words

REVIEW_CODE = "review:serious_event"
NOTE_LENGTH = 2000


def pending_events(session: Session, patient_ids: Collection[int]) -> dict[int, list[SideEffect]]:
    """For each of ``patient_ids`` needing a review, its serious events since the last
    clearance, oldest first. One query, whatever the number of patients."""
    if not patient_ids:
        return {}
    last = (
        select(func.max(ReviewClearance.cleared_at))
        .where(ReviewClearance.patient_id == SideEffect.patient_id)
        .scalar_subquery()
    )
    rows = session.scalars(
        select(SideEffect)
        .where(
            SideEffect.patient_id.in_(list(patient_ids)),
            SideEffect.serious.is_(True),
            SideEffect.withdrawn.is_(False),
            ~corrected(),
            or_(last.is_(None), SideEffect.recorded_at > last),
        )
        .options(selectinload(SideEffect.session).selectinload(TreatmentSession.location))
        .order_by(SideEffect.recorded_at, SideEffect.id)
    ).all()
    found: dict[int, list[SideEffect]] = defaultdict(list)
    for row in rows:
        found[row.patient_id].append(row)
    return dict(found)


def review_words(events: list[SideEffect]) -> str:
    """``"Provider review needed: Vomiting (severe, serious) in S-12 on 03 Dec 2026"``."""
    named = "; ".join(_event_words(row) for row in events)
    return f"Provider review needed: {named}"


def pending_words(session: Session, patient_ids: Collection[int]) -> dict[int, str]:
    """:func:`review_words` for each patient of ``patient_ids`` who needs a review."""
    return {pid: review_words(rows) for pid, rows in pending_events(session, patient_ids).items()}


def review_warnings(session: Session, patient: Patient) -> list[PlanWarning]:
    """The booking warning ``review:serious_event`` when ``patient`` needs a review."""
    events = pending_events(session, [patient.id]).get(patient.id)
    if not events:
        return []
    return [
        PlanWarning(
            REVIEW_CODE,
            f"{review_words(events)}. A provider must clear the review before the next dose.",
        )
    ]


def checklist_lines(session: Session, patient_id: int) -> list[tuple[str, str, bool, str]]:
    """The pre-dose checklist's failed line while a review is pending (none otherwise), as
    ``(key, label, passed, detail)``."""
    events = pending_events(session, [patient_id]).get(patient_id)
    if not events:
        return []
    detail = f"{review_words(events)}; a provider must clear it before dosing"
    return [("provider_review", "Provider review after a serious side effect", False, detail)]


def clear_review(
    session: Session, actor: Actor, patient_id: int, note: str, *, now: datetime | None = None
) -> ReviewClearance:
    """A provider clears ``patient_id``'s review, with a note saying why dosing may go on.

    Needs ``CLINICAL_DECIDE``. Raises :class:`ValidationError` on ``note`` when it is blank
    or too long, :class:`Conflict` when no review is pending, :class:`NotFound`.
    """
    actor.require(Permission.CLINICAL_DECIDE)
    moment = now_utc(now)
    words = required_words(
        "note", note, NOTE_LENGTH, "write the provider's note clearing the review"
    )
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"there is no patient with id {patient_id}")
    if not pending_events(session, [patient_id]):
        raise Conflict(f"{patient.given_name} {patient.family_name} has no review to clear")
    row = ReviewClearance(
        patient_id=patient_id, cleared_at=moment, cleared_by=actor.username, note=words
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "review_clearance", row.id, after=audit.snapshot(row))
    return row


def clearances(session: Session, patient_id: int) -> list[ReviewClearance]:
    """The patient's clearances, newest first."""
    return list(
        session.scalars(
            select(ReviewClearance)
            .where(ReviewClearance.patient_id == patient_id)
            .order_by(ReviewClearance.cleared_at.desc(), ReviewClearance.id.desc())
        ).all()
    )


def _event_words(row: SideEffect) -> str:
    ts = row.session
    day = row.onset_at.astimezone(ZoneInfo(ts.location.time_zone))
    return f"{row.words} in {ts.reference} on {day:%d %b %Y}"
