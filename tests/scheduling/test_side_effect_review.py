"""The provider review after a serious side effect, on SQLite and PostgreSQL: set by a serious
event only, shown at booking and on the board, refusing the dose until a provider clears it
with a note -- for every later session, including one booked after the event."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from scheduling.floor_helpers import GOOD_VITALS, NURSE, book
from scheduling.side_effect_helpers import dosed_esketamine, record
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.errors import Conflict, PermissionDenied, Unacknowledged, ValidationError
from ketadesk.scheduling import floor
from ketadesk.scheduling.board import chair_board
from ketadesk.scheduling.booking import book_session
from ketadesk.scheduling.gates import booking_gates
from ketadesk.scheduling.models import Route, TreatmentSession
from ketadesk.scheduling.side_effects import review

PROVIDER = Actor(username="dr-osei", role=Role.CLINICAL)
EVENT_AT = at("2026-12-07 09:35")  # the serious event is recorded then
NEXT = "2026-12-09 09:00"


@pytest.fixture
def clinic(session: Session, admin: Actor) -> SchedulingClinic:
    return scheduling_clinic(session, admin)


def serious_event(session: Session, clinic: SchedulingClinic, *, serious: bool = True) -> None:
    ts = dosed_esketamine(session, clinic)
    record(session, ts, "vomiting", "severe", serious=serious, now=EVENT_AT)


def warning_codes(session: Session, clinic: SchedulingClinic) -> list[str]:
    protocol = clinic.protocols["esketamine-induction"]
    day = date(2026, 12, 9)
    _blockers, warnings = booking_gates(
        session, clinic.patient, protocol, clinic.location, day, [day], today=date(2026, 12, 7)
    )
    return [w.code for w in warnings]


def checklist(session: Session, ts: TreatmentSession, day: str) -> floor.ChecklistResult:
    floor.check_in(session, NURSE, ts.id, now=at(f"{day} 08:55"))
    return floor.run_checklist(
        session,
        NURSE,
        ts.id,
        ride_home=True,
        food_fasted_hours=3,
        drink_fasted_minutes=45,
        vitals=GOOD_VITALS,
        now=at(f"{day} 08:58"),
    )


def test_a_serious_event_warns_at_booking_and_a_mild_one_does_not(
    session: Session, clinic: SchedulingClinic
) -> None:
    serious_event(session, clinic, serious=False)
    assert review.REVIEW_CODE not in warning_codes(session, clinic)
    assert review.pending_events(session, [clinic.patient.id]) == {}
    ts = book(session, clinic, start="2026-12-08 09:00")
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-08 08:55"))
    record(session, dosed_in(session, ts, "2026-12-08"), serious=True, now=at("2026-12-08 09:40"))
    assert review.REVIEW_CODE in warning_codes(session, clinic)


def dosed_in(session: Session, ts: TreatmentSession, day: str) -> TreatmentSession:
    floor.run_checklist(
        session, NURSE, ts.id, ride_home=True, food_fasted_hours=3, drink_fasted_minutes=45,
        vitals=GOOD_VITALS, now=at(f"{day} 09:00"),
    )  # fmt: skip
    floor.start_dosing(
        session, NURSE, ts.id, dose_mg=Decimal(56), route=Route.INTRANASAL, lot_number="EK-2",
        now=at(f"{day} 09:05"),
    )  # fmt: skip
    return ts


def test_booking_after_the_event_must_acknowledge_the_review(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    serious_event(session, clinic)
    protocol = clinic.protocols["esketamine-induction"]
    chair = clinic.esketamine_chairs[0]
    with pytest.raises(Unacknowledged) as refused:
        book_session(session, front_desk, clinic.patient, protocol, chair, at(NEXT), now=EVENT_AT)
    [(code, text)] = [w for w in refused.value.warnings if w[0] == review.REVIEW_CODE]
    assert text.startswith("Provider review needed: Vomiting (severe, serious) in S-")
    assert "on 07 Dec 2026" in text
    booked = book_session(
        session,
        front_desk,
        clinic.patient,
        protocol,
        chair,
        at(NEXT),
        acknowledged={code, "series:active"},
        now=EVENT_AT,
    )
    result = checklist(session, booked, "2026-12-09")
    assert not result.passed
    [failed] = result.failures
    assert failed.key == "provider_review"
    assert "Provider review needed: Vomiting (severe, serious)" in failed.detail
    with pytest.raises(Conflict, match="has not passed the pre-dose checklist"):
        floor.start_dosing(
            session, NURSE, booked.id, dose_mg=Decimal(56), route=Route.INTRANASAL,
            lot_number="EK-2", now=at("2026-12-09 09:05"),
        )  # fmt: skip


def test_sessions_booked_before_the_event_are_flagged_too(
    session: Session, clinic: SchedulingClinic
) -> None:
    later = book(session, clinic, start=NEXT)  # booked before anything happened
    serious_event(session, clinic)
    assert not checklist(session, later, "2026-12-09").passed


def test_a_provider_clears_the_review_with_a_note_and_dosing_goes_on(
    session: Session, clinic: SchedulingClinic
) -> None:
    serious_event(session, clinic)
    later = book(session, clinic, start=NEXT)
    with pytest.raises(ValidationError, match="provider's note"):
        review.clear_review(session, PROVIDER, clinic.patient.id, "  ", now=at("2026-12-08 10:00"))
    cleared = review.clear_review(
        session,
        PROVIDER,
        clinic.patient.id,
        "Seen; antiemetic before the dose",
        now=at("2026-12-08 10:00"),
    )
    assert (cleared.cleared_by, cleared.cleared_at) == ("dr-osei", at("2026-12-08 10:00"))
    audited = session.scalars(select(AuditEntry).where(AuditEntry.entity == "review_clearance"))
    assert [entry.actor for entry in audited] == ["dr-osei"]
    assert review.REVIEW_CODE not in warning_codes(session, clinic)
    assert checklist(session, later, "2026-12-09").passed
    with pytest.raises(Conflict, match="no review to clear"):
        review.clear_review(session, PROVIDER, clinic.patient.id, "again")


def test_only_clinical_staff_clear_a_review(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    serious_event(session, clinic)
    with pytest.raises(PermissionDenied):
        review.clear_review(session, front_desk, clinic.patient.id, "fine by me")
    assert review.pending_events(session, [clinic.patient.id])


def test_a_serious_event_after_the_clearance_flags_again(
    session: Session, clinic: SchedulingClinic
) -> None:
    serious_event(session, clinic)
    review.clear_review(session, PROVIDER, clinic.patient.id, "ok", now=at("2026-12-08 10:00"))
    ts = book(session, clinic, start=NEXT)
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-09 08:55"))
    record(session, dosed_in(session, ts, "2026-12-09"), "headache", "severe", serious=True,
           now=at("2026-12-09 09:50"))  # fmt: skip
    [event] = review.pending_events(session, [clinic.patient.id])[clinic.patient.id]
    assert event.session_id == ts.id


def test_correcting_away_the_seriousness_lifts_the_flag(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = dosed_esketamine(session, clinic)
    first = record(session, ts, serious=True, now=EVENT_AT)
    record(session, ts, "vomiting", "moderate", corrects=first.id, now=EVENT_AT + timedelta(1))
    assert review.pending_events(session, [clinic.patient.id]) == {}


def test_the_board_shows_the_review_on_the_card(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    serious_event(session, clinic)
    book(session, clinic, start=NEXT)
    board = chair_board(session, admin, clinic.location.id, at("2026-12-09 08:30"))
    [shown] = [card.current for card in board.cards if card.current is not None]
    assert shown.review_needed.startswith("Provider review needed: Vomiting (severe, serious)")
