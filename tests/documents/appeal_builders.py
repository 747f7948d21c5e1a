"""Builders of :class:`AppealView` for the appeal letter's tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from documents.view_builders import ZOE, practice

from ketadesk.billing.claims.appeal_view import AppealView, DenialReason, DeniedLine

BODY = (
    "Dear Appeals Reviewer,\n\n"
    "We ask you to reconsider the denial of the esketamine treatment given on the dates "
    "above. The patient has treatment-resistant depression (F33.2) after two adequate "
    "antidepressant trials, and the treatment was authorised under PA2026-7781.\n\n"
    "The enclosed notes show the two-hour observation and the REMS monitoring form."
)


def denied_line(**overrides: Any) -> DeniedLine:
    values: dict[str, Any] = {
        "service_date": date(2026, 12, 7),
        "code": "J0013",
        "description": "Esketamine, nasal spray, 1 mg",
        "billed": Decimal("1512.00"),
        "units": Decimal(84),
        "reasons": (
            DenialReason("50", "Not deemed a medical necessity by the payer", group="CO"),
            DenialReason("N115", "Decision based on a local coverage determination"),
        ),
    }
    values.update(overrides)
    return DeniedLine(**values)


def appeal(**overrides: Any) -> AppealView:
    values: dict[str, Any] = {
        "practice": practice(),
        "payer_name": "Aetna Better Health",
        "payer_address_lines": ("PO Box 981106", "El Paso, TX 79998"),
        "patient_name": ZOE,
        "patient_date_of_birth": date(1985, 3, 14),
        "member_id": "W123456789",
        "group_number": "GRP-0042",
        "claim_number": "NYC-2026-00042",
        "payer_claim_number": "EOB-77120934",
        "service_dates": (date(2026, 12, 9), date(2026, 12, 7)),
        "denied_lines": (
            denied_line(),
            denied_line(
                code="99415",
                description="Prolonged clinical staff service, first hour",
                billed=Decimal("120.50"),
                units=Decimal(1),
                reasons=(DenialReason("197", "Precertification absent", group="CO"),),
            ),
        ),
        "appeal_deadline": date(2027, 7, 4),
        "body": BODY,
        "signer_name": "Maria Chen",
        "signer_title": "Billing Manager",
        "letter_date": date(2027, 1, 15),
        "rendering_provider": "Adaeze Okafor, MD",
        "rendering_npi": "1679576722",
        "denial_date": date(2027, 1, 5),
        "enclosures": ("Explanation of benefits of January 5, 2027", "Treatment notes"),
    }
    values.update(overrides)
    return AppealView(**values)
