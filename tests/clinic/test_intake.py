"""The intake assessment: recording, superseding, overriding, rules, validity."""

from __future__ import annotations

from datetime import date

import pytest
from builders import SchedulingClinic, scheduling_clinic
from clinic.intake_helpers import CLINICIAN, intake_input, record
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.intake.assessments import (
    current_intake,
    intake_state,
    intake_view,
    override_finding,
    record_intake,
)
from ketadesk.clinic.intake.conditions import condition_keys, interactions_of, rule_defaults
from ketadesk.clinic.intake.models import FindingRule, IntakeAssessment
from ketadesk.clinic.intake.rules import (
    effective_rules,
    screening_rules,
    set_rule,
    set_valid_months,
    valid_months,
)
from ketadesk.clinic.intake.state import IntakeStatus, add_months, intake_state_of
from ketadesk.errors import Conflict, PermissionDenied, ValidationError

DAY = date(2026, 12, 7)
FRONT = Actor(username="desk", role=Role.FRONT_DESK)


@pytest.fixture
def clinic(session: Session, admin: Actor) -> SchedulingClinic:
    return scheduling_clinic(session, admin)


def test_every_condition_the_issue_lists_is_asked_with_a_source() -> None:
    keys = set(condition_keys())
    wanted = {
        "psychosis_mania",
        "uncontrolled_hypertension",
        "recent_heart_attack",
        "arrhythmia",
        "heart_failure",
        "aneurysmal_vascular_disease",
        "brain_bleed",
        "liver_disease",
        "kidney_disease",
        "bladder_problems",
        "raised_intracranial_pressure",
        "raised_intraocular_pressure",
        "seizures",
        "pregnancy",
        "breastfeeding",
        "substance_use",
    }
    assert keys == wanted
    assert all(d.source.strip() for d in rule_defaults().values())
    interactions = {k for k, d in rule_defaults().items() if d.kind == "interaction"}
    assert interactions == {"benzodiazepine", "lamotrigine", "stimulant", "maoi"}
    assert all(rule_defaults()[k].rule is FindingRule.RELATIVE for k in interactions)


def test_medication_names_find_their_class_as_whole_words() -> None:
    assert [c.key for c in interactions_of("Lorazepam 1 mg")] == ["benzodiazepine"]
    assert [c.key for c in interactions_of("ADDERALL XR")] == ["stimulant"]
    assert [c.key for c in interactions_of("Lamictal")] == ["lamotrigine"]
    assert interactions_of("Sertraline") == ()
    assert interactions_of("Xanaxish") == ()


def test_a_recorded_intake_keeps_every_answer_and_is_audited(
    session: Session, clinic: SchedulingClinic
) -> None:
    made = record(
        session,
        clinic.patient,
        clinic.provider,
        DAY,
        {"liver_disease": "raised ALT"},
        [("Lorazepam", "1 mg")],
    )
    answers = {a.condition: (a.present, a.details) for a in made.answers}
    assert set(answers) == set(condition_keys())
    assert answers["liver_disease"] == (True, "raised ALT")
    assert answers["pregnancy"] == (False, "")
    assert str(made.weight_kg) == "80.5"
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "intake_assessment")
    ).all()
    assert len(audit) == 1 and audit[0].after is not None
    assert audit[0].after["findings"] == ["liver_disease"]


def test_a_new_intake_supersedes_and_keeps_the_old_one(
    session: Session, clinic: SchedulingClinic
) -> None:
    first = record(session, clinic.patient, clinic.provider, DAY, {"seizures": ""})
    second = record(session, clinic.patient, clinic.provider, date(2026, 12, 9))
    assert second.supersedes_id == first.id
    assert current_intake(session, clinic.patient.id) is second
    count = session.scalars(
        select(IntakeAssessment).where(IntakeAssessment.patient_id == clinic.patient.id)
    ).all()
    assert len(count) == 2
    view = intake_view(session, CLINICIAN, clinic.patient.id, date(2026, 12, 9))
    assert [row[0] for row in view.history] == [second.id, first.id]
    assert view.current is not None and view.current.findings == ()


def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
    session: Session, clinic: SchedulingClinic
) -> None:
    data = intake_input(
        clinic.provider,
        date(2027, 1, 1),
        {"gout": ""},
        [("", "5 mg")],
        systolic="12o",
        diastolic=90,
        heart_rate=400,
        weight="heavy",
    )
    with pytest.raises(ValidationError) as caught:
        record_intake(session, CLINICIAN, clinic.patient.id, data, today=DAY)
    fields = {p.field for p in caught.value.problems}
    assert {"assessed_on", "findings", "medications", "systolic", "heart_rate", "weight"} <= fields
    assert current_intake(session, clinic.patient.id) is None


def test_an_intake_dated_before_the_current_one_is_refused(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, DAY)
    with pytest.raises(ValidationError, match="before the current intake"):
        record(session, clinic.patient, clinic.provider, date(2026, 11, 1), today=DAY)


def test_the_desk_may_not_record_an_intake(session: Session, clinic: SchedulingClinic) -> None:
    data = intake_input(clinic.provider, DAY)
    with pytest.raises(PermissionDenied):
        record_intake(session, FRONT, clinic.patient.id, data, today=DAY)


def test_an_override_needs_an_absolute_finding_and_a_reason(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, DAY, {"pregnancy": "", "seizures": ""})
    pid, prov = clinic.patient.id, clinic.provider.id
    with pytest.raises(ValidationError, match="reason"):
        override_finding(session, CLINICIAN, pid, "pregnancy", prov, "  ")
    with pytest.raises(Conflict, match="relative"):
        override_finding(session, CLINICIAN, pid, "seizures", prov, "controlled")
    with pytest.raises(Conflict, match="no finding"):
        override_finding(session, CLINICIAN, pid, "liver_disease", prov, "fine")
    row = override_finding(session, CLINICIAN, pid, "pregnancy", prov, "negative test today")
    assert (row.recorded_by, row.provider_id) == ("dr-osei", prov)
    with pytest.raises(Conflict, match="already overridden"):
        override_finding(session, CLINICIAN, pid, "pregnancy", prov, "again")
    view = intake_view(session, CLINICIAN, pid, DAY)
    assert view.current is not None
    pregnancy = next(f for f in view.current.findings if f.key == "pregnancy")
    assert pregnancy.override is not None and not pregnancy.blocks


def test_a_new_intake_asks_for_the_override_again(
    session: Session, clinic: SchedulingClinic
) -> None:
    record(session, clinic.patient, clinic.provider, DAY, {"pregnancy": ""})
    override_finding(session, CLINICIAN, clinic.patient.id, "pregnancy", clinic.provider.id, "ok")
    record(session, clinic.patient, clinic.provider, date(2026, 12, 8), {"pregnancy": ""})
    view = intake_view(session, CLINICIAN, clinic.patient.id, date(2026, 12, 8))
    assert view.current is not None and view.current.findings[0].blocks


def test_rules_change_and_are_audited(session: Session, clinic: SchedulingClinic) -> None:
    manager = Actor(username="mgr", role=Role.MANAGER)
    assert effective_rules(session)["liver_disease"] is FindingRule.RELATIVE
    row = set_rule(session, manager, "Liver disease", "absolute")
    assert row.rule is FindingRule.ABSOLUTE and row.changed
    assert effective_rules(session)["liver_disease"] is FindingRule.ABSOLUTE
    with pytest.raises(ValidationError, match="not a rule"):
        set_rule(session, manager, "liver_disease", "maybe")
    with pytest.raises(ValidationError, match="not a screening rule"):
        set_rule(session, manager, "gout", "ignore")
    with pytest.raises(PermissionDenied):
        set_rule(session, CLINICIAN, "liver_disease", "ignore")
    assert [r.key for r in screening_rules(session)][-2:] == ["intake_missing", "intake_expired"]
    assert valid_months(session) == 12
    assert set_valid_months(session, manager, "6") == 6 and valid_months(session) == 6
    with pytest.raises(ValidationError):
        set_valid_months(session, manager, "0")


def test_an_ignored_finding_is_not_a_finding(session: Session, clinic: SchedulingClinic) -> None:
    record(session, clinic.patient, clinic.provider, DAY, {"seizures": ""})
    set_rule(session, Actor(username="mgr", role=Role.MANAGER), "seizures", "ignore")
    view = intake_view(session, CLINICIAN, clinic.patient.id, DAY)
    assert view.current is not None and view.current.findings == ()


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2027, 11, 6), IntakeStatus.VALID),
        (date(2027, 11, 7), IntakeStatus.DUE),
        (date(2027, 12, 6), IntakeStatus.DUE),
        (date(2027, 12, 7), IntakeStatus.EXPIRED),
    ],
)
def test_an_intake_expires_on_the_same_day_a_year_later(today: date, status: IntakeStatus) -> None:
    state = intake_state_of(DAY, 12, today)
    assert state.status is status
    assert state.expires_on == date(2027, 12, 7)


def test_state_texts_and_month_ends() -> None:
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert intake_state_of(DAY, 12, date(2027, 1, 1)).text == "Intake valid until 06 Dec 2027"
    assert intake_state_of(DAY, 12, date(2027, 12, 6)).text == "Intake due in 1 day"
    assert intake_state_of(DAY, 12, date(2027, 12, 7)).text == "Intake expired on 07 Dec 2027"
    assert intake_state_of(None, 12, DAY).text == "No intake on record"


def test_intake_state_follows_the_clinic_period(session: Session, clinic: SchedulingClinic) -> None:
    record(session, clinic.patient, clinic.provider, DAY)
    assert intake_state(session, clinic.patient, date(2027, 7, 7)).status is IntakeStatus.VALID
    set_valid_months(session, Actor(username="mgr", role=Role.MANAGER), 6)
    assert intake_state(session, clinic.patient, date(2027, 6, 7)).status is IntakeStatus.EXPIRED
