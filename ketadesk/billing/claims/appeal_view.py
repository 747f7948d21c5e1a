"""What an appeal letter says, as frozen values: no database here.

When a payer denies lines of a claim, billing staff ask it to reconsider with a letter.
``billing.claims`` fills an :class:`AppealView` from the claim, its 835 denial and the
clinic's location (the letterhead is the same :class:`~ketadesk.billing.views.PracticeInfo`
every billing document uses); the person writing the appeal supplies the body, the
enclosures and who signs; :func:`ketadesk.documents.appeal.render_appeal_letter` prints it.
Amounts are :class:`~decimal.Decimal` dollars; reason codes come with their descriptions in
words, so the letter never shows a bare ``CO-50``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ketadesk.billing.views import PracticeInfo


@dataclass(frozen=True)
class DenialReason:
    """One reason the payer gave: a CARC with its group (``CO``, ``PR``, ``OA``, ``PI``),
    or a RARC remark (``N115``) with no group."""

    code: str  # "50", "197", "N115"
    description: str  # in words, as the clinic's code list says it
    group: str = ""

    @property
    def label(self) -> str:
        """``CO-50`` for an adjustment reason, ``N115`` for a remark."""
        return f"{self.group}-{self.code}" if self.group else self.code


@dataclass(frozen=True)
class DeniedLine:
    """A line of the claim the payer did not pay, and why."""

    service_date: date
    code: str  # CPT/HCPCS
    description: str
    billed: Decimal
    reasons: tuple[DenialReason, ...]
    modifiers: tuple[str, ...] = ()
    units: Decimal = Decimal(1)


@dataclass(frozen=True)
class AppealView:
    """Everything a request for reconsideration prints."""

    practice: PracticeInfo  # the letterhead: the location that billed
    payer_name: str
    payer_address_lines: tuple[str, ...]
    patient_name: str  # "Given Middle Family", as printed
    patient_date_of_birth: date
    member_id: str
    claim_number: str  # ours: the patient control number
    payer_claim_number: str  # theirs, from the 835 (CLP07); "" when not known
    service_dates: tuple[date, ...]  # every date of service on the claim
    denied_lines: tuple[DeniedLine, ...]
    appeal_deadline: date | None  # the last day the payer accepts this appeal
    body: str  # written or edited by billing staff; blank lines part paragraphs
    signer_name: str
    signer_title: str
    letter_date: date
    attention: str = "Appeals Department"
    group_number: str = ""
    rendering_provider: str = ""  # "Adaeze Okafor, MD"
    rendering_npi: str = ""
    denial_date: date | None = None  # when the payer's remittance said no
    enclosures: tuple[str, ...] = ()

    @property
    def billed_total(self) -> Decimal:
        """What the denied lines were billed at, together."""
        return sum((line.billed for line in self.denied_lines), Decimal("0.00"))
