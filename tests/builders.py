"""Short builders for domain values in tests: ``patient_raw(family_name="Ng")`` and friends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.models import (
    Chair,
    InsurancePolicy,
    Location,
    Modality,
    Patient,
    Payer,
    PolicyRank,
    Provider,
)
from ketadesk.money import money as _money
from ketadesk.scheduling.models import Protocol

VALID_NPIS = ["1234567893", "1245319599", "1003000126", "1013998772", "1830166132", "2260181591"]


def money(text: str) -> Decimal:
    return _money(text)


def at(text: str, zone: str = "America/New_York") -> datetime:
    """``at("2026-12-01 09:00")``: a zoned instant, as a clinic would say it."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


# The tests' "now" for booking and changing sessions: they book fixed days from December
# 2026 on, so each booking or change states this moment (or its own) as its clock.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def patient_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "family_name": "Łukasiewicz",
        "given_name": "Zoë",
        "date_of_birth": "1984-03-09",
        "sex": "F",
        "phone": "(212) 555-0142",
        "state": "NY",
        "zip_code": "10001",
        "diagnoses": "F33.2, F43.10",
    }
    raw.update(overrides)
    return raw


def add_location(session: Session, code: str = "NYC", **overrides: Any) -> Location:
    values: dict[str, Any] = {
        "code": code,
        "name": f"KetaDesk {code}",
        "address_line1": "1 Main St",
        "city": "New York",
        "state": "NY",
        "zip_code": "10001",
        "pos_code": "11",
        "npi": VALID_NPIS[1],
        "tin": "123456789",
        "time_zone": "America/New_York",
    }
    values.update(overrides)
    location = Location(**values)
    session.add(location)
    session.flush()
    return location


def add_payer(session: Session, name: str = "Aetna", **overrides: Any) -> Payer:
    payer = Payer(name=name, edi_payer_id=overrides.pop("edi_payer_id", "60054"), **overrides)
    session.add(payer)
    session.flush()
    return payer


def insure(session: Session, patient_id: int, **overrides: Any) -> InsurancePolicy:
    """A primary policy from 2026-01-01 written straight to the table (the patient its
    subscriber unless ``overrides`` say), so a test can also hold what the form refuses."""
    values: dict[str, Any] = {
        "patient_id": patient_id,
        "rank": PolicyRank.PRIMARY,
        "member_id": "W123456789",
        "group_number": "G-4410",
        "effective_from": date(2026, 1, 1),
    }
    values.update(overrides)
    if "payer_id" not in values:
        values["payer_id"] = add_payer(session).id
    policy = InsurancePolicy(**values)
    session.add(policy)
    session.flush()
    return policy


def add_chair(
    session: Session,
    location: Location,
    name: str = "Chair 1",
    modalities: frozenset[Modality] = frozenset({Modality.IV}),
) -> Chair:
    chair = Chair(location_id=location.id, name=name, modalities=modalities)
    session.add(chair)
    session.flush()
    return chair


def add_provider(session: Session, npi: str = VALID_NPIS[0], **overrides: Any) -> Provider:
    values: dict[str, Any] = {
        "family_name": "Osei",
        "given_name": "Ama",
        "credentials": "MD",
        "npi": npi,
        "licence_number": "MD-123456",
        "licence_state": "NY",
        "rems_enrolled": True,
    }
    values.update(overrides)
    provider = Provider(**values)
    session.add(provider)
    session.flush()
    return provider


TODAY = date.today()


def record_failed_trials(session: Session, patient_id: int, count: int = 2) -> None:
    """Give a patient ``count`` adequate antidepressant trials that failed in this episode
    (sertraline 150 mg for 8 weeks, then escitalopram 20 mg for 10), so booking esketamine
    does not warn ``history:trd_unproven``."""
    from ketadesk.clinic.history.entries import TreatmentDraft, add_treatment
    from ketadesk.clinic.history.models import Response, TreatmentKind

    actor = Actor(username="test-clinician", role=Role.CLINICAL)
    trials = [("sertraline", "150", 8, date(2025, 9, 1)), ("escitalopram", "20", 10,
                                                            date(2026, 1, 1))]
    for name, dose, weeks, started in trials[:count]:
        draft = TreatmentDraft(TreatmentKind.ANTIDEPRESSANT, name, Decimal(dose), "mg", weeks,
                               Response.NONE, "no response", started)
        add_treatment(session, actor, patient_id, draft)


@dataclass
class SchedulingClinic:
    """A small open clinic to plan in: one location (New York, Mon–Fri 08:00–18:00),
    two IV chairs, two esketamine chairs, one REMS-enrolled provider supervising up to 4
    chairs, the shipped protocols, and a REMS-enrolled patient weighing 70 kg who signed
    every consent on 5 Jan 2026 (:func:`give_consents`: texts that do not expire)."""

    location: Location
    iv_chairs: list[Chair]
    esketamine_chairs: list[Chair]
    provider: Provider
    patient: Patient
    protocols: dict[str, Protocol]


def scheduling_clinic(session: Session, actor: Actor | None = None) -> SchedulingClinic:
    from ketadesk.clinic.locations import parse_hours, set_hours
    from ketadesk.clinic.patients import create_patient
    from ketadesk.scheduling.protocols import ensure_default_protocols, list_protocols

    actor = actor or Actor(username="test-admin", role=Role.ADMIN)
    location = add_location(session, "NYC")
    set_hours(session, actor, location.id, parse_hours("mon-fri 08:00-18:00"))
    iv = [
        add_chair(session, location, f"IV {n}", frozenset({Modality.IV, Modality.IM}))
        for n in (1, 2)
    ]
    esk = [
        add_chair(session, location, f"Nasal {n}", frozenset({Modality.ESKETAMINE})) for n in (1, 2)
    ]
    provider = add_provider(session, max_concurrent_chairs=4)
    provider.locations.append(location)
    patient = create_patient(
        session, actor, patient_raw(rems_enrolled_on="2026-01-05", weight_kg="70")
    )
    record_failed_trials(session, patient.id)
    ensure_default_protocols(session, actor)
    give_consents(session, patient.id)
    session.flush()
    session.expire(location)
    return SchedulingClinic(
        location=location,
        iv_chairs=iv,
        esketamine_chairs=esk,
        provider=provider,
        patient=patient,
        protocols={p.key: p for p in list_protocols(session)},
    )


def give_consents(
    session: Session, patient_id: int, signed_on: date = date(2026, 1, 5)
) -> None:
    """Sign every consent for the patient, on texts valid until withdrawn, so that booking
    and check-in tests far into 2027 meet no consent warning or refusal. The clinic's
    texts get a version 2 without a period (not material) the first time."""
    from ketadesk.clinic.consent import records, texts
    from ketadesk.clinic.consent.models import ConsentKey

    actor = Actor(username="test-admin", role=Role.ADMIN)
    texts.ensure_default_consent_texts(session, actor)
    for key, text in texts.latest_versions(session).items():
        if text.valid_months is not None:
            texts.add_version(
                session, actor, key, text.body, material=False, valid_months=None,
                effective_on=date(2000, 1, 1),
            )
    for key in ConsentKey:
        records.record_consent(
            session, actor, patient_id, key, signed_on=signed_on, signer_name="Zoë Ł.",
            witness_name="Nurse Kim", today=signed_on,
        )
