"""Editing protocols on SQLite and PostgreSQL: every field rule, the database checks, audit.

Each rule between fields has a test that breaks exactly that rule and checks the problem
lands on the field a person would fix; the database tests show which edits stay possible
once a series follows a protocol, and that booked sessions never change with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.models import Modality
from ketadesk.errors import NotFound, PermissionDenied, StaleEdit, ValidationError
from ketadesk.scheduling import protocol_editing as editing
from ketadesk.scheduling.models import Phase, Protocol, Series, TreatmentSession
from ketadesk.scheduling.protocols import default_protocols, list_protocols

MANAGER = Actor(username="maria", role=Role.MANAGER)


def protocol_raw(**overrides: Any) -> dict[str, Any]:
    """A clinic's own protocol as typed into the form: eight weekly IV infusions."""
    raw: dict[str, Any] = {
        "name": " IV  weekly ",
        "key": " IV-Weekly ",
        "modality": "IV infusion",
        "phase": "Induction",
        "session_count": "8",
        "weekly_pattern": "1, 1, 1, 1, 1, 1, 1, 1",
        "interval_weeks": "",
        "min_hours_between": "72",
        "max_gap_days": "10",
        "max_span_days": "60",
        "treatment_minutes": "40",
        "monitoring_minutes": "30",
        "fasting_food_hours": "6",
        "fasting_drink_minutes": "120",
        "services": "96365, j3490, 96365",
        "description": "  Weekly infusions.\nReassess after 8.  ",
    }
    raw.update(overrides)
    return raw


def problems(raw: dict[str, Any]) -> dict[str, list[str]]:
    """Each field's problems when ``raw`` is cleaned (empty when it is fine)."""
    try:
        editing.clean_protocol(raw)
    except ValidationError as error:
        found: dict[str, list[str]] = {}
        for problem in error.problems:
            found.setdefault(problem.field, []).append(problem.message)
        return found
    return {}


def audit_rows(session: Session) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.entity == "protocol").order_by(AuditEntry.id)
    return session.scalars(query).all()


def start_series(session: Session, clinic: SchedulingClinic, key: str) -> TreatmentSession:
    """A series of protocol ``key`` with its first session booked on 7 December 2026."""
    protocol = clinic.protocols[key]
    series = Series(
        patient_id=clinic.patient.id, protocol_id=protocol.id, location_id=clinic.location.id
    )
    session.add(series)
    session.flush()
    starts = at("2026-12-07 09:00")
    booked = TreatmentSession(
        series_id=series.id,
        number=1,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        chair_id=clinic.iv_chairs[0].id,
        provider_id=clinic.provider.id,
        modality=protocol.modality,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=protocol.chair_minutes),
    )
    session.add(booked)
    session.flush()
    return booked


# -- cleaning one protocol ----------------------------------------------------------------------


def test_clean_normalises_what_was_typed() -> None:
    clean = editing.clean_protocol(protocol_raw())
    assert clean == {
        "name": "IV weekly",
        "key": "iv-weekly",
        "modality": Modality.IV,
        "phase": Phase.INDUCTION,
        "session_count": 8,
        "weekly_pattern": "1,1,1,1,1,1,1,1",
        "interval_weeks": "",
        "min_hours_between": 72,
        "max_gap_days": 10,
        "max_span_days": 60,
        "treatment_minutes": 40,
        "monitoring_minutes": 30,
        "fasting_food_hours": 6,
        "fasting_drink_minutes": 120,
        "services": "96365,J3490",
        "description": "Weekly infusions.\nReassess after 8.",
        "active": True,
    }


def test_optional_numbers_left_blank_take_their_defaults() -> None:
    clean = editing.clean_protocol(
        protocol_raw(
            min_hours_between="",
            max_gap_days="",
            max_span_days="",
            monitoring_minutes="",
            fasting_food_hours="",
            fasting_drink_minutes="",
            services="",
            description="",
        )
    )
    assert (clean["min_hours_between"], clean["monitoring_minutes"]) == (0, 0)
    assert (clean["max_gap_days"], clean["max_span_days"]) == (None, None)
    assert (clean["fasting_food_hours"], clean["services"], clean["description"]) == (0, "", "")


@pytest.mark.parametrize("key", sorted(default_protocols()))
def test_every_shipped_protocol_passes_the_editing_rules(key: str) -> None:
    shipped = dict(default_protocols()[key])
    clean = editing.clean_protocol({**shipped, "key": key})
    assert {name: clean[name] for name in shipped} == shipped


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        protocol_raw(
            key="IV weekly!", treatment_minutes="", services="96365, 1234, ZZZ", colour="red"
        )
    )
    assert sorted(found) == ["colour", "key", "services", "treatment_minutes"]
    assert found["colour"] == ["is not a protocol field"]
    assert found["treatment_minutes"] == ["is required"]
    assert "is not a protocol key" in found["key"][0]
    assert "1234 is neither a CPT code" in found["services"][0]
    assert "ZZZ is neither a CPT code" in found["services"][0]  # both bad codes named


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("key", "a", "a has 1 characters; a key has 2 to 40"),
        ("key", "iv--weekly", "is not a protocol key"),
        ("modality", "laser", "'laser' is not a treatment; expected one of iv, im, esketamine"),
        ("phase", "taper", "'taper' is not a phase; expected one of induction, maintenance"),
        ("session_count", "0", "0 sessions is outside 1 to 200 sessions"),
        ("session_count", "six", "'six' is not a whole number"),
        ("weekly_pattern", "2,0,1", "0 is outside 1 to 7"),
        ("weekly_pattern", "2,x", "'x' is not a whole number"),
        ("min_hours_between", "-4", "'-4' is not a whole number"),
        ("treatment_minutes", "601", "601 minutes is outside 1 to 600 minutes"),
        ("fasting_food_hours", "25", "25 hours is outside 0 to 24 hours"),
    ],
)
def test_single_values_are_checked(field: str, value: str, message: str) -> None:
    [text] = problems(protocol_raw(**{field: value}))[field]
    assert message in text


def test_whole_numbers_refuse_a_bool_as_a_bug() -> None:
    with pytest.raises(TypeError):
        editing.clean_protocol(protocol_raw(treatment_minutes=True))


def test_interval_choices_keep_their_order_and_drop_repeats() -> None:
    clean = editing.clean_protocol(
        protocol_raw(session_count="", weekly_pattern="", interval_weeks="4, 2, 4, 6")
    )
    assert (clean["session_count"], clean["interval_weeks"]) == (None, "4,2,6")


# -- rules between fields -----------------------------------------------------------------------


def test_a_weekly_pattern_must_add_up_to_the_session_count() -> None:
    found = problems(protocol_raw(session_count="6", weekly_pattern="2,2,1"))
    assert found == {
        "weekly_pattern": ["adds up to 5 sessions but the protocol has 6; make them agree"]
    }


def test_a_weekly_pattern_needs_a_session_count() -> None:
    found = problems(protocol_raw(session_count="", weekly_pattern="2,2,1"))
    assert found == {
        "session_count": [
            "is needed with a weekly pattern: 2,2,1 adds up to 5; enter 5, or clear the "
            "pattern for an open-ended protocol"
        ]
    }


def test_an_open_ended_protocol_needs_interval_choices() -> None:
    found = problems(protocol_raw(session_count="", weekly_pattern="", interval_weeks=""))
    assert list(found) == ["interval_weeks"]
    assert found["interval_weeks"][0].startswith("is required when the number of sessions")


def test_a_counted_protocol_may_go_without_pattern_or_intervals() -> None:
    assert problems(protocol_raw(weekly_pattern="", interval_weeks="")) == {}


def test_interval_choices_cannot_join_a_weekly_pattern() -> None:
    found = problems(protocol_raw(interval_weeks="1,2"))
    assert found == {
        "interval_weeks": ["cannot be combined with a weekly pattern; clear one of the two"]
    }


def test_a_week_cannot_hold_more_sessions_than_the_spacing_allows() -> None:
    three_a_week = protocol_raw(session_count="6", weekly_pattern="3,3", max_span_days="")
    assert problems({**three_a_week, "min_hours_between": "72"}) == {}  # Mon, Thu, Sun
    found = problems({**three_a_week, "min_hours_between": "73"})
    assert found == {
        "weekly_pattern": [
            "puts 3 sessions in one week, but at least 73 hours apart only 2 fit in a week"
        ]
    }


def test_the_longest_gap_cannot_be_shorter_than_the_spacing() -> None:
    assert problems(protocol_raw(min_hours_between="72", max_gap_days="3")) == {}
    found = problems(protocol_raw(min_hours_between="73", max_gap_days="3"))
    assert found == {
        "max_gap_days": ["3 days is shorter than the minimum of 73 hours between doses"]
    }


def test_the_series_must_have_room_for_its_sessions_at_their_spacing() -> None:
    # 8 sessions, 72 hours apart: 7 gaps of 3 days.
    assert problems(protocol_raw(max_span_days="21")) == {}
    found = problems(protocol_raw(max_span_days="20"))
    assert found == {
        "max_span_days": [
            "20 days is too short: 8 sessions at least 72 hours apart take at least 21 days"
        ]
    }


def test_esketamine_needs_two_hours_of_monitoring() -> None:
    nasal = protocol_raw(modality="esketamine", monitoring_minutes="119")
    [message] = problems(nasal)["monitoring_minutes"]
    assert message == (
        "119 minutes is too short: the Spravato REMS requires at least 120 minutes of "
        "monitoring after esketamine"
    )
    assert problems({**nasal, "monitoring_minutes": ""})["monitoring_minutes"]  # blank is 0
    assert problems({**nasal, "monitoring_minutes": "120"}) == {}
    assert problems(protocol_raw(modality="iv", monitoring_minutes="30")) == {}


# -- creating, with the database's checks ------------------------------------------------------


def test_create_stores_the_clean_protocol_and_audits_it(session: Session) -> None:
    protocol = editing.create_protocol(session, MANAGER, protocol_raw())
    assert (protocol.key, protocol.name, protocol.chair_minutes) == ("iv-weekly", "IV weekly", 70)
    assert protocol.service_codes == ["96365", "J3490"]
    [row] = audit_rows(session)
    assert (row.action, row.actor, row.entity_id) == ("create", "maria", str(protocol.id))
    assert row.after is not None and row.after["key"] == "iv-weekly"


def test_values_for_the_editor_clean_back_to_the_same_protocol(session: Session) -> None:
    protocol = editing.create_protocol(session, MANAGER, protocol_raw())
    values = editing.protocol_values(protocol)
    assert set(values) == set(editing.PROTOCOL_FIELDS)
    assert editing.clean_protocol(values) == editing.clean_protocol(protocol_raw())


def test_a_key_and_a_name_are_each_used_once(session: Session, admin: Actor) -> None:
    scheduling_clinic(session, admin)
    with pytest.raises(ValidationError) as caught:
        editing.create_protocol(
            session, MANAGER, protocol_raw(key="IV-Induction", name="iv ketamine INDUCTION")
        )
    assert caught.value.for_field("key") == [
        "IV ketamine induction already uses the key iv-induction; choose another"
    ]
    assert caught.value.for_field("name") == [
        "another protocol (iv-induction) is called IV ketamine induction"
    ]


def test_only_those_who_may_edit_protocols_write_them(
    session: Session, front_desk: Actor, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    protocol_id = clinic.protocols["kap"].id
    with pytest.raises(PermissionDenied, match="may not edit treatment protocols"):
        editing.create_protocol(session, front_desk, protocol_raw())
    with pytest.raises(PermissionDenied):
        editing.update_protocol(session, front_desk, protocol_id, protocol_raw())
    with pytest.raises(PermissionDenied):
        editing.set_protocol_active(session, front_desk, protocol_id, False)
    assert session.scalars(select(Protocol).where(Protocol.key == "iv-weekly")).all() == []
    assert clinic.protocols["kap"].active


# -- editing ---------------------------------------------------------------------------------------


def test_an_edit_is_saved_and_audits_only_what_changed(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    protocol = clinic.protocols["iv-induction"]
    values = {**editing.protocol_values(protocol), "treatment_minutes": "50"}
    editing.update_protocol(session, MANAGER, protocol.id, values, expected_version=1)
    assert (protocol.treatment_minutes, protocol.chair_minutes, protocol.version) == (50, 80, 2)
    row = audit_rows(session)[-1]
    assert (row.action, row.before, row.after) == (
        "update",
        {"treatment_minutes": 40, "version": 1},
        {"treatment_minutes": 50, "version": 2},
    )
    editing.update_protocol(session, MANAGER, protocol.id, editing.protocol_values(protocol))
    assert audit_rows(session)[-1].id == row.id  # nothing changed: no row


def test_an_edit_never_rewrites_a_booked_session(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    booked = start_series(session, clinic, "iv-induction")
    ends_at = booked.ends_at
    protocol = clinic.protocols["iv-induction"]
    values = {**editing.protocol_values(protocol), "treatment_minutes": "60"}
    editing.update_protocol(session, MANAGER, protocol.id, values)
    session.expire_all()
    assert protocol.chair_minutes == 90
    assert (booked.ends_at, booked.starts_at + timedelta(minutes=70)) == (ends_at, ends_at)


def test_the_key_can_change_until_a_series_follows_the_protocol(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    protocol = clinic.protocols["iv-induction"]
    renamed = {**editing.protocol_values(protocol), "key": "iv-six"}
    editing.update_protocol(session, MANAGER, protocol.id, renamed)
    assert protocol.key == "iv-six"
    assert editing.series_using(session, protocol.id) == 0

    start_series(session, clinic, "iv-induction")
    assert editing.series_using(session, protocol.id) == 1
    with pytest.raises(ValidationError) as caught:
        editing.update_protocol(
            session, MANAGER, protocol.id, {**renamed, "key": "iv-6", "modality": "im"}
        )
    assert caught.value.for_field("key") == [
        "cannot change: 1 series follows this protocol, and sessions and scripts name it iv-six"
    ]
    assert caught.value.for_field("modality") == [
        "cannot change: 1 series follows this protocol; add a new protocol for IM injection instead"
    ]
    # Everything else stays editable for the series to come.
    editing.update_protocol(session, MANAGER, protocol.id, {**renamed, "max_gap_days": "8"})
    assert (protocol.key, protocol.modality, protocol.max_gap_days) == ("iv-six", Modality.IV, 8)


def test_an_edit_of_a_stale_copy_is_refused(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    protocol = clinic.protocols["kap"]
    values = editing.protocol_values(protocol)
    editing.update_protocol(session, MANAGER, protocol.id, {**values, "treatment_minutes": "80"})
    with pytest.raises(StaleEdit, match="changed by someone else after you opened it"):
        editing.update_protocol(
            session, MANAGER, protocol.id, {**values, "fasting_food_hours": "2"}, expected_version=1
        )
    assert (protocol.treatment_minutes, protocol.fasting_food_hours) == (80, 4)


def test_a_save_from_elsewhere_between_reading_and_writing_is_refused(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    protocol = clinic.protocols["kap"]
    values = editing.protocol_values(protocol)
    # Another workstation saves the row behind this session's back.
    behind_its_back = (
        update(Protocol)
        .where(Protocol.id == protocol.id)
        .values(version=Protocol.version + 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(behind_its_back)
    with pytest.raises(StaleEdit, match="Ketamine-assisted psychotherapy was changed"):
        editing.update_protocol(
            session, MANAGER, protocol.id, {**values, "treatment_minutes": "80"}
        )


def test_an_unknown_protocol_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="There is no protocol with id 999999"):
        editing.update_protocol(session, MANAGER, 999_999, protocol_raw())
    with pytest.raises(NotFound):
        editing.set_protocol_active(session, MANAGER, 999_999, False)


def test_a_deactivated_protocol_is_no_longer_offered(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    protocol = clinic.protocols["iv-booster"]
    editing.set_protocol_active(session, MANAGER, protocol.id, False)
    assert "iv-booster" not in {p.key for p in list_protocols(session)}
    assert "iv-booster" in {p.key for p in list_protocols(session, include_inactive=True)}
    row = audit_rows(session)[-1]
    assert (row.action, row.before, row.after) == (
        "update",
        {"active": True, "version": 1},
        {"active": False, "version": 2},
    )
    editing.set_protocol_active(session, MANAGER, protocol.id, True)
    assert "iv-booster" in {p.key for p in list_protocols(session)}
