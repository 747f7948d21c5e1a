"""Builders of the frozen claim values (``billing.edi.model``) for the CMS-1500 tests.

``claim()`` is an esketamine visit of a New York clinic billed to a commercial payer: the
visit, prolonged clinical-staff time and the drug (J0013 with its NDC). ``lines=9`` makes a
claim that runs onto a second page; keyword arguments replace any field.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ketadesk.billing.edi.model import (
    Address,
    BillingProvider,
    ClaimForm,
    OtherPayer,
    PayerParty,
    Person,
    RenderingProvider,
    ServiceLine,
    Subscriber,
)

PATIENT = Person(
    family_name="Łukasiewicz",
    given_name="Zoë",
    middle_name="Anna",
    date_of_birth=date(1985, 3, 14),
    sex="F",
    address=Address("22 Orchard St.", "New York", "NY", "10002", line2="Apt #5B"),
    phone="2125550142",
)
PAYER = PayerParty(
    "Aetna Better Health",
    "60054",
    Address("PO Box 981106", "El Paso", "TX", "79998"),
)


def service_line(number: int, **overrides: Any) -> ServiceLine:
    """The visit, the staff time and the drug, in turn, on consecutive days from Dec 7."""
    day = date(2026, 12, 7) + timedelta(days=(number - 1) // 3)
    kind = (number - 1) % 3
    values: dict[str, Any] = {
        "line_id": f"L{number}",
        "service_date": day,
        "code": ("99213", "99415", "J0013")[kind],
        "charge": (Decimal("185.00"), Decimal("120.50"), Decimal("1512.00"))[kind],
        "units": (Decimal(1), Decimal(1), Decimal(84))[kind],
        "pointers": ((1, 2), (1,), (1, 2, 3))[kind],
        "modifiers": (("25",), (), ())[kind],
    }
    if kind == 2:
        values |= {"ndc": "50458002802", "ndc_unit": "UN", "ndc_quantity": Decimal(3)}
    values.update(overrides)
    return ServiceLine(**values)


def claim(lines: int = 3, **overrides: Any) -> ClaimForm:
    values: dict[str, Any] = {
        "claim_number": "NYC-2026-00042",
        "billing": BillingProvider(
            "Brightwater Ketamine Clinic",
            "1245319599",
            "123456789",
            Address("1 Main St", "New York", "NY", "10001", line2="Suite 400"),
            phone="2125550100",
        ),
        "rendering": RenderingProvider("Okafor", "Adaeze", "1679576722", "MD"),
        "payer": PAYER,
        "subscriber": Subscriber(
            PATIENT, "W123456789", "self", group_number="GRP-0042", plan_name="Aetna Choice POS II"
        ),
        "patient": PATIENT,
        "diagnoses": ("F33.2", "F41.1", "Z79.899"),
        "lines": tuple(service_line(n) for n in range(1, lines + 1)),
        "prior_authorization": "PA2026-7781",
        "note": "REMS certified healthcare setting",
        "signed_on": date(2026, 12, 10),
    }
    values.update(overrides)
    return ClaimForm(**values)


def secondary(primary: ClaimForm) -> ClaimForm:
    """``primary`` sent on to a second payer, carrying what the first one paid."""
    spouse = Person("Łukasiewicz", "Tomasz", date(1983, 7, 2), "M", address=PATIENT.address)
    second = Subscriber(spouse, "XQ998877", "spouse", rank="secondary", plan_name="Empire Plan")
    earlier = OtherPayer(PAYER, primary.subscriber, Decimal("1210.40"), date(2027, 1, 5))
    return replace(primary, subscriber=second, other_payers=(earlier,))
