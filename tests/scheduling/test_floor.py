"""The treatment floor on SQLite and PostgreSQL: each step, its order, its rules, its clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from scheduling.floor_helpers import (
    GOOD_VITALS,
    NURSE,
    book,
    dose_esketamine,
    take_monitoring_bps,
)
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.errors import Conflict, NotFound, PermissionDenied, StaleEdit, ValidationError
from ketadesk.scheduling import floor
from ketadesk.scheduling.floor import VitalsInput
from ketadesk.scheduling.models import (
    Checkpoint,
    ObservationKind,
    Route,
    ScoreKind,
    SeriesStatus,
    SessionStatus,
    SessionStep,
    Severity,
    TreatmentSession,
    VitalSign,
)

DOSED = at("2026-12-07 09:05")


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


def checklist(
    session: Session,
    ts: TreatmentSession,
    *,
    ride_home: bool = True,
    food: float = 8,
    drink: int = 180,
    vitals: VitalsInput = GOOD_VITALS,
    now: datetime = DOSED - timedelta(minutes=5),
) -> floor.ChecklistResult:
    return floor.run_checklist(
        session,
        NURSE,
        ts.id,
        ride_home=ride_home,
        food_fasted_hours=food,
        drink_fasted_minutes=drink,
        vitals=vitals,
        now=now,
    )


def checked_in(session: Session, clinic: SchedulingClinic, key: str) -> TreatmentSession:
    ts = book(session, clinic, key)
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:55"))
    return ts


def dose_iv(session: Session, ts: TreatmentSession, mg: str = "35") -> TreatmentSession:
    checklist(session, ts)
    return floor.start_dosing(
        session, NURSE, ts.id, dose_mg=Decimal(mg), route=Route.IV, lot_number="KT-7", now=DOSED
    )


# --- The walk ------------------------------------------------------------------------------


def test_esketamine_session_walks_from_scheduled_to_completed(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    ts = book(session, clinic)
    floor.confirm(session, front_desk, ts.id, now=at("2026-12-06 15:00"))
    floor.check_in(session, front_desk, ts.id, now=at("2026-12-07 08:55"))
    assert ts.series.status is SeriesStatus.ACTIVE
    result = checklist(session, ts, food=3, drink=45, now=at("2026-12-07 09:00"))
    assert result.passed and result.failures == ()
    floor.start_dosing(
        session,
        NURSE,
        ts.id,
        dose_mg=Decimal(84),
        route=Route.INTRANASAL,
        lot_number=" EK-22 ",
        now=DOSED,
    )
    floor.start_monitoring(session, NURSE, ts.id, now=DOSED + minutes(6))
    floor.record_observation(
        session,
        NURSE,
        ts.id,
        ObservationKind.DISSOCIATION,
        Severity.MILD,
        "felt floaty",
        now=DOSED + minutes(20),
    )
    take_monitoring_bps(session, ts, DOSED)
    floor.record_score(session, NURSE, ts.id, ScoreKind.PHQ9, 14)
    floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(125))

    assert ts.status is SessionStatus.COMPLETED
    assert ts.confirmed_at == at("2026-12-06 15:00")
    assert ts.checked_in_at == at("2026-12-07 08:55")
    assert ts.checklist_passed_at == at("2026-12-07 09:00")
    assert ts.driver_confirmed and ts.fasting_confirmed
    assert (ts.dosed_at, ts.monitoring_from) == (DOSED, DOSED)  # esketamine counts from dose
    assert ts.discharged_at == DOSED + minutes(125)
    assert (ts.dose_mg, ts.dose_mg_per_kg, ts.route) == (Decimal(84), None, Route.INTRANASAL)
    assert ts.lot_number == "EK-22"
    assert (ts.score_kind, ts.score) == (ScoreKind.PHQ9, 14)
    assert ts.infusion_started_at is None
    assert ts.rems_form_due_on == date(2026, 12, 14)
    assert ts.series.status is SeriesStatus.COMPLETED  # its only session is done
    assert [o.severity for o in ts.observations] == [Severity.MILD]


def test_every_step_is_recorded_with_who_and_when(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    ts = book(session, clinic)
    floor.confirm(session, front_desk, ts.id, now=at("2026-12-06 15:00"))
    dose_esketamine(session, ts, DOSED)
    take_monitoring_bps(session, ts, DOSED)
    floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(120))

    steps = session.scalars(
        select(SessionStep).where(SessionStep.session_id == ts.id).order_by(SessionStep.id)
    ).all()
    assert [(s.status, s.actor, s.at) for s in steps] == [
        (SessionStatus.CONFIRMED, "test-front", at("2026-12-06 15:00")),
        (SessionStatus.CHECKED_IN, "nurse-kim", DOSED - minutes(10)),
        (SessionStatus.CHECKED_IN, "nurse-kim", DOSED - minutes(5)),
        (SessionStatus.DOSING, "nurse-kim", DOSED),
        (SessionStatus.MONITORING, "nurse-kim", DOSED + minutes(5)),
        (SessionStatus.COMPLETED, "nurse-kim", DOSED + minutes(120)),
    ]
    assert steps[2].note == "checklist passed"
    assert steps[3].note == "56 mg Intranasal, lot EK-1"
    audits = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "treatment_session", AuditEntry.entity_id == str(ts.id))
        .order_by(AuditEntry.id)
    ).all()
    assert [a.after["status"] for a in audits if a.after and "status" in a.after] == [
        "confirmed",
        "checked_in",
        "dosing",
        "monitoring",
        "completed",
    ]
    assert audits[0].actor == "test-front"
    assert audits[-1].after is not None and audits[-1].after["rems_form_due_on"] == "2026-12-14"


# --- Discharge rules -----------------------------------------------------------------------


def test_esketamine_discharge_is_refused_before_two_hours(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = book(session, clinic)
    dose_esketamine(session, ts, DOSED)
    take_monitoring_bps(session, ts, DOSED)
    with pytest.raises(Conflict) as refused:
        floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(119))
    assert str(refused.value) == (
        f"S-{ts.id} cannot be discharged yet: 1 minute of monitoring remains; esketamine "
        "needs 120 minutes after the dose, so discharge from 11:05"
    )
    assert ts.status is SessionStatus.MONITORING
    assert floor.monitoring_remaining(ts, ts.series.protocol, DOSED + minutes(100)) == 20
    floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(120))
    assert ts.status is SessionStatus.COMPLETED


def test_discharge_names_the_missing_blood_pressures(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = book(session, clinic)
    dose_esketamine(session, ts, DOSED)
    with pytest.raises(Conflict) as refused:
        floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(130))
    assert (
        "blood pressure missing at 40 minutes (taken 35 minutes or more after the dose), "
        "before discharge" in str(refused.value)
    )
    floor.record_vitals(
        session, NURSE, ts.id, Checkpoint.DISCHARGE, GOOD_VITALS, now=DOSED + minutes(125)
    )
    with pytest.raises(Conflict, match="blood pressure missing at 40 minutes") as refused:
        floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(130))
    assert "before discharge" not in str(refused.value)
    assert "monitoring remain" not in str(refused.value)


def test_a_forty_minute_reading_taken_too_early_does_not_count(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = book(session, clinic)
    dose_esketamine(session, ts, DOSED)
    with pytest.raises(Conflict, match="can be taken from 09:40 "):
        floor.record_vitals(
            session, NURSE, ts.id, Checkpoint.FORTY_MINUTES, GOOD_VITALS, now=DOSED + minutes(30)
        )
    # A reading that came in some other way (an import, an older workstation) at 30 minutes.
    session.add(
        VitalSign(
            session_id=ts.id,
            checkpoint=Checkpoint.FORTY_MINUTES,
            taken_at=DOSED + minutes(30),
            systolic=130,
            diastolic=80,
            actor="import",
        )
    )
    floor.record_vitals(
        session, NURSE, ts.id, Checkpoint.DISCHARGE, GOOD_VITALS, now=DOSED + minutes(118)
    )
    session.expire(ts, ["vitals"])
    with pytest.raises(Conflict, match="blood pressure missing at 40 minutes"):
        floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(125))


def test_discharge_needs_a_ride_home(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    dose_esketamine(session, ts, DOSED)
    take_monitoring_bps(session, ts, DOSED)
    ts.driver_confirmed = False  # the ride fell through and the nurse unticked it
    with pytest.raises(Conflict, match=r"no ride home is confirmed$"):
        floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(125))


def test_iv_infusion_must_be_stopped_before_monitoring_and_discharge(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    dose_iv(session, ts)
    assert ts.infusion_started_at == DOSED
    with pytest.raises(
        Conflict, match=f"^S-{ts.id} is being dosed; stop the infusion before discharge$"
    ):
        floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(80))
    with pytest.raises(Conflict, match="is an infusion; stop the infusion to start monitoring"):
        floor.start_monitoring(session, NURSE, ts.id, now=DOSED + minutes(40))
    floor.stop_infusion(session, NURSE, ts.id, now=DOSED + minutes(41))
    assert ts.status is SessionStatus.MONITORING
    assert ts.infusion_stopped_at == ts.monitoring_from == DOSED + minutes(41)
    assert floor.monitoring_remaining(ts, ts.series.protocol, DOSED + minutes(61)) == 10
    floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(75))
    assert ts.status is SessionStatus.COMPLETED
    assert ts.rems_form_due_on is None  # only esketamine files a REMS form


def test_an_iv_session_in_monitoring_without_a_stop_time_is_not_discharged(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    dose_iv(session, ts)
    floor.stop_infusion(session, NURSE, ts.id, now=DOSED + minutes(40))
    ts.infusion_stopped_at = None  # as an older record could be
    with pytest.raises(Conflict, match="the infusion has not been stopped"):
        floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(75))


def test_only_an_infusion_is_stopped(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    with pytest.raises(Conflict, match=r"\(Esketamine nasal\) is not an infusion"):
        floor.stop_infusion(session, NURSE, ts.id, now=DOSED)


# --- Checklist -----------------------------------------------------------------------------


def test_checklist_fails_when_food_was_an_hour_before_esketamine(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    result = checklist(session, ts, food=1, drink=45)
    assert not result.passed
    assert [item.key for item in result.failures] == ["fasting"]
    assert result.failures[0].detail == "ate 1 h ago; the protocol asks for no food for 2 h"
    assert {item.key for item in result.items} == {"ride_home", "fasting", "vitals"}
    assert ts.checklist_passed_at is None and not ts.fasting_confirmed
    step = session.scalars(select(SessionStep).order_by(SessionStep.id.desc())).first()
    assert step is not None
    assert step.note == "checklist failed: ate 1 h ago; the protocol asks for no food for 2 h"
    pre_dose = [v.checkpoint for v in ts.vitals]
    assert pre_dose == [Checkpoint.PRE_DOSE]  # the readings are kept either way
    with pytest.raises(Conflict, match="has not passed the pre-dose checklist"):
        floor.start_dosing(
            session,
            NURSE,
            ts.id,
            dose_mg=Decimal(56),
            route=Route.INTRANASAL,
            lot_number="EK-1",
            now=DOSED,
        )


def test_fasting_follows_the_protocol(session: Session, clinic: SchedulingClinic) -> None:
    esketamine = checked_in(session, clinic, "esketamine-induction")
    assert checklist(session, esketamine, food=2, drink=30).passed
    assert not checklist(session, esketamine, food=2, drink=29).passed
    iv = book(session, clinic, "iv-induction", start="2026-12-07 13:00")
    floor.check_in(session, NURSE, iv.id, now=at("2026-12-07 12:50"))
    result = checklist(session, iv, food=3, drink=45)
    assert result.failures[0].detail == (
        "ate 3 h ago; the protocol asks for no food for 6 h; "
        "drank 45 min ago; the protocol asks for no drink for 120 min"
    )


def test_ride_home_is_required_and_recorded(session: Session, clinic: SchedulingClinic) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    result = checklist(session, ts, ride_home=False)
    assert [item.key for item in result.failures] == ["ride_home"]
    assert not ts.driver_confirmed
    assert checklist(session, ts).passed
    assert ts.driver_confirmed


@pytest.mark.parametrize(
    ("key", "vitals", "passed"),
    [
        ("esketamine-induction", VitalsInput(149, 99), True),
        ("esketamine-induction", VitalsInput(150, 90), False),
        ("esketamine-induction", VitalsInput(140, 100), False),
        ("iv-induction", VitalsInput(155, 90), True),
        ("iv-induction", VitalsInput(160, 90), False),
        ("iv-induction", VitalsInput(120, 80, heart_rate=111), False),
        ("iv-induction", VitalsInput(120, 80, heart_rate=50), True),
        ("iv-induction", VitalsInput(120, 80, spo2=93), False),
        ("iv-induction", VitalsInput(120, 80, spo2=94), True),
    ],
)
def test_vitals_must_be_in_range_for_the_modality(
    session: Session, clinic: SchedulingClinic, key: str, vitals: VitalsInput, passed: bool
) -> None:
    ts = checked_in(session, clinic, key)
    result = checklist(session, ts, vitals=vitals)
    assert result.passed is passed
    assert [i.key for i in result.failures] == ([] if passed else ["vitals"])


def test_a_failed_rerun_takes_back_a_passed_checklist(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    assert checklist(session, ts).passed
    result = checklist(session, ts, vitals=VitalsInput(170, 105))
    assert result.failures[0].detail == "blood pressure 170/105 is not below 150/100"
    assert ts.checklist_passed_at is None


def test_impossible_checklist_inputs_are_refused_field_by_field(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    with pytest.raises(ValidationError) as refused:
        checklist(session, ts, food=-1, drink=-5, vitals=VitalsInput(80, 90, spo2=101))
    fields = {p.field for p in refused.value.problems}
    assert fields == {"food_fasted_hours", "drink_fasted_minutes", "diastolic", "spo2"}
    assert ts.vitals == []


# --- Dose ----------------------------------------------------------------------------------


def test_iv_dose_per_kg_comes_from_the_weight(session: Session, clinic: SchedulingClinic) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    dose_iv(session, ts, "35")
    assert ts.dose_mg_per_kg == Decimal("0.500")
    assert ts.dose_mg == Decimal(35)
    assert ts.status is SessionStatus.DOSING
    assert ts.steps[-1].note == "35 mg IV (0.500 mg/kg), lot KT-7"


def test_iv_dose_needs_a_weight(session: Session, clinic: SchedulingClinic) -> None:
    clinic.patient.weight_kg = None
    ts = checked_in(session, clinic, "iv-induction")
    with pytest.raises(Conflict, match="record the patient's weight first"):
        dose_iv(session, ts)
    assert ts.status is SessionStatus.CHECKED_IN


def test_a_weight_in_pounds_is_stored_in_kilograms_audited_and_doses_by_it(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    assert floor.record_weight(session, NURSE, ts.id, "154 lb") == Decimal("69.9")
    assert floor.record_weight(session, NURSE, ts.id, "154", unit="lb") == Decimal("69.9")
    assert clinic.patient.weight_kg == Decimal("69.9")
    rows = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "patient", AuditEntry.entity_id == clinic.patient.mrn
        )
    ).all()
    weighed = [r for r in rows if r.action == "update"]
    assert [(r.before, r.after) for r in weighed] == [
        ({"weight_kg": "70.0"}, {"weight_kg": "69.9"})
    ]  # the second, unchanged weight wrote nothing
    dose_iv(session, ts, "35")
    assert ts.dose_mg_per_kg == floor.mg_per_kg(Decimal(35), Decimal("69.9")) == Decimal("0.501")


def test_a_weight_that_is_no_body_weight_is_refused_on_its_field(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    with pytest.raises(ValidationError) as refused:
        floor.record_weight(session, NURSE, ts.id, "154 stone")
    assert refused.value.for_field("weight") == [
        '"154 stone" is not a weight; expected a number such as 72.5 (kilograms) or 154 lb'
    ]
    with pytest.raises(PermissionDenied):
        floor.record_weight(session, front_desk, ts.id, "70")
    assert clinic.patient.weight_kg == Decimal("70.0")


def test_mg_per_kg_rounds_half_up_once() -> None:
    assert floor.mg_per_kg(Decimal(1), Decimal(80)) == Decimal("0.013")  # 0.0125 exactly
    assert floor.mg_per_kg(Decimal(35), Decimal(70)) == Decimal("0.500")
    with pytest.raises(ValueError):
        floor.mg_per_kg(Decimal(35), Decimal(0))


def test_a_dose_above_the_per_kg_limit_is_refused(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    with pytest.raises(
        ValidationError, match=r"350 mg is 5\.000 mg/kg for 70(\.0)? kg, above the 2 mg/kg limit"
    ):
        dose_iv(session, ts, "350")


def test_dose_route_and_lot_are_checked_together(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    checklist(session, ts)
    with pytest.raises(ValidationError) as refused:
        floor.start_dosing(
            session,
            NURSE,
            ts.id,
            dose_mg=Decimal(70),
            route=Route.IV,
            lot_number="  ",
            now=DOSED,
        )
    assert refused.value.for_field("dose_mg") == ["an esketamine dose is 56 mg or 84 mg"]
    assert refused.value.for_field("route") == [
        "the route for Esketamine nasal is Intranasal, not IV"
    ]
    assert refused.value.for_field("lot_number") == ["enter the lot number of the medicine given"]
    assert ts.status is SessionStatus.CHECKED_IN


def test_the_dose_records_the_products_ndc_in_its_11_digit_form(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    checklist(session, ts)

    def dose(ndc: str) -> None:
        floor.start_dosing(
            session, NURSE, ts.id, dose_mg=Decimal(56), route=Route.INTRANASAL,
            lot_number="EK-1", ndc=ndc, now=DOSED,
        )  # fmt: skip

    with pytest.raises(ValidationError) as refused:
        dose("5045802802")
    assert refused.value.for_field("ndc") == ["5045802802: add the dashes, e.g. 1234-5678-90"]
    assert ts.status is SessionStatus.CHECKED_IN and ts.ndc == ""
    dose(" 50458-028-02 ")
    assert (ts.status, ts.ndc) == (SessionStatus.DOSING, "50458002802")


def test_a_dose_without_an_ndc_leaves_it_to_the_fee_schedule(
    session: Session, clinic: SchedulingClinic
) -> None:
    assert dose_iv(session, checked_in(session, clinic, "iv-induction")).ndc == ""


def test_a_lot_number_fits_its_column(session: Session, clinic: SchedulingClinic) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    checklist(session, ts)
    with pytest.raises(ValidationError, match="a lot number has at most 40 characters"):
        floor.start_dosing(
            session,
            NURSE,
            ts.id,
            dose_mg=Decimal(56),
            route=Route.INTRANASAL,
            lot_number="L" * 41,
            now=DOSED,
        )


@pytest.mark.parametrize(
    ("mg", "message"),
    [
        ("0", "the dose must be more than 0 mg"),
        ("-5", "the dose must be more than 0 mg"),
        ("12.25", "give the dose to a tenth of a milligram"),
        ("600", "600 mg is above the 500 mg limit"),
    ],
)
def test_implausible_doses_are_refused(
    session: Session, clinic: SchedulingClinic, mg: str, message: str
) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    with pytest.raises(ValidationError) as refused:
        dose_iv(session, ts, mg)
    assert refused.value.for_field("dose_mg") == [message]


def test_a_float_dose_is_a_programming_error(session: Session, clinic: SchedulingClinic) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    checklist(session, ts)
    with pytest.raises(TypeError, match="Decimal"):
        floor.start_dosing(
            session,
            NURSE,
            ts.id,
            dose_mg=35.0,
            route=Route.IV,
            lot_number="K",
            now=DOSED,  # type: ignore[arg-type]
        )


# --- Order, day, permission, stale copies --------------------------------------------------


def test_steps_out_of_order_are_refused_in_words(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = book(session, clinic)
    ref = f"S-{ts.id}"
    with pytest.raises(Conflict, match=f"^{ref} is scheduled; check the patient in before dosing$"):
        floor.start_dosing(
            session,
            NURSE,
            ts.id,
            dose_mg=Decimal(56),
            route=Route.INTRANASAL,
            lot_number="EK-1",
            now=DOSED,
        )
    with pytest.raises(
        Conflict, match=f"^{ref} is scheduled; check the patient in before the pre-dose checklist$"
    ):
        checklist(session, ts)
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:50"))
    with pytest.raises(
        Conflict, match=f"^{ref} is checked in; pass the pre-dose checklist before discharge$"
    ):
        floor.discharge(session, NURSE, ts.id, now=DOSED)
    with pytest.raises(
        Conflict, match=f"^{ref} is already checked in; it is too late for confirming$"
    ):
        floor.confirm(session, NURSE, ts.id, now=DOSED)
    checklist(session, ts)
    with pytest.raises(Conflict, match="record the dose before monitoring"):
        floor.start_monitoring(session, NURSE, ts.id, now=DOSED)
    assert ts.status is SessionStatus.CHECKED_IN


def test_a_released_session_is_off_the_floor(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    ts.status = SessionStatus.CANCELLED
    with pytest.raises(Conflict, match="is cancelled and off the floor; checking in is not"):
        floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:50"))


def test_check_in_only_on_the_local_day_of_the_session(
    session: Session, clinic: SchedulingClinic
) -> None:
    early = book(session, clinic, start="2026-12-07 09:00")
    with pytest.raises(Conflict, match="is booked for Monday 7 December 2026; the patient can"):
        floor.check_in(session, NURSE, early.id, now=at("2026-12-06 09:00"))
    with pytest.raises(Conflict, match="only on that day"):
        floor.check_in(session, NURSE, early.id, now=at("2026-12-08 00:10"))
    # 23:30 in New York is already 8 December in UTC, and still the session's day.
    floor.check_in(session, NURSE, early.id, now=at("2026-12-07 23:30"))
    assert early.checked_in_at == datetime(2026, 12, 8, 4, 30, tzinfo=UTC)


def test_front_desk_may_check_in_but_not_dose(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    ts = book(session, clinic)
    floor.confirm(session, front_desk, ts.id, now=at("2026-12-06 10:00"))
    floor.check_in(session, front_desk, ts.id, now=at("2026-12-07 08:55"))
    with pytest.raises(PermissionDenied, match="may not record dosing"):
        floor.run_checklist(
            session,
            front_desk,
            ts.id,
            ride_home=True,
            food_fasted_hours=3,
            drink_fasted_minutes=45,
            vitals=GOOD_VITALS,
            now=DOSED,
        )
    checklist(session, ts)
    with pytest.raises(PermissionDenied):
        floor.start_dosing(
            session,
            front_desk,
            ts.id,
            dose_mg=Decimal(56),
            route=Route.INTRANASAL,
            lot_number="EK-1",
            now=DOSED,
        )
    with pytest.raises(PermissionDenied):
        floor.record_vitals(session, front_desk, ts.id, Checkpoint.OTHER, GOOD_VITALS, now=DOSED)
    assert ts.status is SessionStatus.CHECKED_IN


def test_an_edit_from_a_stale_copy_is_refused(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    table = TreatmentSession.__table__
    # Another workstation saves the session after this one loaded it.
    session.execute(update(table).where(table.c.id == ts.id).values(version=ts.version + 1))
    with pytest.raises(StaleEdit, match=f"S-{ts.id} was changed on another workstation"):
        floor.confirm(session, NURSE, ts.id, now=at("2026-12-06 10:00"))


def test_an_unknown_session_is_not_found(session: Session, clinic: SchedulingClinic) -> None:
    with pytest.raises(NotFound, match="there is no session S-999999"):
        floor.confirm(session, NURSE, 999999)


def test_now_must_carry_a_zone(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    with pytest.raises(ValueError, match="time-zone-aware"):
        floor.confirm(session, NURSE, ts.id, now=datetime(2026, 12, 6, 10, 0))


# --- Measurements --------------------------------------------------------------------------


def test_vitals_are_checked_for_plausibility_and_their_checkpoint(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    with pytest.raises(ValidationError) as refused:
        floor.record_vitals(
            session, NURSE, ts.id, Checkpoint.OTHER, VitalsInput(300, 20, heart_rate=10), now=DOSED
        )
    assert {p.field for p in refused.value.problems} == {"systolic", "diastolic", "heart_rate"}
    with pytest.raises(
        Conflict, match="has not been dosed; the 40-minute reading comes after the dose"
    ):
        floor.record_vitals(session, NURSE, ts.id, Checkpoint.FORTY_MINUTES, GOOD_VITALS, now=DOSED)
    vital = floor.record_vitals(
        session, NURSE, ts.id, Checkpoint.PRE_DOSE, GOOD_VITALS, now=DOSED - minutes(20)
    )
    assert (vital.checkpoint, vital.actor, vital.taken_at) == (
        Checkpoint.PRE_DOSE,
        "nurse-kim",
        DOSED - minutes(20),
    )
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "vital_sign")).all()
    assert [a.entity_id for a in audit] == [str(vital.id)]
    checklist(session, ts)
    floor.start_dosing(
        session,
        NURSE,
        ts.id,
        dose_mg=Decimal(56),
        route=Route.INTRANASAL,
        lot_number="EK-1",
        now=DOSED,
    )
    with pytest.raises(Conflict, match="was dosed at 09:05; a reading now is not before the dose"):
        floor.record_vitals(session, NURSE, ts.id, Checkpoint.PRE_DOSE, GOOD_VITALS, now=DOSED)


def test_observations_are_for_dosed_sessions(session: Session, clinic: SchedulingClinic) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    checklist(session, ts)
    with pytest.raises(Conflict, match="record the dose before recording observations"):
        floor.record_observation(session, NURSE, ts.id, ObservationKind.SEDATION, Severity.NONE)
    floor.start_dosing(
        session,
        NURSE,
        ts.id,
        dose_mg=Decimal(56),
        route=Route.INTRANASAL,
        lot_number="EK-1",
        now=DOSED,
    )
    with pytest.raises(ValidationError, match="note: keep the note under 200"):
        floor.record_observation(
            session, NURSE, ts.id, ObservationKind.SEDATION, Severity.NONE, "x" * 201
        )
    seen = floor.record_observation(
        session,
        NURSE,
        ts.id,
        ObservationKind.SEDATION,
        Severity.MODERATE,
        " drowsy ",
        now=DOSED + minutes(15),
    )
    assert (seen.note, seen.actor, seen.at) == ("drowsy", "nurse-kim", DOSED + minutes(15))
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "observation")).all()
    assert [(a.entity_id, a.actor) for a in audit] == [(str(seen.id), "nurse-kim")]


@pytest.mark.parametrize(
    ("kind", "score", "accepted"),
    [
        (ScoreKind.PHQ9, 27, True),
        (ScoreKind.PHQ9, 28, False),
        (ScoreKind.GAD7, 21, True),
        (ScoreKind.GAD7, 22, False),
        (ScoreKind.GAD7, -1, False),
        (ScoreKind.PHQ9, True, False),
    ],
)
def test_scores_stay_within_their_scale(
    session: Session, clinic: SchedulingClinic, kind: ScoreKind, score: int, accepted: bool
) -> None:
    ts = checked_in(session, clinic, "esketamine-induction")
    if accepted:
        floor.record_score(session, NURSE, ts.id, kind, score)
        assert (ts.score_kind, ts.score) == (kind, score)
    else:
        with pytest.raises(ValidationError, match=f"a {kind.label} score is a whole number"):
            floor.record_score(session, NURSE, ts.id, kind, score)
        assert ts.score is None


# --- The board's clock ---------------------------------------------------------------------


def test_next_due_for_an_arrival(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    protocol = ts.series.protocol
    due = floor.next_due(ts, protocol, at("2026-12-07 09:15"))
    assert [(d.key, d.due_at, d.overdue) for d in due] == [
        ("check_in", at("2026-12-07 09:00"), False)
    ]
    assert floor.next_due(ts, protocol, at("2026-12-07 09:16"))[0].overdue
    assert floor.minutes_since_dose(ts, DOSED) is None
    assert floor.monitoring_remaining(ts, protocol, DOSED) is None


def test_next_due_during_esketamine_monitoring(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    protocol = ts.series.protocol
    dose_esketamine(session, ts, DOSED)
    due = floor.next_due(ts, protocol, DOSED + minutes(50))
    assert [(d.key, d.due_at, d.overdue) for d in due] == [
        ("bp_40", DOSED + minutes(40), False),
        ("discharge", DOSED + minutes(120), False),
    ]
    assert floor.next_due(ts, protocol, DOSED + minutes(51))[0].overdue
    assert floor.minutes_since_dose(ts, DOSED + minutes(51)) == 51
    assert floor.monitoring_remaining(ts, protocol, DOSED + minutes(51)) == 69
    floor.record_vitals(
        session, NURSE, ts.id, Checkpoint.FORTY_MINUTES, GOOD_VITALS, now=DOSED + minutes(52)
    )
    assert [d.key for d in floor.next_due(ts, protocol, DOSED + minutes(53))] == ["discharge"]
    assert floor.monitoring_remaining(ts, protocol, DOSED + minutes(150)) == 0
    assert floor.next_due(ts, protocol, DOSED + minutes(136))[0].overdue


def test_next_due_for_an_infusion(session: Session, clinic: SchedulingClinic) -> None:
    ts = checked_in(session, clinic, "iv-induction")
    protocol = ts.series.protocol
    dose_iv(session, ts)
    due = floor.next_due(ts, protocol, DOSED + minutes(30))
    assert [(d.key, d.due_at) for d in due] == [
        ("stop_infusion", DOSED + minutes(40)),
        ("discharge", DOSED + minutes(70)),
    ]
    assert floor.next_due(ts, protocol, DOSED + minutes(46))[0].overdue
    floor.stop_infusion(session, NURSE, ts.id, now=DOSED + minutes(45))
    due = floor.next_due(ts, protocol, DOSED + minutes(46))
    assert [(d.key, d.due_at) for d in due] == [("discharge", DOSED + minutes(75))]


def test_next_due_after_esketamine_discharge_is_the_rems_form(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = book(session, clinic)
    dose_esketamine(session, ts, DOSED)
    take_monitoring_bps(session, ts, DOSED)
    floor.discharge(session, NURSE, ts.id, now=DOSED + minutes(120))
    protocol = ts.series.protocol
    due = floor.next_due(ts, protocol, at("2026-12-14 23:59"))
    assert [(d.key, d.due_at, d.overdue) for d in due] == [
        ("rems_form", at("2026-12-15 00:00"), False)
    ]
    assert floor.next_due(ts, protocol, at("2026-12-15 00:00"))[0].overdue
    assert floor.minutes_since_dose(ts, at("2026-12-15 00:00")) == 120  # frozen at discharge
    ts.rems_form_filed_on = date(2026, 12, 9)
    assert floor.next_due(ts, protocol, at("2026-12-15 00:00")) == ()
