"""The chair board: which session each chair shows, its timers, what is due, the REMS list."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from builders import NOW, SchedulingClinic, add_location, at, scheduling_clinic
from scheduling.planning_helpers import existing_session
from sqlalchemy import event
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import Chair
from ketadesk.errors import Conflict, NotFound
from ketadesk.scheduling.board import chair_board, reschedule_choices
from ketadesk.scheduling.changes import move_session
from ketadesk.scheduling.models import (
    Checkpoint,
    SessionStatus,
    TreatmentSession,
    VitalSign,
)

S = SessionStatus


def book(
    session: Session,
    clinic: SchedulingClinic,
    chair: Chair,
    start: str,
    status: SessionStatus = S.SCHEDULED,
    *,
    protocol_key: str = "esketamine-induction",
    number: int = 1,
    **columns: Any,
) -> TreatmentSession:
    """A session inserted as the floor would have left it (``columns`` set directly)."""
    protocol = clinic.protocols[protocol_key]
    return existing_session(
        session,
        clinic.patient,
        protocol,
        chair,
        clinic.provider,
        at(start),
        status=status,
        number=number,
        **columns,
    )


def test_an_empty_day_shows_every_active_chair_free(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    board = chair_board(session, admin, clinic.location.id, at("2026-12-07 09:00"))
    assert [c.chair_name for c in board.cards] == ["IV 1", "IV 2", "Nasal 1", "Nasal 2"]
    assert all(c.current is None and c.next_up is None for c in board.cards)
    assert board.location_name == "KetaDesk NYC" and board.now.hour == 9
    assert board.rems_due == ()


def test_an_arrival_within_the_hour_is_current_and_the_rest_follow(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    chair = clinic.esketamine_chairs[0]
    soon = book(session, clinic, chair, "2026-12-07 09:30", S.CONFIRMED, number=3)
    later = book(session, clinic, chair, "2026-12-07 12:00")
    book(session, clinic, chair, "2026-12-07 14:30")
    book(session, clinic, chair, "2026-12-07 17:00")
    card = chair_board(session, admin, clinic.location.id, at("2026-12-07 08:45")).card("Nasal 1")
    assert card.current is not None and card.current.session_id == soon.id
    assert card.current.progress == "3 of 12" and card.current.local_start.hour == 9
    assert [d.key for d in card.current.due] == ["check_in"] and not card.current.overdue
    assert card.next_up is not None and card.next_up.session_id == later.id
    assert card.later_today == 2


def test_an_arrival_more_than_an_hour_ahead_is_only_next_up(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    ts = book(session, clinic, clinic.esketamine_chairs[0], "2026-12-07 10:30")
    card = chair_board(session, admin, clinic.location.id, at("2026-12-07 09:00")).card("Nasal 1")
    assert card.current is None
    assert card.next_up is not None and card.next_up.session_id == ts.id


def test_a_late_arrival_stays_current_with_check_in_overdue(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    book(session, clinic, clinic.esketamine_chairs[0], "2026-12-07 09:00")
    card = chair_board(session, admin, clinic.location.id, at("2026-12-07 09:20")).card("Nasal 1")
    assert card.current is not None and card.current.overdue
    assert card.current.due[0].key == "check_in" and card.current.due[0].overdue


def test_monitoring_session_shows_timers_and_an_overdue_forty_minute_bp(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    dosed = at("2026-12-07 09:10")
    ts = book(
        session,
        clinic,
        clinic.esketamine_chairs[1],
        "2026-12-07 09:00",
        S.MONITORING,
        checked_in_at=at("2026-12-07 08:55"),
        checklist_passed_at=at("2026-12-07 09:05"),
        dosed_at=dosed,
        monitoring_from=dosed,
        driver_confirmed=True,
    )
    session.add(
        VitalSign(
            session_id=ts.id,
            checkpoint=Checkpoint.PRE_DOSE,
            taken_at=at("2026-12-07 09:05"),
            systolic=128,
            diastolic=82,
            actor="nurse",
        )
    )
    session.flush()
    board = chair_board(session, admin, clinic.location.id, at("2026-12-07 10:05"))
    shown = board.card("Nasal 2").current
    assert shown is not None and shown.status is S.MONITORING
    assert shown.minutes_since_dose == 55 and shown.monitoring_remaining == 65
    assert shown.checkpoints == frozenset({Checkpoint.PRE_DOSE})
    due = {d.key: d for d in shown.due}
    assert due["bp_40"].overdue and not due["discharge"].overdue
    assert shown.overdue and shown.checklist_passed and shown.driver_confirmed


def test_the_forty_minute_bp_taken_clears_the_overdue(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    dosed = at("2026-12-07 09:10")
    ts = book(
        session,
        clinic,
        clinic.esketamine_chairs[1],
        "2026-12-07 09:00",
        S.MONITORING,
        dosed_at=dosed,
        monitoring_from=dosed,
    )
    session.add(
        VitalSign(
            session_id=ts.id,
            checkpoint=Checkpoint.FORTY_MINUTES,
            taken_at=at("2026-12-07 09:51"),
            systolic=140,
            diastolic=88,
            actor="nurse",
        )
    )
    session.flush()
    shown = (
        chair_board(session, admin, clinic.location.id, at("2026-12-07 10:05"))
        .card("Nasal 2")
        .current
    )
    assert shown is not None and [d.key for d in shown.due] == ["discharge"]
    assert not shown.overdue


def test_the_patient_on_the_floor_comes_before_the_next_arrival(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    chair = clinic.iv_chairs[0]
    dosing = book(
        session,
        clinic,
        chair,
        "2026-12-07 09:00",
        S.DOSING,
        protocol_key="iv-induction",
        dosed_at=at("2026-12-07 09:05"),
        infusion_started_at=at("2026-12-07 09:05"),
    )
    arrival = book(session, clinic, chair, "2026-12-07 10:15", protocol_key="iv-induction")
    card = chair_board(session, admin, clinic.location.id, at("2026-12-07 09:50")).card("IV 1")
    assert card.current is not None and card.current.session_id == dosing.id
    assert [d.key for d in card.current.due] == ["stop_infusion", "discharge"]
    assert card.current.monitoring_remaining is None  # the infusion is still running
    assert card.next_up is not None and card.next_up.session_id == arrival.id
    assert card.later_today == 0


def test_missed_released_other_days_and_other_locations_are_left_off(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    chair = clinic.esketamine_chairs[0]
    book(session, clinic, chair, "2026-12-07 08:00")  # booked time over, never arrived
    book(session, clinic, chair, "2026-12-07 11:00", S.CANCELLED)
    book(session, clinic, clinic.esketamine_chairs[1], "2026-12-07 08:00", S.COMPLETED)
    book(session, clinic, chair, "2026-12-08 11:00")
    other = add_location(session, "BOS", time_zone="America/New_York")
    session.add(Chair(location_id=other.id, name="Nasal 1", modalities=chair.modalities))
    session.flush()
    board = chair_board(session, admin, clinic.location.id, at("2026-12-07 10:40"))
    card = board.card("Nasal 1")
    assert card.current is None and card.next_up is None and card.later_today == 0
    assert len(board.cards) == 4


def test_the_day_is_the_locations_local_day(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    evening = book(session, clinic, clinic.esketamine_chairs[0], "2026-12-07 19:30")
    # 19:00 in New York is already 00:00 the next day in UTC.
    card = chair_board(session, admin, clinic.location.id, at("2026-12-07 19:00")).card("Nasal 1")
    assert card.current is not None and card.current.session_id == evening.id
    nyc_next_morning = chair_board(session, admin, clinic.location.id, at("2026-12-08 08:00"))
    assert nyc_next_morning.card("Nasal 1").current is None


def test_rems_forms_due_are_on_the_board_overdue_first(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    chair = clinic.esketamine_chairs[0]
    recent = book(
        session, clinic, chair, "2026-12-04 09:00", S.COMPLETED, rems_form_due_on=date(2026, 12, 11)
    )
    old = book(
        session, clinic, chair, "2026-11-27 09:00", S.COMPLETED, rems_form_due_on=date(2026, 12, 4)
    )
    book(
        session,
        clinic,
        chair,
        "2026-11-30 09:00",
        S.COMPLETED,
        rems_form_due_on=date(2026, 12, 7),
        rems_form_filed_on=date(2026, 12, 1),
    )
    board = chair_board(session, admin, clinic.location.id, at("2026-12-07 09:00"))
    assert [(f.session_id, f.overdue) for f in board.rems_due] == [
        (old.id, True),
        (recent.id, False),
    ]


def test_the_number_of_queries_does_not_grow_with_the_sessions(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    chairs = [*clinic.esketamine_chairs, *clinic.iv_chairs]

    def queries(now: datetime) -> int:
        statements: list[str] = []

        def count(*_args: Any) -> None:
            statements.append("x")

        session.expire_all()
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            chair_board(session, admin, clinic.location.id, now)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    book(session, clinic, chairs[0], "2026-12-07 18:00")
    few = queries(at("2026-12-07 09:00"))
    for n, chair in enumerate(chairs):
        key = "esketamine-induction" if n < 2 else "iv-induction"
        dosed = at("2026-12-07 08:10")
        book(
            session,
            clinic,
            chair,
            "2026-12-07 08:00",
            S.MONITORING,
            protocol_key=key,
            dosed_at=dosed,
            monitoring_from=dosed,
        )
        for start in ("10:30", "13:00", "15:30"):
            book(session, clinic, chair, f"2026-12-07 {start}", protocol_key=key)
    # The board's own five, the intake's (scheduling/candidacy.py: board_intake), the
    # pending provider reviews after serious side effects, the consent badges' four (main
    # counted 14 against its bound of 10 after consent landed) and the open item-9 alerts.
    assert queries(at("2026-12-07 09:00")) == few <= 5 + 4 + 1 + 4 + 1


def test_unknown_location(session: Session, admin: Actor) -> None:
    with pytest.raises(NotFound):
        chair_board(session, admin, 999_999, at("2026-12-07 09:00"))


def test_reschedule_choices_offer_the_same_time_on_the_chosen_day(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    ts = book(session, clinic, clinic.esketamine_chairs[0], "2026-12-07 09:00", S.CHECKED_IN)
    now = at("2026-12-07 09:20")
    choices = reschedule_choices(session, admin, ts.id, date(2026, 12, 8), now=now, limit=4)
    # Its own chair and time the next day: the session's own slot does not block it.
    assert (choices[0].starts_at, choices[0].chair_name) == (at("2026-12-08 09:00"), "Nasal 1")
    today = reschedule_choices(session, admin, ts.id, date(2026, 12, 7), now=now, limit=4)
    assert today and all(c.starts_at > now for c in today)


def test_reschedule_choices_keep_the_series_spacing(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    ts = book(session, clinic, clinic.esketamine_chairs[0], "2026-12-07 09:00", S.CHECKED_IN)
    later = book(session, clinic, clinic.esketamine_chairs[0], "2026-12-09 11:00")
    choices = reschedule_choices(
        session, admin, ts.id, date(2026, 12, 8), now=at("2026-12-07 09:20"), limit=4
    )
    assert choices
    assert all(abs(c.starts_at - later.starts_at) >= timedelta(hours=48) for c in choices)


def test_a_checked_in_session_sent_home_undosed_can_be_moved(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    ts = book(
        session,
        clinic,
        clinic.esketamine_chairs[0],
        "2026-12-07 09:00",
        S.CHECKED_IN,
        checked_in_at=at("2026-12-07 08:55"),
        fasting_confirmed=True,
    )
    moved = move_session(session, admin, ts.id, at("2026-12-09 09:00"), now=NOW)
    assert moved.status is S.SCHEDULED and moved.starts_at == at("2026-12-09 09:00")
    assert moved.checked_in_at is None and not moved.fasting_confirmed
    dosed = book(
        session,
        clinic,
        clinic.esketamine_chairs[1],
        "2026-12-07 09:00",
        S.DOSING,
        dosed_at=at("2026-12-07 09:10"),
    )
    with pytest.raises(Conflict, match="can no longer be moved"):
        move_session(session, admin, dosed.id, at("2026-12-09 12:00"), now=NOW)
