"""Builders for consent tests: a patient with no consent in a scheduling clinic, texts with
the periods a test names, a signature, and a session to check in."""

from __future__ import annotations

from datetime import date, datetime

from builders import SchedulingClinic, patient_raw
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.consent import records, texts
from ketadesk.clinic.consent.models import ConsentKey, ConsentText, SignedConsent
from ketadesk.clinic.models import Patient
from ketadesk.clinic.patients import create_patient
from ketadesk.scheduling.models import TreatmentSession

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
MANAGER = Actor(username="manager-lee", role=Role.MANAGER)
DESK = Actor(username="desk-ana", role=Role.FRONT_DESK)


def unconsented(session: Session, family_name: str = "Ng") -> Patient:
    """A REMS-enrolled patient who has signed nothing."""
    return create_patient(
        session, ADMIN, patient_raw(family_name=family_name, rems_enrolled_on="2026-01-05")
    )


def new_version(
    session: Session,
    key: ConsentKey = ConsentKey.IV_KETAMINE,
    *,
    months: int | None = 12,
    material: bool = True,
    effective: date = date(2000, 1, 1),
) -> ConsentText:
    return texts.add_version(
        session, MANAGER, key, f"The {key.label} text, as of {effective}.", material=material,
        effective_on=effective, valid_months=months,
    )


def sign(
    session: Session,
    patient: Patient,
    signed_on: date,
    key: ConsentKey = ConsentKey.IV_KETAMINE,
) -> SignedConsent:
    return records.record_consent(
        session, DESK, patient.id, key, signed_on=signed_on, signer_name="Mai Ng",
        witness_name="Kim Park", today=signed_on,
    )


def iv_session(
    session: Session,
    clinic: SchedulingClinic,
    patient: Patient,
    starts_at: datetime,
    chair: int = 0,
) -> TreatmentSession:
    protocol = clinic.protocols["iv-induction"]
    return existing_session(
        session, patient, protocol, clinic.iv_chairs[chair], clinic.provider, starts_at
    )
