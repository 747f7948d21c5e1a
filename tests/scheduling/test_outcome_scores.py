"""Recording scores: the checks, the session's own score, and the PHQ-9 item-9 alert."""

from __future__ import annotations

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from scheduling.floor_helpers import NURSE, book, complete_esketamine
from scheduling.outcome_helpers import CLINICIAN, NOW, PHQ9_CALM, PHQ9_ITEM9, score
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.errors import Conflict, PermissionDenied, ValidationError
from ketadesk.scheduling import floor
from ketadesk.scheduling.models import ScoreKind
from ketadesk.scheduling.outcomes import alerts, measures, scores
from ketadesk.scheduling.outcomes.models import OutcomeScore, SafetyAlert

DESK = Actor(username="desk-lee", role=Role.FRONT_DESK)
MANAGER = Actor(username="boss", role=Role.MANAGER)


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_items_make_the_total(session: Session, clinic: SchedulingClinic) -> None:
    made = score(session, clinic.patient.id, None, "2026-12-01 10:00", items=PHQ9_CALM)
    assert (made.total, made.answers, made.session_id) == (5, PHQ9_CALM, None)
    again = score(session, clinic.patient.id, 5, "2026-12-02 10:00", items=PHQ9_CALM)
    assert again.total == 5
    assert session.scalars(
        select(AuditEntry.entity_id).where(AuditEntry.entity == "outcome_score")
    ).all() == [str(made.id), str(again.id)]


@pytest.mark.parametrize(
    ("measure", "total", "items", "field", "words"),
    [
        ("phq9", 14, PHQ9_CALM, "score", "add up to 5, not the total 14"),
        ("phq9", None, (1, 2, 3), "items", "PHQ-9 has 9 items; 3 answers"),
        ("phq9", None, (4, 0, 0, 0, 0, 0, 0, 0, 0), "items", "answered 0–3"),
        ("phq9", 28, None, "score", "whole number from 0–27"),
        ("gad7", -1, None, "score", "whole number from 0–21"),
        ("pcl5", 81, None, "score", "0–80"),
        ("pain", 4, (4,), "items", "single rating"),
        ("phq9", None, None, "score", "total or its item answers"),
        ("hamd", 10, None, "measure", "there is no measure 'hamd'"),
    ],
)
def test_bad_answers_change_nothing(
    session: Session,
    clinic: SchedulingClinic,
    measure: str,
    total: int | None,
    items: tuple[int, ...] | None,
    field: str,
    words: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        score(session, clinic.patient.id, total, "2026-12-01 10:00", measure=measure, items=items)
    assert words in " ".join(caught.value.for_field(field))
    assert _count(session, OutcomeScore) == 0


def test_a_score_cannot_be_taken_in_the_future(session: Session, clinic: SchedulingClinic) -> None:
    with pytest.raises(ValidationError, match="in the future"):
        scores.record_score(
            session,
            CLINICIAN,
            clinic.patient.id,
            "phq9",
            scores.Answers(total=3),
            taken_at=at("2026-12-09 10:00"),
            now=NOW,
        )


def test_only_clinicians_record_scores(session: Session, clinic: SchedulingClinic) -> None:
    with pytest.raises(PermissionDenied):
        scores.record_score(session, DESK, clinic.patient.id, "gad7", scores.Answers(total=3))


def test_a_score_at_a_session_is_written_on_the_session_too(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = complete_esketamine(session, clinic, "2026-12-07 09:00")
    floor.record_score(session, NURSE, ts.id, ScoreKind.PHQ9, None, PHQ9_ITEM9)
    kept = session.scalars(select(OutcomeScore).where(OutcomeScore.session_id == ts.id)).one()
    assert (kept.measure, kept.total, ts.score_kind, ts.score) == ("phq9", 14, ScoreKind.PHQ9, 14)
    floor.record_score(session, NURSE, ts.id, ScoreKind.PHQ9, 12)  # a correction, not a second
    assert [s.total for s in session.scalars(select(OutcomeScore))] == [12]
    assert ts.score == 12


def test_a_session_not_yet_held_takes_no_score(session: Session, clinic: SchedulingClinic) -> None:
    ts = book(session, clinic, start="2026-12-08 09:00")
    with pytest.raises(ValidationError, match="once the patient is checked in"):
        score(session, clinic.patient.id, 9, "2026-12-07 10:00", session_id=ts.id)


def test_item_nine_above_zero_raises_an_alert(session: Session, clinic: SchedulingClinic) -> None:
    score(session, clinic.patient.id, None, "2026-12-01 10:00", items=PHQ9_CALM)
    assert _count(session, SafetyAlert) == 0
    made = score(session, clinic.patient.id, None, "2026-12-07 10:00", items=PHQ9_ITEM9)
    (alert,) = alerts.open_alerts(session, CLINICIAN)
    assert (alert.patient_id, alert.item_value, alert.phq9_total) == (clinic.patient.id, 1, 14)
    assert alert.words == "PHQ-9 item 9 (thoughts of self-harm) answered 1 (PHQ-9 total 14)"
    row = session.get(SafetyAlert, alert.alert_id)
    assert row is not None and row.score_id == made.id
    assert session.scalar(select(func.count()).where(AuditEntry.entity == "safety_alert")) == 1


def test_other_measures_raise_no_alert(session: Session, clinic: SchedulingClinic) -> None:
    score(session, clinic.patient.id, None, "2026-12-07 10:00", measure="gad7", items=(1,) * 7)
    assert _count(session, SafetyAlert) == 0


def test_an_alert_is_acknowledged_with_a_note_and_kept(
    session: Session, clinic: SchedulingClinic
) -> None:
    score(session, clinic.patient.id, None, "2026-12-07 10:00", items=PHQ9_ITEM9)
    (alert,) = alerts.open_alerts(session, CLINICIAN)
    with pytest.raises(PermissionDenied):
        alerts.acknowledge(session, MANAGER, alert.alert_id, "seen")
    with pytest.raises(ValidationError, match="say what was done"):
        alerts.acknowledge(session, CLINICIAN, alert.alert_id, "   ")
    assert alerts.open_alerts(session, CLINICIAN) != []
    done = alerts.acknowledge(
        session, CLINICIAN, alert.alert_id, " Safety plan reviewed; no intent. ", now=NOW
    )
    assert (done.acknowledged_by, done.acknowledged_at, done.note) == (
        "dr-ames",
        NOW,
        "Safety plan reviewed; no intent.",
    )
    assert alerts.open_alerts(session, CLINICIAN) == []
    (kept,) = alerts.patient_alerts(session, CLINICIAN, clinic.patient.id)
    assert not kept.is_open and kept.note == "Safety plan reviewed; no intent."
    with pytest.raises(Conflict, match="already acknowledged by dr-ames"):
        alerts.acknowledge(session, CLINICIAN, alert.alert_id, "again")


def test_a_clinic_defines_its_own_measure(session: Session, clinic: SchedulingClinic) -> None:
    with pytest.raises(PermissionDenied):
        measures.define_measure(session, CLINICIAN, "wsas", "Work and social adjustment", 40)
    made = measures.define_measure(
        session, MANAGER, "WSAS", "Work and  social adjustment", 40, remission_threshold=10
    )
    assert (made.key, made.name, made.remission_threshold) == (
        "wsas",
        "Work and social adjustment",
        10,
    )
    assert [m.key for m in measures.all_measures(session)][-1] == "wsas"
    score(session, clinic.patient.id, 22, "2026-12-01 10:00", measure="wsas")
    with pytest.raises(ValidationError) as caught:
        measures.define_measure(session, MANAGER, "phq9", "", 0, remission_threshold=3)
    assert {p.field for p in caught.value.problems} == {"key", "name", "maximum"}


def test_a_score_dated_by_day_is_taken_at_noon_or_now(
    session: Session, clinic: SchedulingClinic
) -> None:
    book(session, clinic, start="2026-12-07 09:00")  # treated in New York
    pid, morning = clinic.patient.id, at("2026-12-07 09:30")
    assert scores.taken_on(session, pid, morning.date(), morning) == morning
    assert scores.taken_on(session, pid, at("2026-12-01 08:00").date(), morning) == at(
        "2026-12-01 12:00"
    )
    assert scores.taken_on(session, pid, at("2026-12-09 08:00").date(), morning) > morning
