"""A series as a whole: status from its sessions, progress, discontinuing, listing."""

from __future__ import annotations

import pytest
from builders import NOW, SchedulingClinic, at, scheduling_clinic
from scheduling.booking_helpers import BILLING, iv_induction, plan_for, steps_of
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ketadesk.scheduling.booking import book_series
from ketadesk.scheduling.models import Series, SeriesStatus, SessionStatus
from ketadesk.scheduling.series import (
    discontinue_series,
    patient_series,
    refresh_series_status,
    series_progress,
)

S = SessionStatus


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


@pytest.fixture
def series(session: Session, clinic: SchedulingClinic, front_desk: Actor) -> Series:
    return iv_induction(session, clinic, front_desk)


@pytest.fixture
def maintenance(session: Session, clinic: SchedulingClinic, front_desk: Actor) -> Series:
    starts = [at("2027-01-04 10:00"), at("2027-01-11 10:00")]
    return book_series(
        session, front_desk, plan_for(clinic, "esketamine-maintenance", starts), now=NOW
    )


def set_statuses(session: Session, series: Series, *statuses: SessionStatus) -> None:
    for ts, status in zip(series.sessions, statuses, strict=True):
        ts.status = status
    session.flush()


def test_a_booked_series_is_planned(session: Session, series: Series) -> None:
    assert refresh_series_status(session, series) is SeriesStatus.PLANNED


def test_a_series_is_active_from_the_first_check_in(session: Session, series: Series) -> None:
    set_statuses(
        session,
        series,
        S.CHECKED_IN,
        S.SCHEDULED,
        S.SCHEDULED,
        S.SCHEDULED,
        S.SCHEDULED,
        S.SCHEDULED,
    )
    assert refresh_series_status(session, series) is SeriesStatus.ACTIVE
    assert series.status is SeriesStatus.ACTIVE


def test_a_cancellation_alone_does_not_start_a_series(session: Session, series: Series) -> None:
    set_statuses(session, series, S.CANCELLED, S.NO_SHOW, *[S.CANCELLED] * 4)
    assert refresh_series_status(session, series) is SeriesStatus.PLANNED


def test_a_closed_series_completes_when_every_session_is_done_or_released(
    session: Session, series: Series
) -> None:
    set_statuses(session, series, *[S.COMPLETED] * 5, S.SCHEDULED)
    assert refresh_series_status(session, series) is SeriesStatus.ACTIVE
    set_statuses(session, series, *[S.COMPLETED] * 5, S.LATE_CANCELLED)
    assert refresh_series_status(session, series) is SeriesStatus.COMPLETED


def test_an_open_ended_series_stays_active(session: Session, maintenance: Series) -> None:
    set_statuses(session, maintenance, S.COMPLETED, S.COMPLETED)
    assert refresh_series_status(session, maintenance) is SeriesStatus.ACTIVE


def test_refresh_never_touches_a_discontinued_series(session: Session, series: Series) -> None:
    series.status = SeriesStatus.DISCONTINUED
    set_statuses(session, series, *[S.COMPLETED] * 6)
    assert refresh_series_status(session, series) is SeriesStatus.DISCONTINUED


def test_discontinue_cancels_the_sessions_ahead(
    session: Session, series: Series, front_desk: Actor
) -> None:
    first, second = series.sessions[:2]
    set_statuses(session, series, S.COMPLETED, S.CHECKED_IN, *[S.SCHEDULED] * 3, S.CONFIRMED)
    stopped = discontinue_series(
        session, front_desk, series.id, "side effects", now=at("2026-12-09 09:05")
    )
    assert stopped.status is SeriesStatus.DISCONTINUED
    assert stopped.discontinued_reason == "side effects"
    statuses = [s.status for s in series.sessions]
    assert statuses == [S.COMPLETED, S.CHECKED_IN, *[S.CANCELLED] * 4]
    later = series.sessions[5]
    assert later.ended_reason == "series discontinued: side effects"
    assert later.ended_at == at("2026-12-09 09:05")
    assert steps_of(session, later)[-1].note == "series discontinued: side effects"
    assert (first.status, second.status) == (S.COMPLETED, S.CHECKED_IN)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "series", AuditEntry.action == "update")
    ).one()
    assert entry.after == {
        "status": "discontinued",
        "discontinued_reason": "side effects",
        "version": 2,
    }
    # The floor finishing its session afterwards does not revive the series.
    set_statuses(session, series, *[S.COMPLETED] * 2, *[S.CANCELLED] * 4)
    assert refresh_series_status(session, series) is SeriesStatus.DISCONTINUED


def test_discontinue_needs_a_reason_and_happens_once(
    session: Session, series: Series, front_desk: Actor
) -> None:
    with pytest.raises(ValidationError) as refused:
        discontinue_series(session, front_desk, series.id, " ", now=NOW)
    assert refused.value.for_field("reason") == ["say why the series is stopped"]
    assert series.status is SeriesStatus.PLANNED
    discontinue_series(session, front_desk, series.id, "moved away", now=at("2026-12-01 09:00"))
    with pytest.raises(Conflict, match="already discontinued: moved away"):
        discontinue_series(session, front_desk, series.id, "again", now=NOW)


def test_billing_may_not_discontinue(session: Session, series: Series) -> None:
    with pytest.raises(PermissionDenied):
        discontinue_series(session, BILLING, series.id, "unpaid", now=NOW)
    assert series.status is SeriesStatus.PLANNED


def test_progress_counts_what_is_done(session: Session, series: Series) -> None:
    set_statuses(session, series, S.COMPLETED, S.NO_SHOW, S.COMPLETED, *[S.SCHEDULED] * 3)
    progress = series_progress(series)
    assert (progress.done, progress.planned, progress.total) == (2, 5, 6)
    assert progress.text == "2 of 6"
    assert progress.next_session is series.sessions[3]


def test_progress_of_an_open_ended_series(session: Session, maintenance: Series) -> None:
    set_statuses(session, maintenance, S.COMPLETED, S.SCHEDULED)
    progress = series_progress(maintenance)
    assert progress.total is None
    assert progress.text == "1 done, 1 booked"
    set_statuses(session, maintenance, S.COMPLETED, S.COMPLETED)
    assert series_progress(maintenance).next_session is None


def test_patient_series_newest_first(
    session: Session,
    clinic: SchedulingClinic,
    series: Series,
    maintenance: Series,
    front_desk: Actor,
) -> None:
    found = patient_series(session, BILLING, clinic.patient.id)
    assert [s.id for s in found] == [maintenance.id, series.id]
    assert [len(s.sessions) for s in found] == [2, 6]
    with pytest.raises(NotFound):
        patient_series(session, front_desk, 999999)
