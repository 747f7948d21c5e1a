"""The letter of medical necessity, read back from the PDF: what the payer must find in it."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from builders import SchedulingClinic, add_payer, insure, scheduling_clinic
from pypdf import PdfReader
from scheduling.booking_helpers import iv_induction
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.history.entries import TreatmentDraft, add_treatment
from ketadesk.clinic.history.models import Response, TreatmentKind
from ketadesk.documents.necessity import render_necessity
from ketadesk.documents.necessity_view import baseline_scores, necessity_view
from ketadesk.scheduling.outcomes.scores import Answers, record_score

DESK = Actor(username="desk", role=Role.FRONT_DESK)
TODAY = date(2026, 12, 1)


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split())
                    for page in PdfReader(io.BytesIO(pdf)).pages)


def scored(session: Session, patient_id: int, measure: str, total: int, at: datetime) -> None:
    """A score recorded through the outcomes' own service, as taken at ``at``."""
    clinician = Actor(username="dr-osei", role=Role.CLINICAL)
    record_score(session, clinician, patient_id, measure, Answers(total=total), taken_at=at,
                 now=at + timedelta(hours=1))


def test_the_letter_names_diagnosis_trials_scores_and_plan(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    patient = clinic.patient
    payer = add_payer(session, "Aetna")
    insure(session, patient.id, payer_id=payer.id, member_id="W123456789",
           prior_auth_number="PA-777")
    add_treatment(session, admin, patient.id, TreatmentDraft(
        TreatmentKind.PSYCHOTHERAPY, "CBT", None, "", 16, Response.PARTIAL, "completed", None))
    series = iv_induction(session, clinic, DESK)
    first, second = series.sessions[0], series.sessions[1]
    scored(session, patient.id, "phq9", 21, first.starts_at)
    scored(session, patient.id, "gad7", 15, second.starts_at)
    view = necessity_view(session, DESK, patient.id, TODAY)
    words = text_of(render_necessity(view, deterministic=True))
    for expected in (
        "Letter of medical necessity", "Aetna", "W123456789", "PA-777", "Zoë Łukasiewicz",
        "F33.2", "Major depressive disorder, recurrent severe without psychotic features",
        "sertraline", "150 mg", "escitalopram", "No response",
        "Treatment-resistant depression shown: 2 adequate antidepressant trials",
        "CBT", "Psychotherapy", "PHQ-9 21 of 27 on December 7, 2026", "GAD-7 15 of 21",
        "IV ketamine induction", "6 sessions", "NPI 1234567893", "Ama Osei, MD",
    ):
        assert expected.replace("GAD-7 15 of 21", "GAD-7 15 of 21") in words, expected


def test_the_letter_says_what_is_missing_instead_of_inventing_it(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    from builders import patient_raw

    from ketadesk.clinic.patients import create_patient

    bare = create_patient(session, admin, patient_raw(home_location="NYC"))
    view = necessity_view(session, DESK, bare.id, TODAY)
    words = text_of(render_necessity(view))
    assert "No antidepressant trial in this episode is recorded." in words
    assert "Treatment-resistant depression not shown: 0 of the 2" in words
    assert "No PHQ-9 or GAD-7 score is recorded yet." in words
    assert "No series is planned yet." in words
    assert "No insurance policy on file" in words


def test_the_same_view_gives_the_same_bytes(session: Session, clinic: SchedulingClinic) -> None:
    view = necessity_view(session, DESK, clinic.patient.id, TODAY)
    assert render_necessity(view, deterministic=True) == render_necessity(view, deterministic=True)


def test_the_baseline_is_the_earliest_score_of_each_kind(
    session: Session, clinic: SchedulingClinic
) -> None:
    series = iv_induction(session, clinic, DESK)
    for ts, score in zip(series.sessions[:3], (20, 12, 6), strict=True):
        scored(session, clinic.patient.id, "phq9", score, ts.starts_at)
    [baseline] = baseline_scores(session, clinic.patient.id)
    assert (baseline.kind, baseline.score) == ("PHQ-9", 20)
