"""Consent texts, signatures and the validity rule, on SQLite and PostgreSQL.

Expiry and a material new version are decided by the session's *local* day in the
location's zone: the tests put sessions late in the evening, whose UTC date is already the
next day, across a daylight-saving change and across a year end.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from builders import SchedulingClinic, at, scheduling_clinic
from clinic.consent_helpers import (
    ADMIN,
    DESK,
    MANAGER,
    iv_session,
    new_version,
    sign,
    unconsented,
)
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.consent import records, texts
from ketadesk.clinic.consent.models import ConsentKey, ConsentText, SignedConsent
from ketadesk.clinic.consent.validity import ConsentStatus, add_months
from ketadesk.clinic.models import Patient
from ketadesk.errors import Conflict, ConsentRequired, PermissionDenied, ValidationError
from ketadesk.scheduling.consent_check import require_consent


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def refusal(session: Session, clinic: SchedulingClinic, patient: Patient, when: str) -> str:
    ts = iv_session(session, clinic, patient, at(when), chair=1)
    with pytest.raises(ConsentRequired) as refused:
        require_consent(session, ts)
    assert refused.value.treatment == "IV ketamine"
    return refused.value.reason


def assert_holds(session: Session, clinic: SchedulingClinic, patient: Patient, when: str) -> None:
    """The consent holds: the check raises nothing for a session at ``when``."""
    require_consent(session, iv_session(session, clinic, patient, at(when)))


# -- the shipped texts ------------------------------------------------------------------


def test_every_treatment_ships_a_text_in_plain_words() -> None:
    shipped = texts.default_texts()
    assert set(shipped) == set(ConsentKey)
    for key in (ConsentKey.IV_KETAMINE, ConsentKey.IM_KETAMINE, ConsentKey.KAP):
        body = shipped[key].body
        assert "off-label" in body
        for words in ("blood pressure", "dissociation", "nausea", "bladder", "misused",
                      "drive or take you home", "until the next day", "at any time"):
            assert words in body, (key, words)
    assert "treatment-resistant depression" in shipped[ConsentKey.ESKETAMINE].body
    assert "suicidal" in shipped[ConsentKey.ESKETAMINE].body
    assert shipped[ConsentKey.IV_KETAMINE].valid_months == 12
    assert shipped[ConsentKey.REMS_ENROLMENT].valid_months is None


def test_seeding_adds_only_missing_treatments(session: Session) -> None:
    added = texts.ensure_default_consent_texts(session, ADMIN)
    assert {row.key for row in added} == set(ConsentKey)
    new_version(session, ConsentKey.KAP, months=6)
    assert texts.ensure_default_consent_texts(session, ADMIN) == []
    kap = texts.latest_versions(session)[ConsentKey.KAP]
    assert (kap.version, kap.valid_months) == (2, 6)


def test_an_edit_is_a_new_version_never_an_update(session: Session) -> None:
    texts.ensure_default_consent_texts(session, ADMIN)
    first = texts.latest_versions(session)[ConsentKey.IV_KETAMINE]
    second = new_version(session, material=False)
    assert (first.version, second.version, second.material) == (1, 2, False)
    assert second.title == first.title and second.edited_by == "manager-lee"
    assert [v.version for v in texts.all_versions(session, ConsentKey.IV_KETAMINE)] == [1, 2]
    audited = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity == "consent_text")
    ).all()
    assert len(audited) == len(ConsentKey) + 1


def test_editing_texts_is_for_managers(session: Session) -> None:
    texts.ensure_default_consent_texts(session, ADMIN)
    with pytest.raises(PermissionDenied):
        texts.add_version(
            session, DESK, ConsentKey.KAP, "New words.", material=True,
            effective_on=date(2027, 1, 1), valid_months=12,
        )


def test_a_bad_text_is_refused_in_words(session: Session) -> None:
    texts.ensure_default_consent_texts(session, ADMIN)
    with pytest.raises(ValidationError) as refused:
        texts.add_version(
            session, MANAGER, ConsentKey.KAP, "  ", material=True,
            effective_on=date(2027, 1, 1), valid_months=0,
        )
    assert refused.value.for_field("text") == ["the consent text is empty"]
    assert "1 to 120 months" in refused.value.for_field("valid_months")[0]


def test_a_treatment_typed_loosely_is_understood() -> None:
    assert texts.parse_key(" IV-Ketamine ") is ConsentKey.IV_KETAMINE
    with pytest.raises(ValidationError, match="not a consent treatment"):
        texts.parse_key("ketamine")


def test_months_end_on_the_last_day_of_a_short_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2026, 12, 31), 12) == date(2027, 12, 31)
    assert add_months(date(2026, 11, 15), 2) == date(2027, 1, 15)


# -- recording --------------------------------------------------------------------------


def test_a_signature_is_on_the_version_in_effect_that_day(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    new_version(session, effective=date(2027, 1, 1))  # not yet in effect on 7 Dec 2026
    consent = sign(session, patient, date(2026, 12, 7))
    assert consent.text.version == 2  # builder's v2; the new v3 starts next year
    assert consent.taken_by == "desk-ana" and consent.guardian_relationship == ""


def test_a_guardian_signs_with_the_relationship(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    consent = records.record_consent(
        session, DESK, patient.id, ConsentKey.KAP, signed_on=date(2026, 12, 7),
        signer_name="Lan Ng", guardian_relationship="mother", witness_name="Kim Park",
        today=date(2026, 12, 7),
    )
    assert (consent.signer_name, consent.guardian_relationship) == ("Lan Ng", "mother")


def test_a_signature_in_the_future_or_without_names_is_refused(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    with pytest.raises(ValidationError) as refused:
        records.record_consent(
            session, DESK, patient.id, ConsentKey.KAP, signed_on=date(2026, 12, 8),
            signer_name=" ", witness_name="", today=date(2026, 12, 7),
        )
    fields = {problem.field for problem in refused.value.problems}
    assert fields == {"signed", "signer", "witness"}
    assert session.scalars(sa.select(SignedConsent).where(
        SignedConsent.patient_id == patient.id)).all() == []


def test_billing_staff_cannot_take_consent(session: Session, clinic: SchedulingClinic) -> None:
    with pytest.raises(PermissionDenied):
        records.record_consent(
            session, Actor(username="bill", role=Role.BILLING), clinic.patient.id,
            ConsentKey.KAP, signed_on=date(2026, 12, 7), signer_name="A", witness_name="B",
            today=date(2026, 12, 7),
        )


@pytest.mark.parametrize("table", [SignedConsent, ConsentText])
def test_consents_and_texts_are_append_only_in_the_database(
    session: Session, clinic: SchedulingClinic, table: type[SignedConsent | ConsentText]
) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.update(table).values(created_at=at("2026-12-07 09:00")))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.delete(table))


# -- the rule: missing, withdrawn, expired, new version -----------------------------------


def test_no_consent_means_no_check_in(session: Session, clinic: SchedulingClinic) -> None:
    patient = unconsented(session)
    assert refusal(session, clinic, patient, "2026-12-07 09:00") == (
        "no IV ketamine consent is signed"
    )


def test_a_consent_for_another_treatment_does_not_count(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    sign(session, patient, date(2026, 12, 1), ConsentKey.IM_KETAMINE)
    assert "no IV ketamine consent" in refusal(session, clinic, patient, "2026-12-07 09:00")


def test_a_withdrawn_consent_no_longer_holds(session: Session, clinic: SchedulingClinic) -> None:
    patient = unconsented(session)
    new_version(session)
    sign(session, patient, date(2026, 12, 1))
    assert_holds(session, clinic, patient, "2026-12-04 09:00")
    records.withdraw_consent(
        session, DESK, patient.id, ConsentKey.IV_KETAMINE, withdrawn_on=date(2026, 12, 5),
        reason="the patient wants to stop",
    )
    assert_holds(session, clinic, patient, "2026-12-04 13:00")  # before the day withdrawn
    reason = refusal(session, clinic, patient, "2026-12-07 09:00")
    assert reason == "the IV ketamine consent was withdrawn on 05 Dec 2026"
    with pytest.raises(Conflict, match="no IV ketamine consent to withdraw"):
        records.withdraw_consent(
            session, DESK, patient.id, ConsentKey.IV_KETAMINE, withdrawn_on=date(2026, 12, 6)
        )


def test_a_new_signature_after_a_withdrawal_holds(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    new_version(session)
    sign(session, patient, date(2026, 12, 1))
    records.withdraw_consent(
        session, DESK, patient.id, ConsentKey.IV_KETAMINE, withdrawn_on=date(2026, 12, 2)
    )
    sign(session, patient, date(2026, 12, 3))
    assert_holds(session, clinic, patient, "2026-12-07 09:00")


def test_expiry_goes_by_the_local_day_across_a_daylight_saving_change(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Signed 14 Mar 2026 for 12 months: valid through Sun 14 Mar 2027, the day New York's
    clocks go forward. 23:30 that evening (EDT) is 03:30 UTC on the 15th: still valid."""
    patient = unconsented(session)
    new_version(session, months=12)
    sign(session, patient, date(2026, 3, 14))
    assert_holds(session, clinic, patient, "2027-03-14 23:30")
    reason = refusal(session, clinic, patient, "2027-03-15 00:30")
    assert reason == "the IV ketamine consent expired on 14 Mar 2027"


def test_expiry_goes_by_the_local_day_across_a_year_end(
    session: Session, clinic: SchedulingClinic
) -> None:
    """Valid through 31 Dec 2026; 20:00 EST that day is already 1 Jan 2027 in UTC."""
    patient = unconsented(session)
    new_version(session, months=12)
    sign(session, patient, date(2025, 12, 31))
    assert_holds(session, clinic, patient, "2026-12-31 20:00")
    assert "expired on 31 Dec 2026" in refusal(session, clinic, patient, "2027-01-01 09:00")


def test_a_material_version_needs_signing_from_its_day_across_a_year_end(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    signed_on = new_version(session, months=12)
    sign(session, patient, date(2026, 6, 1))
    newer = new_version(session, material=True, effective=date(2027, 1, 1))
    assert_holds(session, clinic, patient, "2026-12-31 23:30")  # 04:30 UTC on 1 Jan
    reason = refusal(session, clinic, patient, "2027-01-01 00:30")
    assert reason == (
        f"the IV ketamine consent was signed on version {signed_on.version}; version "
        f"{newer.version} changed it materially from 01 Jan 2027 and needs signing"
    )
    sign(session, patient, date(2027, 1, 1))
    assert_holds(session, clinic, patient, "2027-01-01 09:00")


def test_a_material_version_across_a_daylight_saving_change(
    session: Session, clinic: SchedulingClinic
) -> None:
    """A version in effect from Sun 1 Nov 2026, the night New York's clocks go back."""
    patient = unconsented(session)
    new_version(session, months=12)
    sign(session, patient, date(2026, 10, 1))
    new_version(session, material=True, effective=date(2026, 11, 1))
    assert_holds(session, clinic, patient, "2026-10-31 23:30")  # 03:30 UTC on 1 Nov
    assert "needs signing" in refusal(session, clinic, patient, "2026-11-01 01:30")


def test_a_minor_version_leaves_signed_consents_valid(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    new_version(session, months=12)
    sign(session, patient, date(2026, 6, 1))
    new_version(session, material=False, effective=date(2026, 9, 1))
    assert_holds(session, clinic, patient, "2026-12-07 09:00")


def test_states_say_where_each_treatment_stands(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    new_version(session, months=12)
    sign(session, patient, date(2025, 11, 1))
    sign(session, patient, date(2026, 11, 1), ConsentKey.KAP)
    states = {s.key: s for s in records.consent_states(session, patient.id, date(2026, 12, 7))}
    assert states[ConsentKey.IV_KETAMINE].status is ConsentStatus.EXPIRED
    assert states[ConsentKey.IV_KETAMINE].expires_on == date(2026, 11, 1)
    assert states[ConsentKey.KAP].status is ConsentStatus.VALID
    assert states[ConsentKey.KAP].expires_on is None  # the builder's open-ended version
    assert states[ConsentKey.ESKETAMINE].status is ConsentStatus.MISSING
