"""Coverage on a day: which policy is in force, primary or secondary, and the SQL form."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count
from typing import Any

import builders
import pytest
from builders import add_payer, patient_raw
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic import patients
from ketadesk.clinic.models import InsurancePolicy, Patient, PolicyRank
from ketadesk.clinic.policies import Coverage, coverage_on, in_force, span_in_force

START = date(2026, 3, 1)
END = date(2026, 6, 30)
_payer_numbers = count(1)


@pytest.fixture
def patient(session: Session, front_desk: Actor) -> Patient:
    return patients.create_patient(session, front_desk, patient_raw())


def insure(session: Session, patient: Patient, **values: Any) -> InsurancePolicy:
    """A policy in force from START to END (unless ``values`` say), each with its own
    payer, written straight to the table so a test can hold what the form refuses (two
    primaries)."""
    payer = add_payer(session, f"Payer {next(_payer_numbers)}")
    dates = {"effective_from": START, "effective_to": END, "payer_id": payer.id}
    return builders.insure(session, patient.id, **{**dates, **values})


def test_no_policy_is_self_pay(session: Session, patient: Patient) -> None:
    assert coverage_on(session, patient.id, START) == Coverage(START, None, None)
    assert coverage_on(session, patient.id, START).self_pay


def test_both_effective_dates_are_days_in_force(session: Session, patient: Patient) -> None:
    policy = insure(session, patient)
    one_day = timedelta(days=1)
    assert coverage_on(session, patient.id, START - one_day).primary is None
    assert coverage_on(session, patient.id, START).primary is policy
    assert coverage_on(session, patient.id, END).primary is policy
    assert coverage_on(session, patient.id, END + one_day).primary is None
    policy.effective_to = None
    session.flush()
    assert coverage_on(session, patient.id, date(2099, 12, 31)).primary is policy


def test_an_ended_policy_covers_no_day(session: Session, patient: Patient) -> None:
    insure(session, patient, active=False)
    assert coverage_on(session, patient.id, START).self_pay


def test_primary_and_secondary_each_in_their_place(session: Session, patient: Patient) -> None:
    primary = insure(session, patient)
    secondary = insure(
        session, patient, rank=PolicyRank.SECONDARY, effective_from=END, effective_to=None
    )
    insure(session, patient, rank=PolicyRank.TERTIARY)
    assert coverage_on(session, patient.id, START) == Coverage(START, primary, None)
    assert coverage_on(session, patient.id, END) == Coverage(END, primary, secondary)
    later = END + timedelta(days=1)
    covered = coverage_on(session, patient.id, later)
    assert covered == Coverage(later, None, secondary)
    assert not covered.self_pay


def test_a_secondary_alone_is_not_self_pay(session: Session, patient: Patient) -> None:
    insure(session, patient, rank=PolicyRank.SECONDARY)
    assert not coverage_on(session, patient.id, START).self_pay


def test_of_two_primaries_the_one_in_force_answers(session: Session, patient: Patient) -> None:
    old = insure(session, patient, effective_from=date(2025, 1, 1), effective_to=START)
    new = insure(session, patient, effective_from=START + timedelta(days=1), effective_to=None)
    assert coverage_on(session, patient.id, START).primary is old
    assert coverage_on(session, patient.id, START + timedelta(days=1)).primary is new


def test_of_two_overlapping_primaries_the_later_start_wins(
    session: Session, patient: Patient
) -> None:
    old = insure(session, patient, effective_from=date(2025, 1, 1), effective_to=None)
    new = insure(session, patient, effective_from=START)
    assert coverage_on(session, patient.id, START - timedelta(days=1)).primary is old
    assert coverage_on(session, patient.id, START).primary is new
    same_day = insure(session, patient, effective_from=START)
    assert coverage_on(session, patient.id, START).primary is same_day


def test_another_patients_policy_is_not_this_ones(
    session: Session, front_desk: Actor, patient: Patient
) -> None:
    other = patients.create_patient(
        session, front_desk, patient_raw(family_name="Other", given_name="Ola")
    )
    insure(session, other)
    assert coverage_on(session, patient.id, START).self_pay


def test_the_sql_predicate_picks_the_patients_coverage_on_covers(
    session: Session, front_desk: Actor, patient: Patient
) -> None:
    """Over many patients at once, ``in_force`` finds exactly the patients for whom
    ``coverage_on`` names a policy, day by day around the edges and over ranges."""
    other = patients.create_patient(
        session, front_desk, patient_raw(family_name="Other", given_name="Ola")
    )
    insure(session, patient)
    insure(session, other, effective_from=END, effective_to=None)
    ids = (patient.id, other.id)

    def insured(first: date, last: date | None = None) -> set[int]:
        query = select(InsurancePolicy.patient_id).where(
            InsurancePolicy.patient_id.in_(ids), in_force(first, last)
        )
        return set(session.scalars(query))

    for day in (START - timedelta(days=1), START, END, END + timedelta(days=1)):
        by_day = {p for p in ids if not coverage_on(session, p, day).self_pay}
        assert insured(day) == by_day, day
    assert insured(date(2026, 1, 1), START) == {patient.id}
    assert insured(date(2026, 1, 1), START - timedelta(days=1)) == set()
    assert insured(END, date(2026, 12, 31)) == {patient.id, other.id}
    assert insured(END + timedelta(days=1), date(2026, 12, 31)) == {other.id}


def test_the_in_memory_rule_agrees_with_the_sql_rule_on_edge_days() -> None:
    """``span_in_force`` (for rows the demo replays in memory) keeps :func:`in_force`'s
    edges: both effective dates covered, an open end never ending."""
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    assert span_in_force(start, end, start)
    assert span_in_force(start, end, end)
    assert not span_in_force(start, end, start - timedelta(days=1))
    assert not span_in_force(start, end, end + timedelta(days=1))
    assert span_in_force(start, None, date(2099, 1, 1))
