"""Who appears on a bill: the practice, the patient, the provider and the diagnoses, as the
frozen records of :mod:`ketadesk.billing.views`.

Every billing document starts from these, so a name or an address is put together the same
way on an invoice, a statement, an estimate and a superbill.
"""

from __future__ import annotations

import re
import warnings
from datetime import date
from functools import cache, lru_cache
from html import unescape
from importlib.util import find_spec
from pathlib import Path

from sqlalchemy.orm import object_session

from ketadesk.billing.views import DiagnosisInfo, PatientInfo, PracticeInfo, ProviderInfo
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


@cache
def _descriptions_from_package_data() -> dict[str, str]:
    """Code -> description for every code written out in the code set's tabular XML.

    Read with one regular expression instead of importing ``simple_icd_10_cm``, which
    parses the same 10 MB file into a tree (about 1.5 s against 0.06 s). Codes that the
    XML builds from a seventh character ("S72.001A") are not written out; the package
    answers for those.
    """
    spec = find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    files = sorted(folder.glob("icd10c-tabular-*.xml"))
    if len(files) != 1:
        return {}
    xml = files[0].read_text(encoding="utf-8")
    return {m[1]: unescape(m[2]) for m in _NAME_AND_DESCRIPTION.finditer(xml)}


_NAME_AND_DESCRIPTION = re.compile(r"<name>([^<]+)</name>\s*<desc>([^<]*)</desc>")


@lru_cache(maxsize=4096)
def diagnosis_description(code: str) -> str:
    """The ICD-10-CM description of ``code`` ("F33.2"), or "" if the code set lacks it."""
    found = _descriptions_from_package_data().get(code)
    if found is not None:
        return found
    with warnings.catch_warnings():
        # the package reads its data with an API deprecated since Python 3.11
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd  # lazy: the code set takes over a second to load

    try:
        return str(icd.get_description(code))
    except ValueError:
        return ""


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
