"""The frozen values a claim is sent and paid as: one shape for the 837P, the CMS-1500 and
the 835 a payer answers with.

``billing.claims`` builds these from the database; ``billing.edi`` turns them into X12 and
``documents.cms1500`` into paper. Amounts are :class:`~decimal.Decimal` dollars with cents;
codes are as people write them (``F32.2``, ``99213``): the writers strip what X12 or the
form does not want (the ICD-10 dot, for one). Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# X12 individual relationship codes (2000B SBR02 / 2000C PAT01).
RELATIONSHIP_CODES = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}
# Payer responsibility sequence (SBR01): primary, secondary, tertiary.
RANK_CODES = {"primary": "P", "secondary": "S", "tertiary": "T"}
# Claim frequency (CLM05-3): an original, a replacement (corrected) claim, a void.
ORIGINAL, CORRECTED, VOID = "1", "7", "8"


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str  # two letters
    zip_code: str  # five or nine digits
    line2: str = ""


@dataclass(frozen=True)
class Person:
    """A patient or a subscriber as the payer knows them."""

    family_name: str
    given_name: str
    date_of_birth: date
    sex: str  # "F", "M" or "U" (X12 DMG03; a clinic's "X" is sent as "U")
    address: Address | None = None
    middle_name: str = ""
    phone: str = ""  # ten digits or empty


@dataclass(frozen=True)
class BillingProvider:
    """The organisation that bills (a location): 2010AA, box 33 (and 25 for the TIN)."""

    name: str
    npi: str  # ten digits, Luhn-checked by the scrubber
    tin: str  # nine digits (an EIN)
    address: Address
    phone: str = ""
    taxonomy: str = "261QM0801X"  # mental health clinic/center; PRV in 2000A


@dataclass(frozen=True)
class RenderingProvider:
    """The clinician who gave the care: 2310B, box 24J (and 31)."""

    family_name: str
    given_name: str
    npi: str
    credentials: str = ""


@dataclass(frozen=True)
class Facility:
    """Where the care was given when it differs from the billing address: 2310C, box 32."""

    name: str
    npi: str
    address: Address


@dataclass(frozen=True)
class PayerParty:
    """The insurer a claim goes to: 2010BB, the CMS-1500's header."""

    name: str
    edi_payer_id: str
    address: Address | None = None


@dataclass(frozen=True)
class Subscriber:
    """The policy holder and the policy: 2000B/2010BA, boxes 1a, 4, 7, 11."""

    person: Person
    member_id: str
    relationship: str  # "self", "spouse", "child" or "other" (see RELATIONSHIP_CODES)
    rank: str = "primary"  # "primary", "secondary" or "tertiary"
    group_number: str = ""
    plan_name: str = ""
    medicare: bool = False  # SBR09 "MB" instead of "CI"


@dataclass(frozen=True)
class Adjustment:
    """One CAS adjustment: group (CO, PR, OA, PI, CR), reason code (CARC), amount."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class LinePayment:
    """What an earlier payer did with one line (2430 SVD/CAS/DTP on a secondary claim)."""

    payer_edi_id: str
    code: str
    paid: Decimal
    units: int
    adjustments: tuple[Adjustment, ...]
    paid_on: date


@dataclass(frozen=True)
class OtherPayer:
    """An earlier payer on a secondary claim (2320/2330A/2330B): what it paid and adjusted."""

    payer: PayerParty
    subscriber: Subscriber
    paid: Decimal  # AMT*D
    paid_on: date
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    payer_claim_number: str = ""


@dataclass(frozen=True)
class ServiceLine:
    """One line of a claim: 2400 LX/SV1/DTP (and LIN/CTP for a drug), box 24."""

    line_id: str  # REF*6R: our line's id, echoed back in the 835 so the payment finds it
    service_date: date
    code: str  # CPT/HCPCS
    charge: Decimal
    units: Decimal  # SV104 (minutes/units/mg as the code counts)
    pointers: tuple[int, ...]  # 1-based positions in ClaimForm.diagnoses, at most four
    modifiers: tuple[str, ...] = ()  # at most four
    description: str = ""  # SV101-7: required for an unlisted code such as J3490
    place_of_service: str = ""  # blank: the claim's
    ndc: str = ""  # 11 digits, no dashes
    ndc_quantity: Decimal | None = None
    ndc_unit: str = ""  # "UN", "ML", "GR", "F2" or "ME"
    note: str = ""  # NTE*ADD: words a person prices an unlisted code by
    earlier_payments: tuple[LinePayment, ...] = ()  # secondary claims only


@dataclass(frozen=True)
class ClaimForm:
    """A whole claim as sent: 2300 CLM and everything it hangs on."""

    claim_number: str  # CLM01 patient control number; box 26; echoed as CLP01 in an 835
    billing: BillingProvider
    rendering: RenderingProvider
    payer: PayerParty
    subscriber: Subscriber
    patient: Person  # the same person as the subscriber when relationship is "self"
    diagnoses: tuple[str, ...]  # ICD-10-CM, at most twelve, first is principal (box 21)
    lines: tuple[ServiceLine, ...]
    place_of_service: str = "11"  # CLM05-1, box 24B
    frequency: str = ORIGINAL  # CLM05-3: "1", "7" corrected, "8" void
    original_reference: str = ""  # REF*F8: the payer's claim number a 7 or 8 replaces
    prior_authorization: str = ""  # REF*G1, box 23
    note: str = ""  # NTE*ADD, box 19 (REMS-certified setting, for one)
    facility: Facility | None = None
    other_payers: tuple[OtherPayer, ...] = ()  # coordination of benefits on a secondary
    accept_assignment: bool = True
    signature_on_file: bool = True
    signed_on: date | None = None  # box 31's date: the day the claim was made ready

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True)
class Party:
    """A submitter or receiver in the envelope (1000A / 1000B)."""

    name: str
    identifier: str  # ETIN or the clearinghouse's id
    contact_name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Batch837:
    """One 837P file: an interchange with one functional group and one transaction."""

    control_number: int  # ISA13 / GS06, unique and increasing per clinic (1..999999999)
    created_at: datetime  # ISA09/10, GS04/05, BHT04/05 (the clinic's local time)
    submitter: Party
    receiver: Party
    claims: tuple[ClaimForm, ...]
    production: bool = True  # ISA15 "P"; "T" for a test file


# ---------------------------------------------------------------------------------------
# The payer's answer: an 835
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServicePayment:
    """One SVC loop: what the payer did with one line."""

    code: str
    billed: Decimal
    paid: Decimal
    units: Decimal
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # RARC codes (LQ*HE)
    modifiers: tuple[str, ...] = ()
    service_date: date | None = None
    line_id: str = ""  # REF*6R echoed from the claim
    allowed: Decimal | None = None  # AMT*B6


@dataclass(frozen=True)
class ClaimPayment:
    """One CLP loop: the payer's decision on one claim."""

    claim_number: str  # CLP01, our patient control number
    status: str  # CLP02: 1 primary, 2 secondary, 3 tertiary, 4 denied, 19-22, 23
    billed: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal  # CLP05
    payer_claim_number: str = ""  # CLP07
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    remarks: tuple[str, ...] = ()  # MOA remark codes
    services: tuple[ServicePayment, ...] = ()
    patient_name: str = ""
    member_id: str = ""


@dataclass(frozen=True)
class Remittance:
    """A whole 835: the payment (BPR/TRN) and its claims."""

    payer_name: str
    payer_id: str  # N1*PR REF*2U or TRN03
    payee_name: str
    payee_npi: str
    total_paid: Decimal  # BPR02
    method: str  # BPR04: "ACH", "CHK", "NON"
    paid_on: date  # BPR16
    trace_number: str  # TRN02: the check or EFT number
    claims: tuple[ClaimPayment, ...]
    control_number: int = 1
    created_at: datetime | None = None
