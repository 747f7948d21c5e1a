"""The slot rules planner and booking share, and the occupancy they read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from builders import SchedulingClinic, add_chair, add_location, add_provider, at, scheduling_clinic
from scheduling.planning_helpers import custom_protocol, existing_session, other_patient
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic.locations import add_closure, parse_hours, set_holiday_worked, set_hours
from ketadesk.clinic.models import Modality
from ketadesk.errors import NotFound
from ketadesk.scheduling.availability import Held, Occupancy, describe
from ketadesk.scheduling.models import SessionStatus
from ketadesk.scheduling.rules import (
    PlanningContext,
    closed_sentence,
    get_patient,
    hours_and_minutes,
    load_context,
    slot_is_free,
    slot_problems,
)

WED = "2027-03-03"


@pytest.fixture
def clinic(session: Session, admin: Actor) -> SchedulingClinic:
    return scheduling_clinic(session, admin)


def context(
    session: Session,
    clinic: SchedulingClinic,
    key: str = "iv-induction",
    *,
    ignore: tuple[int, ...] = (),
) -> PlanningContext:
    protocol = clinic.protocols[key]
    return load_context(
        session,
        clinic.patient,
        protocol,
        clinic.location,
        at("2027-02-20 00:00"),
        at("2027-03-20 00:00"),
        ignore,
    )


def rules_at(ctx: PlanningContext, when: str, chair_name: str = "IV 1") -> list[str]:
    """The rules broken at ``when`` in the chair of that name, with the first provider."""
    chair = next(c for c in ctx.chairs.values() if c.name == chair_name)
    provider = ctx.usable_providers()[0].id
    return [p.rule for p in slot_problems(ctx, at(when), chair.id, provider)]


def agree(ctx: PlanningContext, when: str, chair_id: int, provider_id: int) -> bool:
    """slot_is_free and slot_problems give the same answer; return it."""
    free = slot_is_free(ctx, at(when), chair_id, provider_id)
    assert free == (not slot_problems(ctx, at(when), chair_id, provider_id))
    return free


# ---------------------------------------------------------------------------------------
# Hours, closures, holidays
# ---------------------------------------------------------------------------------------


def test_a_free_slot_inside_hours_breaks_no_rule(
    session: Session, clinic: SchedulingClinic
) -> None:
    ctx = context(session, clinic)
    assert rules_at(ctx, f"{WED} 09:00") == []
    assert agree(ctx, f"{WED} 09:00", clinic.iv_chairs[0].id, clinic.provider.id)


def test_the_whole_chair_time_must_be_inside_opening_hours(
    session: Session, clinic: SchedulingClinic
) -> None:
    ctx = context(session, clinic)  # 70 minutes; open 08:00–18:00
    assert rules_at(ctx, f"{WED} 16:50") == []
    assert rules_at(ctx, f"{WED} 16:55") == ["hours"]
    assert rules_at(ctx, f"{WED} 07:45") == ["hours"]
    text = slot_problems(ctx, at(f"{WED} 17:00"), clinic.iv_chairs[0].id, clinic.provider.id)
    assert text[0].text == "17:00–18:10 is outside KetaDesk NYC's opening hours on Wednesdays"


def test_a_lunch_break_splits_the_day(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    set_hours(session, admin, clinic.location.id, parse_hours("mon-fri 08:00-12:00, 13:00-18:00"))
    session.expire(clinic.location)
    ctx = context(session, clinic)
    assert rules_at(ctx, f"{WED} 10:50") == []
    assert rules_at(ctx, f"{WED} 11:30") == ["hours"]
    assert rules_at(ctx, f"{WED} 13:00") == []


def test_closed_days_say_why(session: Session, clinic: SchedulingClinic, admin: Actor) -> None:
    add_closure(session, admin, clinic.location.id, date(2027, 3, 3), date(2027, 3, 3), "boiler")
    ctx = context(session, clinic)
    chair, provider = clinic.iv_chairs[0].id, clinic.provider.id
    wednesday = slot_problems(ctx, at(f"{WED} 09:00"), chair, provider)
    assert [(p.rule, p.text) for p in wednesday] == [
        ("closed", "Wed 03 Mar 2027: KetaDesk NYC is closed — boiler")
    ]
    saturday = slot_problems(ctx, at("2027-03-06 09:00"), chair, provider)
    assert saturday[0].text == "Sat 06 Mar 2027: KetaDesk NYC is closed on Saturdays"
    assert not agree(ctx, f"{WED} 09:00", chair, provider)


def test_public_holidays_close_the_location_unless_worked(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    when = "2026-11-26 09:00"
    ctx = load_context(
        session,
        clinic.patient,
        clinic.protocols["iv-induction"],
        clinic.location,
        at("2026-11-20 00:00"),
        at("2026-11-30 00:00"),
    )
    problems = slot_problems(ctx, at(when), clinic.iv_chairs[0].id, clinic.provider.id)
    assert problems[0].text == (
        "Thu 26 Nov 2026: KetaDesk NYC is closed — Thanksgiving Day (public holiday)"
    )
    set_holiday_worked(session, admin, clinic.location.id, "Thanksgiving Day", True)
    worked = load_context(
        session,
        clinic.patient,
        clinic.protocols["iv-induction"],
        clinic.location,
        at("2026-11-20 00:00"),
        at("2026-11-30 00:00"),
    )
    assert slot_problems(worked, at(when), clinic.iv_chairs[0].id, clinic.provider.id) == []


def test_closed_sentence_folds_the_word_closed() -> None:
    day = date(2027, 3, 7)
    assert (
        closed_sentence("X", day, "Closed on Sundays") == "Sun 07 Mar 2027: X is closed on Sundays"
    )
    assert closed_sentence("X", day, "Closed: no opening hours are set") == (
        "Sun 07 Mar 2027: X is closed — no opening hours are set"
    )
    assert closed_sentence("X", day, "Easter (public holiday)") == (
        "Sun 07 Mar 2027: X is closed — Easter (public holiday)"
    )


def test_opening_is_worked_out_once_per_day(session: Session, clinic: SchedulingClinic) -> None:
    ctx = context(session, clinic)
    first = ctx.opening(date(2027, 3, 3))
    assert first[0] is None and [str(i) for i in first[1]] == ["08:00-18:00"]
    assert ctx.opening(date(2027, 3, 3)) is first
    assert ctx.opening(date(2027, 3, 7)) == ("Closed on Sundays", ())


def test_instant_keeps_the_wall_clock_across_daylight_saving(
    session: Session, clinic: SchedulingClinic
) -> None:
    ctx = context(session, clinic)
    assert ctx.instant(date(2027, 3, 12), time(9)) == datetime(2027, 3, 12, 14, tzinfo=UTC)
    assert ctx.instant(date(2027, 3, 15), time(9)) == datetime(2027, 3, 15, 13, tzinfo=UTC)
    # 02:30 does not exist on 14 March: it resolves forward, to 03:30 EDT.
    assert ctx.instant(date(2027, 3, 14), time(2, 30)) == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


# ---------------------------------------------------------------------------------------
# Chairs
# ---------------------------------------------------------------------------------------


def test_the_chair_must_host_the_modality_and_be_in_service(
    session: Session, clinic: SchedulingClinic
) -> None:
    ctx = context(session, clinic)
    nasal = clinic.esketamine_chairs[0]
    problems = slot_problems(ctx, at(f"{WED} 09:00"), nasal.id, clinic.provider.id)
    assert [(p.rule, p.text) for p in problems] == [("chair", "Nasal 1 cannot host IV infusion")]
    clinic.iv_chairs[1].active = False
    assert [c.name for c in ctx.usable_chairs()] == ["IV 1"]
    broken = slot_problems(ctx, at(f"{WED} 09:00"), clinic.iv_chairs[1].id, clinic.provider.id)
    assert broken[0].text == "IV 2 is out of service"
    assert not agree(ctx, f"{WED} 09:00", clinic.iv_chairs[1].id, clinic.provider.id)


def test_a_chair_of_another_location_is_refused(session: Session, clinic: SchedulingClinic) -> None:
    elsewhere = add_chair(session, add_location(session, "BKN"), "B 1")
    ctx = context(session, clinic)
    problems = slot_problems(ctx, at(f"{WED} 09:00"), elsewhere.id, clinic.provider.id)
    assert [p.text for p in problems] == ["that chair is not at KetaDesk NYC"]


def test_a_taken_chair_names_the_session_in_the_way(
    session: Session, clinic: SchedulingClinic
) -> None:
    other = other_patient(session, "Nowak")
    taken = existing_session(
        session,
        other,
        clinic.protocols["iv-induction"],
        clinic.iv_chairs[0],
        clinic.provider,
        at(f"{WED} 09:00"),
    )
    ctx = context(session, clinic)
    chair = clinic.iv_chairs[0].id
    problems = slot_problems(ctx, at(f"{WED} 10:00"), chair, clinic.provider.id)
    assert [p.rule for p in problems] == ["chair_taken"]
    assert problems[0].held is not None and problems[0].held.session_id == taken.id
    assert problems[0].text == (
        f"IV 1 is taken by S-{taken.id}: Nowak, Zoë — session 1 of IV ketamine induction, "
        "Wed 03 Mar 2027 09:00–10:10 in IV 1"
    )
    assert agree(ctx, f"{WED} 10:10", chair, clinic.provider.id)  # back to back is fine
    assert rules_at(ctx, f"{WED} 10:00", "IV 2") == []


def test_released_and_ignored_sessions_do_not_hold_the_chair(
    session: Session, clinic: SchedulingClinic
) -> None:
    other = other_patient(session, "Nowak")
    protocol = clinic.protocols["iv-induction"]
    chair, provider = clinic.iv_chairs[0], clinic.provider
    for status in (SessionStatus.CANCELLED, SessionStatus.LATE_CANCELLED, SessionStatus.NO_SHOW):
        existing_session(
            session, other, protocol, chair, provider, at(f"{WED} 09:00"), status=status
        )
    moving = existing_session(session, other, protocol, chair, provider, at(f"{WED} 12:00"))
    assert rules_at(context(session, clinic), f"{WED} 09:00") == []
    assert rules_at(context(session, clinic), f"{WED} 12:00") == ["chair_taken"]
    assert rules_at(context(session, clinic, ignore=(moving.id,)), f"{WED} 12:00") == []


# ---------------------------------------------------------------------------------------
# Providers
# ---------------------------------------------------------------------------------------


def _busy(session: Session, clinic: SchedulingClinic, count: int, when: str) -> None:
    protocol = clinic.protocols["iv-induction"]
    for n in range(count):
        chair = add_chair(session, clinic.location, f"Extra {n}", frozenset({Modality.IV}))
        existing_session(
            session, other_patient(session, f"P{n}"), protocol, chair, clinic.provider, at(when)
        )


def test_a_provider_at_the_chair_limit_is_busy(session: Session, clinic: SchedulingClinic) -> None:
    clinic.provider.max_concurrent_chairs = 2
    _busy(session, clinic, 2, f"{WED} 09:00")
    ctx = context(session, clinic)
    problems = slot_problems(ctx, at(f"{WED} 09:30"), clinic.iv_chairs[0].id, clinic.provider.id)
    assert [(p.rule, p.text) for p in problems] == [
        ("provider_busy", "Ama Osei, MD already supervises 2 chairs then (limit 2)")
    ]
    assert rules_at(ctx, f"{WED} 10:10") == []  # both end at 10:10
    clinic.provider.max_concurrent_chairs = 3
    assert rules_at(ctx, f"{WED} 09:30") == []


def test_provider_load_is_the_peak_not_the_count(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Two sessions one after the other overlap a long slot but never each other: the
    provider supervises one at a time, so a limit of 2 still has room."""
    clinic.provider.max_concurrent_chairs = 2
    _busy(session, clinic, 1, f"{WED} 09:00")
    protocol = clinic.protocols["iv-induction"]
    chair = add_chair(session, clinic.location, "Late", frozenset({Modality.IV}))
    existing_session(
        session,
        other_patient(session, "Late"),
        protocol,
        chair,
        clinic.provider,
        at(f"{WED} 10:10"),
    )
    ctx = context(session, clinic)
    start, end = at(f"{WED} 09:00"), at(f"{WED} 11:20")
    assert len(ctx.occupancy.provider_sessions(clinic.provider.id, start, end)) == 2
    assert ctx.occupancy.provider_load(clinic.provider.id, start, end) == 1
    assert rules_at(ctx, f"{WED} 09:30") == []


def test_a_provider_must_work_here_be_active_and_enrolled_for_esketamine(
    session: Session, clinic: SchedulingClinic
) -> None:
    stranger = add_provider(session, "1245319599", family_name="Reyes", rems_enrolled=False)
    ctx = context(session, clinic, "esketamine-induction")
    nasal = clinic.esketamine_chairs[0].id
    outside = slot_problems(ctx, at(f"{WED} 09:00"), nasal, stranger.id)
    assert [p.text for p in outside] == ["that provider does not work at KetaDesk NYC"]
    stranger.locations.append(clinic.location)
    session.flush()
    ctx = context(session, clinic, "esketamine-induction")
    unenrolled = slot_problems(ctx, at(f"{WED} 09:00"), nasal, stranger.id)
    assert [p.text for p in unenrolled] == ["Ama Reyes, MD is not enrolled in the Spravato REMS"]
    assert [p.id for p in ctx.usable_providers()] == [clinic.provider.id]
    clinic.provider.active = False
    assert slot_problems(ctx, at(f"{WED} 09:00"), nasal, clinic.provider.id)[0].text == (
        "Ama Osei, MD is inactive"
    )


def test_a_providers_sessions_at_another_location_count(
    session: Session, clinic: SchedulingClinic
) -> None:
    clinic.provider.max_concurrent_chairs = 1
    elsewhere = add_location(session, "BKN")
    clinic.provider.locations.append(elsewhere)
    chair = add_chair(session, elsewhere, "B 1")
    existing_session(
        session,
        other_patient(session, "Away"),
        clinic.protocols["iv-induction"],
        chair,
        clinic.provider,
        at(f"{WED} 09:00"),
    )
    assert rules_at(context(session, clinic), f"{WED} 09:00") == ["provider_busy"]


# ---------------------------------------------------------------------------------------
# The patient
# ---------------------------------------------------------------------------------------


def test_the_patient_in_two_places_is_refused(session: Session, clinic: SchedulingClinic) -> None:
    quick = custom_protocol(session, "quick")
    elsewhere = add_location(session, "BKN")
    chair = add_chair(session, elsewhere, "B 1")
    existing_session(session, clinic.patient, quick, chair, clinic.provider, at(f"{WED} 09:30"))
    ctx = load_context(
        session, clinic.patient, quick, clinic.location, at(f"{WED} 00:00"), at(f"{WED} 23:00")
    )
    problems = slot_problems(ctx, at(f"{WED} 09:00"), clinic.iv_chairs[0].id, clinic.provider.id)
    assert [p.rule for p in problems] == ["patient_busy"]
    assert problems[0].text.startswith("the patient is already booked: S-")
    assert problems[0].text.endswith("Wed 03 Mar 2027 09:30–10:40 in B 1")
    assert slot_is_free(ctx, at(f"{WED} 10:40"), clinic.iv_chairs[0].id, clinic.provider.id)


def test_spacing_counts_real_hours(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    """Fri 12 Mar 2027 09:00 EST to Sun 14 Mar 09:00 EDT is 47 h: refused at 48 h."""
    set_hours(session, admin, clinic.location.id, parse_hours("daily 08:00-18:00"))
    session.expire(clinic.location)
    protocol = clinic.protocols["iv-induction"]
    existing_session(
        session,
        clinic.patient,
        protocol,
        clinic.iv_chairs[1],
        clinic.provider,
        at("2027-03-12 09:00"),
    )
    ctx = context(session, clinic)
    sunday = slot_problems(ctx, at("2027-03-14 09:00"), clinic.iv_chairs[0].id, clinic.provider.id)
    assert [p.rule for p in sunday] == ["spacing"]
    assert sunday[0].text.startswith("only 47 h from S-")
    assert sunday[0].text.endswith("doses must be at least 48 h apart")
    assert rules_at(ctx, "2027-03-14 10:00") == []
    assert rules_at(ctx, "2027-03-10 09:00") == []  # no clock change in between: 48 h
    before = slot_problems(ctx, at("2027-03-10 09:15"), clinic.iv_chairs[0].id, clinic.provider.id)
    assert before[0].text.startswith("only 47 h 45 min from S-")


def test_hours_and_minutes_never_round_up() -> None:
    assert hours_and_minutes(timedelta(hours=47)) == "47 h"
    assert hours_and_minutes(timedelta(hours=47, minutes=59, seconds=59)) == "47 h 59 min"


# ---------------------------------------------------------------------------------------
# Occupancy
# ---------------------------------------------------------------------------------------


def _held(chair: int, start: str, minutes: int = 70, patient: int = 9) -> Held:
    return Held(None, chair, 1, patient, at(start), at(start) + timedelta(minutes=minutes))


def test_occupancy_holds_and_releases_tentative_sessions(
    session: Session, clinic: SchedulingClinic
) -> None:
    occupancy = Occupancy(session, clinic.location.id, at(f"{WED} 00:00"), at(f"{WED} 23:00"))
    first = _held(5, f"{WED} 09:00")
    occupancy.hold(first)
    assert occupancy.chair_conflict(5, at(f"{WED} 10:00"), at(f"{WED} 11:00")) == first
    assert occupancy.chair_conflict(5, at(f"{WED} 10:10"), at(f"{WED} 11:00")) is None
    assert occupancy.chair_conflict(6, at(f"{WED} 09:00"), at(f"{WED} 10:00")) is None
    occupancy.release(first)
    assert occupancy.chair_conflict(5, at(f"{WED} 10:00"), at(f"{WED} 11:00")) is None


def test_a_long_session_is_found_from_far_before(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Lookups bisect by start: a session that began hours earlier must still be seen."""
    occupancy = Occupancy(session, clinic.location.id, at(f"{WED} 00:00"), at(f"{WED} 23:00"))
    long = _held(5, f"{WED} 08:00", minutes=8 * 60)
    for hour in range(9, 15):  # short ones in other chairs do not hide it
        occupancy.hold(_held(6, f"{WED} {hour:02d}:00", minutes=30))
    occupancy.hold(long)
    assert occupancy.chair_conflict(5, at(f"{WED} 15:30"), at(f"{WED} 15:45")) == long
    assert occupancy.patient_conflict(9, at(f"{WED} 15:30"), at(f"{WED} 15:45")) == long


def test_spacing_conflict_bounds_are_exclusive(session: Session, clinic: SchedulingClinic) -> None:
    occupancy = Occupancy(session, clinic.location.id, at(f"{WED} 00:00"), at(f"{WED} 23:00"))
    dose = _held(5, f"{WED} 09:00")
    occupancy.hold(dose)
    assert occupancy.spacing_conflict(9, at("2027-03-05 09:00"), 48) is None
    assert occupancy.spacing_conflict(9, at("2027-03-05 08:59"), 48) == dose
    assert occupancy.spacing_conflict(9, at("2027-03-01 09:00"), 48) is None
    assert occupancy.spacing_conflict(9, at("2027-03-01 09:01"), 48) == dose
    assert occupancy.spacing_conflict(9, at(f"{WED} 09:00"), 0) is None
    assert occupancy.patient_sessions(9) == [dose]


def test_occupancy_loads_the_patients_sessions_anywhere_and_only_holding_ones(
    session: Session, clinic: SchedulingClinic
) -> None:
    elsewhere = add_location(session, "BKN")
    chair = add_chair(session, elsewhere, "B 1")
    stranger = add_provider(session, "1245319599", family_name="Reyes")
    protocol = clinic.protocols["iv-induction"]
    own = existing_session(session, clinic.patient, protocol, chair, stranger, at(f"{WED} 09:00"))
    other = other_patient(session, "Else")
    existing_session(session, other, protocol, chair, stranger, at(f"{WED} 12:00"))
    loaded = Occupancy(
        session, clinic.location.id, at(f"{WED} 00:00"), at(f"{WED} 23:00"), clinic.patient.id
    )
    assert [h.session_id for h in loaded.patient_sessions(clinic.patient.id)] == [own.id]
    assert loaded.patient_sessions(other.id) == []  # not here, not our patient or provider


def test_describe_names_a_tentative_session_by_its_time(
    session: Session, clinic: SchedulingClinic
) -> None:
    held = _held(clinic.iv_chairs[0].id, f"{WED} 09:00")
    assert describe(session, held, "America/New_York") == (
        "another session of this plan, Wed 03 Mar 2027 09:00–10:10 in IV 1"
    )


def test_get_patient(session: Session, clinic: SchedulingClinic) -> None:
    assert get_patient(session, clinic.patient.id) is clinic.patient
    with pytest.raises(NotFound):
        get_patient(session, 999_999)
