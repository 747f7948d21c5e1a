"""What billing hands to the faces and the PDFs: frozen records, apart from the ORM models.

The services in this package read the database and return these; ``documents/`` lays them
out on paper and ``ui/`` and ``cli/`` show them, so neither needs a session or a model.
Amounts are exact ``Decimal``; formatting with a dollar sign is the reader's job.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ketadesk.billing.models import EstimateStatus, PaymentMethod


@dataclass(frozen=True)
class PracticeInfo:
    """The billing practice: a location, which is what patients and insurers see."""

    name: str
    address_lines: tuple[str, ...]
    phone: str  # ten digits as stored; documents format it
    npi: str  # organisation (type 2) NPI
    tin: str
    pos_code: str
    location_code: str
    time_zone: str


@dataclass(frozen=True)
class PatientInfo:
    mrn: str
    name: str  # "Given Middle Family", as printed
    date_of_birth: date
    address_lines: tuple[str, ...]
    member_id: str = ""  # the primary policy's member id, when known
    payer_name: str = ""


@dataclass(frozen=True)
class ProviderInfo:
    name: str  # "Given Family"
    credentials: str
    npi: str


@dataclass(frozen=True)
class DiagnosisInfo:
    pointer: str  # "A" … "L", as a superbill or CMS-1500 points at it
    code: str  # "F33.2"
    description: str


class InvoiceState(enum.StrEnum):
    """An invoice as people read it; only draft / issued / void are stored."""

    DRAFT = "draft"
    ISSUED = "issued"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    VOID = "void"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class ChargeLine:
    """A posted charge (or clinic fee) with what has been paid and adjusted on it."""

    entry_id: int
    service_date: date
    code: str
    modifiers: str
    description: str
    units: int
    amount: Decimal
    paid: Decimal  # by payments
    adjusted: Decimal  # by adjustments and reversals
    balance: Decimal  # still owed


@dataclass(frozen=True)
class PaymentLine:
    """A payment or refund, its amount positive."""

    entry_id: int
    on: date
    method: PaymentMethod | None
    reference: str
    description: str
    amount: Decimal


@dataclass(frozen=True)
class InvoiceView:
    number: str
    state: InvoiceState
    practice: PracticeInfo
    patient: PatientInfo
    lines: tuple[ChargeLine, ...]
    payments: tuple[PaymentLine, ...]  # payments applied to this invoice's lines
    total: Decimal  # sum of the lines' amounts
    paid: Decimal
    adjusted: Decimal
    balance_due: Decimal
    account_balance: Decimal  # the patient's whole balance (negative: credit)
    issued_on: date | None = None
    due_on: date | None = None
    period_from: date | None = None
    period_to: date | None = None
    void_reason: str = ""


@dataclass(frozen=True)
class ReceiptView:
    """One payment's receipt, or a year's payments for HSA/FSA and tax use."""

    number: str  # "R-1234" for one payment, "Y2026-NYC000123" for a year
    title: str
    practice: PracticeInfo
    patient: PatientInfo
    period_from: date
    period_to: date
    payments: tuple[PaymentLine, ...]
    refunds: tuple[PaymentLine, ...]
    total_paid: Decimal
    total_refunded: Decimal
    net_paid: Decimal
    services: tuple[ChargeLine, ...] = ()  # what the payments were for (year-end receipt)


@dataclass(frozen=True)
class StatementLine:
    on: date
    description: str
    charges: Decimal  # debits on this line (0 when none)
    credits: Decimal  # credits on this line, positive (0 when none)
    balance: Decimal  # running balance after the line


@dataclass(frozen=True)
class PastDueInvoice:
    """An issued invoice still owed after its due date, as a statement lists it."""

    number: str
    due_on: date
    owed: Decimal  # what is still owed on it
    days_late: int  # statement date − due date


@dataclass(frozen=True)
class StatementView:
    practice: PracticeInfo
    patient: PatientInfo
    statement_date: date
    period_from: date
    period_to: date
    opening_balance: Decimal
    lines: tuple[StatementLine, ...]
    closing_balance: Decimal
    aging: tuple[tuple[str, Decimal], ...]  # ("Current", …), ("31–60 days", …), …
    due_on: date | None  # never before statement_date; None when nothing is owed
    unapplied_prepayments: Decimal = Decimal("0.00")  # package money not yet used
    message: str = ""
    past_due: tuple[PastDueInvoice, ...] = ()  # oldest due date first
    insurance_pending: Decimal = Decimal("0.00")  # billed to insurers, not yet settled

    @property
    def past_due_total(self) -> Decimal:
        """What was due before the statement date and is still owed."""
        return sum((p.owed for p in self.past_due), Decimal("0.00"))

    @property
    def past_due_since(self) -> date | None:
        """The earliest due date still unpaid, when anything is past due."""
        return self.past_due[0].due_on if self.past_due else None


@dataclass(frozen=True)
class EstimateLineView:
    code: str
    modifiers: str
    description: str
    sessions: int
    units: int
    unit_price: Decimal
    amount: Decimal
    note: str = ""


@dataclass(frozen=True)
class EstimateView:
    number: str
    status: EstimateStatus
    practice: PracticeInfo
    patient: PatientInfo
    provider: ProviderInfo | None
    series_name: str  # the protocol's name
    first_service_on: date
    last_service_on: date
    session_count: int
    diagnoses: tuple[DiagnosisInfo, ...]
    lines: tuple[EstimateLineView, ...]
    total: Decimal
    drafted_on: date
    give_by: date | None
    given_on: date | None
    supersedes: str = ""  # the number of the estimate this one replaces


@dataclass(frozen=True)
class DrugInfo:
    """What an insurer needs on a drug line: the product's National Drug Code with the
    quantity given in a NUCC unit, the drug's name and the dose as the chart reads it."""

    ndc: str  # 11 digits, the 5-4-2 form without dashes
    name: str  # "Ketamine HCl 50 mg/mL"
    quantity: Decimal  # 35.0
    unit: str  # NUCC unit qualifier: "ME" milligram
    dose: str  # "35.0 mg IV"


@dataclass(frozen=True)
class SubscriberInfo:
    """The insured person of the patient's policy, printed when that is not the patient."""

    name: str
    date_of_birth: date | None
    relationship: str  # the patient's relationship to the subscriber: "child", "spouse" …
    payer_name: str
    member_id: str
    group_number: str


@dataclass(frozen=True)
class SuperbillLine:
    code: str
    modifiers: str
    description: str
    units: int
    diagnosis_pointers: str  # "A,B"
    charge: Decimal
    paid: Decimal
    drug: DrugInfo | None = None  # a drug line whose product (NDC) and dose are known


@dataclass(frozen=True)
class SuperbillVisit:
    service_date: date
    pos_code: str
    provider: ProviderInfo
    lines: tuple[SuperbillLine, ...]
    facility: str = ""  # where the visit was, when not at the superbill's practice address


@dataclass(frozen=True)
class SuperbillView:
    number: str  # "SB-NYC000123-20260101-20260131"
    practice: PracticeInfo
    patient: PatientInfo
    period_from: date
    period_to: date
    issued_on: date
    diagnoses: tuple[DiagnosisInfo, ...]
    visits: tuple[SuperbillVisit, ...]
    total_charges: Decimal
    total_paid: Decimal
    balance: Decimal = field(default=Decimal("0.00"))
    subscriber: SubscriberInfo | None = None  # the policy holder, when not the patient
    group_number: str = ""  # of the patient's own policy, when the patient is the subscriber
