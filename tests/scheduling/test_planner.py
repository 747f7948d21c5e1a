"""The series planner: each rule it honours has a test that fails without it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, time, timedelta
from itertools import pairwise

import pytest
from builders import SchedulingClinic, add_chair, add_location, add_provider, at, scheduling_clinic
from scheduling.planning_helpers import (
    clocks_of,
    custom_protocol,
    days_of,
    existing_session,
    local,
    open_every_day,
    other_patient,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

from ketadesk.access.permissions import ROLE_PERMISSIONS, Actor, Role
from ketadesk.clinic.locations import add_closure
from ketadesk.clinic.models import Modality
from ketadesk.errors import Conflict, PermissionDenied, ValidationError
from ketadesk.scheduling.models import Protocol, Series, SeriesStatus, SessionStatus
from ketadesk.scheduling.planner import (
    alternatives,
    day_order,
    default_count,
    find_slot,
    nearest_days,
    plan_more,
    plan_series,
    spread,
    start_times,
    week_days,
)
from ketadesk.scheduling.proposals import Preferences, SeriesPlan
from ketadesk.scheduling.rules import PlanningContext, load_context, slot_problems

MON = date(2027, 3, 1)  # eight weeks from here hold no public holiday in New York
BEFORE = at("2027-02-20 12:00")


@pytest.fixture
def clinic(session: Session, admin: Actor) -> SchedulingClinic:
    return scheduling_clinic(session, admin)


def plan(
    session: Session,
    clinic: SchedulingClinic,
    key: str,
    start: date = MON,
    preferences: Preferences | None = None,
) -> SeriesPlan:
    return plan_series(
        session,
        Actor("test-front", Role.FRONT_DESK),
        clinic.patient,
        clinic.protocols[key],
        clinic.location,
        start,
        preferences or Preferences(),
        now=at("2026-11-01 12:00") if start < MON else BEFORE,
    )


def assert_spacing(plan: SeriesPlan, hours: int) -> None:
    starts = [s.slot.starts_at for s in plan.sessions if s.slot]
    assert all(b - a >= timedelta(hours=hours) for a, b in pairwise(starts))


# ---------------------------------------------------------------------------------------
# Small date helpers
# ---------------------------------------------------------------------------------------


def test_spread_puts_three_on_mon_wed_fri_and_two_on_mon_thu() -> None:
    week = week_days(MON)
    assert [d.strftime("%a") for d in spread(week, 3)] == ["Mon", "Wed", "Fri"]
    assert [d.strftime("%a") for d in spread(week, 2)] == ["Mon", "Thu"]
    assert spread(week, 1) == [MON]


def test_spread_over_preferred_weekdays_only() -> None:
    week = week_days(MON, frozenset({1, 4}))
    assert [d.strftime("%a") for d in week] == ["Tue", "Fri"]
    assert [d.strftime("%a") for d in spread(week, 2)] == ["Tue", "Fri"]
    assert spread([], 2) == []


def test_day_order_goes_forward_from_the_wanted_day_then_back() -> None:
    wed = MON + timedelta(days=2)
    order = day_order(wed, MON, MON + timedelta(days=4), frozenset())
    assert [d.strftime("%a") for d in order] == ["Wed", "Thu", "Fri", "Tue", "Mon"]
    only = day_order(wed, MON, MON + timedelta(days=6), frozenset({0, 3}))
    assert [d.strftime("%a") for d in only] == ["Thu", "Mon"]
    assert day_order(wed, wed, MON, frozenset()) == []


def test_nearest_days_alternate_after_and_before() -> None:
    assert [d.day for d in nearest_days(date(2027, 3, 10), 2)] == [10, 11, 9, 12, 8]


def test_start_times_keep_the_chair_time_inside_the_hours(
    session: Session, clinic: SchedulingClinic
) -> None:
    ctx = _context(
        session, clinic, clinic.protocols["esketamine-induction"]
    )  # 135 min in the chair
    times = start_times(ctx, MON)
    assert times[0] == time(8, 0) and times[-1] == time(15, 45)
    assert all(t.minute % 15 == 0 for t in times)
    window = start_times(ctx, MON, time(10, 5), time(11, 0), near=time(10, 40))
    assert window == [
        time(10, 40),
        time(10, 45),
        time(10, 30),
        time(11, 0),
        time(10, 15),
        time(10, 5),
    ]
    assert start_times(ctx, MON + timedelta(days=5)) == []  # Saturday: closed


# ---------------------------------------------------------------------------------------
# A plain induction
# ---------------------------------------------------------------------------------------


def test_esketamine_induction_follows_the_weekly_pattern(
    session: Session, clinic: SchedulingClinic
) -> None:
    result = plan(session, clinic, "esketamine-induction")
    assert result.bookable and not result.blockers
    assert [s.number for s in result.sessions] == list(range(1, 13))
    weekdays = [d.strftime("%a") for d in days_of(result)]
    assert weekdays == ["Mon", "Thu"] * 4 + ["Mon"] * 4
    weeks = [(d - MON).days // 7 for d in days_of(result)]
    assert weeks == [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7]
    assert all(not s.problems and not s.alternatives for s in result.sessions)


def test_iv_induction_three_a_week_keeps_one_chair_and_one_time(
    session: Session, clinic: SchedulingClinic
) -> None:
    result = plan(session, clinic, "iv-induction")
    assert [d.strftime("%a %d") for d in days_of(result)] == [
        "Mon 01", "Wed 03", "Fri 05", "Mon 08", "Wed 10", "Fri 12",
    ]  # fmt: skip
    assert set(clocks_of(result)) == {"08:00"}
    assert {s.slot.chair_name for s in result.sessions if s.slot} == {"IV 1"}
    assert result.sessions[0].slot is not None
    assert result.sessions[0].slot.ends_at - result.sessions[0].slot.starts_at == timedelta(
        minutes=70
    )


def test_later_sessions_keep_the_chair_of_the_previous_one(
    session: Session, clinic: SchedulingClinic
) -> None:
    """IV 1 is taken when the series starts, so session 1 sits in IV 2; the rest follow
    it there although IV 1 is free then."""
    other = other_patient(session, "Nowak")
    protocol = clinic.protocols["iv-induction"]
    existing_session(
        session, other, protocol, clinic.iv_chairs[0], clinic.provider, at("2027-03-01 08:00")
    )
    result = plan(session, clinic, "iv-induction")
    assert set(clocks_of(result)) == {"08:00"}
    assert [s.slot.chair_name for s in result.sessions if s.slot] == ["IV 2"] * 6


def test_sessions_of_the_plan_never_collide_with_each_other(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Two sessions a day apart with 48 h spacing: the second must wait for the first."""
    tight = custom_protocol(
        session, "tight", weekly_pattern="7", session_count=7, min_hours_between=48
    )
    open_every_day(session, clinic.location)
    result = plan_series(
        session, Actor("a", Role.ADMIN), clinic.patient, tight, clinic.location, MON, now=BEFORE
    )
    placed = [f"{local(s.slot):%a}" for s in result.sessions if s.slot]
    assert placed == ["Mon", "Wed", "Fri", "Sun"]
    assert_spacing(result, 48)
    assert len(result.unplaced) == 3 and not result.bookable


# ---------------------------------------------------------------------------------------
# Closures and public holidays
# ---------------------------------------------------------------------------------------


def test_thanksgiving_moves_a_session_to_the_next_open_day_and_says_why(
    session: Session, clinic: SchedulingClinic
) -> None:
    result = plan(session, clinic, "esketamine-induction", date(2026, 11, 23))
    second = result.sessions[1]
    assert local(second.slot).date() == date(2026, 11, 27)  # Friday, same week
    assert f"{local(second.slot):%H:%M}" == clocks_of(result)[0]
    text = " ".join(second.problems)
    assert "Thu 26 Nov 2026: KetaDesk NYC is closed — Thanksgiving Day (public holiday)" in text
    assert text.startswith(
        "Session 2 placed on Fri 27 Nov 2026 at 08:00, in week 1 of the pattern, instead of "
        "the wanted Thu 26 Nov 2026 at 08:00."
    )
    assert result.bookable  # moved inside its week: still a valid plan
    assert second.alternatives and all(a != second.slot for a in second.alternatives)


def test_christmas_with_no_room_left_in_the_week_is_not_placed(
    session: Session, clinic: SchedulingClinic
) -> None:
    """IV three a week from Mon 21 Dec: Fri 25 Dec is Christmas, the weekend is closed and
    Thursday is only 24 h after Wednesday, so session 3 has no valid day in week 1. It is
    not pushed into week 2 in silence; New Year's Day does the same to session 6."""
    result = plan(session, clinic, "iv-induction", date(2026, 12, 21))
    third, sixth = result.sessions[2], result.sessions[5]
    assert third.slot is None and sixth.slot is None and not result.bookable
    assert any("Christmas Day (public holiday)" in p for p in third.problems)
    assert any("No valid time for session 3 in week 1 of the pattern" in p for p in third.problems)
    assert any("New Year's Day (public holiday)" in p for p in sixth.problems)
    placed = [local(s.slot).date() for s in result.sessions if s.slot]
    assert placed == [date(2026, 12, d) for d in (21, 23, 28, 30)]
    # Session 6 may still go after session 5 (alternatives break the week, never spacing).
    fifth = result.sessions[4].slot
    assert sixth.alternatives and fifth is not None
    assert all(a.starts_at - fifth.starts_at >= timedelta(hours=48) for a in sixth.alternatives)
    assert sixth.problems[-1] == "Choose one of the alternatives below, or another start date."
    # Session 3 has nowhere between sessions 2 and 4: no alternative breaks the order.
    assert not third.alternatives
    assert third.problems[-1] == (
        "No other valid time lies within 14 days after session 2 (Wed 23 Dec 2026 at 08:00) "
        "and before session 4 (Mon 28 Dec 2026 at 08:00) either; choose another start date."
    )


def test_a_closure_moves_sessions_and_names_its_reason(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    add_closure(session, admin, clinic.location.id, MON, MON, "staff training")
    result = plan(session, clinic, "iv-induction")
    first = result.sessions[0]
    assert local(first.slot).date() == date(2027, 3, 2)
    assert any(
        "Mon 01 Mar 2027: KetaDesk NYC is closed — staff training" in p for p in first.problems
    )


def test_a_session_is_not_moved_outside_its_week(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    """KAP is weekly: with week 2 closed, session 2 fails rather than slipping a week."""
    week2 = MON + timedelta(days=7)
    add_closure(session, admin, clinic.location.id, week2, week2 + timedelta(days=6), "works")
    kap_chair = add_chair(session, clinic.location, "Room 1", frozenset({Modality.KAP}))
    result = plan(session, clinic, "kap")
    assert result.sessions[1].slot is None
    assert local(result.sessions[2].slot).date() == MON + timedelta(days=14)
    assert {s.slot.chair_id for s in result.sessions if s.slot} == {kap_chair.id}
    # Alternatives for session 2 lie between sessions 1 and 3, at least 72 h from each.
    first, third = result.sessions[0].slot, result.sessions[2].slot
    assert first and third
    for alt in result.sessions[1].alternatives:
        assert alt.starts_at - first.starts_at >= timedelta(hours=72)
        assert third.starts_at - alt.starts_at >= timedelta(hours=72)


# ---------------------------------------------------------------------------------------
# Maximum gap and span
# ---------------------------------------------------------------------------------------


def test_maximum_gap_between_sessions_is_not_broken(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    """Weekly, at most 7 days apart: with Mon–Wed of week 2 closed, Thursday (10 days) is
    refused although it is in week 2."""
    gap = custom_protocol(session, "gap", weekly_pattern="1,1", session_count=2, max_gap_days=7)
    week2 = MON + timedelta(days=7)
    add_closure(session, admin, clinic.location.id, week2, week2 + timedelta(days=2), "floods")
    result = _plan_custom(session, clinic, gap)
    assert result.sessions[1].slot is None
    assert any("at most 7 days after session 1" in p for p in result.sessions[1].problems)
    loose = custom_protocol(session, "loose", weekly_pattern="1,1", session_count=2)
    moved = _plan_custom(session, clinic, loose)
    assert local(moved.sessions[1].slot).date() == week2 + timedelta(days=3)


def test_maximum_span_of_the_series_is_not_broken(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    span = custom_protocol(
        session, "span", weekly_pattern="1,1,1", session_count=3, max_span_days=14
    )
    week3 = MON + timedelta(days=14)
    add_closure(session, admin, clinic.location.id, week3, week3, "inspection")
    result = _plan_custom(session, clinic, span)
    assert result.sessions[2].slot is None
    assert any("within 14 days of the first session" in p for p in result.sessions[2].problems)
    free = custom_protocol(session, "free", weekly_pattern="1,1,1", session_count=3)
    assert local(_plan_custom(session, clinic, free).sessions[2].slot).date() == week3 + timedelta(
        days=1
    )


# ---------------------------------------------------------------------------------------
# Daylight saving
# ---------------------------------------------------------------------------------------


def test_spacing_counts_real_hours_across_the_spring_change(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Sat 13 Mar 2027 09:00 EST to Mon 15 Mar 09:00 EDT is 47 h, not 48: the planner
    keeps the clock where it can but will not place Monday at 09:00."""
    open_every_day(session, clinic.location)
    rule = custom_protocol(
        session, "sat-mon", weekly_pattern="2", session_count=2, min_hours_between=48
    )
    result = _plan_custom(
        session,
        clinic,
        rule,
        date(2027, 3, 13),
        Preferences(weekdays=frozenset({5, 0}), earliest=time(9, 0)),
    )
    saturday, monday = (local(s.slot) for s in result.sessions)
    assert (saturday.date(), f"{saturday:%H:%M}") == (date(2027, 3, 13), "09:00")
    assert monday.date() == date(2027, 3, 15) and f"{monday:%H:%M}" == "10:00"
    elapsed = monday.astimezone(UTC) - saturday.astimezone(UTC)
    assert elapsed == timedelta(hours=48)
    assert result.sessions[1].problems[0] == (
        "Session 2 placed at 10:00 the same day, instead of the wanted Mon 15 Mar 2027 at 09:00."
    )
    assert result.sessions[1].problems[1].startswith(
        "At the wanted time: only 47 h from another session of this plan, Sat 13 Mar 2027"
    )


def test_wall_clock_time_is_kept_across_the_autumn_change(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Sat 31 Oct 2026 09:00 EDT is 13:00 UTC; Mon 2 Nov 09:00 EST is 14:00 UTC, 49 h
    later: both stay at 09:00 on the clinic's clock."""
    open_every_day(session, clinic.location)
    rule = custom_protocol(
        session, "sat-mon", weekly_pattern="2", session_count=2, min_hours_between=48
    )
    result = plan_series(
        session,
        Actor("a", Role.ADMIN),
        clinic.patient,
        rule,
        clinic.location,
        date(2026, 10, 31),
        Preferences(weekdays=frozenset({5, 0}), earliest=time(9, 0)),
        now=at("2026-10-01 09:00"),
    )
    assert clocks_of(result) == ["09:00", "09:00"]
    first, second = (s.slot.starts_at for s in result.sessions if s.slot)
    assert (first.hour, second.hour) == (13, 14)  # UTC
    assert second - first == timedelta(hours=49)
    assert all(not s.problems for s in result.sessions)


def test_weekly_sessions_stay_at_nine_across_the_spring_change(
    session: Session, clinic: SchedulingClinic
) -> None:
    result = plan(session, clinic, "esketamine-induction", MON, Preferences(earliest=time(9)))
    assert set(clocks_of(result)) == {"09:00"}
    utc_hours = {s.slot.starts_at.hour for s in result.sessions if s.slot}
    assert utc_hours == {14, 13}  # EST before 14 March, EDT after


# ---------------------------------------------------------------------------------------
# Preferences
# ---------------------------------------------------------------------------------------


def test_preferred_weekdays_are_the_only_days_placed(
    session: Session, clinic: SchedulingClinic
) -> None:
    result = plan(
        session, clinic, "esketamine-induction", preferences=Preferences(weekdays=frozenset({1, 4}))
    )
    assert result.bookable
    assert {d.strftime("%a") for d in days_of(result)} == {"Tue", "Fri"}


def test_preferred_time_window_bounds_every_start(
    session: Session, clinic: SchedulingClinic
) -> None:
    window = Preferences(earliest=time(13, 0), latest=time(14, 0))
    result = plan(session, clinic, "iv-induction", preferences=window)
    assert set(clocks_of(result)) == {"13:00"}


def test_a_preferred_day_that_fails_moves_to_the_next_preferred_day(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    """Weekly on Tue or Fri: with Tuesday closed the session goes to Friday, not Wednesday."""
    weekly = custom_protocol(session, "weekly", weekly_pattern="1,1", session_count=2)
    tuesday = MON + timedelta(days=1)
    add_closure(session, admin, clinic.location.id, tuesday, tuesday, "painters")
    result = _plan_custom(
        session, clinic, weekly, preferences=Preferences(weekdays=frozenset({1, 4}))
    )
    assert days_of(result) == [MON + timedelta(days=4), MON + timedelta(days=8)]
    assert result.sessions[0].problems[0].startswith("Session 1 placed on Fri 05 Mar 2027 at 08:00")


def test_time_window_is_kept_even_when_another_day_is_needed(
    session: Session, clinic: SchedulingClinic
) -> None:
    """13:00–14:00 only: with both IV chairs taken 13:00–14:10 on Wednesday, session 2 goes
    to Thursday at 13:00 rather than to a nearer time outside the window that day."""
    other = other_patient(session, "Nowak")
    protocol = clinic.protocols["iv-induction"]
    for chair in clinic.iv_chairs:
        existing_session(session, other, protocol, chair, clinic.provider, at("2027-03-03 13:00"))
    window = Preferences(earliest=time(13, 0), latest=time(14, 0))
    result = plan(session, clinic, "iv-induction", preferences=window)
    second = local(result.sessions[1].slot)
    assert (f"{second:%a %H:%M}") == "Thu 13:00"
    # Friday is then only 24 h after Thursday: session 3 has no room left in week 1.
    assert result.sessions[2].slot is None
    placed = [local(s.slot).time() for s in result.sessions if s.slot]
    assert len(placed) == 5 and all(time(13) <= t <= time(14) for t in placed)


def test_the_first_sessions_time_is_kept_for_the_series(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Both esketamine chairs are taken at 08:00 on day one, so session 1 starts at 10:15;
    the later sessions keep 10:15 although 08:00 is free on their days."""
    other = other_patient(session, "Nowak")
    protocol = clinic.protocols["esketamine-induction"]
    for chair in clinic.esketamine_chairs:
        existing_session(session, other, protocol, chair, clinic.provider, at("2027-03-01 08:00"))
    result = plan(session, clinic, "esketamine-induction")
    assert set(clocks_of(result)) == {"10:15"}
    assert not result.sessions[0].problems  # the first session sets the time: not a move


def test_no_session_is_placed_in_the_past(session: Session, clinic: SchedulingClinic) -> None:
    now = at("2027-03-03 12:00")  # Wednesday noon, planning from today
    result = plan_series(
        session,
        Actor("f", Role.FRONT_DESK),
        clinic.patient,
        clinic.protocols["esketamine-induction"],
        clinic.location,
        date(2027, 3, 3),
        now=now,
    )
    first = result.sessions[0].slot
    assert first is not None and first.starts_at > now
    assert f"{local(first):%a %H:%M}" == "Wed 12:15"
    assert result.sessions[0].problems == ()  # the first session sets the time: not a move


def test_a_start_day_already_gone_is_refused_in_one_sentence(
    session: Session, clinic: SchedulingClinic
) -> None:
    with pytest.raises(ValidationError) as refused:
        plan_series(
            session,
            Actor("f", Role.FRONT_DESK),
            clinic.patient,
            clinic.protocols["esketamine-induction"],
            clinic.location,
            MON,
            now=at("2027-03-03 12:00"),
        )
    assert refused.value.for_field("start") == [
        f"Mon 01 Mar 2027 has already passed at {clinic.location.name}; "
        "start on Wed 03 Mar 2027 or later"
    ]


def test_steady_time_moves_only_the_session_whose_time_is_taken(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Both esketamine chairs are taken at 08:00 on the third session's day: that one
    goes to the nearest free time the same day and the others stay at 08:00."""
    other = other_patient(session, "Nowak")
    protocol = clinic.protocols["esketamine-induction"]
    day3 = at("2027-03-08 08:00")
    taken = [
        existing_session(session, other, protocol, chair, clinic.provider, day3)
        for chair in clinic.esketamine_chairs
    ]
    result = plan(session, clinic, "esketamine-induction")
    clocks = clocks_of(result)
    assert clocks[2] == "10:15" and set(clocks[:2] + clocks[3:]) == {"08:00"}
    assert local(result.sessions[2].slot).date() == day3.date()
    assert result.sessions[2].problems == (
        "Session 3 placed at 10:15 the same day, instead of the wanted Mon 08 Mar 2027 at 08:00.",
        f"At the wanted time: no chair is free then: Nasal 1 is taken by S-{taken[0].id} "
        f"(08:00–10:15); Nasal 2 is taken by S-{taken[1].id} (08:00–10:15).",
    )


def test_preferred_chair_is_used_and_an_unfit_one_is_explained(
    session: Session, clinic: SchedulingClinic
) -> None:
    second_chair = clinic.esketamine_chairs[1]
    kept = plan(
        session, clinic, "esketamine-induction", preferences=Preferences(chair_id=second_chair.id)
    )
    assert {s.slot.chair_id for s in kept.sessions if s.slot} == {second_chair.id}
    iv_chair = clinic.iv_chairs[0]
    unfit = plan(
        session, clinic, "esketamine-induction", preferences=Preferences(chair_id=iv_chair.id)
    )
    assert unfit.bookable
    assert all("IV 1 cannot host Esketamine nasal" in s.problems[0] for s in unfit.sessions)
    assert {s.slot.chair_name for s in unfit.sessions if s.slot} == {"Nasal 1"}


def test_an_unfit_preferred_provider_is_explained(
    session: Session, clinic: SchedulingClinic
) -> None:
    unenrolled = add_provider(session, "1245319599", family_name="Reyes", rems_enrolled=False)
    unenrolled.locations.append(clinic.location)
    session.flush()
    result = plan(
        session, clinic, "esketamine-induction", preferences=Preferences(provider_id=unenrolled.id)
    )
    assert result.sessions[0].problems[0] == (
        "Ama Reyes, MD is not enrolled in the Spravato REMS, so another provider was chosen."
    )
    assert {s.slot.provider_id for s in result.sessions if s.slot} == {clinic.provider.id}
    reyes_iv = plan(
        session, clinic, "iv-induction", preferences=Preferences(provider_id=unenrolled.id)
    )
    assert {s.slot.provider_id for s in reyes_iv.sessions if s.slot} == {unenrolled.id}


def test_preferences_are_checked(session: Session, clinic: SchedulingClinic) -> None:
    with pytest.raises(ValidationError) as error:
        plan(session, clinic, "iv-induction", preferences=Preferences(weekdays=frozenset({7})))
    assert error.value.for_field("weekdays")
    with pytest.raises(ValidationError) as error:
        plan(
            session,
            clinic,
            "iv-induction",
            preferences=Preferences(earliest=time(14), latest=time(9)),
        )
    assert error.value.for_field("latest") == ["09:00 is before the earliest time 14:00"]


# ---------------------------------------------------------------------------------------
# Provider capacity, the patient elsewhere
# ---------------------------------------------------------------------------------------


def _fill_provider(session: Session, clinic: SchedulingClinic, when: str) -> None:
    """Four IV sessions of other patients supervised by the clinic's provider at ``when``."""
    extra = [
        add_chair(session, clinic.location, f"IV {n}", frozenset({Modality.IV})) for n in (3, 4)
    ]
    protocol = clinic.protocols["iv-induction"]
    for n, chair in enumerate([*clinic.iv_chairs, *extra]):
        patient = other_patient(session, f"Busy{n}")
        existing_session(session, patient, protocol, chair, clinic.provider, at(when))


def test_provider_at_the_chair_limit_is_not_given_another_chair(
    session: Session, clinic: SchedulingClinic
) -> None:
    _fill_provider(session, clinic, "2027-03-01 08:00")  # 08:00–09:10, limit 4
    result = plan(session, clinic, "esketamine-induction")
    first = result.sessions[0].slot
    assert first is not None and local(first).date() == MON
    assert first.starts_at >= at("2027-03-01 09:10")
    ctx = _context(session, clinic, clinic.protocols["esketamine-induction"])
    assert ctx.occupancy.provider_load(clinic.provider.id, first.starts_at, first.ends_at) < 4


def test_a_second_provider_takes_the_session_when_the_first_is_full(
    session: Session, clinic: SchedulingClinic
) -> None:
    _fill_provider(session, clinic, "2027-03-01 08:00")
    second = add_provider(session, "1245319599", family_name="Reyes", max_concurrent_chairs=2)
    second.locations.append(clinic.location)
    session.flush()
    result = plan(session, clinic, "esketamine-induction")
    first = result.sessions[0].slot
    assert first is not None and f"{local(first):%H:%M}" == "08:00"
    assert first.provider_id == second.id
    # Later sessions go to the provider with the lowest load then: the first one again.
    assert result.sessions[1].slot and result.sessions[1].slot.provider_id == clinic.provider.id


def test_the_least_loaded_provider_with_room_is_chosen(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Osei (limit 2) supervises 2 chairs, Reyes (limit 4) supervises 3: Osei has the
    lower load but no room, so Reyes takes the session."""
    reyes = add_provider(session, "1245319599", family_name="Reyes", max_concurrent_chairs=4)
    reyes.locations.append(clinic.location)
    clinic.provider.max_concurrent_chairs = 2
    protocol = clinic.protocols["iv-induction"]
    for n, provider in enumerate([clinic.provider] * 2 + [reyes] * 3):
        chair = add_chair(session, clinic.location, f"Extra {n}", frozenset({Modality.IV}))
        existing_session(
            session, other_patient(session, f"Load{n}"), protocol, chair, provider,
            at("2027-03-01 08:00"),
        )  # fmt: skip
    result = plan(session, clinic, "esketamine-induction")
    first = result.sessions[0].slot
    assert first is not None and f"{local(first):%H:%M}" == "08:00"
    assert first.provider_id == reyes.id


def test_the_patient_is_never_in_two_places(
    session: Session, clinic: SchedulingClinic, admin: Actor
) -> None:
    brooklyn = add_location(session, "BKN", name="KetaDesk Brooklyn")
    chair = add_chair(session, brooklyn, "B 1", frozenset({Modality.IV}))
    clinic.provider.locations.append(brooklyn)
    quick = custom_protocol(session, "quick")  # no spacing rule: only the overlap counts
    existing_session(session, clinic.patient, quick, chair, clinic.provider, at("2027-03-01 08:30"))
    result = _plan_custom(session, clinic, quick)
    slot = result.sessions[0].slot
    assert slot is not None and local(slot).date() == MON
    assert slot.starts_at >= at("2027-03-01 09:40")  # after the Brooklyn session ends
    wanted = slot_problems(
        _context(session, clinic, quick),
        at("2027-03-01 08:00"),
        clinic.iv_chairs[0].id,
        clinic.provider.id,
    )
    assert [p.rule for p in wanted] == ["patient_busy"]


def test_existing_sessions_of_the_patient_keep_their_spacing(
    session: Session, clinic: SchedulingClinic
) -> None:
    protocol = clinic.protocols["esketamine-induction"]
    chair = clinic.esketamine_chairs[0]
    existing_session(
        session, clinic.patient, protocol, chair, clinic.provider, at("2027-02-28 17:00")
    )
    result = plan(session, clinic, "esketamine-induction")
    first = result.sessions[0].slot
    assert first is not None and first.starts_at >= at("2027-03-02 17:00")
    assert any("doses must be at least 48 h apart" in p for p in result.sessions[0].problems)


def test_a_cancelled_session_does_not_hold_its_chair(
    session: Session, clinic: SchedulingClinic
) -> None:
    other = other_patient(session, "Gone")
    protocol = clinic.protocols["esketamine-induction"]
    for chair in clinic.esketamine_chairs:
        existing_session(
            session, other, protocol, chair, clinic.provider, at("2027-03-01 08:00"),
            status=SessionStatus.CANCELLED,
        )  # fmt: skip
    result = plan(session, clinic, "esketamine-induction")
    assert clocks_of(result)[0] == "08:00"


# ---------------------------------------------------------------------------------------
# Interval protocols
# ---------------------------------------------------------------------------------------


def test_esketamine_maintenance_defaults_to_six_weekly_sessions(
    session: Session, clinic: SchedulingClinic
) -> None:
    result = plan(session, clinic, "esketamine-maintenance", date(2027, 3, 3))
    assert result.interval_weeks == 1 and len(result.sessions) == 6
    assert days_of(result) == [date(2027, 3, 3) + timedelta(weeks=n) for n in range(6)]
    assert default_count(clinic.protocols["esketamine-maintenance"]) == 6


def test_interval_of_two_weeks_and_a_count(session: Session, clinic: SchedulingClinic) -> None:
    result = plan(
        session,
        clinic,
        "esketamine-maintenance",
        date(2027, 3, 3),
        Preferences(interval_weeks=2, count=3),
    )
    assert result.interval_weeks == 2
    assert days_of(result) == [date(2027, 3, 3) + timedelta(weeks=2 * n) for n in range(3)]


def test_iv_booster_defaults_to_one_session_every_four_weeks(
    session: Session, clinic: SchedulingClinic
) -> None:
    result = plan(session, clinic, "iv-booster")
    assert result.interval_weeks == 4 and days_of(result) == [MON]


def test_interval_sessions_fall_on_the_preferred_weekday(
    session: Session, clinic: SchedulingClinic
) -> None:
    result = plan(
        session,
        clinic,
        "esketamine-maintenance",
        MON,
        Preferences(weekdays=frozenset({3}), count=2),
    )
    assert days_of(result) == [date(2027, 3, 4), date(2027, 3, 11)]  # Thursdays


def test_a_protocol_without_pattern_or_interval_cannot_be_planned(
    session: Session, clinic: SchedulingClinic
) -> None:
    shapeless = custom_protocol(session, "shapeless", weekly_pattern="")
    with pytest.raises(ValidationError) as error:
        _plan_custom(session, clinic, shapeless)
    assert "neither a weekly pattern nor interval choices" in error.value.for_field("protocol")[0]


def test_interval_not_offered_is_refused(session: Session, clinic: SchedulingClinic) -> None:
    with pytest.raises(ValidationError) as error:
        plan(session, clinic, "esketamine-maintenance", preferences=Preferences(interval_weeks=3))
    assert error.value.for_field("interval_weeks") == [
        "every 3 weeks is not offered for Esketamine (Spravato) maintenance; choose 1, 2 weeks"
    ]
    with pytest.raises(ValidationError) as error:
        plan(session, clinic, "iv-booster", preferences=Preferences(count=0))
    assert error.value.for_field("count")


def test_interval_session_on_a_holiday_moves_within_its_week(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Weekly on Thursdays from 19 Nov 2026: Thanksgiving goes to Friday, the next week is
    back on Thursday."""
    result = plan(
        session, clinic, "esketamine-maintenance", date(2026, 11, 19), Preferences(count=3)
    )
    assert days_of(result) == [date(2026, 11, 19), date(2026, 11, 27), date(2026, 12, 3)]
    assert any("Thanksgiving Day" in p for p in result.sessions[1].problems)


# ---------------------------------------------------------------------------------------
# More sessions for a series
# ---------------------------------------------------------------------------------------


def _series_with(session: Session, clinic: SchedulingClinic, key: str, starts: list[str]) -> Series:
    protocol = clinic.protocols[key]
    chair = clinic.esketamine_chairs[0] if key.startswith("esk") else clinic.iv_chairs[0]
    first = existing_session(
        session, clinic.patient, protocol, chair, clinic.provider, at(starts[0])
    )
    series = first.series
    for number, when in enumerate(starts[1:], start=2):
        existing_session(
            session, clinic.patient, protocol, chair, clinic.provider, at(when),
            series=series, number=number,
        )  # fmt: skip
    session.refresh(series)
    return series


def test_plan_more_continues_an_interval_series(session: Session, clinic: SchedulingClinic) -> None:
    series = _series_with(
        session, clinic, "esketamine-maintenance", ["2027-03-03 10:00", "2027-03-17 10:00"]
    )
    series.interval_weeks = 2
    result = plan_more(session, Actor("f", Role.FRONT_DESK), series, 2, now=BEFORE)
    assert (result.series_id, result.first_number) == (series.id, 3)
    assert [s.number for s in result.sessions] == [3, 4]
    assert days_of(result) == [date(2027, 3, 31), date(2027, 4, 14)]


def test_plan_more_boosters_after_an_induction(session: Session, clinic: SchedulingClinic) -> None:
    starts = ["2027-03-01 08:00", "2027-03-03 08:00", "2027-03-05 08:00"]
    series = _series_with(session, clinic, "iv-induction", starts)
    result = plan_more(session, Actor("f", Role.FRONT_DESK), series, 2, now=BEFORE)
    # The day after the last session is Saturday (closed): Monday, then Wednesday.
    assert days_of(result) == [date(2027, 3, 8), date(2027, 3, 10)]
    assert result.first_number == 4 and result.interval_weeks is None
    assert_spacing(result, 48)


def test_plan_more_counts_spacing_from_the_last_session(
    session: Session, clinic: SchedulingClinic
) -> None:
    series = _series_with(session, clinic, "iv-induction", ["2027-03-01 12:00"])
    result = plan_more(
        session, Actor("f", Role.FRONT_DESK), series, 1, start=date(2027, 3, 2), now=BEFORE
    )
    slot = result.sessions[0].slot
    assert slot is not None and slot.starts_at >= at("2027-03-03 12:00")


def test_plan_more_without_sessions_starts_today(
    session: Session, clinic: SchedulingClinic
) -> None:
    series = _series_with(session, clinic, "iv-booster", ["2027-03-01 08:00"])
    series.sessions[0].status = SessionStatus.CANCELLED
    session.flush()
    result = plan_more(session, Actor("f", Role.FRONT_DESK), series, 1, now=at("2027-03-08 07:00"))
    assert days_of(result) == [date(2027, 3, 8)] and result.first_number == 2


def test_plan_more_refuses_a_discontinued_series(
    session: Session, clinic: SchedulingClinic
) -> None:
    series = _series_with(session, clinic, "iv-induction", ["2027-03-01 12:00"])
    series.status = SeriesStatus.DISCONTINUED
    with pytest.raises(Conflict, match="discontinued"):
        plan_more(session, Actor("f", Role.FRONT_DESK), series, 1, now=BEFORE)


# ---------------------------------------------------------------------------------------
# Alternatives and find_slot
# ---------------------------------------------------------------------------------------


def test_alternatives_are_nearest_first_same_day_then_around(
    session: Session, clinic: SchedulingClinic
) -> None:
    other = other_patient(session, "Nowak")
    protocol = clinic.protocols["iv-induction"]
    for chair in clinic.iv_chairs:
        existing_session(session, other, protocol, chair, clinic.provider, at("2027-03-03 09:00"))
    ctx = _context(session, clinic, clinic.protocols["iv-induction"])
    found = alternatives(ctx, at("2027-03-03 09:00"), now=BEFORE)  # both IV chairs taken
    assert [f"{local(s):%a %H:%M}" for s in found] == ["Wed 10:15", "Wed 10:30", "Wed 10:45"]
    closed = alternatives(ctx, at("2027-03-06 09:00"), now=BEFORE)  # Saturday
    assert [f"{local(s):%a %H:%M}" for s in closed] == ["Fri 09:00", "Mon 09:00", "Thu 09:00"]


def test_alternatives_respect_bounds_and_now(session: Session, clinic: SchedulingClinic) -> None:
    ctx = _context(session, clinic, clinic.protocols["iv-induction"])
    found = alternatives(
        ctx, at("2027-03-03 09:00"), after=at("2027-03-03 12:00"), before=at("2027-03-04 12:00"),
        now=BEFORE,
    )  # fmt: skip
    assert found and all(
        at("2027-03-03 12:00") < s.starts_at < at("2027-03-04 12:00") for s in found
    )
    assert alternatives(ctx, at("2027-03-03 09:00"), now=at("2027-04-30 09:00")) == ()


def test_find_slot_is_the_first_valid_time_in_the_window(
    session: Session, clinic: SchedulingClinic
) -> None:
    ctx = _context(session, clinic, clinic.protocols["iv-induction"])
    slot = find_slot(ctx, MON, Preferences(earliest=time(11)), now=BEFORE)
    assert slot is not None and f"{local(slot):%H:%M}" == "11:00"
    assert find_slot(ctx, MON + timedelta(days=5), now=BEFORE) is None  # Saturday
    near = find_slot(ctx, MON, near=time(14, 20), now=BEFORE)
    assert near is not None and f"{local(near):%H:%M}" == "14:20"


# ---------------------------------------------------------------------------------------
# Gates in the plan, permissions, queries
# ---------------------------------------------------------------------------------------


def test_a_plan_with_blockers_still_lists_its_sessions(
    session: Session, clinic: SchedulingClinic
) -> None:
    clinic.patient.rems_enrolled_on = None
    result = plan(session, clinic, "esketamine-induction")
    assert result.blockers and "not enrolled in the Spravato REMS" in result.blockers[0]
    assert len(result.sessions) == 12 and not result.unplaced
    assert not result.bookable


def test_no_usable_chair_is_a_blocker(session: Session, clinic: SchedulingClinic) -> None:
    for chair in clinic.iv_chairs:
        chair.active = False
    result = plan(session, clinic, "iv-induction")
    assert "No chair at KetaDesk NYC can host IV infusion." in result.blockers
    assert len(result.unplaced) == 6


def test_planning_needs_the_schedule_view_permission(
    session: Session, clinic: SchedulingClinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.BILLING, frozenset())
    with pytest.raises(PermissionDenied):
        plan_series(
            session,
            Actor("b", Role.BILLING),
            clinic.patient,
            clinic.protocols["iv-induction"],
            clinic.location,
            MON,
            now=BEFORE,
        )


def test_the_number_of_queries_does_not_grow_with_the_candidates(
    session: Session, clinic: SchedulingClinic
) -> None:
    """All checks run in memory: a morning full of sessions, which turns down every
    candidate before 12:30, costs no more queries than an empty calendar."""
    plan(session, clinic, "esketamine-induction")  # loads what the fixture expired
    quiet = _count_queries(session, lambda: plan(session, clinic, "esketamine-induction"))
    other = other_patient(session, "Crowd")
    protocol = clinic.protocols["esketamine-induction"]
    for chair in clinic.esketamine_chairs:
        for when in ("2027-03-01 08:00", "2027-03-01 10:15"):
            existing_session(session, other, protocol, chair, clinic.provider, at(when))
    crowded: list[SeriesPlan] = []
    count = _count_queries(
        session, lambda: crowded.append(plan(session, clinic, "esketamine-induction"))
    )
    assert set(clocks_of(crowded[0])) == {"12:30"}
    assert count == quiet


# ---------------------------------------------------------------------------------------
# Test helpers
# ---------------------------------------------------------------------------------------


def _context(session: Session, clinic: SchedulingClinic, protocol: Protocol) -> PlanningContext:
    return load_context(
        session,
        clinic.patient,
        protocol,
        clinic.location,
        at("2027-02-01 00:00"),
        at("2027-05-01 00:00"),
    )


def _plan_custom(
    session: Session,
    clinic: SchedulingClinic,
    protocol: Protocol,
    start: date = MON,
    preferences: Preferences | None = None,
) -> SeriesPlan:
    return plan_series(
        session,
        Actor("a", Role.ADMIN),
        clinic.patient,
        protocol,
        clinic.location,
        start,
        preferences or Preferences(),
        now=at("2026-10-01 09:00"),
    )


def _count_queries(session: Session, work: Callable[[], object]) -> int:
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count
