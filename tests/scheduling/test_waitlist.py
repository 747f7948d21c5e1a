"""The waitlist: who waits for what, and who is offered a freed slot."""

from __future__ import annotations

from datetime import date

import pytest
from builders import SchedulingClinic, add_location, at, scheduling_clinic
from scheduling.booking_helpers import BILLING, another_patient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import Modality
from ketadesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ketadesk.scheduling.models import WaitlistStatus
from ketadesk.scheduling.waitlist import (
    add_to_waitlist,
    list_waitlist,
    mark_waitlist,
    offers_for_slot,
)

MONDAY = at("2026-12-07 09:00")


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def offered(
    session: Session, clinic: SchedulingClinic, modality: Modality = Modality.IV
) -> list[str]:
    offers = offers_for_slot(session, clinic.location.id, modality, MONDAY)
    return [offer.patient_name.split(",")[0] for offer in offers]


def test_add_and_list(session: Session, clinic: SchedulingClinic, front_desk: Actor) -> None:
    entry = add_to_waitlist(
        session,
        front_desk,
        clinic.patient.id,
        clinic.location.id,
        Modality.ESKETAMINE,
        weekdays=frozenset({3, 0}),
        earliest_on=date(2026, 12, 1),
        note=" mornings only ",
    )
    assert (entry.weekdays, entry.note, entry.created_by) == ("0,3", "mornings only", "test-front")
    assert entry.status is WaitlistStatus.WAITING
    assert list_waitlist(session, BILLING, clinic.location.id) == [entry]
    assert (
        list_waitlist(session, front_desk, clinic.location.id, status=WaitlistStatus.BOOKED) == []
    )
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "waitlist_entry")).one()
    assert audit.action == "create"


def test_one_waiting_entry_per_patient_and_treatment(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    add_to_waitlist(session, front_desk, clinic.patient.id, clinic.location.id, Modality.IV)
    with pytest.raises(Conflict, match="already on KetaDesk NYC's waitlist for IV infusion"):
        add_to_waitlist(session, front_desk, clinic.patient.id, clinic.location.id, Modality.IV)
    other = add_to_waitlist(
        session, front_desk, clinic.patient.id, clinic.location.id, Modality.ESKETAMINE
    )
    assert other.modality is Modality.ESKETAMINE


def test_entries_are_checked(session: Session, clinic: SchedulingClinic, front_desk: Actor) -> None:
    with pytest.raises(ValidationError) as refused:
        add_to_waitlist(
            session,
            front_desk,
            clinic.patient.id,
            clinic.location.id,
            Modality.IV,
            weekdays=frozenset({7}),
        )
    assert refused.value.problems[0].field == "weekdays"
    with pytest.raises(ValidationError, match="note: keep the note under 200 characters"):
        add_to_waitlist(
            session, front_desk, clinic.patient.id, clinic.location.id, Modality.IV, note="x" * 201
        )
    with pytest.raises(NotFound):
        add_to_waitlist(session, front_desk, 999999, clinic.location.id, Modality.IV)
    with pytest.raises(PermissionDenied):
        add_to_waitlist(session, BILLING, clinic.patient.id, clinic.location.id, Modality.IV)


def test_offers_match_the_slot(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    location = clinic.location.id

    def wait(
        name: str,
        modality: Modality = Modality.IV,
        weekdays: frozenset[int] = frozenset(),
        earliest_on: date | None = None,
    ) -> int:
        patient = another_patient(session, name)
        entry = add_to_waitlist(
            session,
            front_desk,
            patient.id,
            location,
            modality,
            weekdays=weekdays,
            earliest_on=earliest_on,
        )
        return entry.id

    wait("Any")
    wait("Monday", weekdays=frozenset({0}))
    wait("Tuesday", weekdays=frozenset({1}))
    wait("Nasal", Modality.ESKETAMINE)
    wait("Soon", earliest_on=date(2026, 12, 7))
    wait("Later", earliest_on=date(2026, 12, 8))
    elsewhere = add_location(session, "BKN")
    another = another_patient(session, "Elsewhere")
    add_to_waitlist(session, front_desk, another.id, elsewhere.id, Modality.IV)
    booked = wait("Booked")
    mark_waitlist(session, front_desk, booked, WaitlistStatus.BOOKED)

    assert offered(session, clinic) == ["Any", "Monday", "Soon"]
    assert offered(session, clinic, Modality.ESKETAMINE) == ["Nasal"]


def test_offers_are_read_in_the_locations_time_zone(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    patient = another_patient(session, "Monday")
    add_to_waitlist(
        session, front_desk, patient.id, clinic.location.id, Modality.IV, weekdays=frozenset({0})
    )
    # 20:00 on Monday in New York is already Tuesday in UTC.
    evening = offers_for_slot(session, clinic.location.id, Modality.IV, at("2026-12-07 20:00"))
    assert [o.patient_id for o in evening] == [patient.id]


def test_mark_waitlist(session: Session, clinic: SchedulingClinic, front_desk: Actor) -> None:
    entry = add_to_waitlist(session, front_desk, clinic.patient.id, clinic.location.id, Modality.IV)
    marked = mark_waitlist(session, front_desk, entry.id, WaitlistStatus.OFFERED)
    assert marked.status is WaitlistStatus.OFFERED
    assert offered(session, clinic) == []
    update = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "waitlist_entry", AuditEntry.action == "update"
        )
    ).one()
    assert update.after == {"status": "offered"}
    with pytest.raises(PermissionDenied):
        mark_waitlist(session, BILLING, entry.id, WaitlistStatus.REMOVED)
    with pytest.raises(NotFound):
        mark_waitlist(session, front_desk, 999999, WaitlistStatus.REMOVED)
