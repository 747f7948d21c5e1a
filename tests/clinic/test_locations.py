"""Location services on SQLite and PostgreSQL: the record, opening hours, closures, holidays."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, time
from typing import Any

import pytest
from builders import VALID_NPIS, add_location
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic import locations, validation
from ketadesk.clinic.locations import Interval, PublicHoliday, closed_reason, parse_hours
from ketadesk.clinic.models import Location, OpeningHours
from ketadesk.errors import InvalidValue, NotFound, PermissionDenied, ValidationError

WEEK = "mon-fri 08:00-18:00; sat 09:00-13:00"
THANKSGIVING = date(2026, 11, 26)
A_SUNDAY = date(2026, 3, 1)
A_MONDAY = date(2026, 3, 2)


def location_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "code": "nyc", "name": "KetaDesk  Midtown", "address_line1": "1 Main St",
        "city": "New York", "state": "ny", "zip_code": "10001", "phone": "(212) 555-0142",
        "npi": VALID_NPIS[1], "tin": "12-3456789", "time_zone": "america/new_york",
    }
    raw.update(overrides)
    return raw


def audit_rows(session: Session, entity: str) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    return session.scalars(query).all()


def hours(text: str) -> list[Interval]:
    return parse_hours(text)


@pytest.fixture
def clinic(session: Session, admin: Actor) -> Location:
    """A New York location open on weekdays and Saturday mornings."""
    location = add_location(session, "NYC")
    locations.set_hours(session, admin, location.id, hours(WEEK))
    return location


# --- the record ------------------------------------------------------------------------


def test_create_stores_normalized_values_and_defaults(session: Session, admin: Actor) -> None:
    location = locations.create_location(session, admin, location_raw(observe_holidays="no"))
    assert location.code == "NYC"
    assert location.name == "KetaDesk Midtown"
    assert (location.state, location.phone, location.tin) == ("NY", "2125550142", "123456789")
    assert location.time_zone == "America/New_York"
    assert location.pos_code == "11"
    assert location.observe_holidays is False
    assert location.active is True
    [row] = audit_rows(session, "location")
    assert (row.action, row.entity_id, row.actor) == ("create", str(location.id), "test-admin")
    assert row.after is not None and row.after["code"] == "NYC"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("code", "N", "'N' is not a location code; expected 2 to 12 letters or digits"),
    ("code", "NY-1", "'NY-1' is not a location code"),
    ("code", "ABCDEFGHIJKLM", "is not a location code"),
    ("name", "", "is required"),
    ("name", "x" * 121, "is 121 characters long; at most 120 fit"),
    ("address_line1", " ", "is required"),
    ("city", "", "is required"),
    ("state", "ZZ", "ZZ is not a US state or territory"),
    ("zip_code", "1000", "1000 is not a ZIP code"),
    ("phone", "555-0142", "has 7 digits"),
    ("pos_code", "99", "99 is not a place of service KetaDesk bills"),
    ("npi", "1234567890", "fails the NPI check digit"),
    ("tin", "11-1111111", "repeats one digit"),
    ("time_zone", "Mars/Olympus", "Mars/Olympus is not an IANA time zone"),
    ("time_zone", "", "is required"),
    ("observe_holidays", "maybe", "'maybe' is not yes or no"),
])
def test_each_rule_has_its_message(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        locations.clean_location(location_raw(**{field: value}))
    [problem] = caught.value.problems
    assert problem.field == field
    assert message in problem.message


def test_every_problem_is_reported_at_once(session: Session, admin: Actor) -> None:
    add_location(session, "NYC", name="Uptown")
    raw = location_raw(code="nyc", npi="123", zip_code="x", extra="1")
    with pytest.raises(ValidationError) as caught:
        locations.create_location(session, admin, raw)
    assert {p.field for p in caught.value.problems} == {"code", "npi", "zip_code", "extra"}
    assert caught.value.for_field("code") == ["Uptown already uses code NYC; choose another"]
    assert caught.value.for_field("extra") == ["is not a location field"]
    assert session.scalar(select(Location.id).where(Location.name == "KetaDesk Midtown")) is None
    assert audit_rows(session, "location") == []


@pytest.mark.parametrize(("value", "expected"), [
    ("yes", True), ("No", False), ("TRUE", True), ("false", False), ("1", True), ("0", False),
    (" on ", True), ("off", False), (True, True), (False, False), (1, True), (0, False),
])
def test_parse_flag(value: bool | int | str, expected: bool) -> None:
    assert validation.parse_flag(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", 2, "yess"])
def test_parse_flag_refuses_other_values(value: int | str) -> None:
    with pytest.raises(InvalidValue, match="is not yes or no"):
        validation.parse_flag(value)


def test_time_zone_is_checked_and_spelled_canonically(session: Session, admin: Actor) -> None:
    # Honolulu keeps no daylight saving: the zone only has to be a real IANA name.
    location = locations.create_location(
        session, admin, location_raw(code="HNL", state="hawaii", time_zone="pacific/honolulu"))
    assert (location.state, location.time_zone) == ("HI", "Pacific/Honolulu")
    with pytest.raises(ValidationError, match="time_zone: Hawaii/Honolulu is not an IANA"):
        locations.update_location(session, admin, location.id,
                                  {**locations.location_values(location),
                                   "time_zone": "Hawaii/Honolulu"})


def test_update_is_audited_with_only_what_changed(session: Session, admin: Actor) -> None:
    location = locations.create_location(session, admin, location_raw())
    values = locations.location_values(location)
    locations.update_location(session, admin, location.id, values)  # no change: no row
    locations.update_location(session, admin, location.id,
                              {**values, "city": "Brooklyn", "pos_code": "49", "code": "bkn"})
    rows = audit_rows(session, "location")
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].before == {"code": "NYC", "city": "New York", "pos_code": "11"}
    assert rows[1].after == {"code": "BKN", "city": "Brooklyn", "pos_code": "49"}


def test_update_refuses_another_locations_code(session: Session, admin: Actor) -> None:
    add_location(session, "BOS", name="Boston")
    location = locations.create_location(session, admin, location_raw())
    values = locations.location_values(location)
    locations.update_location(session, admin, location.id, values)  # its own code is fine
    with pytest.raises(ValidationError, match="code: Boston already uses code BOS"):
        locations.update_location(session, admin, location.id, {**values, "code": "bos"})
    assert location.code == "NYC"


def test_deactivate_hides_from_list_and_is_audited(session: Session, admin: Actor) -> None:
    boston = add_location(session, "BOS")
    add_location(session, "ALB")
    locations.set_location_active(session, admin, boston.id, False)
    locations.set_location_active(session, admin, boston.id, False)  # already: no row
    assert [loc.code for loc in locations.list_locations(session, admin)] == ["ALB"]
    everyone = locations.list_locations(session, admin, include_inactive=True)
    assert [loc.code for loc in everyone] == ["ALB", "BOS"]
    [row] = audit_rows(session, "location")
    assert (row.before, row.after) == ({"active": True}, {"active": False})


def test_get_location_by_code_or_id(session: Session) -> None:
    location = add_location(session, "BOS")
    assert locations.get_location(session, " bos ") is location
    assert locations.get_location(session, location.id) is location
    assert locations.get_location(session, str(location.id)) is location
    with pytest.raises(NotFound, match=r"^There is no location with code XYZ\.$"):
        locations.get_location(session, "xyz")
    with pytest.raises(NotFound, match=r"^There is no location with id 9999\.$"):
        locations.get_location(session, 9999)


def _writes(location_id: int) -> list[Callable[[Session, Actor], object]]:
    return [
        lambda s, a: locations.create_location(s, a, location_raw(code="ALB")),
        lambda s, a: locations.update_location(s, a, location_id, location_raw()),
        lambda s, a: locations.set_location_active(s, a, location_id, False),
        lambda s, a: locations.set_hours(s, a, location_id, hours("mon 9-17")),
        lambda s, a: locations.add_closure(s, a, location_id, A_MONDAY, A_MONDAY, "flood"),
        lambda s, a: locations.set_holiday_worked(s, a, location_id, "Labor Day", True),
    ]


def test_front_desk_may_read_but_not_change(
    session: Session, front_desk: Actor, admin: Actor,
) -> None:
    location = add_location(session, "NYC")
    refused = r"test-front \(Front desk\) may not change clinic setup"
    for write in _writes(location.id):
        with pytest.raises(PermissionDenied, match=refused):
            write(session, front_desk)
    closure = locations.add_closure(session, admin, location.id, A_MONDAY, A_MONDAY, "flood")
    with pytest.raises(PermissionDenied):
        locations.remove_closure(session, front_desk, closure.id)
    assert [loc.code for loc in locations.list_locations(session, front_desk)] == ["NYC"]
    assert [r.actor for r in audit_rows(session, "closure")] == ["test-admin"]


def test_admin_may_change_everything(session: Session, admin: Actor) -> None:
    location = add_location(session, "NYC")
    for write in _writes(location.id):
        write(session, admin)
    assert location.active is False
    assert location.name == "KetaDesk Midtown"
    assert [r.action for r in audit_rows(session, "location")] == ["create"] + ["update"] * 4
    assert [r.action for r in audit_rows(session, "closure")] == ["create"]


# --- opening hours ----------------------------------------------------------------------


def test_parse_hours_reads_compact_weekly_text() -> None:
    assert parse_hours("Mon 8:00-12:00, 13:00-17:00") == [
        Interval(0, time(8), time(12)), Interval(0, time(13), time(17))]
    week = parse_hours(WEEK)
    assert [iv.weekday for iv in week] == [0, 1, 2, 3, 4, 5]
    assert week[5] == Interval(5, time(9), time(13))
    assert parse_hours("tue, thu 8am-6:30pm\nsun closed") == [
        Interval(1, time(8), time(18, 30)), Interval(3, time(8), time(18, 30))]
    assert parse_hours("weekends 9 to 12") == parse_hours("sat-sun 09:00-12:00")
    assert parse_hours("  ") == []


@pytest.mark.parametrize(("text", "expected"), [
    (WEEK, "Mon-Fri 08:00-18:00; Sat 09:00-13:00"),
    ("mon 8-12, 13-17; wed 8-12, 13-17; fri 9-17",
     "Mon, Wed 08:00-12:00, 13:00-17:00; Fri 09:00-17:00"),
    ("daily 07:30-19:00", "Mon-Sun 07:30-19:00"),
    ("sat-mon 10-11", "Mon, Sat-Sun 10:00-11:00"),
    ("", ""),
])
def test_format_hours_is_canonical_and_round_trips(text: str, expected: str) -> None:
    formatted = locations.format_hours(parse_hours(text))
    assert formatted == expected
    assert parse_hours(formatted) == parse_hours(text)


_minutes = st.integers(min_value=0, max_value=24 * 60 - 1)


@st.composite
def weeks(draw: st.DrawFn) -> list[Interval]:
    """Random valid weeks: per day, sorted distinct minute marks paired into intervals."""
    intervals = []
    for day in range(7):
        marks = sorted(draw(st.sets(_minutes, max_size=6)))
        for opens, closes in zip(marks[::2], marks[1::2], strict=False):
            intervals.append(Interval(day, time(*divmod(opens, 60)), time(*divmod(closes, 60))))
    return intervals


@settings(max_examples=60, deadline=None)
@given(weeks())
def test_any_valid_week_round_trips(week: list[Interval]) -> None:
    assert parse_hours(locations.format_hours(week)) == sorted(week)


@pytest.mark.parametrize(("text", "message"), [
    ("8-9", "'8-9' does not start with a day"),
    ("xyz 8-9", "'xyz' in 'xyz 8-9' is not a day of the week"),
    ("mon 8-", "'8-' in 'mon 8-' is not a time range"),
    ("mon", "'mon' has no opening times"),
    ("mon 25:00-26:00", "'25:00-26:00' is not a time of day"),
    ("mon 13pm-2pm", "has hour 13 with am/pm"),
    ("tue 18:00-08:00",
     "Tuesday: opens at 18:00 but closes at 08:00; the closing time must be later"),
    ("wed 9-9", "Wednesday: opens at 09:00 but closes at 09:00"),
    ("fri 8-12, 11-13", "Friday: 11:00-13:00 overlaps 08:00-12:00"),
    ("sat 8-18; sat 9-10", "Saturday: 09:00-10:00 overlaps 08:00-18:00"),
])
def test_parse_hours_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_hours(text)
    assert message in str(caught.value)


def test_touching_intervals_do_not_overlap() -> None:
    assert len(parse_hours("mon 8-12, 12-17")) == 2


def test_set_hours_replaces_all_rows_and_is_audited(session: Session, admin: Actor) -> None:
    location = add_location(session, "NYC")
    locations.set_hours(session, admin, location.id, hours(WEEK))
    locations.set_hours(session, admin, location.id, hours("tue 10-14"))
    locations.set_hours(session, admin, location.id, hours("tue 10-14"))  # same: no row
    rows = session.scalars(select(OpeningHours).where(OpeningHours.location_id == location.id))
    assert [(h.weekday, h.opens, h.closes) for h in rows] == [(1, time(10), time(14))]
    audited = audit_rows(session, "location")
    assert [(r.before, r.after) for r in audited] == [
        ({"hours": ""}, {"hours": "Mon-Fri 08:00-18:00; Sat 09:00-13:00"}),
        ({"hours": "Mon-Fri 08:00-18:00; Sat 09:00-13:00"}, {"hours": "Tue 10:00-14:00"}),
    ]


def test_set_hours_refuses_overlaps_and_reversed_intervals(clinic: Location, session: Session,
                                                           admin: Actor) -> None:
    bad = [Interval(0, time(8), time(12)), Interval(0, time(11), time(14)),
           Interval(2, time(17), time(9)), Interval(7, time(8), time(9))]
    with pytest.raises(ValidationError) as caught:
        locations.set_hours(session, admin, clinic.id, bad)
    assert caught.value.for_field("hours") == [
        "Wednesday: opens at 17:00 but closes at 09:00; the closing time must be later",
        "7 is not a weekday (0 = Monday … 6 = Sunday)",
        "Monday: 11:00-14:00 overlaps 08:00-12:00",
    ]
    assert locations.format_hours(Interval(h.weekday, h.opens, h.closes) for h in clinic.hours) \
        == "Mon-Fri 08:00-18:00; Sat 09:00-13:00"


# --- closures ---------------------------------------------------------------------------


def test_closure_closes_the_days_and_is_audited(clinic: Location, session: Session,
                                                admin: Actor) -> None:
    closure = locations.add_closure(session, admin, clinic.id, date(2026, 3, 2), "2026-03-03",
                                    " staff  training ")
    assert closure.reason == "staff training"
    assert closed_reason(clinic, date(2026, 3, 2)) == "Closed: staff training"
    assert closed_reason(clinic, date(2026, 3, 3)) == "Closed: staff training"
    assert closed_reason(clinic, date(2026, 3, 4)) is None
    [row] = audit_rows(session, "closure")
    assert row.action == "create"
    assert row.after is not None
    assert (row.after["first_day"], row.after["last_day"]) == ("2026-03-02", "2026-03-03")


def test_overlapping_closure_is_refused_naming_the_other(clinic: Location, session: Session,
                                                         admin: Actor) -> None:
    locations.add_closure(session, admin, clinic.id, date(2026, 3, 2), date(2026, 3, 3),
                          "staff training")
    with pytest.raises(ValidationError) as caught:
        locations.add_closure(session, admin, clinic.id, date(2026, 3, 3), date(2026, 3, 5),
                              "repairs")
    assert caught.value.for_field("first_day") == [
        "2026-03-03 to 2026-03-05 overlaps the closure for 'staff training' "
        "(2026-03-02 to 2026-03-03); change or remove that one first"]
    assert len(clinic.closures) == 1


def test_closure_rules_are_reported_together(clinic: Location, session: Session,
                                             admin: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        locations.add_closure(session, admin, clinic.id, date(2026, 3, 5), date(2026, 3, 2), " ")
    assert caught.value.for_field("reason") == ["is required"]
    assert caught.value.for_field("last_day") == [
        "2026-03-02 is before the first day 2026-03-05; a closure ends on or after the day "
        "it starts"]
    with pytest.raises(ValidationError, match="first_day: 31/12/2026 has month 31"):
        locations.add_closure(session, admin, clinic.id, "31/12/2026", "2027-01-02", "x")
    assert audit_rows(session, "closure") == []


def test_remove_closure_reopens_and_is_audited(clinic: Location, session: Session,
                                               admin: Actor) -> None:
    closure = locations.add_closure(session, admin, clinic.id, A_MONDAY, A_MONDAY, "flood")
    closure_id = closure.id
    locations.remove_closure(session, admin, closure_id)
    assert closed_reason(clinic, A_MONDAY) is None
    rows = audit_rows(session, "closure")
    assert [r.action for r in rows] == ["create", "delete"]
    assert rows[1].before is not None and rows[1].before["reason"] == "flood"
    with pytest.raises(NotFound, match=f"There is no closure with id {closure_id}."):
        locations.remove_closure(session, admin, closure_id)


# --- public holidays and closed_reason --------------------------------------------------

NEW_YORK_2026 = [
    (date(2026, 1, 1), "New Year's Day"),
    (date(2026, 1, 19), "Martin Luther King Jr. Day"),
    (date(2026, 2, 12), "Lincoln's Birthday"),
    (date(2026, 2, 15), "Susan B. Anthony Day"),
    (date(2026, 2, 16), "Washington's Birthday"),
    (date(2026, 5, 25), "Memorial Day"),
    (date(2026, 6, 19), "Juneteenth National Independence Day"),
    (date(2026, 7, 3), "Independence Day (observed)"),
    (date(2026, 7, 4), "Independence Day"),
    (date(2026, 9, 7), "Labor Day"),
    (date(2026, 10, 12), "Columbus Day"),
    (date(2026, 11, 3), "Election Day"),
    (date(2026, 11, 11), "Veterans Day"),
    (THANKSGIVING, "Thanksgiving Day"),
    (date(2026, 12, 25), "Christmas Day"),
]


def test_new_york_holidays_2026(clinic: Location) -> None:
    found = locations.public_holidays(clinic, 2026)
    assert [(h.day, h.name) for h in found] == NEW_YORK_2026
    assert all(h.observed for h in found)
    assert closed_reason(clinic, THANKSGIVING) == "Thanksgiving Day (public holiday)"
    assert locations.hours_on(clinic, THANKSGIVING) == []


def test_two_holidays_on_one_day_are_both_listed(clinic: Location) -> None:
    on_day = [h.name for h in locations.public_holidays(clinic, 2027) if h.day == date(2027, 2, 15)]
    assert on_day == ["Susan B. Anthony Day", "Washington's Birthday"]
    assert closed_reason(clinic, date(2027, 2, 15)) == (
        "Susan B. Anthony Day and Washington's Birthday (public holiday)")


def test_unknown_state_falls_back_to_federal_holidays(session: Session) -> None:
    odd = add_location(session, "ODD", state="XX")  # bypasses validation on purpose
    names = {h.name for h in locations.public_holidays(odd, 2026)}
    assert "Thanksgiving Day" in names
    assert "Lincoln's Birthday" not in names  # New York's own


def test_switching_a_holiday_off_opens_that_day(clinic: Location, session: Session,
                                                admin: Actor) -> None:
    locations.set_holiday_worked(session, admin, clinic.id, "thanksgiving day", True)
    assert closed_reason(clinic, THANKSGIVING) is None
    assert locations.hours_on(clinic, THANKSGIVING) == [Interval(3, time(8), time(18))]
    assert PublicHoliday(THANKSGIVING, "Thanksgiving Day", False) in \
        locations.public_holidays(clinic, 2026)
    locations.set_holiday_worked(session, admin, clinic.id, "Thanksgiving Day", True)  # no-op
    locations.set_holiday_worked(session, admin, clinic.id, "Thanksgiving Day", False)
    assert closed_reason(clinic, THANKSGIVING) == "Thanksgiving Day (public holiday)"
    rows = audit_rows(session, "location")[-2:]
    assert [(r.before, r.after) for r in rows] == [
        ({"holidays_worked": []}, {"holidays_worked": ["Thanksgiving Day"]}),
        ({"holidays_worked": ["Thanksgiving Day"]}, {"holidays_worked": []}),
    ]


def test_working_a_holiday_also_works_its_observed_day(clinic: Location, session: Session,
                                                       admin: Actor) -> None:
    assert closed_reason(clinic, date(2026, 7, 3)) == "Independence Day (observed) (public holiday)"
    locations.set_holiday_worked(session, admin, clinic.id, "Independence Day (observed)", True)
    assert closed_reason(clinic, date(2026, 7, 3)) is None
    assert [h.holiday_name for h in clinic.holidays_worked] == ["Independence Day"]


def test_unknown_holiday_name_is_refused(clinic: Location, session: Session, admin: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        locations.set_holiday_worked(session, admin, clinic.id, "Boxing Day", True)
    [message] = caught.value.for_field("holiday_name")
    assert message.startswith("'Boxing Day' is not a public holiday in NY in ")
    assert "Thanksgiving Day" in message
    assert clinic.holidays_worked == []


def test_location_not_observing_holidays_is_open_on_them(clinic: Location) -> None:
    clinic.observe_holidays = False
    assert closed_reason(clinic, THANKSGIVING) is None
    assert not any(h.observed for h in locations.public_holidays(clinic, 2026))


def test_closed_reason_for_days_without_hours(clinic: Location, session: Session) -> None:
    assert A_SUNDAY.weekday() == 6
    assert closed_reason(clinic, A_SUNDAY) == "Closed on Sundays"
    assert closed_reason(clinic, A_MONDAY) is None
    assert locations.hours_on(clinic, A_MONDAY) == [Interval(0, time(8), time(18))]
    bare = add_location(session, "NEW")
    assert closed_reason(bare, A_MONDAY) == "Closed: no opening hours are set"


def test_closure_wins_over_holiday(clinic: Location, session: Session, admin: Actor) -> None:
    locations.add_closure(session, admin, clinic.id, date(2026, 11, 23), date(2026, 11, 27),
                          "Thanksgiving week")
    assert closed_reason(clinic, THANKSGIVING) == "Closed: Thanksgiving week"


# --- the location as plain rows (read_openings) -------------------------------------------


def test_read_openings_answers_as_the_mapped_location(clinic: Location, session: Session,
                                                      admin: Actor) -> None:
    locations.set_hours(session, admin, clinic.id,
                        parse_hours("mon-fri 08:00-12:00, 13:00-18:00; sat 09:00-13:00"))
    locations.add_closure(session, admin, clinic.id, date(2026, 11, 9), date(2026, 11, 10),
                          "Floor repairs")
    locations.set_holiday_worked(session, admin, clinic.id, "Veterans Day", True)
    read = locations.read_openings(session, clinic.id)
    assert read is not None
    assert (read.id, read.code, read.name, read.time_zone, read.state, read.observe_holidays) == (
        clinic.id, clinic.code, clinic.name, clinic.time_zone, clinic.state, True)
    november = [date(2026, 11, day) for day in range(1, 31)]
    assert [(closed_reason(read, d), locations.hours_on(read, d)) for d in november] == [
        (closed_reason(clinic, d), locations.hours_on(clinic, d)) for d in november]
    assert closed_reason(read, date(2026, 11, 11)) is None  # Veterans Day, worked
    assert locations.hours_on(read, date(2026, 11, 2)) == [Interval(0, time(8), time(12)),
                                                           Interval(0, time(13), time(18))]


def test_read_openings_of_a_location_without_hours_or_of_none(session: Session) -> None:
    bare = add_location(session, "NEW")
    read = locations.read_openings(session, bare.id)
    assert read is not None and read.hours == () and read.closures == ()
    assert closed_reason(read, A_MONDAY) == "Closed: no opening hours are set"
    assert locations.read_openings(session, bare.id + 1000) is None
