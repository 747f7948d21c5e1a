"""What a consent means on the floor and at the desk: check-in refused without one, booking
warned, the Today card's words; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from clinic.consent_helpers import DESK, iv_session, new_version, sign, unconsented
from scheduling.floor_helpers import NURSE
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.clinic.consent import records
from ketadesk.clinic.consent.models import ConsentKey
from ketadesk.clinic.models import Modality
from ketadesk.errors import ConsentRequired, NotFound
from ketadesk.scheduling import floor
from ketadesk.scheduling.consent_check import (
    consent_badges,
    consent_warnings,
    consents_needed,
    series_consent_key,
)
from ketadesk.scheduling.gates import booking_gates
from ketadesk.scheduling.models import SessionStatus


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def codes(warnings: object) -> list[str]:
    return [w.code for w in warnings]  # type: ignore[attr-defined]


def test_check_in_without_consent_is_refused_with_the_reason(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    ts = iv_session(session, clinic, patient, at("2026-12-07 09:00"))
    with pytest.raises(ConsentRequired) as refused:
        floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:55"))
    assert refused.value.treatment == "IV ketamine"
    assert refused.value.reason == "no IV ketamine consent is signed"
    assert str(refused.value) == (
        f"{ts.reference} cannot be checked in: no IV ketamine consent is signed. Record the "
        "signed IV ketamine form first."
    )
    assert ts.status is SessionStatus.SCHEDULED and ts.checked_in_at is None


def test_check_in_goes_ahead_once_the_form_is_recorded(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    ts = iv_session(session, clinic, patient, at("2026-12-07 09:00"))
    sign(session, patient, date(2026, 12, 7))
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:55"))
    assert ts.status is SessionStatus.CHECKED_IN


def test_esketamine_needs_the_rems_enrolment_consent_too(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    sign(session, patient, date(2026, 12, 1), ConsentKey.ESKETAMINE)
    protocol = clinic.protocols["esketamine-induction"]
    ts = existing_session(
        session, patient, protocol, clinic.esketamine_chairs[0], clinic.provider,
        at("2026-12-07 09:00"),
    )
    with pytest.raises(ConsentRequired) as refused:
        floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:55"))
    assert refused.value.treatment == "Spravato REMS patient enrolment"
    sign(session, patient, date(2026, 12, 1), ConsentKey.REMS_ENROLMENT)
    floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:55"))


def test_oral_ketamine_is_covered_by_the_kap_form(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    warned = consent_warnings(session, patient, Modality.ORAL, [date(2026, 12, 7)])
    assert "Ketamine-assisted psychotherapy" in warned[0].message
    sign(session, patient, date(2026, 12, 1), ConsentKey.KAP)
    assert consent_warnings(session, patient, Modality.ORAL, [date(2026, 12, 7)]) == []


def test_booking_warns_when_the_consent_is_missing(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    days = [date(2026, 12, 7), date(2026, 12, 9)]
    _blockers, warnings = booking_gates(
        session, patient, clinic.protocols["iv-induction"], clinic.location, days[0], days,
        today=date(2026, 12, 1),
    )
    assert "consent:missing" in codes(warnings)
    found = next(w for w in warnings if w.code == "consent:missing")
    assert found.message == (
        "Consent: no IV ketamine consent is signed. The patient cannot be checked in on "
        "07 Dec 2026 until the signed form is recorded."
    )


def test_booking_warns_when_the_consent_lapses_before_the_last_session(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    new_version(session, months=12)
    sign(session, patient, date(2026, 1, 10))  # valid through 10 Jan 2027
    days = [date(2026, 12, 28), date(2027, 1, 4), date(2027, 1, 11)]
    _blockers, warnings = booking_gates(
        session, patient, clinic.protocols["iv-induction"], clinic.location, days[0], days,
        today=date(2026, 12, 1),
    )
    assert "consent:expires" in codes(warnings) and "consent:missing" not in codes(warnings)
    found = next(w for w in warnings if w.code == "consent:expires")
    assert "runs out on 10 Jan 2027" in found.message
    assert "last planned session on 11 Jan 2027" in found.message
    assert consent_warnings(session, patient, Modality.IV, days[:2]) == []


def test_a_valid_consent_gives_no_warning(session: Session, clinic: SchedulingClinic) -> None:
    days = [date(2026, 12, 7), date(2027, 6, 7)]
    _blockers, warnings = booking_gates(
        session, clinic.patient, clinic.protocols["iv-induction"], clinic.location, days[0],
        days, today=date(2026, 12, 1),
    )
    assert not [code for code in codes(warnings) if code.startswith("consent:")]


def test_the_today_card_says_no_consent_or_how_soon_it_expires(
    session: Session, clinic: SchedulingClinic
) -> None:
    missing = unconsented(session, "Ng")
    soon = unconsented(session, "Oduya")
    new_version(session, months=12, material=False)  # the clinic patient's stays valid
    sign(session, soon, date(2025, 12, 20))  # valid through 20 Dec 2026
    first = iv_session(session, clinic, missing, at("2026-12-07 09:00"))
    second = iv_session(session, clinic, soon, at("2026-12-07 09:00"), chair=1)
    fine = iv_session(session, clinic, clinic.patient, at("2026-12-07 11:00"))
    badges = consent_badges(session, [first, second, fine], date(2026, 12, 7))
    assert badges[first.id].refused and badges[first.id].text.startswith("No consent")
    assert badges[second.id].text == "Consent expires in 13 days"
    assert not badges[second.id].refused
    assert fine.id not in badges


def test_the_form_to_print_follows_the_current_series(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    with pytest.raises(NotFound, match="no planned or active series"):
        series_consent_key(session, patient)
    iv_session(session, clinic, patient, at("2026-12-07 09:00"))
    assert series_consent_key(session, patient) is ConsentKey.IV_KETAMINE


def test_the_consents_needed_are_those_of_the_planned_series(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    assert consents_needed(session, patient.id) == []
    iv_session(session, clinic, patient, at("2026-12-07 09:00"))
    assert consents_needed(session, patient.id) == [ConsentKey.IV_KETAMINE]
    existing_session(session, patient, clinic.protocols["esketamine-induction"],
                     clinic.esketamine_chairs[0], clinic.provider, at("2026-12-08 09:00"))
    assert consents_needed(session, patient.id) == [
        ConsentKey.IV_KETAMINE, ConsentKey.ESKETAMINE, ConsentKey.REMS_ENROLMENT]


def test_a_withdrawal_stops_the_next_check_in(session: Session, clinic: SchedulingClinic) -> None:
    ts = iv_session(session, clinic, clinic.patient, at("2026-12-07 09:00"))
    records.withdraw_consent(
        session, DESK, clinic.patient.id, ConsentKey.IV_KETAMINE, withdrawn_on=date(2026, 12, 6)
    )
    with pytest.raises(ConsentRequired, match="withdrawn on 06 Dec 2026"):
        floor.check_in(session, NURSE, ts.id, now=at("2026-12-07 08:55"))
