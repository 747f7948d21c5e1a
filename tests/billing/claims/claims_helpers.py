"""An insured esketamine patient whose sessions are billed to a payer, for the claims tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing.billing_helpers import BillingClinic, billing_clinic, completed_esketamine_session
from builders import add_payer, insure
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing.capture import capture_session
from ketadesk.billing.models import LedgerEntry
from ketadesk.billing.review import post_charges
from ketadesk.clinic.models import InsurancePolicy, Payer
from ketadesk.clinic.payers import ESKETAMINE_SERVICES
from ketadesk.scheduling.floor import session_day

TODAY = date(2026, 12, 7)


@dataclass
class InsuredClinic:
    clinic: BillingClinic
    payer: Payer
    policy: InsurancePolicy


def insured_clinic(session: Session, actor: Actor, **payer: object) -> InsuredClinic:
    """The billing clinic with its patient on an Aetna policy covering esketamine, with a
    prior authorisation for 8 sessions in 2026."""
    clinic = billing_clinic(session, actor)
    patient = clinic.patient
    patient.address_line1, patient.city, patient.state, patient.zip_code = (
        "22 Orchard St Apt 5B", "New York", "NY", "10002",
    )  # fmt: skip
    clinic.location.phone = clinic.location.phone or "2125550100"
    values: dict[str, object] = {"covered_codes": ESKETAMINE_SERVICES}
    values.update(payer)
    found = add_payer(session, **values)
    policy = insure(
        session,
        clinic.patient.id,
        payer_id=found.id,
        prior_auth_number="PA-77812",
        sessions_authorized=8,
        auth_from=date(2026, 1, 1),
        auth_to=date(2026, 12, 31),
    )
    return InsuredClinic(clinic, found, policy)


def esketamine_visit(
    session: Session,
    actor: Actor,
    insured: InsuredClinic,
    start: str = "2026-12-01 09:00",
    dose: str = "84",
) -> list[LedgerEntry]:
    """A completed esketamine session, captured and posted; its ledger entries."""
    ts = completed_esketamine_session(session, insured.clinic, start, Decimal(dose))
    charges = capture_session(session, actor, ts)
    return post_charges(session, actor, [c.id for c in charges], on=session_day(ts))
