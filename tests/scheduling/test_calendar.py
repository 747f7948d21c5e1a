"""The schedule as the views and the day sheet read it: one query, local times, chairs."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.locations import add_closure
from ketadesk.clinic.models import Chair
from ketadesk.errors import NotFound
from ketadesk.scheduling.calendar import CalendarEntry, calendar_window, week_start
from ketadesk.scheduling.models import SessionStatus, TreatmentSession


def _book(
    session: Session,
    clinic: SchedulingClinic,
    chair: Chair,
    start_text: str,
    status: SessionStatus = SessionStatus.SCHEDULED,
    number: int = 1,
) -> TreatmentSession:
    protocol = clinic.protocols["iv-induction"]
    return existing_session(
        session,
        clinic.patient,
        protocol,
        chair,
        clinic.provider,
        at(start_text),
        status=status,
        number=number,
    )


def test_a_day_lists_its_sessions_in_local_time_by_start(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    later = _book(session, clinic, clinic.iv_chairs[1], "2026-12-07 13:00", number=2)
    early = _book(session, clinic, clinic.iv_chairs[0], "2026-12-07 09:00")
    _book(session, clinic, clinic.iv_chairs[0], "2026-12-08 09:00")  # the next day
    window = calendar_window(session, admin, clinic.location.id, date(2026, 12, 7))
    assert [e.session_id for e in window.entries] == [early.id, later.id]
    first = window.entries[0]
    assert (first.local_start.hour, first.local_start.minute) == (9, 0)
    assert first.local_end - first.local_start == timedelta(minutes=70)
    assert first.patient_name == "Łukasiewicz, Zoë"
    assert first.chair_name == "IV 1" and first.progress == "1 of 6"
    assert [c.name for c in window.chairs] == ["IV 1", "IV 2", "Nasal 1", "Nasal 2"]
    assert window.days[0].closed is None and window.earliest_opening().hour == 8


def test_an_entry_carries_every_field_of_its_session_in_local_time_across_dst(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    clinic.patient.driver_name = "Sam Okafor"
    clinic.patient.driver_phone = "2125550147"
    # The night New York's clocks go back: 01:30 EDT, then 70 minutes later 01:40 EST.
    booked = _book(session, clinic, clinic.iv_chairs[1], "2026-11-01 01:30", number=3)
    starts_at = booked.starts_at.astimezone(UTC)
    ends_at = booked.ends_at = starts_at + timedelta(minutes=70)
    booked.driver_confirmed = True
    window = calendar_window(session, admin, clinic.location.id, date(2026, 11, 1))
    protocol = clinic.protocols["iv-induction"]
    zone = ZoneInfo("America/New_York")
    assert window.entries == (CalendarEntry(
        session_id=booked.id, reference=f"S-{booked.id}", version=booked.version,
        series_id=booked.series_id, number=3, series_size=protocol.session_count,
        patient_id=clinic.patient.id, patient_name="Łukasiewicz, Zoë", mrn=clinic.patient.mrn,
        protocol_key="iv-induction", protocol_name=protocol.name, modality=protocol.modality,
        status=SessionStatus.SCHEDULED, chair_id=clinic.iv_chairs[1].id, chair_name="IV 2",
        provider_id=clinic.provider.id, provider_name="Ama Osei, MD",
        starts_at=starts_at, ends_at=ends_at,  # in UTC: an ambiguous local time equals no UTC one
        local_start=starts_at.astimezone(zone), local_end=ends_at.astimezone(zone),
        driver_confirmed=True, driver_name="Sam Okafor", driver_phone="2125550147",
    ),)
    entry = window.entries[0]
    assert entry.starts_at.tzinfo is UTC and entry.local_start.tzinfo == zone
    assert (entry.local_start.hour, entry.local_start.minute) == (1, 30)
    assert (entry.local_end.hour, entry.local_end.minute) == (1, 40)
    assert entry.local_start.utcoffset() == timedelta(hours=-4)
    assert entry.local_end.utcoffset() == timedelta(hours=-5)


def test_a_week_says_which_days_are_closed_and_why(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    add_closure(session, admin, clinic.location.id, "2026-12-22", "2026-12-22", "Staff training")
    session.expire(clinic.location)
    monday = week_start(date(2026, 12, 23))
    window = calendar_window(session, admin, clinic.location.id, monday, 7)
    reasons = {d.day: d.closed for d in window.days}
    assert monday == date(2026, 12, 21)
    assert reasons[date(2026, 12, 22)] == "Closed: Staff training"
    assert "Christmas" in (reasons[date(2026, 12, 25)] or "")
    assert reasons[date(2026, 12, 26)] == "Closed on Saturdays"
    assert reasons[date(2026, 12, 21)] is None


def test_released_sessions_can_be_left_out(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    _book(session, clinic, clinic.iv_chairs[0], "2026-12-07 09:00", SessionStatus.NO_SHOW)
    kept = _book(session, clinic, clinic.iv_chairs[0], "2026-12-07 11:00")
    day = date(2026, 12, 7)
    assert len(calendar_window(session, admin, clinic.location.id, day).entries) == 2
    holding = calendar_window(session, admin, clinic.location.id, day, include_released=False)
    assert [e.session_id for e in holding.entries] == [kept.id]


def test_unknown_location_and_permission(session: Session, admin: Actor) -> None:
    with pytest.raises(NotFound):
        calendar_window(session, admin, 999_999, date(2026, 12, 7))
    nobody = Actor(username="x", role=Role.BILLING)
    clinic = scheduling_clinic(session, admin)
    assert calendar_window(session, nobody, clinic.location.id, date(2026, 12, 7)).entries == ()
