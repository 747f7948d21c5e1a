"""Short builders for domain values in tests: ``patient_raw(family_name="Ng")`` and friends."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ketadesk.clinic.models import Chair, Location, Modality, Payer, Provider
from ketadesk.money import money as _money

VALID_NPIS = ["1234567893", "1245319599", "1003000126", "1013998772", "1830166132", "2260181591"]


def money(text: str) -> Decimal:
    return _money(text)


def at(text: str, zone: str = "America/New_York") -> datetime:
    """``at("2026-12-01 09:00")``: a zoned instant, as a clinic would say it."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


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
