"""The treatment history: reading typed words, recording and removing, and the TRD rule.

Each part of "adequate failed antidepressant trial" has a test that fails without it: a dose
under the drug's minimum, fewer than six weeks, an earlier episode, augmentation, and a
response that is not inadequate.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from builders import patient_raw
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.history import words
from ketadesk.clinic.history.entries import (
    TreatmentDraft,
    add_treatment,
    clean_treatment,
    correct_treatment,
    live_entries,
    remove_treatment,
)
from ketadesk.clinic.history.models import PriorTreatment, Response, TreatmentKind
from ketadesk.clinic.history.record import patient_history
from ketadesk.clinic.history.trd import WARNING_CODE, trd_verdict, trd_warnings
from ketadesk.clinic.models import Modality
from ketadesk.clinic.patients import create_patient
from ketadesk.errors import InvalidValue, PermissionDenied, ValidationError

NURSE = Actor(username="nurse", role=Role.CLINICAL)
TODAY = date(2026, 12, 7)


def trial(name: str = "sertraline", dose: str = "150", weeks: int = 8, *,
          kind: TreatmentKind = TreatmentKind.ANTIDEPRESSANT, response: Response = Response.NONE,
          current: bool = True) -> TreatmentDraft:
    return TreatmentDraft(kind, name, Decimal(dose), "mg", weeks, response, "no response",
                          date(2026, 1, 1), current)


@pytest.fixture
def patient_id(session: Session, admin: Actor) -> int:
    return create_patient(session, admin, patient_raw()).id


def test_two_adequate_failed_trials_meet_the_rule(session: Session, patient_id: int) -> None:
    add_treatment(session, NURSE, patient_id, trial("sertraline", "150", 8))
    assert not trd_verdict(session, patient_id).met
    add_treatment(session, NURSE, patient_id, trial("Lexapro", "20", 6, response=Response.PARTIAL))
    verdict = trd_verdict(session, patient_id)
    assert verdict.met and len(verdict.counted) == 2
    assert "escitalopram 20 mg (minimum 10 mg) for 6 weeks" in verdict.counted[1].reason


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        (trial("sertraline", "25"), "dose 25 mg is below the minimum adequate 50 mg"),
        (trial("sertraline", "150", 5), "5 weeks is under the 6 weeks needed"),
        (trial(current=False), "from an earlier episode"),
        (trial("aripiprazole", "5", kind=TreatmentKind.AUGMENTATION),
         "augmentation is not an oral antidepressant trial"),
        (trial("lithium", "900", kind=TreatmentKind.AUGMENTATION),
         "augmentation is not an oral antidepressant trial"),
        (trial(response=Response.REMISSION), "it brought remission"),
        (trial(response=Response.NOT_TOLERATED), "stopped for intolerance"),
        (trial("wonderzine"), "wonderzine has no minimum adequate dose in the table"),
    ],
)
def test_a_trial_that_is_not_adequate_does_not_count(
    session: Session, patient_id: int, draft: TreatmentDraft, reason: str
) -> None:
    add_treatment(session, NURSE, patient_id, trial("escitalopram", "20"))
    add_treatment(session, NURSE, patient_id, draft)
    verdict = trd_verdict(session, patient_id)
    assert not verdict.met
    assert [j.treatment for j in verdict.counted] == ["escitalopram"]
    assert reason in verdict.not_counted[0].reason


def test_the_minimum_dose_and_six_weeks_themselves_count(
    session: Session, patient_id: int
) -> None:
    add_treatment(session, NURSE, patient_id, trial("sertraline", "50", 6))
    add_treatment(session, NURSE, patient_id, trial("venlafaxine XR", "150", 6))
    assert trd_verdict(session, patient_id).met


def test_esketamine_booking_warns_until_the_record_shows_the_rule(
    session: Session, patient_id: int
) -> None:
    assert trd_warnings(session, patient_id, Modality.IV) == []
    [(code, text)] = trd_warnings(session, patient_id, Modality.ESKETAMINE)
    assert code == WARNING_CODE and "0 of the 2 adequate antidepressant trials" in text
    add_treatment(session, NURSE, patient_id, trial("sertraline"))
    add_treatment(session, NURSE, patient_id, trial("bupropion", "300"))
    assert trd_warnings(session, patient_id, Modality.ESKETAMINE) == []


def test_a_removed_entry_stops_counting_and_stays_with_its_reason(
    session: Session, patient_id: int
) -> None:
    first = add_treatment(session, NURSE, patient_id, trial("sertraline"))
    add_treatment(session, NURSE, patient_id, trial("bupropion", "300"))
    remove_treatment(session, NURSE, patient_id, first.id, "entered for the wrong patient")
    assert not trd_verdict(session, patient_id).met
    kept = session.get(PriorTreatment, first.id)
    assert kept is not None and kept.removed_reason == "entered for the wrong patient"
    assert kept.removed_by == "nurse"
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "prior_treatment")
    ).all()
    assert sorted(actions) == ["add", "add", "remove"]
    with pytest.raises(ValidationError, match="already removed"):
        remove_treatment(session, NURSE, patient_id, first.id, "again")
    with pytest.raises(ValidationError, match="say why"):
        remove_treatment(session, NURSE, patient_id, first.id + 1, "  ")


def test_a_correction_supersedes_the_old_entry(session: Session, patient_id: int) -> None:
    old = add_treatment(session, NURSE, patient_id, trial("sertraline", "25"))
    new = correct_treatment(session, NURSE, patient_id, old.id, trial("sertraline", "150"),
                            "dose misread")
    assert new.supersedes_id == old.id
    assert old.removed_reason == "corrected: dose misread"
    assert [e.id for e in live_entries(session, patient_id)] == [new.id]


def test_only_clinicians_record_history(session: Session, patient_id: int) -> None:
    desk = Actor(username="desk", role=Role.FRONT_DESK)
    with pytest.raises(PermissionDenied):
        add_treatment(session, desk, patient_id, trial())
    assert patient_history(session, desk, patient_id).lines == ()


def test_the_history_read_is_audited_with_the_patient(session: Session, patient_id: int) -> None:
    add_treatment(session, NURSE, patient_id, trial())
    history = patient_history(session, NURSE, patient_id)
    assert [line.dose for line in history.lines] == ["150 mg"]
    row = session.scalars(select(AuditEntry).where(AuditEntry.entity == "treatment_history")).one()
    assert row.after == {"patient_id": patient_id}


def test_clean_treatment_reads_what_a_hurried_person_types() -> None:
    draft = clean_treatment({"kind": "anti", "treatment": " Zoloft ", "dose": "150 MG",
                             "weeks": "8 weeks", "response": "No response",
                             "stopped": "no  response", "started": "03/2026",
                             "earlier_episode": True}, TODAY)
    assert draft == TreatmentDraft(TreatmentKind.ANTIDEPRESSANT, "Zoloft", Decimal("150"), "mg",
                                   8, Response.NONE, "no response", date(2026, 3, 1), False)


def test_clean_treatment_names_every_bad_field() -> None:
    with pytest.raises(ValidationError) as refused:
        clean_treatment({"kind": "pill", "treatment": "", "dose": "150mg", "weeks": "abc",
                         "started": "2027-01"}, TODAY)
    fields = [p.field for p in refused.value.problems]
    assert fields == ["kind", "treatment", "dose", "weeks", "started"]


@pytest.mark.parametrize("text", ["150mg", "150", "mg 150", "-5 mg", "1.234 mg", "150 mgg"])
def test_a_dose_is_a_number_a_space_and_a_unit(text: str) -> None:
    with pytest.raises(InvalidValue):
        words.parse_dose(text)


@pytest.mark.parametrize(("text", "month"), [
    ("2026-03", date(2026, 3, 1)), ("2026-03-17", date(2026, 3, 1)),
    ("3/2026", date(2026, 3, 1)), ("Mar 2026", date(2026, 3, 1)), ("", None),
])
def test_a_start_is_a_month(text: str, month: date | None) -> None:
    assert words.parse_month(text, TODAY) == month


def test_an_ambiguous_kind_is_refused() -> None:
    assert words.parse_kind("psycho") is TreatmentKind.PSYCHOTHERAPY
    with pytest.raises(InvalidValue, match="choose antidepressant"):
        words.parse_kind("a")
