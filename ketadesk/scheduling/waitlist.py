"""The waitlist: patients who would take an earlier slot, offered when one frees.

The front desk adds a patient with what they can take (:func:`add_to_waitlist`): a
location, a treatment (modality), optionally the weekdays that suit them and the first day
they could come. When a session is cancelled, :func:`ketadesk.scheduling.changes.cancel_session`
asks :func:`offers_for_slot` who is waiting for that kind of slot, oldest entry first, and
hands the list to the window, which shows names and phone numbers to call. The front desk
then books the patient the usual way and marks the entry (:func:`mark_waitlist`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Location, Modality, Patient
from ketadesk.errors import Conflict, NotFound, ValidationError
from ketadesk.scheduling.models import WaitlistEntry, WaitlistStatus

NOTE_LENGTH = 200


@dataclass(frozen=True)
class WaitlistOffer:
    """A waiting patient to call about a freed slot."""

    entry_id: int
    patient_id: int
    patient_name: str
    mrn: str
    phone: str
    note: str
    waiting_since: datetime


def add_to_waitlist(
    session: Session,
    actor: Actor,
    patient_id: int,
    location_id: int,
    modality: Modality,
    *,
    weekdays: frozenset[int] = frozenset(),
    earliest_on: date | None = None,
    note: str = "",
) -> WaitlistEntry:
    """Put a patient on the waitlist; ``weekdays`` 0 = Monday … 6 = Sunday, empty = any.

    Refused (:class:`Conflict`) when the patient already waits for that treatment there.
    """
    actor.require(Permission.SCHEDULE_BOOK)
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(f"no location with id {location_id}")
    modality = Modality(modality)
    _check_entry(weekdays, note)
    waiting = session.scalar(
        select(WaitlistEntry.id).where(
            WaitlistEntry.patient_id == patient_id,
            WaitlistEntry.location_id == location_id,
            WaitlistEntry.modality == modality,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
    )
    if waiting is not None:
        raise Conflict(
            f"this patient is already on {location.name}'s waitlist for {modality.label}"
        )
    entry = WaitlistEntry(
        patient_id=patient_id,
        location_id=location_id,
        modality=modality,
        weekdays=",".join(str(day) for day in sorted(weekdays)),
        earliest_on=earliest_on,
        note=note.strip(),
        status=WaitlistStatus.WAITING,
        created_by=actor.username,
    )
    session.add(entry)
    session.flush()
    audit.record(session, actor, "create", "waitlist_entry", entry.id, after=audit.snapshot(entry))
    return entry


def _check_entry(weekdays: frozenset[int], note: str) -> None:
    if any(day not in range(7) for day in weekdays):
        raise ValidationError.single("weekdays", "weekdays run from 0 (Monday) to 6 (Sunday)")
    if len(note.strip()) > NOTE_LENGTH:
        raise ValidationError.single("note", f"keep the note under {NOTE_LENGTH} characters")


def list_waitlist(
    session: Session,
    actor: Actor,
    location_id: int,
    *,
    status: WaitlistStatus = WaitlistStatus.WAITING,
) -> list[WaitlistEntry]:
    """The location's entries in ``status``, oldest first, with their patients loaded."""
    actor.require(Permission.SCHEDULE_VIEW)
    return list(
        session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.location_id == location_id, WaitlistEntry.status == status)
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
            .options(selectinload(WaitlistEntry.patient))
        )
    )


def offers_for_slot(
    session: Session,
    location_id: int,
    modality: Modality,
    starts_at: datetime,
    *,
    exclude_patient_id: int | None = None,
) -> tuple[WaitlistOffer, ...]:
    """Waiting patients who would take a ``modality`` slot at ``starts_at`` (UTC) there.

    An entry matches when it waits at that location for that treatment, its weekdays
    include the slot's local weekday (or are empty), and its ``earliest_on`` is on or
    before the slot's local day. Oldest entry first. ``exclude_patient_id`` leaves out
    the patient whose session just freed the slot.
    """
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(f"no location with id {location_id}")
    day = starts_at.astimezone(ZoneInfo(location.time_zone)).date()
    query = (
        select(WaitlistEntry, Patient)
        .join(Patient, Patient.id == WaitlistEntry.patient_id)
        .where(
            WaitlistEntry.location_id == location_id,
            WaitlistEntry.modality == Modality(modality),
            WaitlistEntry.status == WaitlistStatus.WAITING,
            or_(WaitlistEntry.earliest_on.is_(None), WaitlistEntry.earliest_on <= day),
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    if exclude_patient_id is not None:
        query = query.where(WaitlistEntry.patient_id != exclude_patient_id)
    return tuple(
        _offer(entry, patient) for entry, patient in session.execute(query) if _suits(entry, day)
    )


def _suits(entry: WaitlistEntry, day: date) -> bool:
    days = {int(part) for part in entry.weekdays.split(",") if part.strip()}
    return not days or day.weekday() in days


def _offer(entry: WaitlistEntry, patient: Patient) -> WaitlistOffer:
    return WaitlistOffer(
        entry_id=entry.id,
        patient_id=patient.id,
        patient_name=patient.display_name,
        mrn=patient.mrn,
        phone=patient.phone,
        note=entry.note,
        waiting_since=entry.created_at,
    )


def mark_waitlist(
    session: Session, actor: Actor, entry_id: int, status: WaitlistStatus
) -> WaitlistEntry:
    """Record what became of an entry: offered, booked, or removed (or waiting again)."""
    actor.require(Permission.SCHEDULE_BOOK)
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None:
        raise NotFound(f"no waitlist entry with id {entry_id}")
    before = audit.snapshot(entry)
    entry.status = WaitlistStatus(status)
    session.flush()
    audit.record_update(session, actor, "waitlist_entry", entry.id, before, audit.snapshot(entry))
    return entry
