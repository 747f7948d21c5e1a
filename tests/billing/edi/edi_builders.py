"""Short builders for the frozen claim and remittance values the EDI tests write and read.

Each builder gives a complete, valid value; a test names only what it is about
(``claim(frequency="7", original_reference="P1")``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ketadesk.billing.edi.model import (
    Address,
    Batch837,
    BillingProvider,
    ClaimForm,
    Party,
    PayerParty,
    Person,
    RenderingProvider,
    ServiceLine,
    Subscriber,
)

CLINIC = BillingProvider(
    name="Lakeside Ketamine Clinic",
    npi="1234567893",
    tin="12-3456789",
    address=Address("100 Main Street", "Springfield", "IL", "62701-1234", line2="Suite 2"),
    phone="2175550100",
)
DOCTOR = RenderingProvider("Okafor", "Adaeze", "1245319599", credentials="MD")
UHC = PayerParty(
    "UnitedHealthcare", "87726", Address("PO Box 30555", "Salt Lake City", "UT", "84130")
)
JANE = Person(
    family_name="Doe",
    given_name="Jane",
    middle_name="Q",
    date_of_birth=date(1980, 4, 2),
    sex="F",
    address=Address("12 Elm St", "Springfield", "IL", "62704"),
    phone="2175550199",
)
SUBMITTER = Party(
    "Lakeside Ketamine Clinic", "LKC0001", contact_name="Billing Office", phone="217-555-0100"
)
RECEIVER = Party("Optum Clearinghouse", "330897513")
DAY = date(2026, 11, 3)


def money(value: str) -> Decimal:
    return Decimal(value)


def visit(
    line_id: str = "L1", code: str = "99213", charge: str = "150.00", **changes: Any
) -> ServiceLine:
    line = ServiceLine(
        line_id=line_id,
        service_date=DAY,
        code=code,
        charge=money(charge),
        units=Decimal("1"),
        pointers=(1,),
    )
    return replace(line, **changes)


def subscriber(**changes: Any) -> Subscriber:
    return replace(Subscriber(JANE, "U123456789", "self", group_number="GRP9"), **changes)


def claim(number: str = "C1001", **changes: Any) -> ClaimForm:
    form = ClaimForm(
        claim_number=number,
        billing=CLINIC,
        rendering=DOCTOR,
        payer=UHC,
        subscriber=subscriber(),
        patient=JANE,
        diagnoses=("F32.2", "F41.1"),
        lines=(visit(),),
    )
    return replace(form, **changes)


def batch(*claims: ClaimForm, control_number: int = 1) -> Batch837:
    return Batch837(
        control_number=control_number,
        created_at=datetime(2026, 12, 1, 9, 30),
        submitter=SUBMITTER,
        receiver=RECEIVER,
        claims=claims or (claim(),),
    )


def segments(text: str) -> list[str]:
    """The file's segments without their terminators, one per entry."""
    return [s.strip() for s in text.split("~") if s.strip()]


def loop_of(text: str, first: str, count: int) -> list[str]:
    """``count`` segments starting at the first one that begins with ``first``."""
    found = segments(text)
    start = next(i for i, s in enumerate(found) if s.startswith(first))
    return found[start : start + count]
