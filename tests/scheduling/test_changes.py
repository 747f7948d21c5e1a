"""Moving, shifting, cancelling and no-shows: each change checked, recorded, and contained."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from builders import NOW, SchedulingClinic, at, scheduling_clinic
from scheduling.booking_helpers import BILLING, another_patient, iv_induction, plan_for, steps_of
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import Modality
from ketadesk.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    SlotTaken,
    StaleEdit,
    ValidationError,
)
from ketadesk.scheduling.booking import book_series, book_session
from ketadesk.scheduling.changes import (
    cancel_session,
    move_session,
    record_no_show,
    shift_rest,
)
from ketadesk.scheduling.models import Series, SessionStatus, TreatmentSession
from ketadesk.scheduling.waitlist import add_to_waitlist

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


@pytest.fixture
def series(session: Session, clinic: SchedulingClinic, front_desk: Actor) -> Series:
    return iv_induction(session, clinic, front_desk)


def times(series: Series) -> list[str]:
    return [f"{s.starts_at.astimezone(NEW_YORK):%d %b %H:%M}" for s in series.sessions]


def reload(session: Session, series: Series) -> Series:
    session.expire_all()
    found = session.get(Series, series.id)
    assert found is not None
    return found


def booster_for(
    session: Session, clinic: SchedulingClinic, actor: Actor, name: str, when: datetime
) -> TreatmentSession:
    other = another_patient(session, name)
    protocol = clinic.protocols["iv-booster"]
    return book_session(session, actor, other, protocol, clinic.iv_chairs[0], when, now=NOW)


def test_move_one_session(session: Session, series: Series, front_desk: Actor) -> None:
    third = series.sessions[2]
    moved = move_session(session, front_desk, third.id, at("2026-12-11 13:00"), now=NOW)
    assert moved.ends_at == at("2026-12-11 14:10")
    assert times(reload(session, series)) == [
        "07 Dec 09:00",
        "09 Dec 09:00",
        "11 Dec 13:00",
        "14 Dec 09:00",
        "16 Dec 09:00",
        "18 Dec 09:00",
    ]
    step = steps_of(session, third)[-1]
    assert (step.status, step.actor) == (SessionStatus.SCHEDULED, "test-front")
    assert step.note == "moved from Fri 11 Dec 2026 09:00 in IV 1"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "session", AuditEntry.action == "update")
    ).one()
    assert entry.entity_id == str(third.id)
    assert entry.before is not None and entry.after is not None
    assert entry.before["starts_at"] == "2026-12-11T14:00:00+00:00"
    assert entry.after["starts_at"] == "2026-12-11T18:00:00+00:00"


def test_move_to_another_chair(
    session: Session, clinic: SchedulingClinic, series: Series, front_desk: Actor
) -> None:
    first = series.sessions[0]
    moved = move_session(
        session, front_desk, first.id, first.starts_at, chair_id=clinic.iv_chairs[1].id
    , now=NOW)
    assert moved.chair_id == clinic.iv_chairs[1].id
    assert moved.starts_at == at("2026-12-07 09:00")


def test_move_onto_a_taken_slot_is_refused_and_changes_nothing(
    session: Session, clinic: SchedulingClinic, series: Series, front_desk: Actor
) -> None:
    in_the_way = booster_for(session, clinic, front_desk, "Ng", at("2026-12-08 09:30"))
    first = series.sessions[0]
    version = first.version
    with pytest.raises(SlotTaken) as refused:
        move_session(session, front_desk, first.id, at("2026-12-08 09:00"), now=NOW)
    assert refused.value.session_id == in_the_way.id
    assert f"IV 1 is taken by S-{in_the_way.id}: Ng, Zoë" in str(refused.value)
    assert str(refused.value).startswith(f"S-{first.id}, Tue 08 Dec 2026 09:00: ")
    session.expire_all()
    assert session.get(TreatmentSession, first.id) is first
    assert first.starts_at == at("2026-12-07 09:00")
    assert first.version == version
    assert [s.note for s in steps_of(session, first)] == ["booked"]


def test_move_keeps_the_series_spacing(session: Session, series: Series, front_desk: Actor) -> None:
    second, third = series.sessions[1], series.sessions[2]
    with pytest.raises(SlotTaken) as refused:
        move_session(session, front_desk, second.id, at("2026-12-10 09:00"), now=NOW)
    assert refused.value.session_id == third.id
    assert "doses must be at least 48 h apart" in str(refused.value)


def test_move_to_a_closed_day_names_the_field(
    session: Session, series: Series, front_desk: Actor
) -> None:
    with pytest.raises(ValidationError) as refused:
        move_session(session, front_desk, series.sessions[0].id, at("2026-12-05 09:00"), now=NOW)
    (text,) = refused.value.for_field("starts_at")
    assert text.startswith("Sat 05 Dec 2026 09:00: ")


def test_a_stale_move_is_refused(session: Session, series: Series, front_desk: Actor) -> None:
    first = series.sessions[0]
    with pytest.raises(StaleEdit, match="changed by someone else"):
        move_session(
            session,
            front_desk,
            first.id,
            at("2026-12-07 08:00"),
            expected_version=first.version - 1,
            now=NOW,
        )
    moved = move_session(
        session, front_desk, first.id, at("2026-12-07 08:00"), expected_version=first.version
    , now=NOW)
    assert moved.starts_at == at("2026-12-07 08:00")


def test_only_sessions_not_yet_dosed_move(
    session: Session, series: Series, front_desk: Actor
) -> None:
    first = series.sessions[0]
    first.status = SessionStatus.DOSING
    session.flush()
    with pytest.raises(Conflict, match=f"S-{first.id} is dosing and can no longer be moved"):
        move_session(session, front_desk, first.id, at("2026-12-07 08:00"), now=NOW)
    assert first.starts_at == at("2026-12-07 09:00")


def test_a_checked_in_patient_sent_home_is_scheduled_again(
    session: Session, series: Series, front_desk: Actor
) -> None:
    first = series.sessions[0]
    first.status = SessionStatus.CHECKED_IN
    first.checked_in_at = at("2026-12-07 08:50")
    session.flush()
    moved = move_session(session, front_desk, first.id, at("2026-12-07 08:30"), now=NOW)
    assert moved.status is SessionStatus.SCHEDULED
    assert moved.checked_in_at is None


def test_a_moved_confirmed_session_needs_confirming_again(
    session: Session, series: Series, front_desk: Actor
) -> None:
    first = series.sessions[0]
    first.status = SessionStatus.CONFIRMED
    first.confirmed_at = at("2026-12-06 10:00")
    session.flush()
    moved = move_session(session, front_desk, first.id, at("2026-12-07 08:00"), now=NOW)
    assert moved.status is SessionStatus.SCHEDULED
    assert moved.confirmed_at is None


def test_shift_rest_keeps_local_time_across_daylight_saving(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    # US clocks spring forward on Sun 14 Mar 2027; session 4 is before it, 5 and 6 after.
    days = ["2027-03-03", "2027-03-05", "2027-03-09", "2027-03-12", "2027-03-16", "2027-03-18"]
    series = book_series(
        session, front_desk, plan_for(clinic, "iv-induction", [at(f"{d} 09:00") for d in days])
    , now=NOW)
    fourth = series.sessions[3]
    moved = shift_rest(session, front_desk, fourth.id, at("2027-03-19 09:00"), now=NOW)
    assert [s.number for s in moved] == [4, 5, 6]
    assert times(reload(session, series)) == [
        "03 Mar 09:00",
        "05 Mar 09:00",
        "09 Mar 09:00",
        "19 Mar 09:00",
        "23 Mar 09:00",
        "25 Mar 09:00",
    ]
    assert [s.starts_at.hour for s in moved] == [13, 13, 13]  # 09:00 EDT in UTC
    notes = [steps_of(session, s)[-1].note for s in moved]
    assert notes[0] == "moved from Fri 12 Mar 2027 09:00 in IV 1 (with the rest of the series)"


def test_shift_rest_into_its_own_old_slots(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    # Weekly in one chair, shifted a week: each session moves into the slot the next one
    # leaves, which the chair's exclusion constraint allows only in the right order.
    mondays = ["2026-11-30", "2026-12-07", "2026-12-14", "2026-12-21"]
    plan = plan_for(clinic, "esketamine-maintenance", [at(f"{d} 10:00") for d in mondays])
    series = book_series(session, front_desk, plan, now=NOW)
    moved = shift_rest(session, front_desk, series.sessions[0].id, at("2026-12-07 10:00"), now=NOW)
    assert len(moved) == 4
    assert times(reload(session, series)) == [
        "07 Dec 10:00",
        "14 Dec 10:00",
        "21 Dec 10:00",
        "28 Dec 10:00",
    ]


def test_shift_rest_is_all_or_nothing(
    session: Session, clinic: SchedulingClinic, series: Series, front_desk: Actor
) -> None:
    in_the_way = booster_for(session, clinic, front_desk, "Ng", at("2026-12-17 09:00"))
    fourth, fifth, sixth = series.sessions[3:]
    with pytest.raises(SlotTaken) as refused:
        shift_rest(session, front_desk, fourth.id, at("2026-12-15 09:00"), now=NOW)
    assert refused.value.session_id == in_the_way.id
    message = str(refused.value)
    assert f"S-{fourth.id}" not in message
    assert f"S-{fifth.id} (session 5), Thu 17 Dec 2026 09:00: IV 1 is taken by " in message
    assert f"S-{sixth.id} (session 6), Sat 19 Dec 2026 09:00: " in message
    assert "KetaDesk NYC is closed" in message
    assert times(reload(session, series))[3:] == ["14 Dec 09:00", "16 Dec 09:00", "18 Dec 09:00"]


def test_cancel_inside_the_late_window(session: Session, series: Series, front_desk: Actor) -> None:
    first = series.sessions[0]
    result = cancel_session(
        session, front_desk, first.id, "  car broke down ", now=at("2026-12-06 09:00")
    )
    assert result.late
    ts = result.session
    assert ts.status is SessionStatus.LATE_CANCELLED
    assert ts.policy_window_hours == 24
    assert ts.ended_reason == "car broke down"
    assert ts.ended_at == at("2026-12-06 09:00")
    step = steps_of(session, ts)[-1]
    assert (step.status, step.note, step.at) == (
        SessionStatus.LATE_CANCELLED,
        "car broke down",
        at("2026-12-06 09:00"),
    )


def test_cancel_outside_the_late_window(
    session: Session, series: Series, front_desk: Actor
) -> None:
    result = cancel_session(
        session, front_desk, series.sessions[0].id, "travel", now=at("2026-12-06 08:59")
    )
    assert not result.late
    assert result.session.status is SessionStatus.CANCELLED
    assert result.session.policy_window_hours is None


def test_the_late_window_is_the_locations(
    session: Session, clinic: SchedulingClinic, series: Series, front_desk: Actor
) -> None:
    clinic.location.late_cancel_hours = 48
    session.flush()
    result = cancel_session(
        session, front_desk, series.sessions[0].id, "travel", now=at("2026-12-05 10:00")
    )
    assert result.late
    assert result.session.policy_window_hours == 48


def test_cancel_needs_a_reason(session: Session, series: Series, front_desk: Actor) -> None:
    with pytest.raises(ValidationError) as refused:
        cancel_session(session, front_desk, series.sessions[0].id, "   ", now=NOW)
    assert refused.value.for_field("reason") == ["say why the session is cancelled"]
    assert series.sessions[0].status is SessionStatus.SCHEDULED


def test_cancel_offers_the_slot_to_the_waitlist(
    session: Session, clinic: SchedulingClinic, series: Series, front_desk: Actor
) -> None:
    waiting = another_patient(session, "Ng")
    add_to_waitlist(session, front_desk, waiting.id, clinic.location.id, Modality.IV)
    fridays_only = another_patient(session, "Ortiz")
    add_to_waitlist(
        session,
        front_desk,
        fridays_only.id,
        clinic.location.id,
        Modality.IV,
        weekdays=frozenset({4}),
    )
    # The patient who cancels is on the waitlist too, for an earlier slot: not offered.
    add_to_waitlist(session, front_desk, clinic.patient.id, clinic.location.id, Modality.IV)
    result = cancel_session(
        session, front_desk, series.sessions[0].id, "travel", now=at("2026-12-01 09:00")
    )
    assert [offer.patient_id for offer in result.offers] == [waiting.id]
    assert result.offers[0].mrn == waiting.mrn


def test_no_offers_once_the_slot_has_begun(
    session: Session, clinic: SchedulingClinic, series: Series, front_desk: Actor
) -> None:
    waiting = another_patient(session, "Ng")
    add_to_waitlist(session, front_desk, waiting.id, clinic.location.id, Modality.IV)
    result = cancel_session(
        session, front_desk, series.sessions[0].id, "ran late", now=at("2026-12-07 09:05")
    )
    assert result.late
    assert result.offers == ()


def test_a_dosed_session_cannot_be_cancelled(
    session: Session, series: Series, front_desk: Actor
) -> None:
    first = series.sessions[0]
    first.status = SessionStatus.DOSING
    session.flush()
    with pytest.raises(Conflict, match="is dosing and can no longer be cancelled"):
        cancel_session(session, front_desk, first.id, "changed mind", now=NOW)


def test_no_show_after_the_start(session: Session, series: Series, front_desk: Actor) -> None:
    first = series.sessions[0]
    with pytest.raises(Conflict, match="a no-show can be recorded only after that"):
        record_no_show(session, front_desk, first.id, now=at("2026-12-07 08:59"))
    ts = record_no_show(session, front_desk, first.id, now=at("2026-12-07 09:20"))
    assert ts.status is SessionStatus.NO_SHOW
    assert ts.policy_window_hours == 24
    assert ts.ended_at == at("2026-12-07 09:20")
    assert steps_of(session, ts)[-1].status is SessionStatus.NO_SHOW
    with pytest.raises(Conflict, match="is no-show and can no longer be recorded as a no-show"):
        record_no_show(session, front_desk, first.id, now=at("2026-12-07 09:30"))


def test_billing_may_not_change_sessions(
    session: Session, series: Series, front_desk: Actor
) -> None:
    first = series.sessions[0]
    with pytest.raises(PermissionDenied):
        move_session(session, BILLING, first.id, at("2026-12-07 08:00"), now=NOW)
    with pytest.raises(PermissionDenied):
        shift_rest(session, BILLING, first.id, at("2026-12-08 09:00"), now=NOW)
    with pytest.raises(PermissionDenied):
        cancel_session(session, BILLING, first.id, "travel", now=NOW)
    with pytest.raises(PermissionDenied, match="may not confirm or check in sessions"):
        record_no_show(session, BILLING, first.id, now=at("2026-12-07 10:00"))
    assert first.status is SessionStatus.SCHEDULED


def test_an_unknown_session_is_not_found(session: Session, front_desk: Actor) -> None:
    with pytest.raises(NotFound, match="no session S-999999"):
        move_session(session, front_desk, 999999, at("2026-12-07 08:00"), now=NOW)


def test_a_move_into_the_past_is_refused(
    session: Session, series: Series, front_desk: Actor
) -> None:
    first = series.sessions[0]
    with pytest.raises(ValidationError) as refused:
        move_session(
            session, front_desk, first.id, at("2026-12-04 09:00"), now=at("2026-12-05 09:00")
        )
    assert "already passed" in refused.value.for_field("starts_at")[0]
    assert first.starts_at == at("2026-12-07 09:00")
