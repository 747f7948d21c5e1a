"""Who appears on a bill: the practice, the patient, the provider and the diagnoses, as the
frozen records of :mod:`ketadesk.billing.views`.

Every billing document starts from these, so a name or an address is put together the same
way on an invoice, a statement, an estimate and a superbill.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import object_session

from ketadesk.billing.views import DiagnosisInfo, PatientInfo, PracticeInfo, ProviderInfo
from ketadesk.clinic.codes import diagnosis_description
from ketadesk.clinic.models import Location, Patient, Provider
from ketadesk.clinic.policies import coverage_on

POINTER_LETTERS = "ABCDEFGHIJKL"  # a CMS-1500 or superbill points at up to 12 diagnoses


def practice_info(location: Location) -> PracticeInfo:
    street = ", ".join(part for part in (location.address_line1, location.address_line2) if part)
    return PracticeInfo(
        name=location.name,
        address_lines=(street, f"{location.city}, {location.state} {location.zip_code}"),
        phone=location.phone,
        npi=location.npi,
        tin=location.tin,
        pos_code=location.pos_code,
        location_code=location.code,
        time_zone=location.time_zone,
    )


def printed_name(given: str, middle: str, family: str) -> str:
    return " ".join(part for part in (given, middle, family) if part)


def patient_info(patient: Patient, on: date) -> PatientInfo:
    """The patient as printed; ``member_id`` from the primary policy in force ``on``
    (:func:`~ketadesk.clinic.policies.coverage_on`)."""
    street = ", ".join(part for part in (patient.address_line1, patient.address_line2) if part)
    place = f"{patient.city}, {patient.state} {patient.zip_code}".strip(", ")
    lines = tuple(line for line in (street, place) if line.strip())
    session = object_session(patient)
    if session is None:
        raise ValueError("patient_info needs a patient loaded in a session")
    policy = coverage_on(session, patient.id, on).primary
    return PatientInfo(
        mrn=patient.mrn,
        name=printed_name(patient.given_name, patient.middle_name, patient.family_name),
        date_of_birth=patient.date_of_birth,
        address_lines=lines,
        member_id=policy.member_id if policy else "",
        payer_name=policy.payer.name if policy else "",
    )


def provider_info(provider: Provider) -> ProviderInfo:
    return ProviderInfo(
        name=printed_name(provider.given_name, "", provider.family_name),
        credentials=provider.credentials,
        npi=provider.npi,
    )


def diagnoses_info(patient: Patient) -> tuple[DiagnosisInfo, ...]:
    """The patient's diagnoses in order, lettered A, B, C… as pointers."""
    return tuple(
        DiagnosisInfo(pointer=letter, code=d.code, description=diagnosis_description(d.code))
        for letter, d in zip(POINTER_LETTERS, patient.diagnoses, strict=False)
    )


def pointer_letters(pointers: str) -> str:
    """Charge pointers as stored ("1,2") to letters as printed ("A,B")."""
    numbers = [int(p) for p in pointers.split(",") if p.strip()]
    return ",".join(POINTER_LETTERS[n - 1] for n in numbers if 1 <= n <= len(POINTER_LETTERS))
