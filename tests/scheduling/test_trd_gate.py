"""Booking esketamine warns ``history:trd_unproven`` until the treatment history shows two
adequate antidepressant trials in this episode; other treatments never warn."""

from __future__ import annotations

from datetime import date

import pytest
from builders import NOW, SchedulingClinic, at, scheduling_clinic
from scheduling.booking_helpers import plan_for
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.history.entries import live_entries, remove_treatment
from ketadesk.errors import Unacknowledged
from ketadesk.scheduling.booking import book_series
from ketadesk.scheduling.gates import booking_gates

DESK = Actor(username="desk", role=Role.FRONT_DESK)
NURSE = Actor(username="nurse", role=Role.CLINICAL)
FIRST = date(2026, 12, 7)


@pytest.fixture
def clinic(session: Session, admin: Actor) -> SchedulingClinic:
    return scheduling_clinic(session, admin)  # its patient has two adequate failed trials


def warning_codes(session: Session, clinic: SchedulingClinic, key: str) -> list[str]:
    _blockers, warnings = booking_gates(session, clinic.patient, clinic.protocols[key],
                                        clinic.location, FIRST, [FIRST], today=FIRST)
    return [w.code for w in warnings]


def test_esketamine_warns_when_a_trial_is_taken_off(
    session: Session, clinic: SchedulingClinic
) -> None:
    assert "history:trd_unproven" not in warning_codes(session, clinic, "esketamine-induction")
    first = live_entries(session, clinic.patient.id)[0]
    remove_treatment(session, NURSE, clinic.patient.id, first.id, "entered twice")
    assert "history:trd_unproven" in warning_codes(session, clinic, "esketamine-induction")
    assert "history:trd_unproven" not in warning_codes(session, clinic, "iv-induction")


def test_booking_needs_the_warning_acknowledged(
    session: Session, clinic: SchedulingClinic
) -> None:
    for entry in live_entries(session, clinic.patient.id):
        remove_treatment(session, NURSE, clinic.patient.id, entry.id, "wrong patient")
    plan = plan_for(clinic, "esketamine-induction", [at("2026-12-07 10:00")])
    with pytest.raises(Unacknowledged) as refused:
        book_series(session, DESK, plan, now=NOW)
    assert [code for code, _text in refused.value.warnings] == ["history:trd_unproven"]
    assert "0 of the 2 adequate antidepressant trials" in str(refused.value)
    series = book_series(session, DESK, plan, acknowledged={"history:trd_unproven"}, now=NOW)
    assert len(series.sessions) == 1
