"""The desk's shared actions: each books or changes sessions and keeps the series' Good Faith
Estimate true in the same transaction, on SQLite and PostgreSQL.

The patient of :func:`billing_helpers.billing_clinic` has no insurance, so every series of
theirs needs an estimate; the clock is :data:`builders.NOW` (Fri 20 Nov 2026) unless a test
states its own.
"""

from __future__ import annotations

from datetime import date

import pytest
from billing.billing_helpers import BillingClinic, billing_clinic
from builders import NOW, add_payer, at, money
from scheduling.booking_helpers import IV_DAYS, another_patient, plan_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import actions, estimates
from ketadesk.billing.models import Estimate, EstimateStatus
from ketadesk.clinic.models import InsurancePolicy, PolicyRank
from ketadesk.errors import NotFound, SlotTaken, ValidationError
from ketadesk.scheduling.models import SessionStatus, TreatmentSession

DESK = Actor(username="test-front", role=Role.FRONT_DESK)
IV_TOTAL = money("2700.00")  # 6 × (96365 $300 + J3490 $150)
SESSION_PRICE = money("450.00")


def booked_induction(session: Session) -> tuple[BillingClinic, actions.Booked]:
    clinic = billing_clinic(session)
    plan = plan_for(clinic, "iv-induction", [at(f"{day} 09:00") for day in IV_DAYS])
    return clinic, actions.book_series(session, DESK, plan, now=NOW)


def estimates_of(session: Session, series_id: int) -> list[Estimate]:
    return list(
        session.scalars(
            select(Estimate).where(Estimate.series_id == series_id).order_by(Estimate.id)
        )
    )


def test_booking_a_series_drafts_its_estimate(session: Session) -> None:
    _clinic, booked = booked_induction(session)

    assert [s.number for s in booked.sessions] == [1, 2, 3, 4, 5, 6]
    assert booked.estimate is not None
    assert booked.estimate.replaces is None
    assert booked.estimate.total == IV_TOTAL
    # Drafted Fri 20 Nov for Mon 7 Dec (10+ business days away): give it within 3.
    assert booked.estimate.give_by == date(2026, 11, 25)
    assert booked.estimate.sentence == (
        f"Good Faith Estimate {booked.estimate.number} drafted ($2,700.00); "
        "give it to the patient by Wed 25 Nov 2026."
    )
    [stored] = estimates_of(session, booked.series.id)
    assert stored.number == booked.estimate.number and stored.status is EstimateStatus.DRAFT


def test_booking_one_session_drafts_its_estimate(session: Session) -> None:
    clinic = billing_clinic(session)
    booked = actions.book_session(
        session,
        DESK,
        clinic.patient,
        clinic.protocols["iv-booster"],
        clinic.iv_chairs[0],
        at("2026-12-08 10:00"),
        now=NOW,
    )
    assert len(booked.sessions) == 1
    assert booked.estimate is not None
    assert booked.estimate.total > 0
    assert [e.number for e in estimates_of(session, booked.series.id)] == [booked.estimate.number]


def test_an_insured_patient_gets_no_estimate(session: Session) -> None:
    clinic = billing_clinic(session)
    payer = add_payer(session)
    session.add(
        InsurancePolicy(
            patient_id=clinic.patient.id,
            payer_id=payer.id,
            rank=PolicyRank.PRIMARY,
            member_id="M123",
            effective_from=date(2026, 1, 1),
        )
    )
    session.flush()
    plan = plan_for(clinic, "iv-induction", [at(f"{day} 09:00") for day in IV_DAYS])
    booked = actions.book_series(session, DESK, plan, now=NOW)
    assert booked.estimate is None
    assert estimates_of(session, booked.series.id) == []


def test_moving_the_last_session_to_another_day_redrafts(session: Session) -> None:
    _clinic, booked = booked_induction(session)
    first = booked.estimate
    assert first is not None
    last = booked.sessions[-1]

    moved = actions.move_session(session, DESK, last.id, at("2026-12-21 09:00"), now=NOW)

    assert moved.sessions == (last,)
    assert moved.estimate is not None
    assert moved.estimate.replaces == first.number
    assert moved.estimate.reason == "Dates changed (now 2026-12-07 to 2026-12-21)"
    old, new = estimates_of(session, booked.series.id)
    assert old.status is EstimateStatus.SUPERSEDED
    assert (new.first_service_on, new.last_service_on) == (date(2026, 12, 7), date(2026, 12, 21))


def test_moving_a_session_within_its_day_keeps_the_estimate(session: Session) -> None:
    _clinic, booked = booked_induction(session)
    moved = actions.move_session(
        session, DESK, booked.sessions[2].id, at("2026-12-11 13:00"), now=NOW
    )
    assert moved.estimate is None
    assert len(estimates_of(session, booked.series.id)) == 1


def test_shifting_the_rest_redrafts_once(session: Session) -> None:
    _clinic, booked = booked_induction(session)
    fifth = booked.sessions[4]

    moved = actions.shift_rest_by(session, DESK, fifth.id, 5, now=NOW)

    assert [(s.number, s.starts_at) for s in moved.sessions] == [
        (5, at("2026-12-21 09:00")),
        (6, at("2026-12-23 09:00")),
    ]
    assert moved.estimate is not None
    assert moved.estimate.reason == "Dates changed (now 2026-12-07 to 2026-12-23)"
    assert len(estimates_of(session, booked.series.id)) == 2


@pytest.mark.parametrize("days", [0, 367, -400])
def test_a_shift_by_no_or_absurd_days_is_refused(session: Session, days: int) -> None:
    _clinic, booked = booked_induction(session)
    with pytest.raises(ValidationError) as refused:
        actions.shift_rest_by(session, DESK, booked.sessions[4].id, days, now=NOW)
    assert "whole number of days from -366 to 366" in refused.value.for_field("days")[0]
    assert len(estimates_of(session, booked.series.id)) == 1


def test_shifting_an_unknown_session_is_refused(session: Session) -> None:
    billing_clinic(session)
    with pytest.raises(NotFound, match="there is no session S-999999"):
        actions.shift_rest_by(session, DESK, 999_999, 7, now=NOW)


def test_cancelling_redrafts_without_the_session(session: Session) -> None:
    _clinic, booked = booked_induction(session)
    cancelled = actions.cancel_session(
        session, DESK, booked.sessions[2].id, "patient unwell", now=NOW
    )
    assert cancelled.result.session.status is SessionStatus.CANCELLED
    assert cancelled.estimate is not None
    assert cancelled.estimate.reason == "1 session removed (6 → 5)"
    assert cancelled.estimate.total == IV_TOTAL - SESSION_PRICE
    current = estimates.current_estimate(session, booked.series.id)
    assert current is not None and current.number == cancelled.estimate.number


def test_a_no_show_redrafts_without_the_session(session: Session) -> None:
    _clinic, booked = booked_induction(session)
    first = booked.sessions[0]
    missed = actions.record_no_show(session, DESK, first.id, now=at("2026-12-07 09:30"))
    assert missed.sessions[0].status is SessionStatus.NO_SHOW
    assert missed.estimate is not None
    assert missed.estimate.reason == "1 session removed (6 → 5)"
    assert missed.estimate.total == IV_TOTAL - SESSION_PRICE


def test_a_refused_move_drafts_nothing(session: Session) -> None:
    clinic, booked = booked_induction(session)
    other = other_patients_session(session, clinic)
    count = select(func.count()).select_from(Estimate)
    before = session.scalar(count)
    with pytest.raises(SlotTaken):
        actions.move_session(
            session, DESK, booked.sessions[0].id, other.starts_at, now=NOW
        )
    assert session.scalar(count) == before
    assert booked.sessions[0].starts_at == at("2026-12-07 09:00")


def other_patients_session(session: Session, clinic: BillingClinic) -> TreatmentSession:
    """Another patient's session in IV 1 on Tue 8 Dec at 09:00."""
    other = another_patient(session, "Ng")
    return actions.book_session(
        session,
        DESK,
        other,
        clinic.protocols["iv-booster"],
        clinic.iv_chairs[0],
        at("2026-12-08 09:00"),
        now=NOW,
    ).sessions[0]
