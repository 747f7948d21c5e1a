"""Candidacy at booking, at the pre-dose checklist and on the board.

Each hard stop and warning is tested beside the case that lets it go, so the test fails
without its rule.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from builders import SchedulingClinic, at, patient_raw, scheduling_clinic
from clinic.intake_helpers import CLINICIAN, record
from scheduling.floor_helpers import GOOD_VITALS, NURSE, book
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.intake.assessments import override_finding
from ketadesk.clinic.intake.rules import set_rule
from ketadesk.clinic.models import ScreeningFlag
from ketadesk.clinic.patients import create_patient
from ketadesk.errors import Conflict
from ketadesk.scheduling import floor
from ketadesk.scheduling.board import chair_board
from ketadesk.scheduling.candidacy import board_intake
from ketadesk.scheduling.gates import booking_gates
from ketadesk.scheduling.models import Route, TreatmentSession

FIRST = date(2026, 12, 7)  # the session day floor_helpers.book uses (a Monday)
TODAY = date(2026, 11, 30)
MANAGER = Actor(username="mgr", role=Role.MANAGER)


@pytest.fixture
def clinic(session: Session, admin: Actor) -> SchedulingClinic:
    return scheduling_clinic(session, admin)


def warning_codes(
    session: Session, clinic: SchedulingClinic, days: list[date] | None = None
) -> list[str]:
    days = days or [FIRST]
    _, warnings = booking_gates(
        session,
        clinic.patient,
        clinic.protocols["esketamine-induction"],
        clinic.location,
        min(days),
        days,
        today=TODAY,
    )
    return [w.code for w in warnings]


def checked_in(session: Session, clinic: SchedulingClinic) -> TreatmentSession:
    ts = book(session, clinic)
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:55"))
    return ts


def run_checklist(
    session: Session,
    ts: TreatmentSession,
    when: str = "2026-12-07 09:00",
    acknowledged: tuple[str, ...] = (),
) -> floor.ChecklistResult:
    """The checklist with everything else in order, so only the intake can fail it."""
    return floor.run_checklist(
        session,
        NURSE,
        ts.id,
        ride_home=True,
        food_fasted_hours=3,
        drink_fasted_minutes=45,
        vitals=GOOD_VITALS,
        acknowledged=acknowledged,
        now=at(when),
    )


def items(result: floor.ChecklistResult) -> dict[str, floor.ChecklistItem]:
    return {item.key: item for item in result.items}


def other_patient_intake(session: Session, clinic: SchedulingClinic, admin: Actor) -> None:
    """The clinic has taken intakes up (someone else has one), so missing ones count."""
    other = create_patient(session, admin, patient_raw(family_name="Other", phone=""))
    record(session, other, clinic.provider, TODAY)


# --- Booking ------------------------------------------------------------------------------


def test_a_relative_finding_warns_at_booking(session: Session, clinic: SchedulingClinic) -> None:
    record(session, clinic.patient, clinic.provider, TODAY, {"liver_disease": "raised ALT"})
    assert warning_codes(session, clinic) == ["intake:liver_disease"]


def test_an_absolute_finding_warns_at_booking_until_overridden(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, TODAY, {"pregnancy": ""})
    _, warnings = booking_gates(
        session,
        clinic.patient,
        clinic.protocols["esketamine-induction"],
        clinic.location,
        FIRST,
        [FIRST],
        today=TODAY,
    )
    assert [w.code for w in warnings] == ["intake:pregnancy"]
    assert "dosing will be refused unless a provider overrides it" in warnings[0].message
    override_finding(
        session, CLINICIAN, clinic.patient.id, "pregnancy", clinic.provider.id, "test negative"
    )
    assert warning_codes(session, clinic) == []


def test_an_interaction_warns_at_booking(session: Session, clinic: SchedulingClinic) -> None:
    record(session, clinic.patient, clinic.provider, TODAY, medications=[("Adderall", "20 mg")])
    assert warning_codes(session, clinic) == ["intake:stimulant"]


def test_a_rule_set_to_ignore_removes_the_warning(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, TODAY, {"liver_disease": ""})
    set_rule(session, MANAGER, "liver_disease", "ignore")
    assert warning_codes(session, clinic) == []


def test_flags_warn_only_while_there_is_no_intake(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    clinic.patient.screening_flags = frozenset({ScreeningFlag.SEIZURE_DISORDER})
    assert warning_codes(session, clinic) == ["screening:seizure_disorder"]
    other_patient_intake(session, clinic, admin)
    assert warning_codes(session, clinic) == ["intake:missing", "screening:seizure_disorder"]
    record(session, clinic.patient, clinic.provider, TODAY)
    assert warning_codes(session, clinic) == []


def test_an_expired_intake_warns_at_booking(session: Session, clinic: SchedulingClinic) -> None:
    record(session, clinic.patient, clinic.provider, date(2025, 11, 30), today=TODAY)
    assert warning_codes(session, clinic) == ["intake:expired"]


def test_an_intake_running_out_before_the_series_ends_warns(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, date(2025, 12, 8), today=TODAY)
    assert warning_codes(session, clinic, [FIRST]) == []
    assert warning_codes(session, clinic, [FIRST, date(2026, 12, 8)]) == ["intake:expires"]


# --- The pre-dose checklist ----------------------------------------------------------------


def test_an_absolute_finding_fails_the_checklist_and_refuses_dosing(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, TODAY, {"brain_bleed": "2019"})
    ts = checked_in(session, clinic)
    result = run_checklist(session, ts)
    assert not result.passed
    finding = items(result)["intake_findings"]
    assert not finding.passed and "Bleeding in the brain" in finding.detail
    with pytest.raises(Conflict, match="pre-dose checklist"):
        floor.start_dosing(
            session,
            NURSE,
            ts.id,
            dose_mg=Decimal(56),
            route=Route.INTRANASAL,
            lot_number="EK-1",
            now=at("2026-12-07 09:05"),
        )


def test_an_override_lets_dosing_proceed(session: Session, clinic: SchedulingClinic) -> None:
    record(session, clinic.patient, clinic.provider, TODAY, {"brain_bleed": "2019"})
    override_finding(
        session,
        CLINICIAN,
        clinic.patient.id,
        "brain_bleed",
        clinic.provider.id,
        "Neurology cleared: old, treated, no aneurysm",
    )
    ts = checked_in(session, clinic)
    result = run_checklist(session, ts)
    assert result.passed
    assert "Overridden: Bleeding in the brain" in items(result)["intake_findings"].detail
    floor.start_dosing(
        session,
        NURSE,
        ts.id,
        dose_mg=Decimal(56),
        route=Route.INTRANASAL,
        lot_number="EK-1",
        now=at("2026-12-07 09:05"),
    )


def test_each_relative_finding_is_acknowledged_before_the_dose(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(
        session,
        clinic.patient,
        clinic.provider,
        TODAY,
        {"bladder_problems": "frequency"},
        [("Lorazepam", "1 mg")],
    )
    ts = checked_in(session, clinic)
    listed = floor.to_acknowledge(session, NURSE, ts.id)
    assert [item.key for item in listed] == ["intake:bladder_problems", "intake:benzodiazepine"]
    assert listed[0].words == "Bladder problems (urinary symptoms, cystitis) (frequency)"

    unseen = run_checklist(session, ts)  # nothing ticked: the dose waits, naming both
    detail = items(unseen)["intake_findings"].detail
    assert not unseen.passed and detail.startswith("Not acknowledged: Bladder problems")
    assert "Benzodiazepine (Lorazepam" in detail
    half = run_checklist(session, ts, "2026-12-07 09:01", ("intake:bladder_problems",))
    detail = items(half)["intake_findings"].detail
    assert not half.passed and detail.startswith("Not acknowledged: Benzodiazepine")
    assert detail.endswith(f"Acknowledged: {listed[0].words}")

    both = run_checklist(session, ts, "2026-12-07 09:02", tuple(i.key for i in listed))
    assert both.passed
    assert items(both)["intake_findings"].detail.startswith("Acknowledged: Bladder problems")
    assert ts.steps[-1].note == (
        "checklist passed; acknowledged: intake:benzodiazepine, intake:bladder_problems")


def test_an_expired_intake_stops_dosing_on_the_exact_day(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, date(2025, 12, 7), today=TODAY)
    result = run_checklist(session, checked_in(session, clinic))
    state = items(result)["intake"]
    assert not result.passed and not state.passed
    assert state.detail.startswith("Intake expired on 07 Dec 2026")


def test_the_day_before_expiry_the_intake_is_still_good(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, date(2025, 12, 8), today=TODAY)
    result = run_checklist(session, checked_in(session, clinic))
    assert result.passed
    assert items(result)["intake"].detail.startswith("Intake due in 1 day")


def test_a_missing_intake_is_shown_and_stops_dosing_only_when_absolute(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    assert "intake" not in items(run_checklist(session, checked_in(session, clinic)))
    other_patient_intake(session, clinic, admin)
    ts = book(session, clinic, start="2026-12-07 13:00")
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 12:55"))
    assert [i.key for i in floor.to_acknowledge(session, NURSE, ts.id)] == ["intake:missing"]
    result = run_checklist(session, ts, "2026-12-07 13:00")
    assert not result.passed and "not acknowledged" in items(result)["intake"].detail
    result = run_checklist(session, ts, "2026-12-07 13:00", ("intake:missing",))
    assert result.passed and items(result)["intake"].detail.startswith("No intake on record")
    set_rule(session, MANAGER, "intake_missing", "absolute")
    result = run_checklist(session, ts, "2026-12-07 13:01", ("intake:missing",))
    assert not result.passed


# --- The board ------------------------------------------------------------------------------


def test_the_board_says_where_each_intake_stands(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    record(
        session, clinic.patient, clinic.provider, date(2025, 12, 20), {"pregnancy": ""}, today=TODAY
    )
    lines = board_intake(session, [clinic.patient.id], FIRST)
    assert lines[clinic.patient.id].level == "stop"
    assert "Pregnancy" in lines[clinic.patient.id].text
    override_finding(session, CLINICIAN, clinic.patient.id, "pregnancy", clinic.provider.id, "no")
    line = board_intake(session, [clinic.patient.id], FIRST)[clinic.patient.id]
    assert (line.text, line.level) == ("Intake due in 13 days", "due")
    book(session, clinic)
    board = chair_board(session, admin, clinic.location.id, at("2026-12-07 08:50"))
    shown = board.card("Nasal 1").current
    assert shown is not None and shown.intake == line


def test_the_board_reads_intakes_in_the_same_few_queries_for_any_number_of_patients(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    from typing import Any

    from sqlalchemy import event

    def queries(patient_ids: list[int]) -> int:
        counted: list[str] = []

        def count(*_args: Any) -> None:
            counted.append("x")

        session.flush()
        session.expire_all()
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            board_intake(session, patient_ids, FIRST)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(counted)

    ids = []
    for n in range(3):
        patient = create_patient(session, admin, patient_raw(family_name=f"P{n}", phone=""))
        record(session, patient, clinic.provider, TODAY, {"pregnancy": ""}, [("Adderall", "5 mg")])
        override_finding(session, CLINICIAN, patient.id, "pregnancy", clinic.provider.id, "ok")
        ids.append(patient.id)
    assert queries(ids[:1]) == queries(ids) <= 6
