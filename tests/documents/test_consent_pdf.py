"""The consent form PDF, read back with pypdf: letterhead, patient, text with its version,
signature lines; byte-stable on request."""

from __future__ import annotations

import io
from datetime import date

import pytest
from builders import SchedulingClinic, scheduling_clinic
from clinic.consent_helpers import DESK, new_version, unconsented
from pypdf import PdfReader
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.consent.models import ConsentKey
from ketadesk.documents.consent import consent_form, render_consent_form
from ketadesk.errors import NotFound, PermissionDenied


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def words(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_the_form_carries_the_clinic_the_patient_the_text_and_signature_lines(
    session: Session, clinic: SchedulingClinic
) -> None:
    view = consent_form(
        session, DESK, clinic.patient, clinic.location, ConsentKey.IV_KETAMINE,
        today=date(2026, 12, 7),
    )
    text = words(render_consent_form(view, stable=True))
    assert clinic.location.name in text
    assert "Consent to treatment with intravenous (IV) ketamine" in text
    assert "Version 2" in text and "Printed December 7, 2026" in text
    assert "Zoë Łukasiewicz" in text and clinic.patient.mrn in text and "03/09/1984" in text
    assert "off-label use" in text and "Your right to stop" in text
    for line in ("Signature of patient, or of guardian", "relationship to the patient",
                 "Signature of witness", "Printed name", "Date"):
        assert line in text


def test_the_same_view_gives_the_same_bytes(session: Session, clinic: SchedulingClinic) -> None:
    view = consent_form(
        session, DESK, clinic.patient, clinic.location, ConsentKey.KAP, today=date(2026, 12, 7)
    )
    assert render_consent_form(view, stable=True) == render_consent_form(view, stable=True)


def test_without_a_treatment_the_current_series_decides(
    session: Session, clinic: SchedulingClinic
) -> None:
    patient = unconsented(session)
    with pytest.raises(NotFound, match="no planned or active series"):
        consent_form(session, DESK, patient, clinic.location, None, today=date(2026, 12, 7))


def test_billing_staff_do_not_print_consent_forms(
    session: Session, clinic: SchedulingClinic
) -> None:
    with pytest.raises(PermissionDenied):
        consent_form(
            session, Actor(username="bill", role=Role.BILLING), clinic.patient,
            clinic.location, ConsentKey.KAP, today=date(2026, 12, 7),
        )


def test_a_text_in_effect_from_the_start_names_no_first_day_and_a_dated_one_does(
    session: Session, clinic: SchedulingClinic
) -> None:
    """The clinic's texts are in effect from the start (the shipped day, long ago, which is
    nobody's choice), so the form shows no such day; a version dated by the clinic does."""
    shipped = words(render_consent_form(consent_form(
        session, DESK, clinic.patient, clinic.location, ConsentKey.KAP,
        today=date(2026, 12, 7)), stable=True))
    assert "Version 2 Printed" in shipped and "2000" not in shipped
    new_version(session, ConsentKey.KAP, effective=date(2026, 12, 1))
    edited = words(render_consent_form(consent_form(
        session, DESK, clinic.patient, clinic.location, ConsentKey.KAP,
        today=date(2026, 12, 7)), stable=True))
    assert "Version 3 (from 12/01/2026)" in edited
