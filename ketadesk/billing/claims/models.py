"""Tables of the claim cycle: claims and their lines, status history, 837P batches, 835s.

How a claim's money moves (the ledger is :mod:`ketadesk.billing.models`):

* A charge for a covered service on a day a policy is in force is posted to the ledger on
  the *insurer's side*: its ``ledger_entry.payer_id`` names the payer. The patient's own
  balance is the sum over entries with no payer; an insurer's is the sum over its entries.
* A :class:`Claim` groups such charge entries (one :class:`ClaimLine` each) for one
  patient, payer and date of service. Its status changes are :class:`ClaimEvent` rows,
  never edited (the database refuses).
* A :class:`ClaimBatch` is one 837P file sent to one payer; its id is the interchange
  control number, so numbers are unique and increasing.
* A :class:`Remit` is one 835 (or one paper EOB entered by hand), kept with the
  :class:`RemitClaim` decisions, their :class:`RemitLine` service payments and
  :class:`RemitAdjustment` rows. Posting one writes insurer payments, contractual
  adjustments and transfers (the patient's share moving to the patient's side, or to the
  secondary payer's) to the ledger; the remit rows say where every cent came from.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketadesk.clinic.models import InsurancePolicy, Location, Patient, Payer, PolicyRank, Provider
from ketadesk.db import Base, Scaled, UTCDateTime, created_at, enum_column, intpk, money_column


class ClaimStatus(enum.StrEnum):
    DRAFT = "draft"  # built; has problems or was not checked yet
    READY = "ready"  # checked with no problems; may be sent
    SUBMITTED = "submitted"  # in an 837P batch or printed and mailed
    ACCEPTED = "accepted"  # the payer or clearinghouse took it in
    REJECTED = "rejected"  # refused before adjudication: correct and send again
    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    DENIED = "denied"
    APPEALED = "appealed"
    CLOSED = "closed"  # nothing more to do (settled, replaced, voided or written off)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# Where a claim may go next; the services refuse anything else with the reason.
NEXT_STATUSES: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.DRAFT: frozenset({ClaimStatus.READY, ClaimStatus.CLOSED}),
    ClaimStatus.READY: frozenset({ClaimStatus.DRAFT, ClaimStatus.SUBMITTED, ClaimStatus.CLOSED}),
    ClaimStatus.SUBMITTED: frozenset(
        {
            ClaimStatus.ACCEPTED,
            ClaimStatus.REJECTED,
            ClaimStatus.PAID,
            ClaimStatus.PARTLY_PAID,
            ClaimStatus.DENIED,
            ClaimStatus.CLOSED,
        }
    ),
    ClaimStatus.ACCEPTED: frozenset(
        {
            ClaimStatus.REJECTED,
            ClaimStatus.PAID,
            ClaimStatus.PARTLY_PAID,
            ClaimStatus.DENIED,
            ClaimStatus.CLOSED,
        }
    ),
    ClaimStatus.REJECTED: frozenset({ClaimStatus.DRAFT, ClaimStatus.CLOSED}),
    ClaimStatus.PAID: frozenset({ClaimStatus.CLOSED, ClaimStatus.APPEALED}),
    ClaimStatus.PARTLY_PAID: frozenset(
        {ClaimStatus.APPEALED, ClaimStatus.CLOSED, ClaimStatus.PAID}
    ),
    ClaimStatus.DENIED: frozenset({ClaimStatus.APPEALED, ClaimStatus.CLOSED}),
    ClaimStatus.APPEALED: frozenset(
        {ClaimStatus.PAID, ClaimStatus.PARTLY_PAID, ClaimStatus.DENIED, ClaimStatus.CLOSED}
    ),
    ClaimStatus.CLOSED: frozenset(),
}
OPEN_STATUSES = frozenset(set(ClaimStatus) - {ClaimStatus.CLOSED})
SENT_STATUSES = frozenset(
    {
        ClaimStatus.SUBMITTED,
        ClaimStatus.ACCEPTED,
        ClaimStatus.PAID,
        ClaimStatus.PARTLY_PAID,
        ClaimStatus.DENIED,
        ClaimStatus.APPEALED,
    }
)


class Claim(Base):
    __tablename__ = "claim"
    __table_args__ = (
        Index("ix_claim_status", "status", "payer_id"),
        Index("ix_claim_patient", "patient_id", "service_from"),
        Index("ix_claim_batch", "batch_id"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(14), unique=True)  # box 26 holds 14
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policy.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), default=None)
    rank: Mapped[PolicyRank] = mapped_column(enum_column(PolicyRank))
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus), default=ClaimStatus.DRAFT)
    frequency: Mapped[str] = mapped_column(String(1), default="1")  # 1, 7 corrected, 8 void
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), default=None)
    primary_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), default=None)
    service_from: Mapped[date]
    service_to: Mapped[date]
    billed: Mapped[money_column]
    diagnoses: Mapped[str] = mapped_column(String(120), default="")  # "F32.2,F41.1"
    prior_auth_number: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(80), default="")  # NTE / box 19
    payer_claim_number: Mapped[str] = mapped_column(String(50), default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("claim_batch.id"), default=None)
    submitted_on: Mapped[date | None] = mapped_column(default=None)
    adjudicated_on: Mapped[date | None] = mapped_column(default=None)
    filing_deadline: Mapped[date]  # the last day the payer accepts it
    appeal_deadline: Mapped[date | None] = mapped_column(default=None)
    problems: Mapped[str] = mapped_column(Text, default="")  # the last check's, one per line
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship()
    payer: Mapped[Payer] = relationship()
    policy: Mapped[InsurancePolicy] = relationship()
    location: Mapped[Location] = relationship()
    provider: Mapped[Provider | None] = relationship()
    lines: Mapped[list[ClaimLine]] = relationship(
        back_populates="claim", order_by="ClaimLine.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[ClaimEvent]] = relationship(
        back_populates="claim", order_by="ClaimEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def diagnosis_codes(self) -> tuple[str, ...]:
        return tuple(code for code in self.diagnoses.split(",") if code)


class ClaimLine(Base):
    """One service line: a charge entry on the insurer's side of the ledger."""

    __tablename__ = "claim_line"
    __table_args__ = (
        UniqueConstraint("claim_id", "position"),
        Index("ix_claim_line_entry", "entry_id"),
    )

    id: Mapped[intpk]
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    position: Mapped[int] = mapped_column(SmallInteger)
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("charge.id"), default=None)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"))
    service_date: Mapped[date]
    code: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[str] = mapped_column(String(11), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    units: Mapped[int] = mapped_column(SmallInteger, default=1)
    billed: Mapped[money_column]
    pointers: Mapped[str] = mapped_column(String(8), default="")  # "1,2"
    ndc: Mapped[str] = mapped_column(String(11), default="")
    ndc_quantity: Mapped[Decimal | None] = mapped_column(Scaled(3), default=None)
    ndc_unit: Mapped[str] = mapped_column(String(2), default="")
    note: Mapped[str] = mapped_column(String(80), default="")

    claim: Mapped[Claim] = relationship(back_populates="lines")

    @property
    def pointer_list(self) -> list[int]:
        return [int(p) for p in self.pointers.split(",") if p.strip()]

    @property
    def modifier_list(self) -> list[str]:
        return [m for m in self.modifiers.split(",") if m]


class ClaimEvent(Base):
    """One status change of a claim: who, when, why. Never changed or deleted."""

    __tablename__ = "claim_event"
    __table_args__ = (Index("ix_claim_event_claim", "claim_id", "id"),)

    id: Mapped[intpk]
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    from_status: Mapped[str] = mapped_column(String(30), default="")
    to_status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(300), default="")

    claim: Mapped[Claim] = relationship(back_populates="events")


class ClaimBatch(Base):
    """One 837P file for one payer; ``id`` is its interchange control number (ISA13)."""

    __tablename__ = "claim_batch"

    id: Mapped[intpk]
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"))
    claim_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[money_column]
    file_name: Mapped[str] = mapped_column(String(260), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")


class RemitSource(enum.StrEnum):
    EDI_835 = "835"
    PAPER_EOB = "eob"  # an explanation of benefits entered by hand

    @property
    def label(self) -> str:
        return {"835": "835 file", "eob": "Paper EOB"}[self.value]


class Remit(Base):
    """One remittance: an imported 835 (its SHA-256 makes a second import a no-op) or an EOB."""

    __tablename__ = "remit"

    id: Mapped[intpk]
    source: Mapped[RemitSource] = mapped_column(enum_column(RemitSource))
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    file_name: Mapped[str] = mapped_column(String(260), default="")
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), default=None)
    payer_name: Mapped[str] = mapped_column(String(120), default="")
    trace_number: Mapped[str] = mapped_column(String(50), default="")  # check or EFT number
    method: Mapped[str] = mapped_column(String(3), default="")  # ACH, CHK, NON
    paid_on: Mapped[date]
    total_paid: Mapped[money_column]
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")

    claims: Mapped[list[RemitClaim]] = relationship(
        back_populates="remit", order_by="RemitClaim.id"
    )


class RemitClaim(Base):
    """The payer's decision on one claim; ``claim_id`` is empty when nothing matched."""

    __tablename__ = "remit_claim"
    __table_args__ = (
        Index("ix_remit_claim_claim", "claim_id"),
        Index("ix_remit_claim_remit", "remit_id"),
    )

    id: Mapped[intpk]
    remit_id: Mapped[int] = mapped_column(ForeignKey("remit.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), default=None)
    claim_number: Mapped[str] = mapped_column(String(38))  # CLP01 as the payer sent it
    status_code: Mapped[str] = mapped_column(String(2))  # CLP02
    billed: Mapped[money_column]
    paid: Mapped[money_column]
    patient_share: Mapped[money_column]
    payer_claim_number: Mapped[str] = mapped_column(String(50), default="")
    patient_name: Mapped[str] = mapped_column(String(120), default="")
    remarks: Mapped[str] = mapped_column(String(120), default="")  # MOA remark codes
    posted: Mapped[bool] = mapped_column(default=False)  # False: waits in the worklist

    remit: Mapped[Remit] = relationship(back_populates="claims")
    claim: Mapped[Claim | None] = relationship()
    lines: Mapped[list[RemitLine]] = relationship(
        back_populates="remit_claim", order_by="RemitLine.id"
    )
    adjustments: Mapped[list[RemitAdjustment]] = relationship(order_by="RemitAdjustment.id")


class RemitLine(Base):
    """What the payer did with one service line (SVC)."""

    __tablename__ = "remit_line"
    __table_args__ = (Index("ix_remit_line_claim", "remit_claim_id"),)

    id: Mapped[intpk]
    remit_claim_id: Mapped[int] = mapped_column(ForeignKey("remit_claim.id"))
    claim_line_id: Mapped[int | None] = mapped_column(ForeignKey("claim_line.id"), default=None)
    code: Mapped[str] = mapped_column(String(5))
    billed: Mapped[money_column]
    paid: Mapped[money_column]
    allowed: Mapped[Decimal | None] = mapped_column(Scaled(2), default=None)
    units: Mapped[Decimal] = mapped_column(Scaled(3))
    remarks: Mapped[str] = mapped_column(String(120), default="")  # RARC codes "N130,M15"

    remit_claim: Mapped[RemitClaim] = relationship(back_populates="lines")
    adjustments: Mapped[list[RemitAdjustment]] = relationship(
        order_by="RemitAdjustment.id", viewonly=True
    )


class RemitAdjustment(Base):
    """One CAS adjustment on a claim (``remit_line_id`` empty) or on one of its lines."""

    __tablename__ = "remit_adjustment"
    __table_args__ = (Index("ix_remit_adjustment_claim", "remit_claim_id"),)

    id: Mapped[intpk]
    remit_claim_id: Mapped[int] = mapped_column(ForeignKey("remit_claim.id"))
    remit_line_id: Mapped[int | None] = mapped_column(ForeignKey("remit_line.id"), default=None)
    group: Mapped[str] = mapped_column(String(2))  # CO, PR, OA, PI, CR
    reason: Mapped[str] = mapped_column(String(5))  # the CARC
    amount: Mapped[money_column]  # as the payer sent it: positive reduces payment

    line: Mapped[RemitLine | None] = relationship()
