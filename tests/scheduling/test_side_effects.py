"""Side effects on SQLite and PostgreSQL: recording, corrections, the floor's blood-pressure
rule with the checklist's own limit, and the provider review a serious one calls for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from scheduling.floor_helpers import GOOD_VITALS, NURSE, book, dose_esketamine
from scheduling.side_effect_helpers import dosed_esketamine, record
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.db import Database
from ketadesk.errors import AppendOnly, Conflict, NotFound, PermissionDenied, ValidationError
from ketadesk.scheduling import floor
from ketadesk.scheduling.models import Checkpoint, Route, TreatmentSession, VitalSign
from ketadesk.scheduling.side_effects import recording
from ketadesk.scheduling.side_effects.models import SideEffect, SideEffectKind, SideEffectSeverity
from ketadesk.scheduling.side_effects.recording import SideEffectInput, record_side_effect
from ketadesk.scheduling.vital_limits import blood_pressure_limit


@pytest.fixture
def clinic(session: Session, admin: Actor) -> SchedulingClinic:
    return scheduling_clinic(session, admin)


def test_a_side_effect_is_recorded_with_its_onset_action_and_who(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = dosed_esketamine(session, clinic)
    row = record(session, ts, "Nausea", "mild", minutes=15, action="ondansetron 4 mg IV")
    assert (row.kind, row.severity.value, row.serious) == (SideEffectKind.NAUSEA, "mild", False)
    assert ts.dosed_at is not None and row.onset_at == ts.dosed_at + timedelta(minutes=15)
    assert recording.minutes_after_dose(row) == 15
    assert (row.action, row.recorded_by, row.patient_id) == (
        "ondansetron 4 mg IV",
        NURSE.username,
        clinic.patient.id,
    )
    audited = session.scalars(select(AuditEntry).where(AuditEntry.entity == "side_effect")).all()
    assert [entry.entity_id for entry in audited] == [str(row.id)]


def test_typed_words_are_read_and_bad_ones_named_together(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = dosed_esketamine(session, clinic)
    assert record(session, ts, "BP", "Moderate").kind is SideEffectKind.BLOOD_PRESSURE
    with pytest.raises(ValidationError) as refused:
        record(session, ts, "itchy", "awful", minutes=-3)
    assert {p.field for p in refused.value.problems} == {"kind", "severity", "onset"}
    with pytest.raises(ValidationError, match="say in words what the other side effect was"):
        record(session, ts, "other", "mild")
    assert record(session, ts, "other", "mild", detail="rash").words == "Other: rash (mild)"


def test_the_onset_is_after_the_dose_and_not_in_the_future(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = dosed_esketamine(session, clinic)
    assert ts.dosed_at is not None
    before = SideEffectInput("nausea", "mild", onset_at=ts.dosed_at - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="starts after the dose"):
        record_side_effect(session, NURSE, ts.id, before, now=ts.dosed_at + timedelta(hours=1))
    with pytest.raises(ValidationError, match="cannot be later than now"):
        record(session, ts, minutes=45, now=ts.dosed_at + timedelta(minutes=30))


def test_only_a_dosed_session_has_side_effects(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    given = SideEffectInput("nausea", "mild")
    with pytest.raises(Conflict, match="once the dose is given"):
        record_side_effect(session, NURSE, ts.id, given, now=at("2026-12-07 09:30"))
    with pytest.raises(NotFound):
        record_side_effect(session, NURSE, 999_999, given, now=at("2026-12-07 09:30"))


def test_the_front_desk_records_no_side_effects(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    ts = dosed_esketamine(session, clinic)
    with pytest.raises(PermissionDenied):
        record_side_effect(session, front_desk, ts.id, SideEffectInput("nausea", "mild"))


def test_a_correction_is_a_new_row_and_replaces_the_first(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = dosed_esketamine(session, clinic)
    first = record(session, ts, "nausea", "mild")
    second = record(session, ts, "vomiting", "moderate", corrects=first.id, action="ondansetron")
    assert session.get(SideEffect, first.id) is first and first.kind is SideEffectKind.NAUSEA
    assert [row.id for row in recording.in_force(session, clinic.patient.id)] == [second.id]
    with pytest.raises(Conflict, match=f"already corrected by SE-{second.id}"):
        record(session, ts, corrects=first.id)
    withdrawn = recording.withdraw_side_effect(
        session, NURSE, second.id, "wrong patient", now=at("2026-12-07 10:00")
    )
    assert withdrawn.withdrawn and withdrawn.corrects_id == second.id
    assert recording.in_force(session, clinic.patient.id) == []


# --- The floor's blood-pressure rule -------------------------------------------------------


def forty_minute_bp(
    session: Session, ts: TreatmentSession, systolic: int, diastolic: int = 90
) -> VitalSign:
    assert ts.dosed_at is not None
    vitals = floor.VitalsInput(systolic=systolic, diastolic=diastolic)
    return floor.record_vitals(
        session,
        NURSE,
        ts.id,
        Checkpoint.FORTY_MINUTES,
        vitals,
        now=ts.dosed_at + timedelta(minutes=40),
    )


def test_a_reading_at_the_floors_limit_after_the_dose_is_recorded_once(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = dosed_esketamine(session, clinic)
    limit, _diastolic = blood_pressure_limit(ts.modality)
    forty_minute_bp(session, ts, limit - 1)
    assert recording.in_force(session, clinic.patient.id) == []
    forty_minute_bp(session, ts, limit)
    [row] = recording.in_force(session, clinic.patient.id)
    assert row.kind is SideEffectKind.BLOOD_PRESSURE and not row.serious
    assert row.detail == f"40 minutes reading: blood pressure {limit}/90 is not below {limit}/100"
    assert recording.minutes_after_dose(row) == 40
    forty_minute_bp(session, ts, limit + 20)  # still high: the same side effect, not another
    assert len(recording.in_force(session, clinic.patient.id)) == 1


def test_the_rule_uses_the_checklists_limit_for_each_medicine(
    session: Session, clinic: SchedulingClinic
) -> None:
    """155/90 stops an esketamine dose and is a side effect after one; for IV ketamine
    (limit 160/100) it is neither."""
    high = floor.VitalsInput(systolic=155, diastolic=90)
    iv = book(session, clinic, "iv-booster", start="2026-12-07 11:00")
    floor.check_in(session, NURSE, iv.id, now=at("2026-12-07 10:55"))
    result = floor.run_checklist(
        session, NURSE, iv.id, ride_home=True, food_fasted_hours=8,
        drink_fasted_minutes=180, vitals=high, now=at("2026-12-07 10:58"),
    )  # fmt: skip
    assert result.passed
    floor.start_dosing(
        session, NURSE, iv.id, dose_mg=floor.Decimal(35), route=Route.IV, lot_number="K1",
        now=at("2026-12-07 11:00"),
    )  # fmt: skip
    floor.record_vitals(session, NURSE, iv.id, Checkpoint.OTHER, high, now=at("2026-12-07 11:20"))
    assert recording.in_force(session, clinic.patient.id) == []
    esk = dosed_esketamine(session, clinic)
    forty_minute_bp(session, esk, 155)
    assert [r.session_id for r in recording.in_force(session, clinic.patient.id)] == [esk.id]


def test_a_pre_dose_reading_is_the_checklists_not_a_side_effect(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = book(session, clinic)
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:55"))
    floor.record_vitals(
        session,
        NURSE,
        ts.id,
        Checkpoint.PRE_DOSE,
        floor.VitalsInput(systolic=170, diastolic=104),
        now=at("2026-12-07 08:58"),
    )
    assert recording.in_force(session, clinic.patient.id) == []


def test_good_readings_record_nothing(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic)
    dose_esketamine(session, ts, at("2026-12-07 09:05"))
    floor.record_vitals(
        session, NURSE, ts.id, Checkpoint.FORTY_MINUTES, GOOD_VITALS, now=at("2026-12-07 09:45")
    )
    assert recording.in_force(session, clinic.patient.id) == []


def test_the_database_refuses_to_change_or_delete_a_side_effect(database: Database) -> None:
    with database.transaction() as s:
        ts = dosed_esketamine(s, scheduling_clinic(s))
        row_id = record(s, ts, "nausea", "mild").id
    with pytest.raises(AppendOnly, match="record a correction"), database.transaction() as s:
        row = s.get(SideEffect, row_id)
        assert row is not None
        row.severity = SideEffectSeverity.SEVERE
    with pytest.raises(AppendOnly, match="append-only"), database.transaction() as s:
        s.delete(s.get(SideEffect, row_id))
    with database.reading() as s:
        kept = s.get(SideEffect, row_id)
        assert kept is not None and kept.severity is SideEffectSeverity.MILD
