"""A patient's outcomes per series: the baseline chosen, the latest score, response, remission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from scheduling.outcome_helpers import CLINICIAN, score
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.scheduling.models import Series, SessionStatus, TreatmentSession
from ketadesk.scheduling.outcomes.summary import patient_outcomes


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def _series(
    session: Session, clinic: SchedulingClinic, key: str, starts: list[str]
) -> list[TreatmentSession]:
    """A series of ``key`` with a completed session at each of ``starts``."""
    made: list[TreatmentSession] = []
    series: Series | None = None
    for number, start in enumerate(starts, 1):
        ts = existing_session(
            session,
            clinic.patient,
            clinic.protocols[key],
            clinic.iv_chairs[0],
            clinic.provider,
            at(start),
            status=SessionStatus.COMPLETED,
            series=series,
            number=number,
            dosed_at=at(start) + timedelta(minutes=10),
        )
        series = ts.series
        made.append(ts)
    return made


def test_each_series_is_measured_from_its_baseline(
    session: Session, clinic: SchedulingClinic
) -> None:
    pid = clinic.patient.id
    induction = _series(session, clinic, "iv-induction", ["2026-11-02 09:00", "2026-11-04 09:00"])
    score(session, pid, 25, "2026-09-01 10:00")  # too old to be a baseline
    score(session, pid, 20, "2026-10-28 10:00")  # the baseline: latest within 30 days
    score(session, pid, 8, "2026-11-04 11:00", session_id=induction[1].id)
    score(session, pid, 12, "2026-11-20 10:00", measure="gad7")  # after the series began
    upkeep = _series(session, clinic, "iv-booster", ["2026-12-01 09:00"])
    score(session, pid, 4, "2026-12-01 11:00", session_id=upkeep[0].id)

    found = patient_outcomes(session, CLINICIAN, pid)
    phq9, gad7 = found.measures
    assert [p.total for p in phq9.points] == [25, 20, 8, 4]
    first, second = phq9.series
    assert first.series_id == induction[0].series_id
    assert (first.baseline and first.baseline.total, first.latest and first.latest.total) == (20, 8)
    assert (first.change, first.responded, first.remitted) == (-12, True, False)
    assert first.words == "response, not in remission"
    # maintenance is measured from the induction's baseline
    assert (second.baseline and second.baseline.total, second.latest and second.latest.total) == (
        20,
        4,
    )
    assert (second.responded, second.remitted) == (True, True)
    # GAD-7 was first taken after the induction began: no baseline, nothing decided
    assert gad7.series[0].baseline is None and gad7.series[0].responded is None
    assert gad7.series[0].words == "no baseline before the first session"


def test_cancelled_sessions_do_not_start_a_series(
    session: Session, clinic: SchedulingClinic
) -> None:
    pid = clinic.patient.id
    starts = ["2026-11-02 09:00", "2026-11-20 09:00", "2026-11-23 09:00"]
    sessions = _series(session, clinic, "iv-induction", starts)
    sessions[0].status = SessionStatus.CANCELLED
    score(session, pid, 18, "2026-11-15 10:00")  # 5 days before the first held session
    score(session, pid, 9, "2026-11-23 11:00", session_id=sessions[2].id)
    (phq9,) = patient_outcomes(session, CLINICIAN, pid).measures
    (only,) = phq9.series
    assert only.starts_at == at("2026-11-20 09:10")
    assert (only.baseline and only.baseline.total, only.responded) == (18, True)


def test_the_score_in_the_chair_at_the_first_session_is_the_baseline(
    session: Session, clinic: SchedulingClinic
) -> None:
    pid = clinic.patient.id
    sessions = _series(session, clinic, "iv-induction", ["2026-11-02 09:00", "2026-11-04 09:00"])
    score(session, pid, 18, "2026-10-30 10:00")
    score(session, pid, 16, "2026-11-02 11:00", session_id=sessions[0].id)  # typed in after
    score(session, pid, 9, "2026-11-04 11:00", session_id=sessions[1].id)
    (phq9,) = patient_outcomes(session, CLINICIAN, pid).measures
    (only,) = phq9.series
    assert (only.baseline and only.baseline.total, only.latest and only.latest.total) == (16, 9)
    assert only.responded is False


def test_a_rating_without_remission_says_only_response(
    session: Session, clinic: SchedulingClinic
) -> None:
    pid = clinic.patient.id
    _series(session, clinic, "iv-induction", ["2026-11-02 09:00"])
    score(session, pid, 8, "2026-11-01 10:00", measure="pain")
    score(session, pid, 5, "2026-11-10 10:00", measure="pain")
    (pain,) = patient_outcomes(session, CLINICIAN, pid).measures
    assert pain.measure.name == "Pain rating"
    assert (pain.series[0].responded, pain.series[0].remitted) == (False, None)
    assert pain.series[0].words == "no response"
