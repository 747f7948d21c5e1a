"""A month of self-pay visits to print superbills for, shared by the batch and CLI tests.

:func:`self_pay_month` fills a database with the billing clinic (New York, the shipped fee
schedule) and one completed, captured and *posted* IV infusion in December 2026 for each of
four patients. Three superbills can be printed; the fourth visit's provider has no NPI, so
that patient's superbill is refused naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.billing_helpers import ADMIN, billing_clinic, completed_iv_session, posted_charges
from builders import add_provider, patient_raw

from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database

MONTH = "2026-12"
PRINTABLE = {
    # name as printed on the superbill: the visit's start (clinic time)
    "Zoë Łukasiewicz": "2026-12-01 09:00",
    "文英 阮": "2026-12-02 09:00",
    "Ana Ng": "2026-12-03 09:00",
}
REFUSED_NAME = "Nia Okafor"
REFUSED_VISIT = "2026-12-04 09:00"
NO_NPI_PROVIDER = "Sam Blank"


@dataclass(frozen=True)
class SelfPayMonth:
    url: str
    mrns: dict[str, str]  # printed name → MRN, for the printable patients
    refused_mrn: str


def self_pay_month(db: Database) -> SelfPayMonth:
    with db.transaction() as session:
        clinic = billing_clinic(session, ADMIN)
        clinic.location.phone = "2125550100"  # a superbill needs the practice's phone
        patients = {
            "Zoë Łukasiewicz": clinic.patient,
            "文英 阮": create_patient(
                session, ADMIN, patient_raw(family_name="阮", given_name="文英")
            ),
            "Ana Ng": create_patient(
                session, ADMIN, patient_raw(family_name="Ng", given_name="Ana")
            ),
        }
        for name, patient in patients.items():
            ts = completed_iv_session(session, clinic, PRINTABLE[name], patient=patient)
            posted_charges(session, ADMIN, ts)
        refused = create_patient(
            session, ADMIN, patient_raw(family_name="Okafor", given_name="Nia")
        )
        blank = add_provider(session, npi="", family_name="Blank", given_name="Sam")
        ts = completed_iv_session(session, clinic, REFUSED_VISIT, patient=refused)
        ts.provider_id = blank.id
        session.flush()
        posted_charges(session, ADMIN, ts)
        return SelfPayMonth(
            url=db.url,
            mrns={name: p.mrn for name, p in patients.items()},
            refused_mrn=refused.mrn,
        )
