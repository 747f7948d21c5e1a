"""Tables of the money: the fee schedule, captured charges, the append-only ledger, invoices,
packages and Good Faith Estimates.

How money moves through them:

* A :class:`FeeItem` is one line of the clinic's fee schedule (a CPT/HCPCS code with its
  modifiers, our own words for it, the self-pay price, the billed charge and how its units
  are counted). The defaults ship in ``ketadesk/resources/fee_schedule.toml``.
* Charge capture turns a completed session (or a late cancellation / no-show the policy
  charges for) into :class:`Charge` rows in the *review queue*: ``pending`` rows billing may
  still edit or dismiss. Posting a charge makes it final: a ``charge`` :class:`LedgerEntry`
  is written and the charge row points at it; from then on nothing about it changes.
* :class:`LedgerEntry` rows are the patient's money history, append-only. ``amount`` is
  signed from the clinic's side: debits (charge, refund, forfeit) are positive and raise
  what the patient owes; credits (payment, adjustment) are negative. A mistake is undone by
  a ``reversal`` entry carrying the opposite amount and pointing at what it reverses. A
  patient's balance is ``SUM(amount)``; below zero it is credit the clinic holds.
* :class:`Allocation` rows say which credit paid which debit (a payment to a charge, a
  write-off to a charge, a refund out of a payment). They are append-only too: releasing an
  allocation is a new row with a negative amount. A debit's open amount is its amount less
  what is allocated to it; a credit's unapplied amount is its size less what it has paid.
* An :class:`Invoice` groups posted charges for the patient (numbered per location and
  year); whether it is paid is a sum over allocations, never a stored flag.
* A :class:`PackageTemplate` is a prepaid bundle the clinic sells; a
  :class:`PackagePurchase` is one patient's, paid by a ``payment`` entry (its
  ``package_purchase_id`` names the package) that stays reserved for it; each
  :class:`PackageUse` is one session it covered.
* An :class:`Estimate` is a No Surprises Act Good Faith Estimate for a self-pay series, with
  its :class:`EstimateLine` rows; a changed series supersedes it with a new draft.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketadesk.clinic.models import Location, Patient, Provider
from ketadesk.db import Base, UTCDateTime, created_at, enum_column, intpk, money_column
from ketadesk.scheduling.models import Series, TreatmentSession


class UnitBasis(enum.StrEnum):
    """How charge capture counts a fee item's units for a session."""

    VISIT = "visit"  # the item's units, once per session
    INFUSION_FIRST_HOUR = "infusion_first_hour"  # 96365: one unit when an infusion ran
    INFUSION_ADDITIONAL_HOUR = "infusion_additional_hour"  # 96366: each further hour > 30 min
    PER_MG = "per_mg"  # S0013 / J0013: one unit per mg given
    ESKETAMINE_UP_TO_56 = "esketamine_up_to_56"  # G2082: dose of 56 mg or less
    ESKETAMINE_OVER_56 = "esketamine_over_56"  # G2083: dose over 56 mg
    MANUAL = "manual"  # never captured automatically (prolonged services, add-ons)

    @property
    def label(self) -> str:
        return _BASIS_LABELS[self]


_BASIS_LABELS = {
    UnitBasis.VISIT: "Per session",
    UnitBasis.INFUSION_FIRST_HOUR: "Infusion, first hour",
    UnitBasis.INFUSION_ADDITIONAL_HOUR: "Infusion, each additional hour",
    UnitBasis.PER_MG: "Per mg given",
    UnitBasis.ESKETAMINE_UP_TO_56: "Esketamine dose up to 56 mg",
    UnitBasis.ESKETAMINE_OVER_56: "Esketamine dose over 56 mg",
    UnitBasis.MANUAL: "Added by hand",
}


class FeeItem(Base):
    """One line of the fee schedule. A code may have several rows with different modifiers
    or dates in force (S0013 until 2025-12-31, J0013 from 2026-01-01)."""

    __tablename__ = "fee_item"
    __table_args__ = (
        UniqueConstraint("code", "modifiers", "effective_from"),
        CheckConstraint("units > 0", name="units"),
        CheckConstraint("self_pay_price >= 0 AND billed_charge >= 0", name="prices"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[str] = mapped_column(String(11), default="")  # "59" or "GT,59"
    description: Mapped[str] = mapped_column(String(200))
    self_pay_price: Mapped[money_column]
    billed_charge: Mapped[money_column]
    units: Mapped[int] = mapped_column(SmallInteger, default=1)
    basis: Mapped[UnitBasis] = mapped_column(enum_column(UnitBasis), default=UnitBasis.VISIT)
    effective_from: Mapped[date | None] = mapped_column(Date, default=None)
    effective_to: Mapped[date | None] = mapped_column(Date, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # For a drug code: the product the clinic gives, printed on the drug line of a superbill
    # unless the session recorded another NDC at the dose.
    ndc: Mapped[str] = mapped_column(String(11), default="")  # 11 digits, 5-4-2 without dashes
    drug_name: Mapped[str] = mapped_column(String(80), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    def in_force(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )


class BillingPolicy(Base):
    """A location's money rules: fees for late cancellations and no-shows, invoice terms."""

    __tablename__ = "billing_policy"

    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    late_cancel_fee: Mapped[money_column] = mapped_column(default=Decimal("0.00"))
    no_show_fee: Mapped[money_column] = mapped_column(default=Decimal("0.00"))
    invoice_due_days: Mapped[int] = mapped_column(SmallInteger, default=30)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ChargeStatus(enum.StrEnum):
    PENDING = "pending"  # in the review queue, still editable
    POSTED = "posted"  # final: a ledger entry carries it
    DISMISSED = "dismissed"  # removed from the queue before posting, with a reason

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ChargeSource(enum.StrEnum):
    SESSION = "session"  # a completed session's services
    LATE_CANCEL_FEE = "late_cancel_fee"
    NO_SHOW_FEE = "no_show_fee"
    MANUAL = "manual"  # added by billing

    @property
    def label(self) -> str:
        return {
            "session": "Session",
            "late_cancel_fee": "Late-cancellation fee",
            "no_show_fee": "No-show fee",
            "manual": "Added by hand",
        }[self.value]


class Charge(Base):
    """A captured charge line. Pending rows are the review queue; a posted row is frozen and
    its money lives in ``entry`` (the ledger). Clinic fees (late cancellation, no-show) have
    no ``code``: they are not medical services and never reach a superbill or claim."""

    __tablename__ = "charge"
    __table_args__ = (
        CheckConstraint("units > 0", name="units"),
        Index("ix_charge_session", "session_id"),
        Index("ix_charge_entry", "entry_id"),  # a posted entry back to its charge line
        Index("ix_charge_status", "status", "service_date"),
        Index("ix_charge_patient", "patient_id", "service_date"),
    )

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), default=None)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_session.id"), default=None)
    source: Mapped[ChargeSource] = mapped_column(enum_column(ChargeSource))
    service_date: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(5), default="")
    modifiers: Mapped[str] = mapped_column(String(11), default="")
    description: Mapped[str] = mapped_column(String(200))
    units: Mapped[int] = mapped_column(SmallInteger, default=1)
    unit_price: Mapped[money_column]
    amount: Mapped[money_column]  # unit_price × units, kept exact
    billed_charge: Mapped[money_column] = mapped_column(default=Decimal("0.00"))
    diagnosis_pointers: Mapped[str] = mapped_column(String(8), default="")  # "1,2"
    review_note: Mapped[str] = mapped_column(String(300), default="")  # why it needs a look
    status: Mapped[ChargeStatus] = mapped_column(
        enum_column(ChargeStatus), default=ChargeStatus.PENDING
    )
    dismissed_reason: Mapped[str] = mapped_column(String(200), default="")
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), default=None)
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    posted_by: Mapped[str] = mapped_column(String(80), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship()
    location: Mapped[Location] = relationship()
    provider: Mapped[Provider | None] = relationship()
    session: Mapped[TreatmentSession | None] = relationship()
    entry: Mapped[LedgerEntry | None] = relationship(foreign_keys=[entry_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def pointer_list(self) -> list[int]:
        return [int(p) for p in self.diagnosis_pointers.split(",") if p.strip()]


class EntryKind(enum.StrEnum):
    CHARGE = "charge"  # + a service or fee the patient owes
    PAYMENT = "payment"  # - money received (also a package's prepayment)
    ADJUSTMENT = "adjustment"  # - discount, sliding scale, courtesy, write-off, package
    REFUND = "refund"  # + money paid back out of credit
    FORFEIT = "forfeit"  # + an expired package's unused prepayment the clinic keeps
    REVERSAL = "reversal"  # the opposite of the entry it reverses
    # ± moves what is owed between sides: an insurer's (payer_id set) and the patient's
    # (payer_id empty). Always in pairs that sum to zero for the patient.
    TRANSFER = "transfer"

    @property
    def label(self) -> str:
        return self.value.capitalize()


DEBIT_KINDS = frozenset({EntryKind.CHARGE, EntryKind.REFUND, EntryKind.FORFEIT})
CREDIT_KINDS = frozenset({EntryKind.PAYMENT, EntryKind.ADJUSTMENT})


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    CHECK = "check"
    HSA_FSA = "hsa_fsa"
    EFT = "eft"  # an insurer's electronic funds transfer (835 BPR04 ACH)
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"hsa_fsa": "HSA/FSA", "eft": "EFT"}.get(self.value, self.value.capitalize())


class AdjustmentReason(enum.StrEnum):
    DISCOUNT = "discount"
    SLIDING_SCALE = "sliding_scale"
    COURTESY = "courtesy"
    WRITE_OFF = "write_off"
    PACKAGE = "package"  # the gap between list price and a package's per-session value
    CONTRACTUAL = "contractual"  # what a payer's contract says the clinic may not collect
    SELF_PAY_RATE = "self_pay_rate"  # billed charge down to the self-pay price

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize().replace("Write off", "Write-off")


class LedgerEntry(Base):
    """One line of a patient's money history. Never updated, never deleted."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero"),
        Index("ix_ledger_patient", "patient_id", "posted_on", "id"),
        Index("ix_ledger_location_day", "location_id", "posted_on"),
        Index("ix_ledger_reverses", "reverses_id"),
        Index("ix_ledger_package", "package_purchase_id"),
        Index("ix_ledger_claim", "claim_id"),
        Index("ix_ledger_payer", "payer_id", "posted_on"),
        # Covers the revenue report's GROUP BY (migration 0007 says why).
        Index(
            "ix_ledger_report",
            "posted_on",
            "payer_id",
            "kind",
            "reason",
            "location_id",
            "amount",
            "reverses_id",
        ),
    )

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    amount: Mapped[money_column]  # signed: + owed by the patient, - credit
    posted_on: Mapped[date] = mapped_column(Date)  # service date for charges, else the day
    description: Mapped[str] = mapped_column(String(300))
    method: Mapped[PaymentMethod | None] = mapped_column(enum_column(PaymentMethod), default=None)
    reference: Mapped[str] = mapped_column(String(80), default="")  # card slip, check no.
    reason: Mapped[AdjustmentReason | None] = mapped_column(
        enum_column(AdjustmentReason), default=None
    )
    note: Mapped[str] = mapped_column(String(300), default="")  # why (required for some)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), default=None)
    package_purchase_id: Mapped[int | None] = mapped_column(
        ForeignKey("package_purchase.id"), default=None
    )
    # The insurer whose side of the account this entry is on; empty: the patient's own.
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), default=None)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), default=None)
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")

    reverses: Mapped[LedgerEntry | None] = relationship(remote_side="LedgerEntry.id")

    @property
    def is_debit(self) -> bool:
        return self.amount > 0


class Allocation(Base):
    """``amount`` of credit entry ``credit_id`` applied to debit entry ``debit_id``.
    A negative amount releases an earlier allocation; rows are never changed."""

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero"),
        Index("ix_allocation_debit", "debit_id"),
        Index("ix_allocation_credit", "credit_id"),
        Index("ix_allocation_patient", "patient_id"),
        # Aging reads allocations in debit order with what it filters on (migration 0007).
        Index("ix_allocation_aging", "debit_id", "created_at", "amount", "credit_id"),
    )

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    credit_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"))
    debit_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"))
    amount: Mapped[money_column]
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")


class InvoiceStatus(enum.StrEnum):
    """What is stored; "partly paid" and "paid" are read from the sums (invoices.py)."""

    DRAFT = "draft"
    ISSUED = "issued"
    VOID = "void"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_patient", "patient_id", "id"),
        Index("ix_invoice_location_status", "location_id", "status"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(24), unique=True)  # "NYC-2026-00042"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_column(InvoiceStatus), default=InvoiceStatus.DRAFT
    )
    period_from: Mapped[date | None] = mapped_column(Date, default=None)
    period_to: Mapped[date | None] = mapped_column(Date, default=None)
    issued_on: Mapped[date | None] = mapped_column(Date, default=None)
    due_on: Mapped[date | None] = mapped_column(Date, default=None)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    void_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship()
    location: Mapped[Location] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class InvoiceLine(Base):
    """A posted debit entry (charge or fee) on an invoice. An entry sits on at most one
    invoice that is not void (checked by the service)."""

    __tablename__ = "invoice_line"
    __table_args__ = (
        UniqueConstraint("invoice_id", "entry_id"),
        Index("ix_invoice_line_entry", "entry_id"),
    )

    id: Mapped[intpk]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    entry: Mapped[LedgerEntry] = relationship()


class UnusedPolicy(enum.StrEnum):
    """What happens to a package's unused sessions at expiry or when the patient asks."""

    REFUND_PRORATED = "refund_prorated"  # unused sessions are refundable at package value
    FORFEIT = "forfeit"  # the clinic keeps the prepayment of sessions not used by expiry

    @property
    def label(self) -> str:
        return {
            "refund_prorated": "Refund unused sessions at the package rate",
            "forfeit": "Unused sessions lapse at expiry",
        }[self.value]


class PackageTemplate(Base):
    __tablename__ = "package_template"
    __table_args__ = (
        CheckConstraint("sessions > 0", name="sessions"),
        CheckConstraint("valid_days > 0", name="validity"),
    )

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(120), unique=True)
    service_code: Mapped[str] = mapped_column(String(5))  # a session billing this is covered
    sessions: Mapped[int] = mapped_column(SmallInteger)
    price: Mapped[money_column]
    valid_days: Mapped[int] = mapped_column(SmallInteger, default=90)
    unused_policy: Mapped[UnusedPolicy] = mapped_column(
        enum_column(UnusedPolicy), default=UnusedPolicy.REFUND_PRORATED
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class PackageStatus(enum.StrEnum):
    ACTIVE = "active"
    USED_UP = "used_up"
    EXPIRED = "expired"  # lapsed; prepayment forfeited or awaiting refund by policy
    REFUNDED = "refunded"  # unused sessions paid back

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class PackagePurchase(Base):
    __tablename__ = "package_purchase"
    __table_args__ = (Index("ix_package_patient", "patient_id", "status"),)

    id: Mapped[intpk]
    template_id: Mapped[int] = mapped_column(ForeignKey("package_template.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    name: Mapped[str] = mapped_column(String(120))  # copied: the template may change later
    service_code: Mapped[str] = mapped_column(String(5))
    sessions_total: Mapped[int] = mapped_column(SmallInteger)
    price: Mapped[money_column]
    unused_policy: Mapped[UnusedPolicy] = mapped_column(enum_column(UnusedPolicy))
    purchased_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[PackageStatus] = mapped_column(
        enum_column(PackageStatus), default=PackageStatus.ACTIVE
    )
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    template: Mapped[PackageTemplate] = relationship()
    patient: Mapped[Patient] = relationship()
    uses: Mapped[list[PackageUse]] = relationship(
        back_populates="purchase", order_by="PackageUse.id"
    )

    __mapper_args__ = {"version_id_col": version}


class PackageUse(Base):
    """One session a package covered: ``value`` of its prepayment went to the session's
    charges (the last use takes the remainder, so the uses sum to the price)."""

    __tablename__ = "package_use"
    __table_args__ = (UniqueConstraint("purchase_id", "session_id"),)

    id: Mapped[intpk]
    purchase_id: Mapped[int] = mapped_column(ForeignKey("package_purchase.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_session.id"))
    number: Mapped[int] = mapped_column(SmallInteger)  # 2 of 6
    value: Mapped[money_column]
    adjustment_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entry.id"), default=None
    )
    used_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[created_at]

    purchase: Mapped[PackagePurchase] = relationship(back_populates="uses")


class EstimateStatus(enum.StrEnum):
    DRAFT = "draft"  # to be given to the patient by ``give_by``
    GIVEN = "given"
    SUPERSEDED = "superseded"  # the series changed; a newer estimate replaces it

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Estimate(Base):
    """A Good Faith Estimate for a self-pay series (No Surprises Act)."""

    __tablename__ = "estimate"
    __table_args__ = (
        Index("ix_estimate_series", "series_id", "id"),
        Index("ix_estimate_status", "status", "give_by"),
        Index("ix_estimate_patient", "patient_id", "id"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(24), unique=True)  # "GFE-2026-00017"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"), default=None)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), default=None)
    status: Mapped[EstimateStatus] = mapped_column(
        enum_column(EstimateStatus), default=EstimateStatus.DRAFT
    )
    first_service_on: Mapped[date] = mapped_column(Date)
    last_service_on: Mapped[date] = mapped_column(Date)
    session_count: Mapped[int] = mapped_column(SmallInteger)
    total: Mapped[money_column]
    drafted_on: Mapped[date] = mapped_column(Date)
    give_by: Mapped[date | None] = mapped_column(Date, default=None)  # None: not required
    given_on: Mapped[date | None] = mapped_column(Date, default=None)
    given_by: Mapped[str] = mapped_column(String(80), default="")
    given_how: Mapped[str] = mapped_column(String(40), default="")  # in person, email, mail
    redraft_reason: Mapped[str] = mapped_column(String(200), default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("estimate.id"), default=None)
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship()
    series: Mapped[Series | None] = relationship()
    location: Mapped[Location] = relationship()
    provider: Mapped[Provider | None] = relationship()
    lines: Mapped[list[EstimateLine]] = relationship(
        back_populates="estimate", order_by="EstimateLine.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class EstimateLine(Base):
    __tablename__ = "estimate_line"

    id: Mapped[intpk]
    estimate_id: Mapped[int] = mapped_column(ForeignKey("estimate.id"))
    position: Mapped[int] = mapped_column(SmallInteger)
    code: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[str] = mapped_column(String(11), default="")
    description: Mapped[str] = mapped_column(String(200))
    sessions: Mapped[int] = mapped_column(SmallInteger)  # how many sessions carry this item
    units: Mapped[int] = mapped_column(Integer)  # units in all
    unit_price: Mapped[money_column]
    amount: Mapped[money_column]
    note: Mapped[str] = mapped_column(Text, default="")

    estimate: Mapped[Estimate] = relationship(back_populates="lines")


# Partial index for the unapplied-prepayment and credit lists (small, read on every refresh).
OPEN_PACKAGES_SQL = "status = 'active'"
Index(
    "ix_package_open_expiry",
    PackagePurchase.expires_on,
    sqlite_where=text(OPEN_PACKAGES_SQL),
    postgresql_where=text(OPEN_PACKAGES_SQL),
)

# A ledger entry names its claim (``ledger_entry.claim_id``): the claim tables must be known
# wherever the ledger is written, or a flush cannot resolve that foreign key. They import
# nothing from this module, so loading them here is safe.
from ketadesk.billing.claims import models as _claim_tables  # noqa: E402,F401
