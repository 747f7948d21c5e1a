"""Booking gates: REMS hard stops, screening and prior-authorisation warnings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from builders import SchedulingClinic, add_location, add_payer, add_provider, at, scheduling_clinic
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import InsurancePolicy, ScreeningFlag
from ketadesk.clinic.policies import add_policy, coverage_on
from ketadesk.scheduling.gates import booking_gates
from ketadesk.scheduling.models import Series, SeriesStatus, SessionStatus
from ketadesk.scheduling.proposals import PlanWarning

FIRST = date(2027, 3, 1)
TODAY = date(2027, 2, 20)


@pytest.fixture
def clinic(session: Session, admin: Actor) -> SchedulingClinic:
    return scheduling_clinic(session, admin)


def gates(
    session: Session,
    clinic: SchedulingClinic,
    key: str = "esketamine-induction",
    days: list[date] | None = None,
    today: date = TODAY,
) -> tuple[tuple[str, ...], tuple[PlanWarning, ...]]:
    days = days or [FIRST]
    return booking_gates(
        session,
        clinic.patient,
        clinic.protocols[key],
        clinic.location,
        min(days),
        days,
        today=today,
    )


def codes(warnings: tuple[PlanWarning, ...]) -> list[str]:
    return [w.code for w in warnings]


def authorise(
    session: Session, clinic: SchedulingClinic, admin: Actor, **values: Any
) -> InsurancePolicy:
    payer = add_payer(session)
    raw: dict[str, Any] = {
        "payer_id": payer.id,
        "rank": "primary",
        "member_id": "W123456789",
        "effective_from": "2026-01-01",
    }
    raw.update(values)
    return add_policy(session, admin, clinic.patient.id, raw)


# ---------------------------------------------------------------------------------------
# REMS
# ---------------------------------------------------------------------------------------


def test_enrolled_patient_with_an_enrolled_provider_passes(
    session: Session, clinic: SchedulingClinic
) -> None:
    assert gates(session, clinic) == ((), ())


def test_esketamine_needs_the_patient_enrolled(session: Session, clinic: SchedulingClinic) -> None:
    clinic.patient.rems_enrolled_on = None
    blockers, warnings = gates(session, clinic)
    assert blockers == (
        "Zoë Łukasiewicz is not enrolled in the Spravato REMS; esketamine cannot be booked "
        "until the enrolment date is recorded on the patient.",
    )
    assert warnings == ()


def test_enrolment_must_come_on_or_before_the_first_session(
    session: Session, clinic: SchedulingClinic
) -> None:
    clinic.patient.rems_enrolled_on = FIRST + timedelta(days=1)
    blockers, _ = gates(session, clinic)
    assert len(blockers) == 1
    assert "only from 02 Mar 2027, after the first session on 01 Mar 2027" in blockers[0]
    clinic.patient.rems_enrolled_on = FIRST
    assert gates(session, clinic)[0] == ()


def test_esketamine_needs_an_enrolled_active_provider_at_the_location(
    session: Session, clinic: SchedulingClinic
) -> None:
    clinic.provider.rems_enrolled = False
    blockers, _ = gates(session, clinic)
    assert blockers == (
        "No active provider at KetaDesk NYC is enrolled in the Spravato REMS; esketamine "
        "cannot be given there until one is.",
    )
    clinic.provider.rems_enrolled = True
    clinic.provider.active = False
    assert gates(session, clinic)[0] == blockers


def test_an_enrolled_provider_elsewhere_does_not_count(
    session: Session, clinic: SchedulingClinic
) -> None:
    clinic.provider.rems_enrolled = False
    elsewhere = add_location(session, "BKN")
    travelling = add_provider(session, "1245319599", family_name="Reyes")
    travelling.locations.append(elsewhere)
    session.flush()
    assert len(gates(session, clinic)[0]) == 1
    travelling.locations.append(clinic.location)
    session.flush()
    assert gates(session, clinic)[0] == ()


def test_ketamine_without_rems_needs_no_enrolment(
    session: Session, clinic: SchedulingClinic
) -> None:
    clinic.patient.rems_enrolled_on = None
    clinic.provider.rems_enrolled = False
    assert gates(session, clinic, "iv-induction") == ((), ())


# ---------------------------------------------------------------------------------------
# Screening flags
# ---------------------------------------------------------------------------------------


def test_each_screening_flag_is_a_warning_for_any_ketamine(
    session: Session, clinic: SchedulingClinic
) -> None:
    clinic.patient.screening_flags = frozenset(
        {ScreeningFlag.UNCONTROLLED_HYPERTENSION, ScreeningFlag.PSYCHOSIS_HISTORY}
    )
    blockers, warnings = gates(session, clinic, "iv-induction")
    assert blockers == ()
    assert codes(warnings) == ["screening:psychosis_history", "screening:uncontrolled_hypertension"]
    assert warnings[0].message.startswith("Screening: the patient has a history of psychosis")


# ---------------------------------------------------------------------------------------
# Prior authorisation
# ---------------------------------------------------------------------------------------


def test_no_prior_authorisation_no_warning(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    authorise(session, clinic, admin)  # a policy without any authorisation
    assert gates(session, clinic) == ((), ())


def test_exhausted_when_booked_and_planned_sessions_pass_the_count(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    authorise(
        session,
        clinic,
        admin,
        prior_auth_number="PA-77",
        sessions_authorized=6,
        auth_from="2027-02-01",
        auth_to="2027-06-30",
    )
    # Sessions of an earlier IV series count against the authorisation too (and, being of
    # another modality, raise no "another series under way").
    protocol = clinic.protocols["iv-induction"]
    chair, provider = clinic.iv_chairs[0], clinic.provider
    for n in range(3):  # three already held in the window, one cancelled, one before it
        existing_session(
            session, clinic.patient, protocol, chair, provider, at(f"2027-02-0{n + 2} 09:00")
        )
    existing_session(
        session,
        clinic.patient,
        protocol,
        chair,
        provider,
        at("2027-02-08 09:00"),
        status=SessionStatus.CANCELLED,
    )
    existing_session(session, clinic.patient, protocol, chair, provider, at("2027-01-20 09:00"))
    planned = [FIRST + timedelta(days=3 * n) for n in range(3)]
    assert gates(session, clinic, days=planned)[1] == ()  # 3 + 3 = 6: exactly covered
    planned.append(FIRST + timedelta(days=12))
    _, warnings = gates(session, clinic, days=planned)
    assert codes(warnings) == ["prior_auth:exhausted"]
    assert "make 7 of 6 authorised sessions" in warnings[0].message
    assert "PA-77" in warnings[0].message


def test_planned_days_outside_the_authorised_dates(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    authorise(
        session,
        clinic,
        admin,
        prior_auth_number="PA-9",
        sessions_authorized=20,
        auth_from="2027-03-01",
        auth_to="2027-03-31",
    )
    days = [date(2027, 3, 29), date(2027, 4, 1), date(2027, 4, 5)]
    _, warnings = gates(session, clinic, days=days)
    assert codes(warnings) == ["prior_auth:dates"]
    assert warnings[0].message == (
        "2 planned session(s) fall outside the dates of the prior authorisation PA-9 "
        "(01 Mar 2027 to 31 Mar 2027): Thu 01 Apr 2027, Mon 05 Apr 2027."
    )


def test_an_authorisation_that_has_ended_is_expired(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    authorise(
        session,
        clinic,
        admin,
        prior_auth_number="PA-1",
        sessions_authorized=6,
        auth_from="2026-06-01",
        auth_to="2026-12-31",
    )
    _, warnings = gates(session, clinic, days=[FIRST])
    assert codes(warnings) == ["prior_auth:expired"]
    assert "expired on 31 Dec 2026" in warnings[0].message
    _, before_it_ended = gates(session, clinic, days=[FIRST], today=date(2026, 12, 1))
    assert codes(before_it_ended) == ["prior_auth:dates"]


def test_only_the_active_primary_policy_counts(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    policy = authorise(
        session,
        clinic,
        admin,
        prior_auth_number="PA-2",
        sessions_authorized=1,
        rank="secondary",
    )
    assert coverage_on(session, clinic.patient.id, FIRST).primary is None
    assert gates(session, clinic, days=[FIRST, FIRST + timedelta(days=3)])[1] == ()
    policy.rank = policy.rank.PRIMARY
    session.flush()
    assert coverage_on(session, clinic.patient.id, FIRST).primary is policy
    assert codes(gates(session, clinic, days=[FIRST, FIRST + timedelta(days=3)])[1]) == [
        "prior_auth:exhausted"
    ]
    policy.active = False
    session.flush()
    assert gates(session, clinic, days=[FIRST, FIRST + timedelta(days=3)])[1] == ()


def test_only_a_policy_in_force_on_the_first_day_counts(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    """The gates once took any active primary policy, even one that had ended before the
    series or began after it; its exhausted authorisation then warned about a series it
    does not pay for."""
    days = [FIRST, FIRST + timedelta(days=3)]
    policy = authorise(
        session,
        clinic,
        admin,
        prior_auth_number="PA-3",
        sessions_authorized=1,
        effective_to=(FIRST - timedelta(days=1)).isoformat(),
    )
    assert gates(session, clinic, days=days)[1] == ()
    policy.effective_to = FIRST  # the last day of a policy is a day it covers
    session.flush()
    assert codes(gates(session, clinic, days=days)[1]) == ["prior_auth:exhausted"]
    policy.effective_to = None
    policy.effective_from = FIRST + timedelta(days=1)
    session.flush()
    assert gates(session, clinic, days=days)[1] == ()


# -- another series of the same modality ---------------------------------------------------


def series_under_way(
    session: Session,
    clinic: SchedulingClinic,
    key: str,
    *,
    done: int,
    ahead: int,
    first: str = "2027-02-01 09:00",
) -> Series:
    """``key`` for the patient: ``done`` sessions completed, then ``ahead`` still booked,
    one a day from ``first``."""
    protocol = clinic.protocols[key]
    chairs = clinic.esketamine_chairs if key.startswith("esketamine") else clinic.iv_chairs
    series = Series(
        patient_id=clinic.patient.id,
        protocol_id=protocol.id,
        location_id=clinic.location.id,
        status=SeriesStatus.ACTIVE if done else SeriesStatus.PLANNED,
    )
    session.add(series)
    session.flush()
    for n in range(done + ahead):
        existing_session(
            session,
            clinic.patient,
            protocol,
            chairs[0],
            clinic.provider,
            at(first) + timedelta(days=n),
            status=SessionStatus.COMPLETED if n < done else SessionStatus.SCHEDULED,
            series=series,
            number=n + 1,
        )
    session.expire(series, ["sessions"])
    return series


def test_another_series_of_the_same_modality_is_named_as_a_warning(
    session: Session, clinic: SchedulingClinic
) -> None:
    under_way = series_under_way(session, clinic, "esketamine-induction", done=3, ahead=5)
    _, warnings = gates(session, clinic)
    assert codes(warnings) == ["series:active"]
    assert warnings[0].message == (
        "Zoë Łukasiewicz already has another Esketamine nasal series under way: "
        f"Esketamine (Spravato) induction (series {under_way.id}), 3 of 12, next Thu 04 Feb "
        "2027 09:00. Booking this one runs them side by side; check with the provider, or "
        "add sessions to that series instead."
    )


def test_a_series_of_another_modality_or_finished_raises_no_warning(
    session: Session, clinic: SchedulingClinic
) -> None:
    series_under_way(session, clinic, "iv-induction", done=2, ahead=4)
    stopped = series_under_way(session, clinic, "esketamine-induction", done=1, ahead=2)
    stopped.status = SeriesStatus.DISCONTINUED
    emptied = series_under_way(
        session, clinic, "esketamine-induction", done=0, ahead=1, first="2027-03-01 09:00"
    )
    for ts in emptied.sessions:
        ts.status = SessionStatus.CANCELLED
    session.flush()
    assert codes(gates(session, clinic)[1]) == []


def test_adding_sessions_to_the_series_itself_raises_no_warning(
    session: Session, clinic: SchedulingClinic
) -> None:
    under_way = series_under_way(session, clinic, "esketamine-induction", done=3, ahead=1)
    _, warnings = booking_gates(
        session,
        clinic.patient,
        clinic.protocols["esketamine-induction"],
        clinic.location,
        FIRST,
        [FIRST],
        today=TODAY,
        series_id=under_way.id,
    )
    assert codes(warnings) == []
