"""Booking a plan: all or nothing, every slot checked again, gates and warnings enforced."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from builders import NOW, SchedulingClinic, add_provider, at, scheduling_clinic
from scheduling.booking_helpers import (
    BILLING,
    another_patient,
    iv_induction,
    plan_for,
    session_count,
    steps_of,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import Modality, ScreeningFlag
from ketadesk.errors import (
    Conflict,
    PermissionDenied,
    SlotTaken,
    Unacknowledged,
    ValidationError,
)
from ketadesk.scheduling.booking import book_series, book_session
from ketadesk.scheduling.models import (
    Series,
    SeriesStatus,
    SessionStatus,
    TreatmentSession,
)
from ketadesk.scheduling.proposals import PlanWarning

IV_WEEKS = ["2026-12-07", "2026-12-09", "2026-12-11", "2026-12-14", "2026-12-16", "2026-12-18"]
ESKETAMINE_DAYS = [
    "2026-12-07",
    "2026-12-10",
    "2026-12-14",
    "2026-12-17",
    "2026-12-21",
    "2026-12-24",
    "2026-12-28",
    "2026-12-31",
    "2027-01-05",
    "2027-01-12",
    "2027-01-19",
    "2027-01-26",
]


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def iv_starts(clock: str = "09:00") -> list[datetime]:
    return [at(f"{day} {clock}") for day in IV_WEEKS]


def esketamine_starts() -> list[datetime]:
    return [at(f"{day} 10:00") for day in ESKETAMINE_DAYS]


def series_of(session: Session, clinic: SchedulingClinic) -> list[Series]:
    return list(session.scalars(select(Series).where(Series.patient_id == clinic.patient.id)))


def test_book_series_writes_a_row_and_a_step_per_session(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    plan = plan_for(clinic, "iv-induction", iv_starts())
    series = book_series(session, front_desk, plan, now=NOW)
    assert series.status is SeriesStatus.PLANNED
    assert series.created_by == "test-front"
    assert series.interval_weeks is None
    sessions = series.sessions
    assert [s.number for s in sessions] == [1, 2, 3, 4, 5, 6]
    assert [s.starts_at for s in sessions] == iv_starts()
    first = sessions[0]
    assert first.modality is Modality.IV
    assert first.ends_at - first.starts_at == timedelta(minutes=70)
    assert (first.chair_id, first.provider_id) == (clinic.iv_chairs[0].id, clinic.provider.id)
    assert {s.status for s in sessions} == {SessionStatus.SCHEDULED}
    step = steps_of(session, first)
    assert [(s.status, s.actor, s.note) for s in step] == [
        (SessionStatus.SCHEDULED, "test-front", "booked")
    ]
    audits = session.scalars(
        select(AuditEntry.entity).where(
            AuditEntry.actor == "test-front", AuditEntry.action == "create"
        )
    ).all()
    assert sorted(audits) == ["series"] + ["session"] * 6


def test_interval_weeks_come_from_the_plan(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    starts = [at("2026-12-07 10:00"), at("2026-12-21 10:00")]
    plan = plan_for(clinic, "esketamine-maintenance", starts)
    series = book_series(session, front_desk, plan, now=NOW)
    assert series.interval_weeks == 1
    assert [s.modality for s in series.sessions] == [Modality.ESKETAMINE] * 2


def test_one_clash_in_twelve_writes_nothing(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    other = another_patient(session, "Ng")
    protocol = clinic.protocols["esketamine-induction"]
    chair = clinic.esketamine_chairs[0]
    in_the_way = book_session(
        session, front_desk, other, protocol, chair, at("2027-01-12 11:00"), now=NOW
    )
    before = session_count(session)
    plan = plan_for(clinic, "esketamine-induction", esketamine_starts())
    with pytest.raises(SlotTaken) as refused:
        book_series(session, front_desk, plan, now=NOW)
    assert refused.value.session_id == in_the_way.id
    message = str(refused.value)
    assert message.startswith("Session 10, Tue 12 Jan 2027 10:00: Nasal 1 is taken by ")
    assert f"S-{in_the_way.id}: Ng, Zoë" in message
    assert session_count(session) == before
    assert series_of(session, clinic) == []


def test_the_plans_own_sessions_are_checked_against_each_other(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    too_close = [at("2026-12-07 09:00"), at("2026-12-08 09:00")]
    plan = plan_for(clinic, "iv-induction", too_close)
    with pytest.raises(SlotTaken, match="another session of this plan") as refused:
        book_series(session, front_desk, plan, now=NOW)
    assert refused.value.session_id is None
    assert "doses must be at least 48 h apart" in str(refused.value)
    assert session_count(session) == 0


def test_other_broken_rules_are_listed_in_words(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    thanksgiving = [at("2026-11-24 09:00"), at("2026-11-26 09:00"), at("2026-11-30 17:30")]
    plan = plan_for(clinic, "iv-induction", thanksgiving)
    with pytest.raises(ValidationError) as refused:
        book_series(session, front_desk, plan, now=NOW)
    (holiday,) = refused.value.for_field("session 2")
    assert holiday.startswith("Thu 26 Nov 2026 09:00: ")
    assert "KetaDesk NYC is closed" in holiday
    assert "Thanksgiving Day" in holiday
    (late,) = refused.value.for_field("session 3")
    assert "17:30–18:40 is outside KetaDesk NYC's opening hours" in late
    assert refused.value.for_field("session 1") == []
    assert session_count(session) == 0


def test_a_chair_that_cannot_host_the_treatment_is_refused(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    plan = plan_for(
        clinic, "iv-induction", [at("2026-12-07 09:00")], chair=clinic.esketamine_chairs[0]
    )
    with pytest.raises(ValidationError, match="Nasal 1 cannot host IV infusion"):
        book_series(session, front_desk, plan, now=NOW)


def test_blockers_refuse_the_booking(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    plan = plan_for(
        clinic,
        "esketamine-induction",
        esketamine_starts(),
        blockers=("the patient is not enrolled in the Spravato REMS",),
    )
    with pytest.raises(ValidationError, match="not enrolled in the Spravato REMS"):
        book_series(session, front_desk, plan, acknowledged={"anything"}, now=NOW)
    assert session_count(session) == 0


def test_gates_run_again_at_booking(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    plan = plan_for(clinic, "esketamine-induction", esketamine_starts())
    clinic.patient.rems_enrolled_on = None
    session.flush()
    with pytest.raises(ValidationError) as refused:
        book_series(session, front_desk, plan, now=NOW)
    assert "is not enrolled in the Spravato REMS" in str(refused.value)
    assert refused.value.problems[0].field == "booking"
    assert session_count(session) == 0


def test_an_unplaced_session_is_named(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    starts: list[datetime | None] = [at("2026-12-07 09:00"), None, at("2026-12-11 09:00")]
    plan = plan_for(clinic, "iv-induction", starts)
    with pytest.raises(ValidationError) as refused:
        book_series(session, front_desk, plan, now=NOW)
    assert [p.field for p in refused.value.problems] == ["booking"]
    assert refused.value.problems[0].message.startswith(
        "session 2 could not be placed; pick one of the alternatives offered"
    )
    assert session_count(session) == 0


def test_warnings_must_be_acknowledged(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    warning = PlanWarning("prior_auth:dates", "2 sessions fall outside the authorised dates")
    plan = plan_for(clinic, "iv-induction", iv_starts(), warnings=(warning,))
    with pytest.raises(Unacknowledged) as refused:
        book_series(session, front_desk, plan, acknowledged={"screening:pregnancy"}, now=NOW)
    assert refused.value.warnings == [("prior_auth:dates", warning.message)]
    assert session_count(session) == 0
    series = book_series(session, front_desk, plan, acknowledged={"prior_auth:dates"}, now=NOW)
    assert len(series.sessions) == 6


def test_warnings_found_again_at_booking_must_be_acknowledged(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    plan = plan_for(clinic, "iv-induction", iv_starts())  # planned before the flag was set
    clinic.patient.screening_flags = frozenset({ScreeningFlag.PSYCHOSIS_HISTORY})
    session.flush()
    with pytest.raises(Unacknowledged) as refused:
        book_series(session, front_desk, plan, now=NOW)
    assert [code for code, _text in refused.value.warnings] == ["screening:psychosis_history"]
    assert session_count(session) == 0
    series = book_series(
        session, front_desk, plan, acknowledged={"screening:psychosis_history"}, now=NOW
    )
    assert len(series.sessions) == 6


def test_billing_may_not_book(session: Session, clinic: SchedulingClinic) -> None:
    plan = plan_for(clinic, "iv-induction", iv_starts())
    with pytest.raises(PermissionDenied, match="may not book, move or cancel sessions"):
        book_series(session, BILLING, plan, now=NOW)
    with pytest.raises(PermissionDenied):
        book_session(
            session,
            BILLING,
            clinic.patient,
            clinic.protocols["iv-booster"],
            clinic.iv_chairs[0],
            at("2026-12-07 09:00"),
            now=NOW,
        )
    assert session_count(session) == 0


def test_book_session_makes_a_one_session_series(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    booster = clinic.protocols["iv-booster"]
    ts = book_session(
        session, front_desk, clinic.patient, booster, clinic.iv_chairs[1], at("2026-12-07 09:00")
    , now=NOW)
    assert (ts.number, ts.chair_id, ts.provider_id) == (
        1,
        clinic.iv_chairs[1].id,
        clinic.provider.id,
    )
    assert ts.location_id == clinic.location.id
    assert ts.ends_at == at("2026-12-07 10:10")
    assert ts.series.interval_weeks == 4
    assert ts.series.protocol_id == booster.id
    assert [s.id for s in ts.series.sessions] == [ts.id]


def test_book_session_takes_a_provider_with_room(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    clinic.provider.max_concurrent_chairs = 1
    adeyemi = add_provider(session, "1245319599", family_name="Adeyemi", max_concurrent_chairs=1)
    adeyemi.locations.append(clinic.location)
    booster = clinic.protocols["iv-booster"]
    start = at("2026-12-07 09:00")
    first = book_session(
        session, front_desk, clinic.patient, booster, clinic.iv_chairs[0], start, now=NOW
    )
    other = another_patient(session, "Ng")
    second = book_session(session, front_desk, other, booster, clinic.iv_chairs[1], start, now=NOW)
    assert first.provider_id == adeyemi.id  # the first usable provider, by name
    assert second.provider_id == clinic.provider.id  # Adeyemi has no chair to spare


def test_book_session_refused_when_every_provider_is_full(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    clinic.provider.max_concurrent_chairs = 1
    booster = clinic.protocols["iv-booster"]
    start = at("2026-12-07 09:00")
    book_session(session, front_desk, clinic.patient, booster, clinic.iv_chairs[0], start, now=NOW)
    other = another_patient(session, "Ng")
    with pytest.raises(ValidationError, match="every provider at KetaDesk NYC") as refused:
        book_session(session, front_desk, other, booster, clinic.iv_chairs[1], start, now=NOW)
    assert refused.value.problems[0].field == "provider"


def test_a_given_provider_over_their_limit_is_refused(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    clinic.provider.max_concurrent_chairs = 1
    booster = clinic.protocols["iv-booster"]
    start = at("2026-12-07 09:00")
    book_session(session, front_desk, clinic.patient, booster, clinic.iv_chairs[0], start, now=NOW)
    other = another_patient(session, "Ng")
    with pytest.raises(ValidationError, match="already supervises 1 chair then"):
        book_session(
            session,
            front_desk,
            other,
            booster,
            clinic.iv_chairs[1],
            start,
            provider=clinic.provider,
            now=NOW,
        )


def test_a_naive_time_is_refused(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    with pytest.raises(ValidationError, match="with its time zone"):
        book_session(
            session,
            front_desk,
            clinic.patient,
            clinic.protocols["iv-booster"],
            clinic.iv_chairs[0],
            datetime(2026, 12, 7, 9, 0),
            now=NOW,
        )


def test_boosters_join_an_existing_series(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    first = plan_for(clinic, "iv-booster", [at("2026-12-07 09:00")])
    series = book_series(session, front_desk, first, now=NOW)
    series.sessions[0].status = SessionStatus.COMPLETED
    session.flush()
    more = plan_for(
        clinic,
        "iv-booster",
        [at("2027-01-04 09:00"), at("2027-02-01 09:00")],
        series_id=series.id,
        first_number=2,
    )
    same = book_series(session, front_desk, more, now=NOW)
    assert same.id == series.id
    assert [s.number for s in same.sessions] == [1, 2, 3]
    assert same.status is SeriesStatus.ACTIVE
    assert len(series_of(session, clinic)) == 1


def test_boosters_are_refused_on_a_discontinued_series(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    series = book_series(
        session, front_desk, plan_for(clinic, "iv-booster", [at("2026-12-07 09:00")])
    , now=NOW)
    series.status = SeriesStatus.DISCONTINUED
    series.discontinued_reason = "moved away"
    session.flush()
    more = plan_for(
        clinic, "iv-booster", [at("2027-01-04 09:00")], series_id=series.id, first_number=2
    )
    with pytest.raises(Conflict, match=r"discontinued \(moved away\)"):
        book_series(session, front_desk, more, now=NOW)


def test_a_stale_booster_plan_is_refused(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    series = book_series(
        session, front_desk, plan_for(clinic, "iv-booster", [at("2026-12-07 09:00")])
    , now=NOW)
    stale = plan_for(
        clinic, "iv-booster", [at("2027-01-04 09:00")], series_id=series.id, first_number=1
    )
    with pytest.raises(Conflict, match="changed since these sessions were planned"):
        book_series(session, front_desk, stale, now=NOW)
    rows = session.scalars(select(TreatmentSession).where(TreatmentSession.series_id == series.id))
    assert len(rows.all()) == 1


def test_a_time_already_past_is_refused(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    booster = clinic.protocols["iv-booster"]
    chair = clinic.iv_chairs[0]
    with pytest.raises(ValidationError, match="that time has already passed"):
        book_session(
            session,
            front_desk,
            clinic.patient,
            booster,
            chair,
            at("2026-12-07 09:00"),
            now=at("2026-12-07 09:16"),
        )
    assert session_count(session) == 0
    # a walk-in booked as they sit down is within the grace
    booked = book_session(
        session,
        front_desk,
        clinic.patient,
        booster,
        chair,
        at("2026-12-07 09:00"),
        now=at("2026-12-07 09:10"),
    )
    assert booked.starts_at == at("2026-12-07 09:00")


def test_a_second_series_of_the_same_modality_needs_acknowledging(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    first = iv_induction(session, clinic, front_desk)
    later = plan_for(
        clinic, "iv-induction", [at(f"2027-01-{day:02d} 09:00") for day in (4, 6, 8, 11, 13, 15)]
    )
    with pytest.raises(Unacknowledged) as refused:
        book_series(session, front_desk, later, now=NOW)
    [(code, text)] = refused.value.warnings
    assert code == "series:active"
    assert f"IV ketamine induction (series {first.id}), 0 of 6, next Mon 07 Dec 2026 09:00" in text
    assert session_count(session) == 6
    second = book_series(session, front_desk, later, acknowledged={"series:active"}, now=NOW)
    assert second.id != first.id and session_count(session) == 12
